namespace MicroGpt;

/// <summary>
/// How to train: the tutorial's defaults (5,000 steps, Adam with learning rate 0.01 decaying
/// linearly to 0, betas 0.85 and 0.99, epsilon 1e-8, one sentence a step, seeded shuffle), and
/// nanoGPT's options around them (weight decay, warm-up, a cosine schedule, gradient clipping),
/// which are off by default.
/// </summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 5000;
    public double LearningRate { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.85;
    public double Beta2 { get; init; } = 0.99;
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Sentences (in stream mode, windows) per step; their gradients are averaged.</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Seeds the shuffle of the sentences.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Shuffle the sentences once before training (seeded Fisher-Yates); otherwise take them in file order.</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Threads one training may use; 0 means one per processor. Results do not depend on it.</summary>
    public int ThreadCount { get; init; }
    /// <summary>Measure the validation loss every this many steps (and at the last step); 0 means every Steps / 10.</summary>
    public int ValidationInterval { get; init; }
    /// <summary>
    /// The steps between the checkpoints of the run, kept in its checkpoints so that a resumed run
    /// keeps them too; 0 when none was set. The trainer itself writes no checkpoints.
    /// </summary>
    public int CheckpointInterval { get; init; }
    /// <summary>AdamW's decoupled weight decay: each step first takes p -= lr_s wd p, on every tensor (all are matrices).</summary>
    public double WeightDecay { get; init; }
    /// <summary>Steps whose rate rises linearly, lr (s + 1) / (warm-up + 1), before the schedule's decay (see <see cref="MicroGpt.LearningRate"/>).</summary>
    public int WarmupSteps { get; init; }
    /// <summary>How the rate decays after the warm-up: linearly (the tutorial's) or along a cosine (nanoGPT's).</summary>
    public Schedule Schedule { get; init; }
    /// <summary>The rate the decay tends to (Linear) or ends at (Cosine); at most <see cref="LearningRate"/>.</summary>
    public double MinLearningRate { get; init; }
    /// <summary>The most the gradient's global norm may be: a larger one is scaled down to it (as clip_grad_norm_); 0 means no clipping.</summary>
    public double GradientClip { get; init; }
    /// <summary>
    /// Stream mode: the corpus is one token stream and a step takes BatchSize windows of
    /// BlockSize + 1 tokens at seeded offsets (see <see cref="StreamWindows"/>); otherwise sentence
    /// mode, the tutorial's. Kept in checkpoints, so a resumed run stays in its mode.
    /// </summary>
    public bool Stream { get; init; }

    /// <summary>
    /// Measure the validation loss on at most this many of the held-out examples (sentences, or in
    /// stream mode windows), evenly spaced along them (0: all of them), as nanoGPT estimates its loss
    /// from a few batches. Not kept in checkpoints: it changes what a validation measures, never a step.
    /// </summary>
    public int ValidationExamples { get; init; }

    /// <summary>The most sentences one step may take.</summary>
    public const int MaxBatchSize = 4096;

    /// <summary>The most threads one training may use.</summary>
    public const int MaxThreadCount = 1024;

    /// <summary>
    /// Every option, described once, in the order a checkpoint's <c>optimizer.options</c> lists
    /// them and its checksum hashes them. A new option is a property above and an entry here (its
    /// key, the file version that adds it, its range, and what a resumed run does with it), plus
    /// the Invoke-Training parameter that sets it.
    /// </summary>
    public static IReadOnlyList<TrainingOption> All { get; } =
    [
        TrainingOption.Int(nameof(Steps), "steps", o => o.Steps, (o, v) => o with { Steps = v }, Interval.AtLeast(1)),
        TrainingOption.Real(nameof(LearningRate), "learningRate", o => o.LearningRate, (o, v) => o with { LearningRate = v }, new(0, 1, ExcludeMinimum: true)),
        TrainingOption.Real(nameof(Beta1), "beta1", o => o.Beta1, (o, v) => o with { Beta1 = v }, new(0, 1, ExcludeMaximum: true)),
        TrainingOption.Real(nameof(Beta2), "beta2", o => o.Beta2, (o, v) => o with { Beta2 = v }, new(0, 1, ExcludeMaximum: true)),
        TrainingOption.Real(nameof(Epsilon), "epsilon", o => o.Epsilon, (o, v) => o with { Epsilon = v }, new(0, 1, ExcludeMinimum: true)),
        TrainingOption.Int(nameof(BatchSize), "batchSize", o => o.BatchSize, (o, v) => o with { BatchSize = v }, new(1, MaxBatchSize)),
        TrainingOption.Int(nameof(Seed), "seed", o => o.Seed, (o, v) => o with { Seed = v }),
        TrainingOption.Flag(nameof(Shuffle), "shuffle", o => o.Shuffle, (o, v) => o with { Shuffle = v }),
        TrainingOption.Int(nameof(ThreadCount), null, o => o.ThreadCount, (o, v) => o with { ThreadCount = v }, new(0, MaxThreadCount), OnResume.TakeCalls),
        TrainingOption.Int(nameof(ValidationInterval), "validationInterval", o => o.ValidationInterval, (o, v) => o with { ValidationInterval = v },
            Interval.AtLeast(1), OnResume.KeepRunsUnlessSet, unset: (0, "automatic")),
        TrainingOption.Int(nameof(CheckpointInterval), "checkpointInterval", o => o.CheckpointInterval, (o, v) => o with { CheckpointInterval = v },
            Interval.AtLeast(1), OnResume.KeepRunsUnlessSet, unset: (0, "none set"), since: 2),
        TrainingOption.Real(nameof(WeightDecay), "weightDecay", o => o.WeightDecay, (o, v) => o with { WeightDecay = v }, new(0, 1), since: 3),
        TrainingOption.Int(nameof(WarmupSteps), "warmupSteps", o => o.WarmupSteps, (o, v) => o with { WarmupSteps = v }, Interval.AtLeast(0), since: 3),
        TrainingOption.Choice(nameof(Schedule), "schedule", o => o.Schedule, (o, v) => o with { Schedule = v }, since: 3),
        TrainingOption.Real(nameof(MinLearningRate), "minLearningRate", o => o.MinLearningRate, (o, v) => o with { MinLearningRate = v }, new(0, 1), since: 3),
        TrainingOption.Real(nameof(GradientClip), "gradientClip", o => o.GradientClip, (o, v) => o with { GradientClip = v }, Interval.AtLeast(0), since: 3),
        TrainingOption.Flag(nameof(Stream), "stream", o => o.Stream, (o, v) => o with { Stream = v }, since: 3),
        TrainingOption.Int(nameof(ValidationExamples), null, o => o.ValidationExamples, (o, v) => o with { ValidationExamples = v }, Interval.AtLeast(0), OnResume.TakeCalls),
    ];

    /// <summary>The option of a property's name.</summary>
    public static TrainingOption Option(string name) => All.Single(o => o.Name == name);

    /// <summary>Throws <see cref="InvalidConfigurationException"/> naming the first option out of range, or out of step with another.</summary>
    public TrainingOptions Validate()
    {
        foreach (var option in All) option.Check(this);
        if (MinLearningRate > LearningRate)
            throw new InvalidConfigurationException(nameof(MinLearningRate), MinLearningRate, $"{nameof(MinLearningRate)} {MinLearningRate} is above {nameof(LearningRate)} {LearningRate}; the schedule decays from the learning rate to the minimum.");
        if (WarmupSteps >= Steps)
            throw new InvalidConfigurationException(nameof(WarmupSteps), WarmupSteps, $"{nameof(WarmupSteps)} {WarmupSteps} leaves none of the {Steps} steps to decay over; it must be less than {nameof(Steps)}.");
        return this;
    }

    /// <summary>
    /// These options for resuming a run that started with <paramref name="run"/>: the run's own
    /// options (they decide its numbers), with this call's threads, and its validation and
    /// checkpoint intervals where this call sets them, else the run's.
    /// </summary>
    public TrainingOptions ResumingFrom(TrainingOptions run)
    {
        var resumed = run;
        foreach (var option in All)
            if (option.OnResume == OnResume.TakeCalls || (option.OnResume == OnResume.KeepRunsUnlessSet && option.IsSet(this)))
                resumed = option.With(resumed, option.Get(this));
        return resumed;
    }

    /// <summary>The thread count with 0 resolved to the processor count.</summary>
    public int EffectiveThreads => ThreadCount == 0 ? Environment.ProcessorCount : ThreadCount;
}
