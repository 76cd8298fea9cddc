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

    /// <summary>The most sentences one step may take.</summary>
    public const int MaxBatchSize = 4096;

    /// <summary>Throws <see cref="InvalidConfigurationException"/> naming the first option out of range.</summary>
    public TrainingOptions Validate()
    {
        if (Steps < 1) Refuse(nameof(Steps), Steps, $"Steps must be at least 1; {Steps} is not.");
        if (!(LearningRate > 0 && LearningRate <= 1)) Refuse(nameof(LearningRate), LearningRate, $"LearningRate must be greater than 0 and at most 1; {LearningRate} is not.");
        if (!(Beta1 >= 0 && Beta1 < 1)) Refuse(nameof(Beta1), Beta1, $"Beta1 must be at least 0 and less than 1; {Beta1} is not.");
        if (!(Beta2 >= 0 && Beta2 < 1)) Refuse(nameof(Beta2), Beta2, $"Beta2 must be at least 0 and less than 1; {Beta2} is not.");
        if (!(Epsilon > 0 && double.IsFinite(Epsilon))) Refuse(nameof(Epsilon), Epsilon, $"Epsilon must be a positive finite number; {Epsilon} is not.");
        if (BatchSize < 1 || BatchSize > MaxBatchSize) Refuse(nameof(BatchSize), BatchSize, $"BatchSize must be between 1 and {MaxBatchSize}; {BatchSize} is not.");
        if (ThreadCount < 0) Refuse(nameof(ThreadCount), ThreadCount, $"ThreadCount must be 0 (all processors) or more; {ThreadCount} is not.");
        if (ValidationInterval < 0) Refuse(nameof(ValidationInterval), ValidationInterval, $"ValidationInterval must be 0 (automatic) or more; {ValidationInterval} is not.");
        return this;
    }

    /// <summary>The thread count with 0 resolved to the processor count.</summary>
    public int EffectiveThreads => ThreadCount == 0 ? Environment.ProcessorCount : ThreadCount;

    static void Refuse(string name, object value, string message) => throw new InvalidConfigurationException(name, value, message);
}
