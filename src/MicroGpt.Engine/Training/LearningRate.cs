namespace MicroGpt;

/// <summary>The learning rate of each step, the one formula the trainer and the bench use.</summary>
static class LearningRate
{
    /// <summary>The tutorial's linear decay: lr (1 - s / steps) at the 0-based step s.</summary>
    public static double At(TrainingOptions options, long step) => options.LearningRate * (1 - (double)step / options.Steps);
}
