using System.Diagnostics;
using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>
/// Trains a model in place, one step at a time, exactly as the tutorial does: step s takes the
/// sentences (s B + i) mod N of the (seeded, shuffled) corpus, runs forward, loss and backward,
/// averages the gradients of its B sentences, and applies Adam with the rate lr (1 - s / steps).
/// Nothing in a result depends on how work lands on threads (see <see cref="Backpropagation"/>),
/// so losses and weights are bit-identical whatever <see cref="TrainingOptions.ThreadCount"/> is.
/// A step whose loss or gradient is not finite throws <see cref="TrainingDivergedException"/>
/// before touching the weights. The trainer allocates its buffers once; steps allocate nothing.
/// </summary>
public sealed class Trainer : IDisposable
{
    const int AdamChunk = 1 << 14; // parameters per Adam job: elementwise, so any split gives the same numbers

    readonly Model model;
    readonly int[][] sentences;
    readonly int[] order;
    readonly TrainingOptions options;
    readonly OptimizerState state;
    readonly Backpropagation backprop;
    readonly int[] pick;
    readonly Action<int> adamChunk; // made once: steps allocate nothing
    readonly ParameterRange[] adamChunks; // each on the thread that wrote its gradient
    readonly int[] adamOwners;            // their threads, as the pool takes them
    readonly WeightCopies? copies;  // per-thread weights, for small models on several threads
    Adam.StepConstants adamConstants;
    readonly Evaluator? validation;
    readonly IDisposable lease;
    readonly Stopwatch clock = new();
    long runTokens;

    /// <summary>
    /// Starts a run over encoded sentences ([BOS, ..., BOS] each), or resumes one from its optimizer
    /// state. <paramref name="origin"/> says where the sentences came from, for the checkpoints' hint
    /// (a resumed run keeps its checkpoint's when given none).
    /// </summary>
    public Trainer(Model model, IReadOnlyList<int[]> sentences, TrainingOptions options, IReadOnlyList<int[]>? validationSentences = null, OptimizerState? resume = null, CorpusOrigin? origin = null)
    {
        this.model = model;
        // A resumed run keeps the options that decide its numbers; threads and validation may change.
        this.options = (resume is null ? options : resume.Options with { ThreadCount = options.ThreadCount, ValidationInterval = options.ValidationInterval }).Validate();
        if (sentences.Count == 0) throw new CorpusException("The training corpus has no sentences.");
        this.sentences = sentences.ToArray();
        model.CheckTokens(this.sentences, "training");
        ulong fingerprint = Fingerprint(this.sentences);
        if (resume is not null)
        {
            if (resume.CorpusSentences != this.sentences.Length || resume.CorpusFingerprint != fingerprint)
                throw new CheckpointMismatchException($"The checkpoint's run trained on other sentences ({resume.CorpusSentences:N0} of them, fingerprint {resume.CorpusFingerprint:x16}) than these ({this.sentences.Length:N0}, fingerprint {fingerprint:x16}); resume with the same corpus and the same validation split.");
            if (resume.M.Length != model.Parameters.Length || resume.V.Length != model.Parameters.Length)
                throw new InvalidConfigurationException(nameof(resume), resume.M.Length, $"The optimizer state has {resume.M.Length} moments but the model has {model.Parameters.Length} parameters.");
        }
        state = resume ?? new OptimizerState(new float[model.Parameters.Length], new float[model.Parameters.Length])
        {
            Options = this.options,
            CorpusSentences = this.sentences.Length,
            CorpusFingerprint = fingerprint,
        };
        state.CorpusOrigin = origin ?? state.CorpusOrigin;

        if (validationSentences is { Count: > 0 }) model.CheckTokens(validationSentences, "validation");

        order = Enumerable.Range(0, this.sentences.Length).ToArray();
        if (this.options.Shuffle) new Rng(this.options.Seed).Shuffle(order.AsSpan());
        pick = new int[this.options.BatchSize];
        adamChunk = AdamChunkUpdate;

        // Everything is checked; now take the model, and give it back if the buffers cannot be had.
        lease = model.BeginTraining();
        try
        {
            backprop = new Backpropagation(model, this.options.BatchSize, this.sentences.Max(s => s.Length), this.options.EffectiveThreads);
            adamChunks = backprop.PlanOptimizer(AdamChunk);
            adamOwners = adamChunks.Select(chunk => chunk.Owner).ToArray();
            if (WeightCopies.Worthwhile(model.Parameters.Length, backprop.Threads))
                backprop.Copies = copies = new WeightCopies(model.Parameters, backprop.Threads, adamChunks);
            if (validationSentences is { Count: > 0 }) validation = new Evaluator(model, validationSentences, this.options.EffectiveThreads);
        }
        catch
        {
            backprop?.Dispose();
            lease.Dispose();
            throw;
        }
    }

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
        int n = sentences.Length, b = options.BatchSize;
        for (int i = 0; i < b; i++) pick[i] = order[(int)((s * b + i) % n)];
        double loss = backprop.Compute(sentences, pick);
        double gradNorm = backprop.GradientNorm();
        if (!double.IsFinite(loss) || !double.IsFinite(gradNorm))
        {
            Array.Clear(backprop.Gradients);
            throw new TrainingDivergedException(s + 1, loss, gradNorm);
        }
        double lr = options.LearningRate * (1 - (double)s / options.Steps);
        adamConstants = Adam.StepConstants.For(lr, options.Beta1, options.Beta2, options.Epsilon, s);
        backprop.For(adamOwners.Length, adamChunk, adamOwners);

        state.NextStep = s + 1;
        model.Optimizer = state; // from the first completed step on, the model carries its run's state
        state.Tokens += backprop.Rows;
        runTokens += backprop.Rows;
        model.Summary.Steps++;
        model.Summary.Tokens += backprop.Rows;
        model.Summary.LastLoss = loss;
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
            ValidationLoss = ValidationDue(s + 1) ? validation!.MeanLoss() : null,
        };
    }

    public void Dispose()
    {
        backprop.Dispose();
        lease.Dispose();
    }

    void AdamChunkUpdate(int i)
    {
        var (start, length, _) = adamChunks[i];
        var parameters = model.Parameters.AsSpan(start, length);
        Adam.Update(parameters, backprop.Gradients.AsSpan(start, length), state.M.AsSpan(start, length), state.V.AsSpan(start, length), adamConstants, copies is null ? default : copies.Home(i));
        copies?.Send(i, parameters);
    }

    bool ValidationDue(long step)
    {
        if (validation is null) return false;
        int interval = options.ValidationInterval > 0 ? options.ValidationInterval : Math.Max(1, options.Steps / 10);
        return step % interval == 0 || step == options.Steps;
    }

    /// <summary>FNV-1a over the encoded sentences: cheap, stable across runs and machines.</summary>
    static ulong Fingerprint(int[][] sentences)
    {
        ulong hash = 14695981039346656037;
        foreach (var sentence in sentences)
        {
            foreach (int token in sentence) hash = (hash ^ (uint)token) * 1099511628211;
            hash = (hash ^ 0xFFFFFFFF) * 1099511628211;
        }
        return hash;
    }
}
