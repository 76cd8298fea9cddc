using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// A long measurement goes in slices: between them it reports progress on the calling thread and
/// stops when cancelled, without changing the figure it gives when it runs to the end.
/// </summary>
public class EvaluatorTests
{
    const int SentenceCount = 3000; // several slices of 8 chunks of 64 sentences per thread, with a partial last one

    static readonly ModelConfig Config = new(13, 16, 4, 2, 6);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ProgressComesOnTheCallingThreadAfterEachSliceAndLeavesTheLossAsItWas(int threads)
    {
        var model = TestData.RandomModel(Config);
        var sentences = TestData.RandomSentences(13, SentenceCount, 8, seed: 3);
        var reports = new List<(int Done, int Thread)>();
        double loss = new Evaluator(model, sentences, threads).MeanLoss(done => reports.Add((done, Environment.CurrentManagedThreadId)));

        Assert.Equal(new Evaluator(model, sentences, threads: 1).MeanLoss(), loss); // bit for bit, however it was sliced
        Assert.True(reports.Count >= 2, $"{reports.Count} reports");
        Assert.All(reports, r => Assert.Equal(Environment.CurrentManagedThreadId, r.Thread));
        Assert.All(reports.Zip(reports.Skip(1)), pair => Assert.True(pair.First.Done < pair.Second.Done, $"{pair.First.Done} then {pair.Second.Done}"));
        Assert.Equal(SentenceCount, reports[^1].Done);
    }

    [Fact]
    public void CancellationStopsTheMeasurementAtTheNextSliceAndReturnsNothing()
    {
        var model = TestData.RandomModel(Config);
        var sentences = TestData.RandomSentences(13, SentenceCount, 8, seed: 3);
        var evaluator = new Evaluator(model, sentences, threads: 2);
        using var cancellation = new CancellationTokenSource();
        var reports = new List<int>();

        Assert.ThrowsAny<OperationCanceledException>(() => evaluator.Measure(done =>
        {
            reports.Add(done);
            cancellation.Cancel();
        }, cancellation.Token));

        int done = Assert.Single(reports); // no slice after the one that saw the cancellation
        Assert.InRange(done, 1, SentenceCount - 1);
        // A stopped measurement leaves nothing behind: the next one gives the full figure.
        Assert.Equal(new Evaluator(model, sentences, threads: 1).MeanLoss(), evaluator.MeanLoss());
    }

    [Fact]
    public void AMeasurementCancelledBeforeItStartsMeasuresNothing()
    {
        var evaluator = new Evaluator(TestData.RandomModel(Config), TestData.RandomSentences(13, SentenceCount, 8, seed: 3));
        var reports = new List<int>();
        Assert.ThrowsAny<OperationCanceledException>(() => evaluator.MeanLoss(reports.Add, new CancellationToken(canceled: true)));
        Assert.Empty(reports);
    }

    [Fact]
    public void AJobHoldsAtMostEvaluationChunkRowsPositionsYetTheTutorialsSixtyFourSentences()
    {
        // Stream windows of block size 64: 12 to a job (768 positions, nanoGPT's quick-start step), not 64 (4,096).
        var config = new ModelConfig(13, 32, 4, 2, 64);
        var model = TestData.RandomModel(config);
        var rng = new Random(5);
        int[] tokens = Enumerable.Range(0, 64 * 40).Select(_ => rng.Next(12)).ToArray();
        var stream = Evaluator.ForStream(model, tokens, threads: 2);
        Assert.Equal(Tunables.EvaluationChunkRows, stream.JobRows);
        Assert.Equal(2, stream.Threads);

        // The tutorial's sentences (at most 9 positions): 64 to a job, as before the bound.
        var tutorial = TestData.RandomModel(Config);
        var sentences = TestData.RandomSentences(13, SentenceCount, 8, seed: 3);
        Assert.Equal(Tunables.EvaluationChunk * sentences.Max(s => Math.Min(Config.BlockSize, s.Length - 1)), new Evaluator(tutorial, sentences).JobRows);
    }

    [Theory]
    [InlineData(1)]            // one example a job
    [InlineData(Tunables.EvaluationChunkRows)]
    [InlineData(int.MaxValue)] // 64 examples a job, as before the bound
    public void TheLossIsTheSameBitsHoweverManyPositionsAJobHolds(int maxJobRows)
    {
        var config = new ModelConfig(13, 32, 4, 2, 64);
        var model = TestData.RandomModel(config);
        var rng = new Random(5);
        int[] tokens = Enumerable.Range(0, 64 * 40 + 17).Select(_ => rng.Next(12)).ToArray(); // a short last window
        var sentences = TestData.RandomSentences(13, 300, 80, seed: 6); // some longer than the block
        Assert.Equal(BitConverter.DoubleToInt64Bits(Evaluator.ForStream(model, tokens, threads: 1, maxJobRows: 1 << 20).MeanLoss()),
            BitConverter.DoubleToInt64Bits(Evaluator.ForStream(model, tokens, threads: 2, maxJobRows).MeanLoss()));
        Assert.Equal(BitConverter.DoubleToInt64Bits(new Evaluator(model, sentences, threads: 1, maxJobRows: 1 << 20).MeanLoss()),
            BitConverter.DoubleToInt64Bits(new Evaluator(model, sentences, threads: 2, maxJobRows).MeanLoss()));
    }
}
