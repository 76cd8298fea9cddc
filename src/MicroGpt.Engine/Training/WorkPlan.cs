namespace MicroGpt;

/// <summary>
/// How a training step's work is shared out, as pure functions of the model's shape, the batch
/// and the thread count: the examples into groups (one per thread, for the forward and backward
/// passes), the weight gradients into jobs and the jobs to threads, and the optimizer's chunks to
/// the threads that wrote their gradients. A plan decides who does what and so where memory lives;
/// no number depends on it (see <see cref="StepRunner"/> for why).
/// </summary>
static class WorkPlan
{
    /// <summary>
    /// Cuts a batch's examples into consecutive groups, one per thread, each ending at the example
    /// boundary nearest its share of the rows: the phase lasts as long as its largest group, and
    /// examples stay whole (an example's rows depend on each other).
    /// </summary>
    /// <param name="exampleStart">The first row of each example, then the number of rows.</param>
    /// <param name="groups">How many groups, at most one per example.</param>
    /// <param name="cut">Receives each group's first example, then the number of examples (groups + 1 entries).</param>
    public static void SplitIntoGroups(ReadOnlySpan<int> exampleStart, int groups, Span<int> cut)
    {
        int examples = exampleStart.Length - 1, rows = exampleStart[examples];
        cut[0] = 0;
        for (int g = 0; g < groups - 1; g++)
        {
            double target = (double)rows * (g + 1) / groups;
            int end = cut[g] + 1; // every group has an example, and leaves one to each group after it
            while (end < examples - (groups - 1 - g) && exampleStart[end + 1] - target < target - exampleStart[end]) end++;
            cut[g + 1] = end;
        }
        cut[groups] = examples;
    }

    /// <summary>
    /// The jobs that together compute every weight gradient, in parameter order, each at most about
    /// <paramref name="grain"/> weights or <see cref="Tunables.MinJobRows"/> output rows; the
    /// embeddings' in blocks of a quarter of that, since each costs only a pass over the rows' tokens,
    /// and an optimizer may want them spread over threads.
    /// </summary>
    public static WeightGradientJob[] PlanWeightGradients(ModelConfig config, int grain = Tunables.GradientGrain)
    {
        var layout = new ParameterLayout(config);
        int c = config.EmbeddingSize, tableRows = config.VocabSize + config.BlockSize;
        var jobs = new List<WeightGradientJob>();
        for (int r = 0, block = Math.Max(1, grain / 4 / c); r < tableRows; r += block)
        {
            int r1 = Math.Min(tableRows, r + block);
            jobs.Add(new(GradientMatrix.Embeddings, 0, r, r1, layout.Wte + r * c, (r1 - r) * c));
        }
        void Split(GradientMatrix matrix, int layer, int offset, int outC, int inC)
        {
            int step = Math.Max(Math.Max(1, grain / inC), Tunables.MinJobRows);
            for (int o = 0; o < outC; o += step)
            {
                int o1 = Math.Min(outC, o + step);
                jobs.Add(new(matrix, layer, o, o1, offset + o * inC, (o1 - o) * inC));
            }
        }
        Split(GradientMatrix.LmHead, 0, layout.LmHead, config.VocabSize, c);
        for (int l = 0; l < config.Layers; l++)
        {
            var w = layout.Layers[l];
            Split(GradientMatrix.Qkv, l, w.Wq, 3 * c, c);
            Split(GradientMatrix.Wo, l, w.Wo, c, c);
            Split(GradientMatrix.Fc1, l, w.Fc1, 4 * c, c);
            Split(GradientMatrix.Fc2, l, w.Fc2, c, 4 * c);
        }
        return jobs.ToArray();
    }

    /// <summary>
    /// The thread of each weight-gradient job, so that each thread computes, and then (through
    /// <see cref="PlanOptimizer"/>) updates, about its share. Matrix jobs and embedding blocks
    /// cost differently (a matrix job costs rows × weights, an embedding block a pass over the
    /// rows' tokens, whatever its size), so each kind is cut, in parameter order, into one run per
    /// thread of about equal weights: job j goes to the thread whose share of its kind holds the
    /// job's middle.
    /// </summary>
    public static int[] PlanGradientOwners(WeightGradientJob[] jobs, int threads)
    {
        var owners = new int[jobs.Length];
        foreach (bool embeddings in (bool[])[false, true])
        {
            long total = 0, before = 0;
            foreach (var job in jobs)
                if (IsEmbeddings(job) == embeddings) total += job.Length;
            for (int i = 0; i < jobs.Length; i++)
            {
                if (IsEmbeddings(jobs[i]) != embeddings) continue;
                owners[i] = (int)Math.Min(threads - 1, (before + jobs[i].Length / 2) * threads / total);
                before += jobs[i].Length;
            }
        }
        return owners;

        static bool IsEmbeddings(WeightGradientJob job) => job.Matrix == GradientMatrix.Embeddings;
    }

    /// <summary>
    /// The optimizer's jobs: ranges of at most <paramref name="chunk"/> parameters, each owned by the
    /// thread that computes its gradient (<paramref name="owners"/>[j] for job j), so that the
    /// optimizer finds the gradient in its core's cache.
    /// </summary>
    public static ParameterRange[] PlanOptimizer(WeightGradientJob[] jobs, int[] owners, int chunk = Tunables.AdamChunk)
    {
        var ranges = new List<ParameterRange>();
        for (int i = 0; i < jobs.Length;)
        {
            int owner = owners[i], start = jobs[i].Offset, end = start;
            for (; i < jobs.Length && owners[i] == owner; i++) end = jobs[i].Offset + jobs[i].Length;
            for (; start < end; start += chunk) ranges.Add(new ParameterRange(start, Math.Min(chunk, end - start), owner));
        }
        return ranges.ToArray();
    }
}

/// <summary>Parameters [Start, Start + Length), handled by thread Owner.</summary>
readonly record struct ParameterRange(int Start, int Length, int Owner);
