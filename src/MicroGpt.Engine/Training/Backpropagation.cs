using System.Runtime.CompilerServices;
using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>
/// The loss and the gradient of a batch of sentences, with no optimizer: the phases that make
/// every result independent of the thread count. (1) Forward, loss and the activations'
/// backward, with threads on disjoint groups of whole sentences. (2) The weight gradients, each
/// element summed over the rows in row order by exactly one job, which also sums the squares of
/// the gradient it wrote; (3) the norm adds those sums in job order. Buffers are allocated once;
/// a batch allocates nothing.
/// </summary>
/// <remarks>
/// The methods a step runs are marked AggressiveOptimization, here and in the kernels: inside
/// PowerShell the runtime's default tiering would otherwise run the first part of a training on
/// unoptimized code, a large share of a few-second run.
/// </remarks>
sealed class Backpropagation : IDisposable
{
    internal const int GradientGrain = 1 << 13;

    /// <summary>
    /// Parameters of a small model: 1 MB of weights, which stay in a core's own cache (1 MB of L2 on
    /// the EPYC of bench/RESULTS.md), so that a group of sentences may take two runs of rows (a
    /// second pass over the weights, see <see cref="SplitIntoGroups"/>). For a larger model the
    /// weights stream from the shared cache on every pass: a second run made its group 9% slower
    /// at embedding 256.
    /// </summary>
    internal const int SmallModel = 1 << 18;

    /// <summary>The most sentences <see cref="SplitIntoGroups"/> tries as the start of the ring.</summary>
    internal const int RingStarts = 32;

    readonly Model model;
    readonly Activations activations;
    readonly ActivationGradients activationGradients;
    readonly PackedBatch batch;
    readonly WeightGradientJob[] gradientJobs;
    readonly double[] squareSums; // per gradient job
    readonly int[] groupCut, ringCut; // the groups' first places in the ring of sentences (see SplitIntoGroups), and scratch
    int ringFirst;                    // the batch sentence at the ring's first place
    readonly int threads;
    readonly int[] groupOwners, gradientOwners; // the thread of each job: the same memory on the same core every step
    readonly WorkerPool? pool;
    readonly Action<int> forwardBackwardGroup, weightGradientJob; // made once: batches allocate nothing
    int groups;
    int touched; // keeps the loads that warm the cache for packing
    readonly bool small; // see SmallModel
    readonly GemmWorkspaces? gemm; // per thread, when batches are large enough for the packed products

    public Backpropagation(Model model, int maxSentences, int maxTokensPerSentence, int threads)
    {
        this.model = model;
        small = model.Parameters.Length <= SmallModel;
        int maxRows = maxSentences * PackedBatch.RowsOf(maxTokensPerSentence, model.Config.BlockSize);
        this.threads = threads = Math.Max(1, Math.Min(threads, maxSentences));
        Gradients = new float[model.Parameters.Length];
        activations = new Activations(model.Config, maxRows);
        activationGradients = new ActivationGradients(model.Config, maxRows);
        batch = new PackedBatch(maxRows, maxSentences);
        if (MatMul.Packs(maxRows)) gemm = new GemmWorkspaces(threads);
        gradientJobs = Gpt.PlanWeightGradients(model.Config, GradientGrain);
        squareSums = new double[gradientJobs.Length];
        groupCut = new int[threads + 1];
        ringCut = new int[threads + 1];
        groupOwners = Enumerable.Range(0, threads).ToArray();
        gradientOwners = PlanGradientOwners(gradientJobs, threads);
        if (threads > 1) pool = new WorkerPool(threads - 1);
        forwardBackwardGroup = ForwardBackwardGroup;
        weightGradientJob = WeightGradientJob;
    }

    /// <summary>The gradient of the last batch, averaged over its sentences; the caller zeroes it (Adam does).</summary>
    public float[] Gradients { get; }

    /// <summary>The weight-gradient jobs and the thread of each (for tests).</summary>
    internal (WeightGradientJob[] Jobs, int[] Owners) GradientPlan => (gradientJobs, gradientOwners);

    /// <summary>The threads that share a batch: at most one per sentence.</summary>
    public int Threads => threads;

    /// <summary>The weights each group of sentences reads, when the trainer keeps copies; else all read the model's.</summary>
    public WeightCopies? Copies { get; set; }

    /// <summary>The predicted tokens of the last batch.</summary>
    public int Rows => batch.Rows;

    /// <summary>Accumulates the batch's mean gradient into <see cref="Gradients"/> and returns its mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double Compute(IReadOnlyList<int[]> sentences, ReadOnlySpan<int> pick)
    {
        // Read a token at each end of every sentence first. The sentences are random picks from a
        // corpus that is mostly out of cache, and these loads do not depend on each other, so
        // their misses overlap; in the packing loop every store waits on the row count, and the
        // misses came one after another (16 sentences: 4.5 us to pack, 1.7 us with this).
        int touched = 0;
        foreach (int i in pick) touched += sentences[i][0] + sentences[i][^1];
        this.touched = touched;
        batch.Clear();
        foreach (int i in pick) batch.Add(sentences[i], model.Config.BlockSize);
        batch.SetMeanWeights();

        groups = Math.Min(threads, batch.Sentences);
        ringFirst = SplitIntoGroups(batch.SentenceStart.AsSpan(0, batch.Sentences + 1), groups, groupCut, ringCut, ring: small);
        For(groups, forwardBackwardGroup, groupOwners);
        For(gradientJobs.Length, weightGradientJob, gradientOwners);
        return batch.MeanLoss(activations.Losses);
    }

    /// <summary>The L2 norm of <see cref="Gradients"/> as the last <see cref="Compute"/> left it.</summary>
    public double GradientNorm()
    {
        double total = 0;
        foreach (double sum in squareSums) total += sum;
        return Math.Sqrt(total);
    }

    /// <summary>
    /// Cuts a batch's sentences into groups, one per thread. The phase lasts as long as its largest
    /// group, and sentences stay whole (a sentence's rows depend on each other), so the cut looks for
    /// the most even one: the sentences are taken as a ring, each sentence in turn is the first, the
    /// ring is cut at the sentence boundaries nearest each group's share of the rows, and the first
    /// sentence that gives the smallest largest group wins. The group that wraps past the batch's
    /// last sentence has two runs of rows. Which thread takes which sentence changes no number.
    /// </summary>
    /// <param name="sentenceStart">The first row of each sentence, then the number of rows.</param>
    /// <param name="groups">How many groups, at most one per sentence.</param>
    /// <param name="cut">Receives each group's first place in the ring, then the number of sentences (groups + 1 entries).</param>
    /// <param name="trial">Scratch as long as <paramref name="cut"/>.</param>
    /// <param name="ring">False to cut the batch straight, as a ring that starts at its first sentence.</param>
    /// <returns>The sentence that starts the ring: ring place k is sentence (first + k) mod sentences.</returns>
    /// <remarks>Only the first <see cref="RingStarts"/> sentences are tried: a try walks all the boundaries, and a batch may hold thousands of sentences.</remarks>
    internal static int SplitIntoGroups(ReadOnlySpan<int> sentenceStart, int groups, Span<int> cut, Span<int> trial, bool ring = true)
    {
        int sentences = sentenceStart.Length - 1, rows = sentenceStart[sentences], best = int.MaxValue, bestFirst = 0;
        for (int first = 0; first < (ring ? Math.Min(sentences, RingStarts) : 1) && best > (rows + groups - 1) / groups; first++)
        {
            int largest = 0;
            trial[0] = 0;
            for (int g = 0; g < groups; g++)
            {
                int end = trial[g] + 1; // every group has a sentence
                if (g == groups - 1) end = sentences;
                else
                {
                    double target = (double)rows * (g + 1) / groups;
                    while (end < sentences - (groups - 1 - g) && RingRow(sentenceStart, first, end + 1) - target < target - RingRow(sentenceStart, first, end)) end++;
                }
                largest = Math.Max(largest, RingRow(sentenceStart, first, end) - RingRow(sentenceStart, first, trial[g]));
                trial[g + 1] = end;
            }
            if (largest >= best) continue;
            best = largest;
            bestFirst = first;
            trial[..(groups + 1)].CopyTo(cut);
        }
        return bestFirst;
    }

    /// <summary>The rows before ring place k when the ring starts at sentence <paramref name="first"/>.</summary>
    static int RingRow(ReadOnlySpan<int> sentenceStart, int first, int k)
    {
        int sentences = sentenceStart.Length - 1, i = first + k;
        return i <= sentences ? sentenceStart[i] - sentenceStart[first] : sentenceStart[sentences] - sentenceStart[first] + sentenceStart[i - sentences];
    }

    /// <summary>The rows of ring places [a, b) as at most two runs [n0, n1) of the batch (the second empty unless the places wrap).</summary>
    internal static (int N0, int N1, int M0, int M1) RunsOf(ReadOnlySpan<int> sentenceStart, int first, int a, int b)
    {
        int sentences = sentenceStart.Length - 1;
        a += first;
        b += first;
        var (n0, n1) = a < sentences ? (sentenceStart[a], sentenceStart[Math.Min(b, sentences)]) : (0, 0);
        var (m0, m1) = b > sentences ? (sentenceStart[Math.Max(a, sentences) - sentences], sentenceStart[b - sentences]) : (0, 0);
        return (n0, n1, m0, m1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ForwardBackwardGroup(int g)
    {
        var weights = Copies?.For(g);
        var (n0, n1, m0, m1) = RunsOf(batch.SentenceStart.AsSpan(0, batch.Sentences + 1), ringFirst, groupCut[g], groupCut[g + 1]);
        if (n0 < n1) Run(n0, n1);
        if (m0 < m1) Run(m0, m1);
        Copies?.Claim(g);

        void Run(int n0, int n1)
        {
            var workspace = gemm?.Rent();
            Gpt.Forward(model, activations, batch, n0, n1, withLoss: true, weights, workspace);
            Gpt.Backward(model, activations, activationGradients, batch, n0, n1, weights, workspace);
            if (workspace is not null) gemm!.Return(workspace);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void WeightGradientJob(int i)
    {
        var job = gradientJobs[i];
        var workspace = gemm?.Rent();
        Gpt.WeightGradients(model, activations, activationGradients, batch, Gradients, job, workspace);
        if (workspace is not null) gemm!.Return(workspace);
        squareSums[i] = Kernels.GradientNorm.SumOfSquares(Gradients.AsSpan(job.Offset, job.Length));
    }

    /// <summary>Ends the worker threads.</summary>
    public void Dispose() => pool?.Dispose();

    /// <summary>
    /// The thread of each weight-gradient job, so that each thread both computes and (through
    /// <see cref="PlanOptimizer"/>) applies about its share: the matrices' jobs, in parameter order,
    /// are cut into one run per thread of about equal weights (a job costs rows × weights); the
    /// embeddings' blocks, which cost a pass over the tokens each, then go in order to the threads
    /// whose runs are short of their share of all the parameters, in proportion to the shortfall.
    /// </summary>
    static int[] PlanGradientOwners(WeightGradientJob[] jobs, int threads)
    {
        var owners = new int[jobs.Length];
        var weights = new long[threads];
        long matrices = jobs.Where(job => job.Matrix != GradientMatrix.Embeddings).Sum(job => (long)job.Length), before = 0;
        for (int i = 0; i < jobs.Length; i++)
        {
            if (jobs[i].Matrix == GradientMatrix.Embeddings) continue;
            owners[i] = (int)Math.Min(threads - 1, (before + jobs[i].Length / 2) * threads / matrices);
            weights[owners[i]] += jobs[i].Length;
            before += jobs[i].Length;
        }
        double share = (double)jobs.Sum(job => (long)job.Length) / threads;
        var shortfall = weights.Select(w => Math.Max(0, share - w)).ToArray();
        double embeddings = jobs.Where(job => job.Matrix == GradientMatrix.Embeddings).Sum(job => (long)job.Length), done = 0;
        for (int i = 0, t = 0; i < jobs.Length; i++)
        {
            if (jobs[i].Matrix != GradientMatrix.Embeddings) continue;
            // The block goes to the thread whose portion of the embeddings holds its middle.
            double middle = (done + jobs[i].Length / 2.0) / embeddings * shortfall.Sum();
            while (t < threads - 1 && middle > shortfall.Take(t + 1).Sum()) t++;
            owners[i] = t;
            done += jobs[i].Length;
        }
        return owners;
    }

    /// <summary>
    /// The optimizer's jobs: ranges of at most <paramref name="chunk"/> parameters, each owned by the
    /// thread that computes its gradient, so that the optimizer finds the gradient in its core's
    /// cache (on the EPYC of bench/RESULTS.md, Adam ran at a third of its speed on gradients
    /// that another core had written).
    /// </summary>
    public ParameterRange[] PlanOptimizer(int chunk)
    {
        var ranges = new List<ParameterRange>();
        for (int i = 0; i < gradientJobs.Length;)
        {
            int owner = gradientOwners[i], start = gradientJobs[i].Offset, end = start;
            for (; i < gradientJobs.Length && gradientOwners[i] == owner; i++) end = gradientJobs[i].Offset + gradientJobs[i].Length;
            for (; start < end; start += chunk) ranges.Add(new ParameterRange(start, Math.Min(chunk, end - start), owner));
        }
        return ranges.ToArray();
    }

    /// <summary>Runs body(0) .. body(count - 1) on this thread and the pool's, job i preferably on thread owners[i]; each call must write only its own outputs.</summary>
    public void For(int count, Action<int> body, int[] owners)
    {
        if (pool is null || count == 1)
            for (int i = 0; i < count; i++) body(i);
        else
            pool.For(count, body, owners);
    }
}

/// <summary>Parameters [Start, Start + Length), handled by thread Owner.</summary>
readonly record struct ParameterRange(int Start, int Length, int Owner);
