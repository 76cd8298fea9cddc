using System.Diagnostics;
using System.Runtime.CompilerServices;
using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>
/// Trains a model in place, one step at a time, exactly as the tutorial does: step s takes its
/// batch from a batch source (the tutorial's: sentences (s B + i) mod N of the seeded, shuffled
/// corpus, see <see cref="SentenceBatches"/>), runs forward, loss and backward, averages the
/// gradients of the batch's examples, and applies Adam with the rate of <see cref="LearningRate.At"/>
/// (with AdamW's weight decay, and the gradient scaled down to its clipping norm, when the options say so).
/// Nothing in a result depends on how work lands on threads (see <see cref="StepRunner"/>), so
/// losses and weights are bit-identical whatever <see cref="TrainingOptions.ThreadCount"/> is.
/// A step whose loss or gradient is not finite throws <see cref="TrainingDivergedException"/>
/// before touching the weights, and so does one whose gradient norm is above
/// <see cref="MaxGradientNorm"/>. A step whose update makes a weight non-finite is undone: the
/// trainer keeps a backup of the weights and moments every <see cref="Tunables.BackupInterval"/>
/// steps, goes back to it, and takes the steps since again (they give the same numbers, bit for bit),
/// so that the model is exactly as the last good step left it; then it throws. The update runs
/// under the model's <see cref="Model.StepGate"/>, so a save on another thread (see
/// <see cref="Model.Snapshot"/>) sees whole steps only. The trainer allocates its buffers once;
/// steps allocate nothing.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>
    /// The largest gradient norm a step may have: any element's square then fits float32 with room to
    /// spare (below 1e36), so Adam's moments stay finite (see <see cref="Adam"/>). A larger one is a
    /// divergence, as a loss that is not finite is.
    /// </summary>
    internal const double MaxGradientNorm = 1e18;

    readonly Model model;
    readonly IBatchSource batches;
    readonly TrainingOptions options;
    readonly OptimizerState state;
    readonly WorkerPool? pool;     // the threads of the steps and of the validation
    readonly StepRunner runner;
    readonly Evaluator? validation;
    readonly IDisposable lease;
    readonly Stopwatch clock = new();
    long runTokens;
    readonly Backup backup;

    /// <summary>
    /// Starts a run over encoded sentences ([BOS, ..., BOS] each), or resumes one from its optimizer
    /// state. <paramref name="origin"/> says where the sentences came from, for the checkpoints' hint
    /// (a resumed run keeps its checkpoint's when given none).
    /// </summary>
    public Trainer(Model model, IReadOnlyList<int[]> sentences, TrainingOptions options, IReadOnlyList<int[]>? validationSentences = null, OptimizerState? resume = null, CorpusOrigin? origin = null)
        : this(model, run => new SentenceBatches(model, sentences, run), options, stream: false, CheckedValidation(model, validationSentences, options.ValidationExamples), resume, origin)
    {
    }

    /// <summary>
    /// Starts a run in stream mode over a token stream (<see cref="Tokenizer.Encode"/> of the corpus's
    /// whole text), or resumes one: each step takes BatchSize windows of BlockSize + 1 tokens at seeded
    /// offsets (see <see cref="StreamWindows"/>). The validation loss, when a validation stream is
    /// given, is the mean over all its tokens, or over ValidationExamples evenly spaced windows of it (see <see cref="Evaluator.ForStreamWindows"/>).
    /// </summary>
    public static Trainer ForStream(Model model, int[] stream, TrainingOptions options, int[]? validationStream = null, OptimizerState? resume = null, CorpusOrigin? origin = null)
    {
        if (validationStream is not null) StreamWindows.CheckLength(validationStream.Length, model.Config.BlockSize, "validation");
        return new Trainer(model, run => new StreamWindows(model, stream, run), options with { Stream = true }, stream: true,
            validationStream is null ? null : threads => Evaluator.ForStreamWindows(model, validationStream, options.ValidationExamples, threads), resume, origin);
    }

    static Func<int, Evaluator>? CheckedValidation(Model model, IReadOnlyList<int[]>? sentences, int examples)
    {
        if (sentences is not { Count: > 0 }) return null;
        model.CheckTokens(sentences, "validation");
        return threads => new Evaluator(model, Evaluator.EvenlySpaced(sentences, examples), threads);
    }

    /// <summary>
    /// Starts or resumes a run whose batches come from <paramref name="batchesFor"/>, made for the
    /// run's options (a resumed run's are its checkpoint's), in stream mode or not as
    /// <paramref name="stream"/> says; its validation, if any, from <paramref name="validationFor"/>
    /// (given the threads it may use).
    /// </summary>
    Trainer(Model model, Func<TrainingOptions, IBatchSource> batchesFor, TrainingOptions options, bool stream, Func<int, Evaluator>? validationFor, OptimizerState? resume, CorpusOrigin? origin)
    {
        this.model = model;
        // A resumed run keeps the options that decide its numbers; threads may change, and so may the
        // validation and checkpoint intervals when new ones are given.
        this.options = (resume is null ? options : options.ResumingFrom(resume.Options)).Validate();
        if (this.options.Stream != stream)
            throw resume is not null
                ? new CheckpointMismatchException($"The checkpoint's run trained in {ModeOf(this.options.Stream)}; it resumes in that mode only.")
                : new InvalidConfigurationException(nameof(TrainingOptions.Stream), this.options.Stream, $"Stream {this.options.Stream} asks for {ModeOf(this.options.Stream)}, but the corpus was given as {(stream ? "a token stream" : "sentences")}.");
        batches = batchesFor(this.options);
        model.CheckFinite(resume);
        if (resume is not null)
        {
            if (resume.CorpusSentences != batches.Size || resume.CorpusFingerprint != batches.Fingerprint)
                throw new CheckpointMismatchException($"The checkpoint's run trained on other {batches.Unit} ({resume.CorpusSentences:N0} of them, fingerprint {resume.CorpusFingerprint:x16}) than these ({batches.Size:N0}, fingerprint {batches.Fingerprint:x16}); resume with the same corpus and the same validation split.");
            if (resume.M.Length != model.Parameters.Length || resume.V.Length != model.Parameters.Length)
                throw new InvalidConfigurationException(nameof(resume), resume.M.Length, $"The optimizer state has {resume.M.Length} moments but the model has {model.Parameters.Length} parameters.");
        }
        state = resume ?? new OptimizerState(new float[model.Parameters.Length], new float[model.Parameters.Length])
        {
            Options = this.options,
            CorpusSentences = batches.Size,
            CorpusFingerprint = batches.Fingerprint,
        };
        state.CorpusOrigin = origin ?? state.CorpusOrigin;

        // Everything is checked; now take the model, and give it back if the buffers cannot be had.
        lease = model.BeginTraining();
        try
        {
            validation = validationFor?.Invoke(this.options.EffectiveThreads);
            int stepThreads = Math.Min(this.options.EffectiveThreads, batches.MaxExamples);
            int threads = Math.Max(stepThreads, validation?.Threads ?? 1);
            if (threads > 1) pool = new WorkerPool(threads - 1);
            runner = new StepRunner(model, batches.MaxRows, batches.MaxExamples, stepThreads, pool);
            backup = new Backup(model.Parameters.Length);
        }
        catch
        {
            pool?.Dispose();
            lease.Dispose();
            throw;
        }
    }

    static string ModeOf(bool stream) => stream ? "stream mode" : "sentence mode";

    /// <summary>The 1-based number of the next step to take.</summary>
    public long NextStep => state.NextStep + 1;

    /// <summary>True when the schedule has no steps left.</summary>
    public bool Finished => state.Finished;

    /// <summary>The options of this run (a resumed run keeps its original ones).</summary>
    public TrainingOptions Options => options;

    /// <summary>Runs the remaining steps, reporting each; stops between steps when cancelled.</summary>
    public void Run(Action<TrainingStep> onStep, CancellationToken cancellation = default)
    {
        while (!Finished && !cancellation.IsCancellationRequested) onStep(Step());
    }

    /// <summary>Takes one step and reports it.</summary>
    public TrainingStep Step()
    {
        if (Finished) throw new InvalidOperationException($"The run has finished its {options.Steps} steps.");
        if (!clock.IsRunning) clock.Start(); // wall time from the first step on
        long s = state.NextStep;
        var (loss, gradNorm, lr) = Advance();
        double elapsed = clock.Elapsed.TotalSeconds;
        return new TrainingStep
        {
            Step = s + 1,
            Steps = options.Steps,
            Loss = loss,
            LearningRate = lr,
            GradNorm = gradNorm,
            Tokens = state.Tokens,
            TokensPerSecond = elapsed > 0 ? runTokens / elapsed : 0,
            ElapsedSeconds = elapsed,
            ValidationLoss = ValidationDue(s + 1) ? validation!.MeanLoss(pool) : null,
        };
    }

    /// <summary>Step s = state.NextStep: the batch's loss and gradient, then Adam, kept only when every new weight is finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // as the methods it calls (see StepRunner)
    (double Loss, double GradNorm, double LearningRate) Advance()
    {
        long s = state.NextStep;
        batches.Fill(runner.Batch, s);
        double loss = runner.Compute();
        double gradNorm = runner.GradientNorm();
        if (!double.IsFinite(loss) || !(gradNorm <= MaxGradientNorm))
            throw new TrainingDivergedException(s + 1, $"the loss is {loss} and the gradient norm {gradNorm}");
        double lr = LearningRate.At(options, s);
        var constants = Adam.StepConstants.For(lr, options.Beta1, options.Beta2, options.Epsilon, s, options.WeightDecay, ClipScale(gradNorm));
        lock (model.StepGate)
        {
            if (backup.Step < 0 || s - backup.Step >= Tunables.BackupInterval) TakeBackup();
            if (!runner.Update(state.M, state.V, constants))
            {
                ReturnTo(s);
                throw new TrainingDivergedException(s + 1, "its update made a weight infinite or NaN, so it was undone");
            }
            state.NextStep = s + 1;
            model.Optimizer = state; // from the first completed step on, the model carries its run's state
            int rows = runner.Batch.Rows;
            state.Tokens += rows;
            runTokens += rows;
            model.Summary.Steps++;
            model.Summary.Tokens += rows;
            model.Summary.LastLoss = loss;
        }
        return (loss, gradNorm, lr);
    }

    /// <summary>What clip_grad_norm_ multiplies the gradient by: min(1, clip / (norm + 1e-6)), or 1 without clipping.</summary>
    double ClipScale(double gradNorm) => options.GradientClip > 0 ? Math.Min(1, options.GradientClip / (gradNorm + 1e-6)) : 1;

    void TakeBackup()
    {
        model.Parameters.CopyTo(backup.Parameters, 0);
        backup.State.CopyFrom(state);
        backup.Step = state.NextStep;
        backup.Summary.CopyFrom(model.Summary);
        backup.ModelOptimizer = model.Optimizer;
        backup.RunTokens = runTokens;
    }

    /// <summary>Puts the model and the run back as step <paramref name="step"/> (0-based) found them: the backup, then the steps since.</summary>
    void ReturnTo(long step)
    {
        backup.Parameters.CopyTo(model.Parameters, 0);
        state.CopyFrom(backup.State);
        model.Summary.CopyFrom(backup.Summary);
        model.Optimizer = backup.ModelOptimizer;
        runTokens = backup.RunTokens;
        runner.ResetCopies();
        while (state.NextStep < step) Advance(); // bit for bit as before: these steps succeeded
    }

    public void Dispose()
    {
        pool?.Dispose();
        lease.Dispose();
    }

    /// <summary>The weights, moments and counters of the run as they were before its 0-based step Step (-1 before the first backup).</summary>
    sealed class Backup(int parameters)
    {
        public readonly float[] Parameters = new float[parameters];
        public readonly OptimizerState State = new(new float[parameters], new float[parameters]);
        public long Step = -1;
        public readonly TrainingSummary Summary = new();
        public OptimizerState? ModelOptimizer;
        public long RunTokens;
    }

    bool ValidationDue(long step)
    {
        if (validation is null) return false;
        int interval = options.ValidationInterval > 0 ? options.ValidationInterval : Math.Max(1, options.Steps / 10);
        return step % interval == 0 || step == options.Steps;
    }
}
