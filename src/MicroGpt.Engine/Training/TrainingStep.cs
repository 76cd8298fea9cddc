namespace MicroGpt;

/// <summary>
/// What one training step did. Flat and with the same properties every time, so that a stream
/// of them exports to CSV as is. Step keeps counting across a resumed run.
/// </summary>
public sealed record TrainingStep
{
    /// <summary>1-based step number.</summary>
    public long Step { get; init; }
    /// <summary>The step the schedule ends at.</summary>
    public long Steps { get; init; }
    /// <summary>The step's mean cross-entropy loss (mean over its sentences of each sentence's mean).</summary>
    public double Loss { get; init; }
    /// <summary>The learning rate the step used: lr (1 - s / steps).</summary>
    public double LearningRate { get; init; }
    /// <summary>The L2 norm of the step's gradient, before the update.</summary>
    public double GradNorm { get; init; }
    /// <summary>Predicted tokens trained on so far, counting across resumed runs.</summary>
    public long Tokens { get; init; }
    /// <summary>Tokens this run has trained on per second of wall time.</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>Wall time since this run started.</summary>
    public double ElapsedSeconds { get; init; }
    /// <summary>The mean loss over the validation sentences, on the steps where it was measured; otherwise null.</summary>
    public double? ValidationLoss { get; init; }
}
