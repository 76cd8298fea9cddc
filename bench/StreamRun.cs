using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MicroGpt.Bench;

/// <summary>
/// Stream mode's quick start as a user runs it, each run in a fresh process: nanoGPT's CPU
/// quick-start (a character model, C 128, L 4, H 4, T 64, batches of 12 windows, AdamW with weight
/// decay 0.1, betas 0.9 and 0.99, learning rate 1e-3 after 100 warm-up steps along a cosine to 1e-4,
/// gradient clip 1.0, GPT-2's initialization, seed 1337, the last tenth of the text held out) on the
/// default corpus's text as Invoke-Training -Stream reads it with no -Path (each line ended by LF).
/// The child reports the whole process's wall time (from its start, runtime start-up included), the
/// steps' own, its peak resident memory (VmHWM) and collections; the report gives the median of
/// <see cref="Runs"/> such runs per thread count, taking turns. Also what 100% of the measured peak
/// would allow at the stream row's shape (<see cref="Ceiling"/>).
/// </summary>
static class StreamRun
{
    /// <summary>Steps of each run in the report: about 13 s on one thread and 7 s on two here, whole processes, so the section takes about a minute.</summary>
    public const int ReportSteps = 200;

    /// <summary>Runs per thread count in the report, taking turns.</summary>
    public const int Runs = 3;

    /// <summary>The issue's target, on two threads: trained tokens per second.</summary>
    const double TargetTokensPerSecond = 50_000;

    /// <summary>The issue's target for a whole run's peak resident memory.</summary>
    const int TargetPeakMegabytes = 300;

    /// <summary>The training loss reported: the mean batch loss of this many last steps (one batch's loss is noisy).</summary>
    const int LastLosses = 20;

    const int Seed = 1337; // nanoGPT's
    const int WarmupSteps = 100;
    const double ValidationFraction = 0.1;
    static readonly Shape QuickStart = new(Sequences.Stream, 128, 4, 64, 12);

    /// <summary>What one run measured.</summary>
    public sealed record Result(double ProcessSeconds, double TrainingSeconds, long Steps, long Tokens, double StepsPeakMegabytes, double PeakMegabytes, int Collections,
                                double TrainingLoss, double ValidationLoss, int VocabSize, long TrainingTokens, long ValidationTokens)
    {
        public double TokensPerSecond => Tokens / TrainingSeconds;
    }

    /// <summary>The text: the default corpus's lines, each ended by LF (Invoke-Training -Stream's default stream).</summary>
    static string Text() => string.Concat(Corpus.DefaultLines().Select(line => line + "\n"));

    /// <summary>The characters of the text, line ends included, as Invoke-Training -Stream builds its tokenizer.</summary>
    static Tokenizer CharacterTokenizer(string text) => Tokenizer.Build(TokenizerKind.Character, [new Sentence(text, 1)], "the default corpus");

    static ModelConfig Config(int vocabSize) => new(vocabSize, QuickStart.C, QuickStart.H, QuickStart.L, QuickStart.T);

    /// <summary>nanoGPT's quick-start options (train.py's defaults and config/train_shakespeare_char.py), validating at the last step only.</summary>
    static TrainingOptions Options(int steps, int threads) => new()
    {
        Steps = steps,
        BatchSize = QuickStart.B,
        ThreadCount = threads,
        LearningRate = 1e-3,
        Beta1 = 0.9,
        Beta2 = 0.99,
        WeightDecay = 0.1,
        WarmupSteps = WarmupSteps,
        Schedule = Schedule.Cosine,
        MinLearningRate = 1e-4,
        GradientClip = 1.0,
        Seed = Seed,
        ValidationInterval = steps,
    };

    public static Result Spawn(int threads, int steps)
    {
        var f = ChildProcess.Run("--stream-child", threads.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture));
        return new Result(f[0], f[1], (long)f[2], (long)f[3], f[4], f[5], (int)f[6], f[7], f[8], (int)f[9], (long)f[10], (long)f[11]);
    }

    /// <summary>The run, in this process (which should be fresh): prints what it measured, then the RESULT line.</summary>
    public static int Run(int threads, int steps)
    {
        if (steps <= WarmupSteps)
        {
            Console.Error.WriteLine($"--stream-child THREADS STEPS: STEPS {steps} must be more than the quick start's {WarmupSteps} warm-up steps.");
            return 2;
        }
        string text = Text();
        var tokenizer = CharacterTokenizer(text);
        var tokens = Corpus.EncodeStream(tokenizer, text, "the default corpus");
        int cut = (int)(tokens.Length * (1 - ValidationFraction)); // the last tenth held out, as Invoke-Training -ValidationFraction does
        var model = Model.Create(Config(tokenizer.VocabSize), tokenizer, Seed, Initialization.Gpt2);

        var losses = new double[steps];
        double trainingSeconds = 0, validationLoss = double.NaN, stepsPeak = 0;
        long trained = 0;
        int collections = GC.CollectionCount(0); // counts every generation's: a gen-1 or gen-2 collection is also a gen-0 one
        using (var trainer = Trainer.ForStream(model, tokens[..cut], Options(steps, threads), tokens[cut..]))
            trainer.Run(step =>
            {
                losses[step.Step - 1] = step.Loss;
                trainingSeconds = step.ElapsedSeconds; // the steps' own time: taken before the step's validation, which is at the last
                trained = step.Tokens;
                if (step.Step == steps - 1) stepsPeak = ChildProcess.ResidentMegabytes("VmHWM:"); // before the validation's buffers are touched
                if (step.ValidationLoss is { } loss) validationLoss = loss;
            });
        collections = GC.CollectionCount(0) - collections;
        double peak = ChildProcess.ResidentMegabytes("VmHWM:");
        double processSeconds = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
        double trainingLoss = losses.TakeLast(LastLosses).Average();

        Console.WriteLine($"Stream quick start: {tokenizer.VocabSize} tokens of vocabulary, {model.Parameters.Length:N0} parameters, {cut:N0} tokens to train on, {tokens.Length - cut:N0} held out.");
        Console.WriteLine($"{steps} steps on {threads} thread(s): {processSeconds:F2} s the whole process, {trainingSeconds:F2} s the steps, {trained / trainingSeconds:F0} tokens/s; " +
                          $"peak memory {stepsPeak:F0} MB before the validation, {peak:F0} MB in all; {collections} collections; loss {trainingLoss:F3} (mean of the last {LastLosses} steps), validation {validationLoss:F3}.");
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT {processSeconds} {trainingSeconds} {steps} {trained} {stepsPeak} {peak} {collections} {trainingLoss} {validationLoss} {tokenizer.VocabSize} {cut} {tokens.Length - cut}"));
        return 0;
    }

    /// <summary>The report's section: <see cref="Runs"/> runs of <see cref="ReportSteps"/> steps for each thread count, taking turns.</summary>
    public static string Section(int[] threadCounts)
    {
        var runs = threadCounts.ToDictionary(threads => threads, _ => new List<Result>());
        for (int run = 0; run < Runs; run++) // taking turns, so that a slow spell of the host hits both
            foreach (int threads in threadCounts) runs[threads].Add(Spawn(threads, ReportSteps));
        var first = runs[threadCounts[0]][0];
        double flopsPerToken = FlopsPerToken(QuickStart, Config(first.VocabSize));

        var text = new StringBuilder();
        text.AppendLine("## Stream mode, a whole run in a fresh process");
        text.AppendLine();
        text.AppendLine($"nanoGPT's CPU quick start as `--stream-child THREADS STEPS` runs it, each run a process of its own: a character tokenizer ({first.VocabSize} tokens with BOS)");
        text.AppendLine($"over the default corpus's text as Invoke-Training -Stream reads it with no -Path (each line ended by LF), the last tenth held out ({first.TrainingTokens:N0} tokens");
        text.AppendLine($"to train on, {first.ValidationTokens:N0} to validate on); {QuickStart.Describe()}, GPT-2's initialization (seed {Seed}); AdamW with weight decay 0.1, betas");
        text.AppendLine("0.9 and 0.99, learning rate 1e-3 after 100 warm-up steps along a cosine to 1e-4, gradient clip 1.0. The validation loss is measured once,");
        text.AppendLine($"after the last step, over every held-out token. Each row: the median of {Runs} runs of **{ReportSteps} steps** (the two thread counts taking turns), with the");
        text.AppendLine("fastest and slowest. *Whole process* runs from the process's start (runtime start-up, reading and encoding the text, the model, the steps, the");
        text.AppendLine("validation) to the end; *steps* is the trainer's clock over the steps alone. Peak memory is the process's peak resident size (VmHWM), the");
        text.AppendLine($"highest of the {Runs}: read before the last step (the steps') and at the end (the whole run's, the validation included). Collections are those");
        text.AppendLine($"of each run's steps and validation (gen 0, which counts every collection). Training loss: the mean batch loss of the last {LastLosses} steps.");
        text.AppendLine($"`dotnet run -c Release --project bench -- --stream-child 2 2000` runs one of the quick start's 2,000 steps alone.");
        text.AppendLine();
        text.AppendLine("| threads | whole process (s): median (min - max) | steps (s): median (min - max) | tokens/s over the steps | tokens/s over the whole process | % of peak (threads x one core) | peak memory (MB): steps, whole run | GC collections | training loss | validation loss |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (int threads in threadCounts)
        {
            var byProcess = runs[threads].OrderBy(r => r.ProcessSeconds).ToList();
            var bySteps = runs[threads].OrderBy(r => r.TrainingSeconds).ToList();
            var median = bySteps[bySteps.Count / 2];
            double percent = 100 * median.TokensPerSecond * flopsPerToken / (Machine.Peak.Gflops * 1e9 * threads);
            text.AppendLine($"| {threads} | {byProcess[byProcess.Count / 2].ProcessSeconds:F2} ({byProcess[0].ProcessSeconds:F2} - {byProcess[^1].ProcessSeconds:F2}) | " +
                            $"{median.TrainingSeconds:F2} ({bySteps[0].TrainingSeconds:F2} - {bySteps[^1].TrainingSeconds:F2}) | {median.TokensPerSecond:F0} | " +
                            $"{median.Tokens / byProcess[byProcess.Count / 2].ProcessSeconds:F0} | {percent:F1}% | {runs[threads].Max(r => r.StepsPeakMegabytes):F0}, {runs[threads].Max(r => r.PeakMegabytes):F0} | " +
                            $"{string.Join(", ", runs[threads].Select(r => r.Collections))} | {median.TrainingLoss:F3} | {median.ValidationLoss:F3} |");
        }
        text.AppendLine();
        var all = runs.Values.SelectMany(r => r).ToList();
        bool same = all.All(r => r.TrainingLoss == first.TrainingLoss && r.ValidationLoss == first.ValidationLoss);
        text.AppendLine(same ? "Every run, on either thread count, ended with the same losses, bit for bit."
                             : $"**The runs' losses differ** (training: {string.Join(", ", all.Select(r => r.TrainingLoss.ToString("R", CultureInfo.InvariantCulture)))}): results must not depend on the thread count.");
        text.AppendLine();
        text.AppendLine($"The issue's target for memory is a peak under {TargetPeakMegabytes} MB: the highest here is {all.Max(r => r.StepsPeakMegabytes):F0} MB over the steps and {all.Max(r => r.PeakMegabytes):F0} MB for the whole run.");
        text.AppendLine();
        text.AppendLine(Ceiling(QuickStart, Config(first.VocabSize), "This character model", threadCounts));
        text.AppendLine();
        return text.ToString();
    }

    /// <summary>
    /// The FLOPs the bench counts per trained token of a stream row: a step of B windows is
    /// <see cref="Flops.FullLengthStep"/>, the same count as a full-length row (every window trains
    /// exactly T positions), over its B T tokens (so Adam's work is shared among them).
    /// </summary>
    static double FlopsPerToken(Shape shape, ModelConfig config) => Flops.FullLengthStep(config, shape.B) / (shape.B * shape.T);

    /// <summary>
    /// What the FLOPs the bench counts per trained token of a stream row mean: the tokens/s that
    /// 100% of the measured peak would allow for each thread count, and the issue's target as a
    /// share of the two-thread ceiling.
    /// </summary>
    public static string Ceiling(Shape shape, ModelConfig config, string model, int[] threadCounts)
    {
        double flopsPerToken = FlopsPerToken(shape, config);
        double oneCore = Machine.Peak.Gflops * 1e9 / flopsPerToken;
        return $"{model} (vocabulary {config.VocabSize}, {config.ParameterCount:N0} parameters) counts {flopsPerToken / 1e6:F2} MFLOP per trained token " +
               $"(the bench's analytic count, `Flops` in Support.cs: a stream step of B {shape.B} windows counts as a full-length step, Adam shared among its {shape.B * shape.T} tokens, elementwise work left out): " +
               $"100% of the measured peak ({Machine.Peak.Gflops:F0} GFLOP/s per core) would allow {string.Join(", ", threadCounts.Select(t => $"{oneCore * t:N0} tokens/s on {t} thread(s)"))}. " +
               $"The issue's target of {TargetTokensPerSecond:N0} tokens/s on two threads is {100 * TargetTokensPerSecond / (2 * oneCore):F0}% of this CPU's two-thread peak.";
    }
}
