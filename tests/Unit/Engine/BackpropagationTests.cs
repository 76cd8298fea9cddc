using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>The threaded phases of a step: the worker pool, and results that do not depend on the thread count.</summary>
public class BackpropagationTests
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
    public void GradientAndLossAreBitIdenticalForAnyThreadCount()
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 3);
        foreach (int batch in new[] { 1, 2, 5, 16, 17 })
        {
            var sentences = TestData.RandomSentences(13, batch, maxWords: 8, seed: batch);
            var (loss, gradient) = TestData.Gradient(model, sentences, threads: 1);
            foreach (int threads in new[] { 2, 3 })
            {
                var (otherLoss, otherGradient) = TestData.Gradient(model, sentences, threads);
                Assert.Equal(loss, otherLoss);
                Assert.Equal(gradient, otherGradient);
            }
        }
    }

    [Fact]
    public void TheGradientNormIsTheNormOfTheGradient()
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 5);
        var sentences = TestData.RandomSentences(13, 4, maxWords: 8, seed: 9);
        var backprop = new Backpropagation(model, sentences.Length, sentences.Max(s => s.Length), threads: 2);
        backprop.Compute(sentences, Enumerable.Range(0, sentences.Length).ToArray());
        double expected = Math.Sqrt(GradientNorm.SumOfSquaresNaive(backprop.Gradients));
        Assert.Equal(expected, backprop.GradientNorm(), 1e-6 * expected); // float partial sums of four squares
    }
}
