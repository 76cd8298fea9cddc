namespace MicroGpt.Tests.Engine;

/// <summary>How a step's work is shared out: examples to groups, gradients and the optimizer to threads.</summary>
public class WorkPlanTests
{
    [Fact]
    public void EachGroupEndsAtTheExampleBoundaryNearestItsShareOfTheRows()
    {
        // Examples of 6, 6, 3 and 3 rows, 18 in all: boundaries 6 and 12 are as near to the middle (9), and the first wins.
        int[] starts = [0, 6, 12, 15, 18];
        var cut = new int[3];
        WorkPlan.SplitIntoGroups(starts, 2, cut);
        Assert.Equal([0, 1, 4], cut);
        // Three groups: shares end at rows 6 and 12, which are boundaries.
        cut = new int[4];
        WorkPlan.SplitIntoGroups(starts, 3, cut);
        Assert.Equal([0, 1, 2, 4], cut);
    }

    [Theory]
    [InlineData(1, 1)]   // one example, one group
    [InlineData(5, 1)]   // one group takes the batch
    [InlineData(3, 3)]   // a group per example
    public void EdgeCutsGiveEveryGroupItsExamples(int examples, int groups)
    {
        var starts = Enumerable.Range(0, examples + 1).Select(i => 4 * i).ToArray();
        var cut = new int[groups + 1];
        WorkPlan.SplitIntoGroups(starts, groups, cut);
        for (int g = 0; g < groups; g++) Assert.Equal(4 * examples / groups, starts[cut[g + 1]] - starts[cut[g]]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    public void EveryExampleIsInExactlyOneGroupAndTwoGroupsAreAsEvenAsAnyCut(int groups)
    {
        var rng = new Random(groups);
        for (int trial = 0; trial < 500; trial++)
        {
            int examples = rng.Next(groups, 24);
            var starts = new int[examples + 1];
            for (int i = 0; i < examples; i++) starts[i + 1] = starts[i] + rng.Next(1, 16);
            var cut = new int[groups + 1];
            WorkPlan.SplitIntoGroups(starts, groups, cut);

            Assert.Equal(0, cut[0]);
            Assert.Equal(examples, cut[groups]);
            int largest = 0;
            for (int g = 0; g < groups; g++)
            {
                Assert.True(cut[g] < cut[g + 1], $"group {g} of trial {trial} is empty");
                largest = Math.Max(largest, starts[cut[g + 1]] - starts[cut[g]]);
            }
            if (groups == 2) Assert.Equal(BestCutOfTwo(starts), largest);
        }
    }

    // Every cut between two examples, by brute force: the smallest possible larger half.
    static int BestCutOfTwo(int[] starts)
    {
        int rows = starts[^1], best = rows;
        for (int k = 1; k < starts.Length - 1; k++) best = Math.Min(best, Math.Max(starts[k], rows - starts[k]));
        return best;
    }

    [Theory]
    [InlineData(32, 2, 16, 1)]
    [InlineData(32, 2, 16, 2)]
    [InlineData(32, 2, 16, 3)]
    [InlineData(128, 4, 16, 2)]
    [InlineData(256, 4, 64, 2)]
    [InlineData(256, 4, 64, 4)]
    public void TheOptimizerTakesEachParameterOnceOnTheThreadThatWroteItsGradient(int c, int layers, int t, int threads)
    {
        var config = new ModelConfig(597, c, 4, layers, t);
        var jobs = WorkPlan.PlanWeightGradients(config);
        var owners = WorkPlan.PlanGradientOwners(jobs, threads);
        const int Chunk = 1 << 14;
        var ranges = WorkPlan.PlanOptimizer(jobs, owners, Chunk);

        int parameters = new ParameterLayout(config).Count;
        var written = new int[parameters];
        foreach (var job in jobs)
            for (int i = job.Offset; i < job.Offset + job.Length; i++) written[i]++;
        Assert.All(written, w => Assert.Equal(1, w)); // one job writes each gradient element

        var ownerOf = new int[parameters];
        Array.Fill(ownerOf, -1);
        foreach (var (start, length, owner) in ranges)
        {
            Assert.InRange(length, 1, Chunk);
            for (int i = start; i < start + length; i++)
            {
                Assert.Equal(-1, ownerOf[i]); // no parameter twice
                ownerOf[i] = owner;
            }
        }
        Assert.DoesNotContain(-1, ownerOf); // none left out
        for (int j = 0; j < jobs.Length; j++)
            Assert.All(ownerOf.AsSpan(jobs[j].Offset, jobs[j].Length).ToArray(), owner => Assert.Equal(owners[j], owner));
    }

    [Theory]
    [InlineData(32, 2, 16)]   // the tutorial's model
    [InlineData(64, 2, 16)]
    [InlineData(128, 2, 16)]
    [InlineData(128, 4, 16)]
    [InlineData(256, 4, 64)]
    [InlineData(256, 8, 64)]
    public void TwoThreadsShareEachKindOfGradientJobAsEvenlyAsAnyCutOfTheJobsAllows(int c, int layers, int t)
    {
        // A matrix job costs its rows × weights and an embedding block a pass over the tokens, so each
        // kind is split on its own; each thread then also updates what it computed. For two threads,
        // no cut of a kind's jobs (in parameter order, one run a thread) has a smaller larger half.
        var jobs = WorkPlan.PlanWeightGradients(new ModelConfig(597, c, 4, layers, t));
        var owners = WorkPlan.PlanGradientOwners(jobs, threads: 2);
        foreach (bool embeddings in new[] { false, true })
        {
            var kind = Enumerable.Range(0, jobs.Length).Where(j => (jobs[j].Matrix == GradientMatrix.Embeddings) == embeddings).ToArray();
            Assert.Equal(kind.Select(j => owners[j]).Order(), kind.Select(j => owners[j])); // one run a thread, in order
            long total = kind.Sum(j => (long)jobs[j].Length), first = kind.Where(j => owners[j] == 0).Sum(j => (long)jobs[j].Length);
            long best = total, before = 0;
            foreach (int j in kind.Append(-1))
            {
                best = Math.Min(best, Math.Max(before, total - before));
                if (j >= 0) before += jobs[j].Length;
            }
            Assert.Equal(best, Math.Max(first, total - first));
        }
    }

    [Fact]
    public void TheEmbeddingsGradientIsTheSameCutIntoBlocksAsWhole()
    {
        const int V = 11, T = 5, C = 8, N = 40;
        var rng = new Random(7);
        int[] tokens = Enumerable.Range(0, N).Select(_ => rng.Next(V)).ToArray();
        int[] positions = Enumerable.Range(0, N).Select(n => n % T).ToArray();
        float[] dout = TestData.RandomFloats(N * C, seed: 3);

        // The definition: each row added to its token's row and its position's row, rows in order.
        var expected = new float[(V + T) * C];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < C; i++)
            {
                expected[tokens[n] * C + i] += dout[n * C + i];
                expected[(V + positions[n]) * C + i] += dout[n * C + i];
            }

        foreach (int block in new[] { V + T, 4, 3, 1 })
        {
            var table = new float[(V + T) * C];
            for (int r = 0; r < V + T; r += block)
            {
                int r1 = Math.Min(V + T, r + block);
                Kernels.Encoder.Backward(table.AsSpan(r * C, (r1 - r) * C), r, r1, dout, tokens, positions, N, C, V);
            }
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), table.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
