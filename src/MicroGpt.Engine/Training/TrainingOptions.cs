namespace MicroGpt;

/// <summary>
/// How to train: the tutorial's defaults (5,000 steps, Adam with learning rate 0.01 decaying
/// linearly to 0, betas 0.85 and 0.99, epsilon 1e-8, one sentence a step, seeded shuffle).
/// </summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 5000;
    public double LearningRate { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.85;
    public double Beta2 { get; init; } = 0.99;
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Sentences per step; their gradients are averaged.</summary>
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

    /// <summary>The most sentences one step may take.</summary>
    public const int MaxBatchSize = 4096;

    /// <summary>Throws <see cref="InvalidConfigurationException"/> naming the first option out of range.</summary>
    public TrainingOptions Validate()
    {
        if (Steps < 1) Refuse(nameof(Steps), Steps, $"Steps must be at least 1; {Steps} is not.");
        if (!(LearningRate > 0 && LearningRate <= 1)) Refuse(nameof(LearningRate), LearningRate, $"LearningRate must be greater than 0 and at most 1; {LearningRate} is not.");
        if (!float.IsNormal((float)LearningRate)) RefuseRate(nameof(LearningRate), LearningRate);
        if (!(Beta1 >= 0 && Beta1 < 1)) Refuse(nameof(Beta1), Beta1, $"Beta1 must be at least 0 and less than 1; {Beta1} is not.");
        if ((float)Beta1 >= 1) RefuseBeta(nameof(Beta1), Beta1);
        if (!(Beta2 >= 0 && Beta2 < 1)) Refuse(nameof(Beta2), Beta2, $"Beta2 must be at least 0 and less than 1; {Beta2} is not.");
        if ((float)Beta2 >= 1) RefuseBeta(nameof(Beta2), Beta2);
        if (!(Epsilon > 0 && double.IsFinite(Epsilon))) Refuse(nameof(Epsilon), Epsilon, $"Epsilon must be a positive finite number; {Epsilon} is not.");
        if (!float.IsNormal((float)Epsilon)) RefuseRate(nameof(Epsilon), Epsilon);
        if (BatchSize < 1 || BatchSize > MaxBatchSize) Refuse(nameof(BatchSize), BatchSize, $"BatchSize must be between 1 and {MaxBatchSize}; {BatchSize} is not.");
        if (ThreadCount < 0) Refuse(nameof(ThreadCount), ThreadCount, $"ThreadCount must be 0 (all processors) or more; {ThreadCount} is not.");
        if (ValidationInterval < 0) Refuse(nameof(ValidationInterval), ValidationInterval, $"ValidationInterval must be 0 (automatic) or more; {ValidationInterval} is not.");
        if (CheckpointInterval < 0) Refuse(nameof(CheckpointInterval), CheckpointInterval, $"CheckpointInterval must be 0 (none set) or more; {CheckpointInterval} is not.");
        return this;
    }

    /// <summary>
    /// These options for resuming a run that started with <paramref name="run"/>: the run's own
    /// options (they decide its numbers), with this call's threads, and its validation and
    /// checkpoint intervals where this call sets them (non-zero), else the run's.
    /// </summary>
    public TrainingOptions ResumingFrom(TrainingOptions run) => run with
    {
        ThreadCount = ThreadCount,
        ValidationInterval = ValidationInterval > 0 ? ValidationInterval : run.ValidationInterval,
        CheckpointInterval = CheckpointInterval > 0 ? CheckpointInterval : run.CheckpointInterval,
    };

    // Training computes in float32: a rate that becomes 0 or a denormal there makes the update
    // divide by 0 or multiply into infinities, and a beta that becomes 1 never forgets.
    const float SmallestNormal = 1.17549435E-38f, BiggestBelowOne = 0.99999994f;

    static void RefuseRate(string name, double value) =>
        Refuse(name, value, $"{name} {value} is {(float)value} in float32, the precision training computes in; it must be at least {SmallestNormal:G9}.");

    static void RefuseBeta(string name, double value) =>
        Refuse(name, value, $"{name} {value} is 1 in float32, the precision training computes in; it must be at most {BiggestBelowOne:G9}.");

    /// <summary>The thread count with 0 resolved to the processor count.</summary>
    public int EffectiveThreads => ThreadCount == 0 ? Environment.ProcessorCount : ThreadCount;

    static void Refuse(string name, object value, string message) => throw new InvalidConfigurationException(name, value, message);
}
