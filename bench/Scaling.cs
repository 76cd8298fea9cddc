using System.Diagnostics;

namespace MicroGpt.Bench;

/// <summary>One row of the scaling table: a training of a given shape, timed after a warm-up.</summary>
static class Scaling
{
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

    public static string Measure(BenchCorpus corpus, int c, int l, int t, int b, int threads)
    {
        var config = new ModelConfig(corpus.Tokenizer.VocabSize, c, 4, l, t);
        var options = new TrainingOptions { Steps = 1_000_000, BatchSize = b, ThreadCount = threads };

        // Calibrate: time a few steps, then run about one second.
        var model = Model.Create(config, corpus.Tokenizer, 42);
        using var trainer = new Trainer(model, corpus.Sentences, options);
        var probe = Stopwatch.StartNew();
        int warm = 0;
        long tokensBefore = 0;
        while (probe.Elapsed.TotalSeconds < 0.3 || warm < 3) { tokensBefore = trainer.Step().Tokens; warm++; }
        int steps = Math.Max(5, (int)(warm / probe.Elapsed.TotalSeconds));

        long tokensAfter = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) tokensAfter = trainer.Step().Tokens;
        clock.Stop();
        long tokens = tokensAfter - tokensBefore;
        double avgTokensPerSentence = (double)tokens / steps / b;
        double flops = steps * (b * FlopsPerAverageSentence(config, avgTokensPerSentence) + Flops.Adam(config));
        double seconds = clock.Elapsed.TotalSeconds;
        double gflops = flops / seconds / 1e9;
        return $"| {c} | {l} | {t} | {b} | {config.ParameterCount:N0} | {threads} | {steps} | {seconds / steps * 1e6:F0} | {tokens / seconds:F0} | {gflops:F2} | {100 * gflops / (Machine.PeakGflops * threads):F1}% |";
    }

    /// <summary>The FLOPs of a sentence with the average number of predicted positions (attention is quadratic, so this is close, not exact).</summary>
    static double FlopsPerAverageSentence(ModelConfig config, double rows) =>
        Flops.PerSentence(config, (int)Math.Round(rows) + 1);
}
