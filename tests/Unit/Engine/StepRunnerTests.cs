using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>The threaded phases of a step: the worker pool, and results that do not depend on the thread count.</summary>
public class StepRunnerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ThePoolRunsEveryJobExactlyOnce(int workers)
    {
        using var pool = new WorkerPool(workers);
        for (int phase = 0; phase < 2000; phase++) // phases back to back, as a trainer's steps run them
        {
            int count = phase % 37;
            var runs = new int[count];
            pool.For(count, i => Interlocked.Increment(ref runs[i]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ThePoolRunsEveryOwnedJobExactlyOnceWhetherOrNotItsOwnerIsAwake(int workers)
    {
        // Each thread runs its own jobs first, then helps with any left unclaimed, as when an owner
        // is still asleep, which the long pauses below make happen (workers sleep after 100 us without work).
        using var pool = new WorkerPool(workers);
        for (int phase = 0; phase < 400; phase++)
        {
            int count = 1 + phase % 13;
            var owners = Enumerable.Range(0, count).Select(i => (i + phase) % (workers + 1)).ToArray();
            var runs = new int[count];
            pool.For(count, i => Interlocked.Increment(ref runs[i]), owners);
            Assert.All(runs, r => Assert.Equal(1, r));
            if (phase % 50 == 0) Thread.Sleep(2);
        }
    }

    [Fact]
    public void ThePoolReportsAFailedJobAndStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var error = Assert.Throws<InvalidOperationException>(() => pool.For(50, i => { if (i == 17) throw new InvalidOperationException("job 17"); }));
        Assert.Equal("job 17", error.Message);
        int total = 0;
        pool.For(50, i => Interlocked.Add(ref total, i));
        Assert.Equal(50 * 49 / 2, total);
    }

    [Fact]
    public void APhaseThatTakesFewerThreadsThanThePoolHasRunsOnThoseThreadsOnly()
    {
        // A trainer's pool may have more threads than its steps use (its validation may use more):
        // the others sit the step's phases out, so no more jobs run at once than the step has buffers for.
        using var pool = new WorkerPool(3);
        for (int phase = 0; phase < 400; phase++)
        {
            int threads = 1 + phase % 4, count = 1 + phase % 11;
            var ran = new int[count];
            var owners = phase % 2 == 0 ? null : Enumerable.Range(0, count).Select(i => i % threads).ToArray();
            pool.For(count, i => ran[i] = Environment.CurrentManagedThreadId, owners, threads);
            Assert.InRange(ran.Distinct().Count(), 1, threads);
            Assert.DoesNotContain(0, ran); // every job ran
            if (phase % 50 == 0) Thread.Sleep(2); // workers asleep, then woken by the next phase
        }
    }

    [Fact]
    public void GradientAndLossAreBitIdenticalForOneToEightThreads()
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 3);
        foreach (int batch in new[] { 1, 2, 5, 16, 17 })
        {
            var sentences = TestData.RandomSentences(13, batch, maxWords: 8, seed: batch);
            var (loss, gradient) = TestData.Gradient(model, sentences, threads: 1);
            for (int threads = 2; threads <= 8; threads++)
            {
                var (otherLoss, otherGradient) = TestData.Gradient(model, sentences, threads);
                Assert.Equal(loss, otherLoss);
                Assert.Equal(gradient.Select(BitConverter.SingleToInt32Bits), otherGradient.Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    [Fact]
    public void EachStepStartsFromAZeroGradient()
    {
        // The backward pass accumulates; zeroing is each gradient job's own first call, so a second
        // batch's gradient owes nothing to the first's.
        var model = TestData.RandomModel(new ModelConfig(13, 16, 2, 2, 6), seed: 5);
        var first = TestData.RandomSentences(13, 4, maxWords: 8, seed: 1);
        var second = TestData.RandomSentences(13, 4, maxWords: 8, seed: 2);
        var batches = new SentenceBatches(model, [.. first, .. second], new TrainingOptions { BatchSize = 4, Shuffle = false });
        using var pool = new WorkerPool(1);
        var runner = new StepRunner(model, batches.MaxRows, batches.MaxExamples, threads: 2, pool);
        batches.Fill(runner.Batch, step: 0);
        runner.Compute();
        batches.Fill(runner.Batch, step: 1);
        double loss = runner.Compute();
        var (alone, gradient) = TestData.Gradient(model, second);
        Assert.Equal(alone, loss);
        Assert.Equal(gradient, runner.Gradients);
    }

    [Fact]
    public void TheGradientNormIsTheNormOfTheGradient()
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 5);
        var sentences = TestData.RandomSentences(13, 4, maxWords: 8, seed: 9);
        var batches = new SentenceBatches(model, sentences, new TrainingOptions { BatchSize = sentences.Length, Shuffle = false });
        using var pool = new WorkerPool(1);
        var runner = new StepRunner(model, batches.MaxRows, batches.MaxExamples, threads: 2, pool);
        batches.Fill(runner.Batch, step: 0);
        runner.Compute();
        double expected = Math.Sqrt(GradientNorm.SumOfSquaresNaive(runner.Gradients));
        Assert.Equal(expected, runner.GradientNorm(), 1e-6 * expected); // float partial sums of four squares
    }
}
