namespace MicroGpt;

/// <summary>How the learning rate decays after the warm-up.</summary>
public enum Schedule
{
    /// <summary>The tutorial's: linearly from the learning rate towards the minimum, which the step after the last would reach.</summary>
    Linear,
    /// <summary>nanoGPT's: along half a cosine, from the learning rate to the minimum at the last step.</summary>
    Cosine,
}

/// <summary>The learning rate of each step, the one formula the trainer and the bench use.</summary>
/// <remarks>
/// With W warm-up steps, S steps, rate lr and minimum min, at the 0-based step s:
/// <code>
/// s &lt; W:    lr (s + 1) / (W + 1)                                   (nanoGPT's get_lr)
/// Linear:   min + (lr - min) (1 - (s - W) / (S - W))                (W = 0, min = 0: the tutorial's lr (1 - s / S))
/// Cosine:   min + (1 + cos(pi r)) / 2 (lr - min),  r = (s - W) / (S - 1 - W)   (nanoGPT's get_lr, lr_decay_iters = S - 1)
/// </code>
/// Linear keeps the tutorial's decay, which ends one step short of the minimum; the warm-up comes
/// before it, and the decay spans the steps after. Cosine reaches the minimum at the last step, as
/// nanoGPT's run of max_iters + 1 iterations does at its last; a run with one step after the
/// warm-up takes the minimum there.
/// </remarks>
static class LearningRate
{
    public static double At(TrainingOptions options, long step)
    {
        double lr = options.LearningRate, min = options.MinLearningRate;
        int warmup = options.WarmupSteps;
        if (step < warmup) return lr * (step + 1) / (warmup + 1);
        long done = step - warmup;
        if (options.Schedule == Schedule.Linear) return min + (lr - min) * (1 - (double)done / (options.Steps - warmup));
        long span = options.Steps - 1 - warmup;
        double r = span > 0 ? (double)done / span : 1;
        return min + 0.5 * (1.0 + Math.Cos(Math.PI * r)) * (lr - min);
    }
}
