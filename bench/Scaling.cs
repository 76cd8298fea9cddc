using System.Diagnostics;

namespace MicroGpt.Bench;

/// <summary>What the sequences of a scaling row are.</summary>
enum Sequences
{
    /// <summary>The default corpus's sentences: 2 to 8 words, so at most 9 positions each, whatever the block size.</summary>
    Sentences,

    /// <summary>Lines of exactly T positions cut from the default corpus's words (<see cref="BenchCorpus.FullLength"/>).</summary>
    FullLength,

    /// <summary>
    /// Stream mode (Invoke-Training -Stream): B windows of T + 1 tokens at seeded offsets of the
    /// default corpus's words as one stream (<see cref="BenchCorpus.Stream"/>), T predictions each,
    /// the same work as a full-length row of the same shape.
    /// </summary>
    Stream,
}

/// <summary>One row's shape: what it trains on, embedding C, layers L, block size T, batch B, heads H.</summary>
sealed record Shape(Sequences Kind, int C, int L, int T, int B, int H = 4)
{
    public string Describe() => $"C {C}, L {L}, H {H}, T {T}, B {B}";

    public string KindName => Kind switch
    {
        Sequences.FullLength => $"full length ({T} positions)",
        Sequences.Stream => $"stream ({T} positions a window)",
        _ => "short sentences (at most 9 positions)",
    };

    /// <summary>True when every example trains exactly T positions.</summary>
    public bool FullWindows => Kind != Sequences.Sentences;
}

/// <summary>A row of the scaling table: tokens/s over its slices (median, min, max) and the figures of the median slice.</summary>
sealed record ScalingRow(Shape Shape, long Parameters, int Threads, int Slices, int StepsPerSlice,
                         double MedianTokensPerSecond, double MinTokensPerSecond, double MaxTokensPerSecond,
                         double MedianMicrosecondsPerStep, double MedianGflops)
{
    public double PercentOfPeak => 100 * MedianGflops / (Machine.Peak.Gflops * Threads);

    public const string Header =
        "| sequences | C | L | H | T | batch | parameters | threads | slices x steps | us/step | tokens/s: median (min - max) | GFLOP/s | % of peak (threads x one core) |\n" +
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |";

    public override string ToString() =>
        $"| {Shape.KindName} | {Shape.C} | {Shape.L} | {Shape.H} | {Shape.T} | {Shape.B} | {Parameters:N0} | {Threads} | {Slices} x {StepsPerSlice} | " +
        $"{MedianMicrosecondsPerStep:F0} | {MedianTokensPerSecond:F0} ({MinTokensPerSecond:F0} - {MaxTokensPerSecond:F0}) | {MedianGflops:F2} | {PercentOfPeak:F1}% |";
}

/// <summary>Rows of the scaling table: a training of a given shape, with one thread and with all cores.</summary>
static class Scaling
{
    /// <summary>Timed slices per row; a row reports their median, min and max.</summary>
    public const int Rounds = 7;

    /// <summary>The length a slice aims at; a slice is at least one step, so at large shapes it is longer.</summary>
    public const double SliceSeconds = 0.15;

    /// <summary>Steps whose losses are kept, to compare with a peer that starts from the same weights and lines.</summary>
    public const int CheckedSteps = 3;

    /// <summary>
    /// The learning rate of full-length rows: nanoGPT's for its quick-start. The first Adam steps
    /// move every weight by about the rate, and the tutorial's 0.01 is a large move for weights of
    /// <see cref="FullLengthInitStd"/>. Short-sentence rows keep the tutorial's rate.
    /// </summary>
    public const double FullLengthLearningRate = 1e-3;

    /// <summary>
    /// The initial weights' standard deviation at full length: GPT-2's. The tutorial's 0.08 suits
    /// C 32; at C 128 to 512 it starts the loss at 9 to 68 (against ln V = 6.4) and the first Adam
    /// steps throw it higher still. Short-sentence rows keep the tutorial's.
    /// </summary>
    public const double FullLengthInitStd = 0.02;

    /// <summary>The seed-42 model a row starts from, as both MicroGpt and the PyTorch peer train it.</summary>
    public static Model InitialModel(ModelConfig config, Tokenizer tokenizer, Sequences kind)
    {
        if (kind == Sequences.Sentences) return Model.Create(config, tokenizer, 42);
        var rng = new Rng(42);
        var parameters = new float[config.ParameterCount];
        for (int i = 0; i < parameters.Length; i++) parameters[i] = (float)rng.NextGaussian(0, FullLengthInitStd);
        return new Model(config, tokenizer, parameters);
    }

    /// <summary>Attempts at a batched row while the host lends less than <see cref="FullCapacity"/> of each core.</summary>
    public const int Attempts = 3;
    public const double FullCapacity = 0.95;

    /// <summary>
    /// Short-sentence rows over embedding size, layers, block size and batch; then full-length
    /// rows at the three shapes of issue 15 and nanoGPT's CPU quick-start shape (C 128, L 4, H 4,
    /// T 64, B 12), and a stream-mode row at the quick-start shape. Every row has 4 heads: head sizes of 8 to 128, and the quick-start's own count
    /// (attention's FLOPs do not depend on the heads).
    /// </summary>
    public static IEnumerable<Shape> Configurations(bool quick)
    {
        yield return new(Sequences.Sentences, 32, 2, 16, 1);
        foreach (int c in new[] { 64, 128, 256 }) yield return new(Sequences.Sentences, c, 2, 16, 1);
        foreach (int l in new[] { 4, 8 }) yield return new(Sequences.Sentences, 32, l, 16, 1);
        yield return new(Sequences.Sentences, 32, 2, 64, 1);
        foreach (int b in new[] { 8, 16, 32 }) yield return new(Sequences.Sentences, 32, 2, 16, b);
        yield return new(Sequences.Sentences, 256, 4, 64, 16);
        if (!quick)
        {
            yield return new(Sequences.Sentences, 128, 4, 16, 8);
            yield return new(Sequences.Sentences, 256, 8, 64, 32);
        }
        foreach (var shape in FullLengthShapes(quick)) yield return shape;
        foreach (var shape in StreamShapes()) yield return shape;
    }

    /// <summary>The full-length shapes, which the PyTorch peer runs too.</summary>
    public static IEnumerable<Shape> FullLengthShapes(bool quick)
    {
        yield return new(Sequences.FullLength, 128, 4, 64, 16);
        yield return new(Sequences.FullLength, 256, 4, 64, 16);
        if (!quick) yield return new(Sequences.FullLength, 512, 6, 128, 8);
        yield return new(Sequences.FullLength, 128, 4, 64, 12);
    }

    /// <summary>Stream mode at nanoGPT's CPU quick-start shape.</summary>
    public static IEnumerable<Shape> StreamShapes()
    {
        yield return new(Sequences.Stream, 128, 4, 64, 12);
    }

    /// <summary>
    /// The rows of one shape for each thread count, the losses of the first <see cref="CheckedSteps"/>
    /// steps, and the slices of <paramref name="others"/> (the PyTorch peer), taken in the same rounds.
    /// Each MicroGpt training starts from <see cref="InitialModel"/>; full-length rows take the lines
    /// in order (no shuffle), as the peer does. All the trainings take turns, a slice of about
    /// <see cref="SliceSeconds"/> each (after a tenth of its steps untimed: the others ran meanwhile,
    /// and this one's cores have slept and lost its data from their caches), for <see cref="Rounds"/>
    /// rounds, so that a slow spell of the host falls on all of them alike. A row reports the median
    /// slice, and the slowest and fastest.
    /// </summary>
    public static (List<ScalingRow> Rows, double[] FirstLosses, List<SliceTimes> Slices, List<SliceTimes> OtherSlices) Measure(
        BenchCorpus corpus, Shape shape, int[] threadCounts, IReadOnlyList<(ITimedTraining Training, int Steps)> others)
    {
        var config = new ModelConfig(corpus.Tokenizer.VocabSize, shape.C, shape.H, shape.L, shape.T);
        var trainers = threadCounts.Select(threads =>
        {
            var model = InitialModel(config, corpus.Tokenizer, shape.Kind);
            var options = new TrainingOptions
            {
                Steps = 1_000_000,
                BatchSize = shape.B,
                ThreadCount = threads,
                Shuffle = shape.Kind == Sequences.Sentences,
                LearningRate = shape.FullWindows ? FullLengthLearningRate : new TrainingOptions().LearningRate,
            };
            return new TrainerTiming(shape.Kind == Sequences.Stream ? Trainer.ForStream(model, corpus.Stream, options) : new Trainer(model, corpus.For(shape), options));
        }).ToList();
        try
        {
            var firstLosses = Enumerable.Range(0, CheckedSteps).Select(_ => trainers[0].Step().Loss).ToArray();
            // Calibrate on the first: steps for a slice, after a warm-up of 0.3 s.
            var probe = Stopwatch.StartNew();
            int warm = 0;
            while (probe.Elapsed.TotalSeconds < 0.3 || warm < 2) { trainers[0].Step(); warm++; }
            int steps = Math.Max(1, (int)(warm / probe.Elapsed.TotalSeconds * SliceSeconds));
            foreach (var trainer in trainers.Skip(1))
                for (int i = 0; i < CheckedSteps + warm; i++) trainer.Step(); // all at the same point of the corpus

            var all = trainers.Select(t => ((ITimedTraining)t, steps)).Concat(others).ToList();
            var slices = all.Select(_ => new SliceTimes()).ToList();
            for (int round = 0; round < Rounds; round++)
                for (int k = 0; k < all.Count; k++)
                {
                    var (training, perSlice) = all[k];
                    var slice = training.Slice(perSlice / 10, perSlice);
                    if (shape.FullWindows && slice.Tokens != (long)perSlice * shape.B * shape.T)
                        throw new InvalidOperationException($"A full-length slice of {perSlice} steps at {shape.Describe()} trained {slice.Tokens} positions, not {perSlice} x B x T.");
                    slices[k].Add(slice, perSlice);
                }

            var rows = threadCounts.Select((threads, k) =>
            {
                var (seconds, trained) = slices[k].MedianSlice;
                double flops = steps * FlopsPerStep(config, shape, (double)trained / steps / shape.B);
                return new ScalingRow(shape, config.ParameterCount, threads, Rounds, steps,
                    slices[k].Median, slices[k].Min, slices[k].Max, seconds / steps * 1e6, flops / seconds / 1e9);
            }).ToList();
            return (rows, firstLosses, slices[..trainers.Count], slices[trainers.Count..]);
        }
        finally
        {
            trainers.ForEach(trainer => trainer.Dispose());
        }
    }

    /// <summary>
    /// The FLOPs of a step: exact for full-length lines and stream windows; for sentences, those of sentences with the
    /// average number of predicted positions (attention is quadratic, so close, not exact).
    /// </summary>
    static double FlopsPerStep(ModelConfig config, Shape shape, double rowsPerSentence) =>
        shape.FullWindows ? Flops.FullLengthStep(config, shape.B)
            : shape.B * Flops.PerSentence(config, (int)Math.Round(rowsPerSentence) + 1) + Flops.Adam(config);
}

/// <summary>A training that runs in timed slices: one of MicroGpt's trainers, or the PyTorch peer in a process of its own.</summary>
interface ITimedTraining
{
    /// <summary>Runs <paramref name="untimed"/> steps, then <paramref name="timed"/> on the clock; returns their seconds and the positions they trained.</summary>
    (double Seconds, long Tokens) Slice(int untimed, int timed);
}

/// <summary>A MicroGpt trainer, timed slice by slice.</summary>
sealed class TrainerTiming(Trainer trainer) : ITimedTraining, IDisposable
{
    long tokens; // trained so far

    public TrainingStep Step()
    {
        var step = trainer.Step();
        tokens = step.Tokens;
        return step;
    }

    public (double Seconds, long Tokens) Slice(int untimed, int timed)
    {
        for (int i = 0; i < untimed; i++) Step();
        long before = tokens;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < timed; i++) Step();
        return (clock.Elapsed.TotalSeconds, tokens - before);
    }

    public void Dispose() => trainer.Dispose();
}

/// <summary>The timed slices of one training, in round order.</summary>
sealed class SliceTimes
{
    readonly List<(double Seconds, long Tokens)> slices = [];

    /// <summary>Steps in each slice.</summary>
    public int StepsPerSlice { get; private set; }

    public void Add((double Seconds, long Tokens) slice, int steps)
    {
        slices.Add(slice);
        StepsPerSlice = steps;
    }

    /// <summary>Tokens per second of each slice, in round order.</summary>
    public double[] TokensPerSecond => slices.Select(s => s.Tokens / s.Seconds).ToArray();

    public (double Seconds, long Tokens) MedianSlice => slices.OrderBy(s => s.Tokens / s.Seconds).ElementAt(slices.Count / 2);
    public double Median => MedianSlice.Tokens / MedianSlice.Seconds;
    public double Min => TokensPerSecond.Min();
    public double Max => TokensPerSecond.Max();
}
