namespace MicroGpt.Tests.Engine;

/// <summary>The one learning-rate schedule that the trainer, the bench and the tests share.</summary>
public class LearningRateTests
{
    [Theory]
    [InlineData(0, 0.01)]        // the full rate at the first step
    [InlineData(250, 0.0075)]
    [InlineData(500, 0.005)]     // half way, half the rate
    [InlineData(999, 0.00001)]   // the last step keeps 1 / steps of it
    public void TheRateFallsLinearlyFromTheOptionsRateToOneStepsWorthOfIt(long step, double expected) =>
        Assert.Equal(expected, LearningRate.At(new TrainingOptions { LearningRate = 0.01, Steps = 1000 }, step), 1e-15);

    [Fact]
    public void TheTrainerReportsTheScheduleOfEveryStep()
    {
        var options = new TrainingOptions { Steps = 7, BatchSize = 2, LearningRate = 0.03 };
        var steps = new List<TrainingStep>();
        using (var trainer = new Trainer(TestData.RandomModel(new ModelConfig(13, 16, 4, 2, 6)), TestData.RandomSentences(13, 10, 8, seed: 4), options))
            trainer.Run(steps.Add);
        Assert.Equal(Enumerable.Range(0, 7).Select(s => LearningRate.At(options, s)), steps.Select(s => s.LearningRate));
    }
}
