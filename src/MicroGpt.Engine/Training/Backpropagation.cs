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

    readonly Model model;
    readonly Activations activations;
    readonly ActivationGradients activationGradients;
    readonly PackedBatch batch;
    readonly WeightGradientJob[] gradientJobs;
    readonly double[] squareSums; // per gradient job
    readonly int[] groupStart;
    readonly int threads;
    readonly int[] groupOwners, gradientOwners; // the thread of each job: the same memory on the same core every step
    readonly WorkerPool? pool;
    readonly Action<int> forwardBackwardGroup, weightGradientJob; // made once: batches allocate nothing
    int groups;

    public Backpropagation(Model model, int maxSentences, int maxTokensPerSentence, int threads)
    {
        this.model = model;
        int maxRows = maxSentences * PackedBatch.RowsOf(maxTokensPerSentence, model.Config.BlockSize);
        this.threads = threads = Math.Max(1, Math.Min(threads, maxSentences));
        Gradients = new float[model.Parameters.Length];
        activations = new Activations(model.Config, maxRows);
        activationGradients = new ActivationGradients(model.Config, maxRows);
        batch = new PackedBatch(maxRows, maxSentences);
        gradientJobs = Gpt.PlanWeightGradients(model.Config, GradientGrain);
        squareSums = new double[gradientJobs.Length];
        groupStart = new int[threads + 1];
        groupOwners = Enumerable.Range(0, threads).ToArray();
        gradientOwners = gradientJobs.Select(job => OwnerOf(job.Offset)).ToArray();
        if (threads > 1) pool = new WorkerPool(threads - 1);
        forwardBackwardGroup = ForwardBackwardGroup;
        weightGradientJob = WeightGradientJob;
    }

    /// <summary>The gradient of the last batch, averaged over its sentences; the caller zeroes it (Adam does).</summary>
    public float[] Gradients { get; }

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
        batch.Clear();
        foreach (int i in pick) batch.Add(sentences[i], model.Config.BlockSize);
        batch.SetMeanWeights();

        // Groups of whole sentences, one per thread, each ending at the sentence boundary nearest
        // its share of the rows: the phase lasts as long as its largest group.
        groups = Math.Min(threads, batch.Sentences);
        int sentence = 0;
        groupStart[0] = 0;
        for (int g = 1; g < groups; g++)
        {
            long target = (long)batch.Rows * g / groups;
            sentence++; // every group has a sentence
            while (sentence < batch.Sentences - (groups - g) && batch.SentenceStart[sentence + 1] - target < target - batch.SentenceStart[sentence]) sentence++;
            groupStart[g] = batch.SentenceStart[sentence];
        }
        groupStart[groups] = batch.Rows;
        if (Copies is not null && groups != threads) throw new InvalidOperationException("Every copy of the weights needs its group."); // batches have one sentence per thread at least
        For(groups, forwardBackwardGroup, groupOwners);
        Copies?.Taken();
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ForwardBackwardGroup(int g)
    {
        var weights = Copies?.For(g);
        int n0 = groupStart[g], n1 = groupStart[g + 1];
        if (n0 == n1) return;
        Gpt.Forward(model, activations, batch, n0, n1, withLoss: true, weights);
        Gpt.Backward(model, activations, activationGradients, batch, n0, n1, weights);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void WeightGradientJob(int i)
    {
        var job = gradientJobs[i];
        Gpt.WeightGradients(model, activations, activationGradients, batch, Gradients, job);
        squareSums[i] = Kernels.GradientNorm.SumOfSquares(Gradients.AsSpan(job.Offset, job.Length));
    }

    /// <summary>Ends the worker threads.</summary>
    public void Dispose() => pool?.Dispose();

    /// <summary>
    /// The thread that handles a parameter's gradient: the parameters are split in one contiguous
    /// range per thread, so that an optimizer that updates a range on its owner finds the gradient
    /// already in that core's cache.
    /// </summary>
    public int OwnerOf(int parameter) => (int)((long)parameter * threads / Gradients.Length);

    /// <summary>Runs body(0) .. body(count - 1) on this thread and the pool's, job i preferably on thread owners[i]; each call must write only its own outputs.</summary>
    public void For(int count, Action<int> body, int[] owners)
    {
        if (pool is null || count == 1)
            for (int i = 0; i < count; i++) body(i);
        else
            pool.For(count, body, owners);
    }
}
