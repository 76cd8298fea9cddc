using System.Diagnostics;

namespace MicroGpt.Bench;

/// <summary>Rows of the scaling table: a training of a given shape, with one thread and with all cores.</summary>
static class Scaling
{
    public const int Rounds = 8;

    /// <summary>Attempts at a batched row while the host lends less than <see cref="FullCapacity"/> of each core.</summary>
    public const int Attempts = 3;
    public const double FullCapacity = 0.95;

    public static IEnumerable<(int C, int L, int T, int B)> Configurations(bool quick)
    {
        yield return (32, 2, 16, 1);
        foreach (int c in new[] { 64, 128, 256 }) yield return (c, 2, 16, 1);
        foreach (int l in new[] { 4, 8 }) yield return (32, l, 16, 1);
        yield return (32, 2, 64, 1);
        foreach (int b in new[] { 8, 16, 32 }) yield return (32, 2, 16, b);
        yield return (256, 4, 64, 16);
        if (quick) yield break;
        yield return (128, 4, 16, 8);
        yield return (256, 8, 64, 32);
    }

    /// <summary>
    /// The table rows of one shape for each thread count, and their tokens per second. The
    /// trainings take turns, a slice of about 0.1 s each (after a tenth of that untimed), for
    /// <see cref="Rounds"/> rounds, and each reports its fastest slice: the host of this VM lends
    /// its cores unevenly over time, and taking turns gives every thread count the same chances.
    /// </summary>
    public static List<(string Row, double TokensPerSecond)> Measure(BenchCorpus corpus, int c, int l, int t, int b, params int[] threadCounts)
    {
        var config = new ModelConfig(corpus.Tokenizer.VocabSize, c, 4, l, t);
        var trainers = threadCounts.Select(threads => new Trainer(Model.Create(config, corpus.Tokenizer, 42), corpus.Sentences,
            new TrainingOptions { Steps = 1_000_000, BatchSize = b, ThreadCount = threads })).ToList();
        try
        {
            // Calibrate on the first: steps for about 0.1 s, after a warm-up of 0.3 s.
            var probe = Stopwatch.StartNew();
            int warm = 0;
            while (probe.Elapsed.TotalSeconds < 0.3 || warm < 3) { trainers[0].Step(); warm++; }
            int steps = Math.Max(2, (int)(warm / probe.Elapsed.TotalSeconds / 10));
            foreach (var trainer in trainers.Skip(1))
                for (int i = 0; i < warm; i++) trainer.Step(); // all at the same point of the corpus

            var best = new (double Seconds, long Tokens)[trainers.Count];
            Array.Fill(best, (double.MaxValue, 0));
            for (int round = 0; round < Rounds; round++)
                for (int k = 0; k < trainers.Count; k++)
                {
                    // Untimed steps first, a tenth of a slice: the other training has run meanwhile,
                    // and its own cores have slept and lost its data from their caches.
                    for (int i = 0; i < steps / 10; i++) trainers[k].Step();
                    long before = trainers[k].Step().Tokens;
                    var clock = Stopwatch.StartNew();
                    long after = before;
                    for (int i = 0; i < steps; i++) after = trainers[k].Step().Tokens;
                    double seconds = clock.Elapsed.TotalSeconds;
                    if (seconds / (after - before) < best[k].Seconds / Math.Max(1, best[k].Tokens)) best[k] = (seconds, after - before);
                }

            return threadCounts.Select((threads, k) =>
            {
                var (seconds, tokens) = best[k];
                double avgTokensPerSentence = (double)tokens / steps / b;
                double flops = steps * (b * FlopsPerAverageSentence(config, avgTokensPerSentence) + Flops.Adam(config));
                double gflops = flops / seconds / 1e9;
                return ($"| {c} | {l} | {t} | {b} | {config.ParameterCount:N0} | {threads} | {steps} x {Rounds} | {seconds / steps * 1e6:F0} | {tokens / seconds:F0} | {gflops:F2} | {100 * gflops / (Machine.PeakGflops * threads):F1}% |",
                        tokens / seconds);
            }).ToList();
        }
        finally
        {
            trainers.ForEach(trainer => trainer.Dispose());
        }
    }

    /// <summary>The FLOPs of a sentence with the average number of predicted positions (attention is quadratic, so this is close, not exact).</summary>
    static double FlopsPerAverageSentence(ModelConfig config, double rows) =>
        Flops.PerSentence(config, (int)Math.Round(rows) + 1);
}
