namespace MicroGpt.Tests.Engine;

/// <summary>How a step's work is shared out: sentences to groups, gradients and the optimizer to threads.</summary>
public class WorkPlanTests
{
    [Fact]
    public void TheRingCutFindsTheEvenSplitThatAStraightCutMisses()
    {
        // Sentences of 6, 6, 3 and 3 rows: cut straight, the halves are 6 and 12 rows (or 12 and 6);
        // started at the second sentence, the ring gives 6 + 3 and 3 + 6.
        int[] starts = [0, 6, 12, 15, 18];
        var cut = new int[3];
        int first = Backpropagation.SplitIntoGroups(starts, 2, cut, new int[3]);
        Assert.Equal(1, first);
        Assert.Equal([0, 2, 4], cut);
        Assert.Equal((6, 15, 0, 0), Backpropagation.RunsOf(starts, first, cut[0], cut[1]));  // sentences 1 and 2
        Assert.Equal((15, 18, 0, 6), Backpropagation.RunsOf(starts, first, cut[1], cut[2])); // sentence 3, then 0
    }

    [Fact]
    public void TheStraightCutStartsAtTheFirstSentenceAndEndsAtTheBoundaryNearestTheMiddle()
    {
        int[] starts = [0, 6, 12, 15, 18];
        var cut = new int[3];
        Assert.Equal(0, Backpropagation.SplitIntoGroups(starts, 2, cut, new int[3], ring: false));
        Assert.Equal([0, 1, 4], cut); // 6 and 12 rows: boundaries 6 and 12 are as near to 9, and the first wins
        Assert.Equal((0, 6, 0, 0), Backpropagation.RunsOf(starts, 0, cut[0], cut[1]));
        Assert.Equal((6, 18, 0, 0), Backpropagation.RunsOf(starts, 0, cut[1], cut[2]));
    }

    [Theory]
    [InlineData(1, 1)]   // one sentence, one group
    [InlineData(5, 1)]   // one group takes the batch
    [InlineData(3, 3)]   // a group per sentence
    public void EdgeCutsGiveEveryGroupItsSentences(int sentences, int groups)
    {
        var starts = Enumerable.Range(0, sentences + 1).Select(i => 4 * i).ToArray();
        foreach (bool ring in new[] { true, false })
        {
            var cut = new int[groups + 1];
            int first = Backpropagation.SplitIntoGroups(starts, groups, cut, new int[groups + 1], ring);
            for (int g = 0; g < groups; g++)
            {
                var (n0, n1, m0, m1) = Backpropagation.RunsOf(starts, first, cut[g], cut[g + 1]);
                Assert.Equal(4 * sentences / groups, n1 - n0 + m1 - m0);
            }
        }
    }

    [Fact]
    public void ALargeBatchTriesOnlyTheFirstSentencesAsTheStartOfTheRing()
    {
        // Eight groups of 4,000 sentences rarely come out even, and trying every start would walk
        // the batch 4,000 times a step; the search stops after RingStarts starts.
        var rng = new Random(1);
        var starts = new int[4001];
        for (int i = 0; i < 4000; i++) starts[i + 1] = starts[i] + rng.Next(1, 16);
        var cut = new int[9];
        int first = Backpropagation.SplitIntoGroups(starts, 8, cut, new int[9]);
        Assert.InRange(first, 0, Backpropagation.RingStarts - 1);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EverySentenceIsInExactlyOneGroupAndTwoGroupsAreAsEvenAsAnyRingCut(int groups)
    {
        var rng = new Random(groups);
        for (int trial = 0; trial < 500; trial++)
        {
            int sentences = rng.Next(groups, 24);
            var starts = new int[sentences + 1];
            for (int i = 0; i < sentences; i++) starts[i + 1] = starts[i] + rng.Next(1, 16);
            var cut = new int[groups + 1];
            int first = Backpropagation.SplitIntoGroups(starts, groups, cut, new int[groups + 1]);

            var covered = new int[starts[sentences]];
            int largest = 0;
            for (int g = 0; g < groups; g++)
            {
                Assert.True(cut[g] < cut[g + 1], $"group {g} of trial {trial} is empty");
                var (n0, n1, m0, m1) = Backpropagation.RunsOf(starts, first, cut[g], cut[g + 1]);
                for (int n = n0; n < n1; n++) covered[n]++;
                for (int n = m0; n < m1; n++) covered[n]++;
                Assert.Contains(n0, starts); // runs begin and end on sentence boundaries
                Assert.Contains(n1, starts);
                largest = Math.Max(largest, n1 - n0 + m1 - m0);
            }
            Assert.All(covered, c => Assert.Equal(1, c));
            if (groups == 2) Assert.Equal(BestRingCutOfTwo(starts), largest);
        }
    }

    // Every start and every cut of the ring, by brute force: the smallest possible larger half.
    static int BestRingCutOfTwo(int[] starts)
    {
        int rows = starts[^1], best = rows;
        for (int a = 0; a < starts.Length - 1; a++)
            for (int b = a + 1; b < starts.Length - 1 + (a == 0 ? 0 : 1) && b < starts.Length; b++)
            {
                int inside = starts[b] - starts[a]; // one group: sentences [a, b); the other the rest of the ring
                best = Math.Min(best, Math.Max(inside, rows - inside));
            }
        return best;
    }

    [Theory]
    [InlineData(32, 2, 16, 1)]
    [InlineData(32, 2, 16, 2)]
    [InlineData(32, 2, 16, 3)]
    [InlineData(256, 4, 64, 2)]
    [InlineData(256, 4, 64, 4)]
    public void TheOptimizerTakesEachParameterOnceOnTheThreadThatWroteItsGradientAndThreadsGetEvenShares(int c, int layers, int t, int threads)
    {
        var config = new ModelConfig(597, c, 4, layers, t);
        var model = Model.Create(config, TestData.Words(596), 1);
        using var backprop = new Backpropagation(model, 16, 12, threads);
        const int Chunk = 1 << 14;
        var ranges = backprop.PlanOptimizer(Chunk);
        var (jobs, owners) = backprop.GradientPlan;

        var ownerOf = new int[model.Parameters.Length];
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

        // Each thread updates about its share of the parameters, and computes about its share of the
        // matrices' gradients (to within the largest job).
        double share = (double)model.Parameters.Length / threads;
        for (int thread = 0; thread < threads; thread++)
        {
            Assert.InRange(ownerOf.Count(o => o == thread), 0.9 * share, 1.1 * share);
            long matrices = jobs.Where((job, j) => owners[j] == thread && job.Matrix != GradientMatrix.Embeddings).Sum(job => (long)job.Length);
            double matrixShare = jobs.Where(job => job.Matrix != GradientMatrix.Embeddings).Sum(job => (double)job.Length) / threads;
            Assert.InRange(matrices, matrixShare - jobs.Max(job => job.Length), matrixShare + jobs.Max(job => job.Length));
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
