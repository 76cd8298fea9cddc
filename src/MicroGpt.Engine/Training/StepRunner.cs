using System.Runtime.CompilerServices;
using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>
/// The work of a training step, on the trainer's threads: the loss and mean gradient of a packed
/// batch (<see cref="Compute"/>), then Adam's update (<see cref="Update"/>), each a few phases of
/// jobs on a <see cref="WorkerPool"/> as <see cref="WorkPlan"/> shares them out. Buffers are
/// allocated once; a step allocates nothing.
/// <para>
/// Every number is the same whatever the thread count and whichever thread runs what, because the
/// whole of Training/ keeps three invariants:
/// </para>
/// <list type="number">
/// <item>Groups hold whole examples (sentences, or windows of a stream). An example's rows depend
/// on one another and on no other example, so each group's forward and backward passes give the
/// same numbers wherever the groups are cut.</item>
/// <item>One job writes each gradient element: it zeroes the element and sums the batch's rows
/// into it in row order. The gradient norm adds the jobs' sums of squares in job order.</item>
/// <item>Parameters change only inside the optimizer while a trainer runs. Adam is elementwise and
/// writes each weight once, into the parameters and every per-thread copy
/// (<see cref="WeightCopies"/>), so the copies are the parameters, bit for bit; a DEBUG build
/// checks this before every step.</item>
/// </list>
/// <para>
/// The plan gives every job an owner thread, so that the same memory is written by the same core
/// every step, and the pool lets any thread take a job its owner has not started.
/// </para>
/// </summary>
/// <remarks>
/// The methods a step runs are marked AggressiveOptimization, here and in the kernels: inside
/// PowerShell the runtime's default tiering would otherwise run the first part of a training on
/// unoptimized code, a large share of a few-second run.
/// </remarks>
sealed class StepRunner
{
    readonly Model model;
    readonly Activations activations;
    readonly ActivationGradients activationGradients;
    readonly WeightGradientJob[] gradientJobs;
    readonly int[] gradientOwners;           // the thread of each gradient job
    readonly ParameterRange[] optimizerChunks; // each on the thread that wrote its gradient
    readonly int[] optimizerOwners;          // their threads, as the pool takes them
    readonly double[] squareSums;            // per gradient job
    readonly int[] groupCut;                 // each group's first example, then the batch's examples
    readonly int[] groupOwners;              // group g on thread g
    readonly int threads;
    readonly WorkerPool? pool;
    readonly GemmWorkspaces? gemm;           // per thread, when batches are large enough for the packed products
    readonly WeightCopies? copies;           // per-thread weights, for small models on several threads
    readonly Action<int> forwardBackwardGroup, weightGradientJob, optimizerChunk; // made once: steps allocate nothing
    int groups;
    float[] m = [], v = [];                  // the moments of the update under way
    Adam.StepConstants adamConstants;
    int updateNotFinite;                     // set by an optimizer chunk whose new weights are not all finite

    /// <summary>
    /// Buffers for batches of up to <paramref name="maxExamples"/> examples and <paramref name="maxRows"/>
    /// rows, shared by up to <paramref name="threads"/> threads (at most one per example): the caller
    /// and the workers of <paramref name="pool"/>, which must have at least that many threads.
    /// </summary>
    public StepRunner(Model model, int maxRows, int maxExamples, int threads, WorkerPool? pool)
    {
        this.model = model;
        this.threads = threads = Math.Max(1, Math.Min(threads, maxExamples));
        if (threads > 1 && (pool is null || pool.Threads < threads))
            throw new ArgumentException($"{threads} threads need a pool of at least {threads - 1} workers.", nameof(pool));
        this.pool = threads > 1 ? pool : null;
        Gradients = new float[model.Parameters.Length];
        activations = new Activations(model.Config, maxRows);
        activationGradients = new ActivationGradients(model.Config, maxRows);
        Batch = new PackedBatch(maxRows, maxExamples);
        if (MatMul.Packs(maxRows)) gemm = new GemmWorkspaces(threads);
        gradientJobs = WorkPlan.PlanWeightGradients(model.Config);
        gradientOwners = WorkPlan.PlanGradientOwners(gradientJobs, threads);
        optimizerChunks = WorkPlan.PlanOptimizer(gradientJobs, gradientOwners);
        optimizerOwners = optimizerChunks.Select(chunk => chunk.Owner).ToArray();
        squareSums = new double[gradientJobs.Length];
        groupCut = new int[threads + 1];
        groupOwners = Enumerable.Range(0, threads).ToArray();
        if (WeightCopies.Worthwhile(model.Parameters.Length, threads)) copies = new WeightCopies(model.Parameters, threads, optimizerChunks);
        forwardBackwardGroup = ForwardBackwardGroup;
        weightGradientJob = WeightGradientJob;
        optimizerChunk = OptimizerChunk;
    }

    /// <summary>The batch <see cref="Compute"/> reads: a batch source fills it.</summary>
    public PackedBatch Batch { get; }

    /// <summary>The mean gradient of the last batch.</summary>
    public float[] Gradients { get; }

    /// <summary>The threads that share a step: at most one per example.</summary>
    public int Threads => threads;

    /// <summary>The weights each group reads, when there are copies (for tests).</summary>
    internal WeightCopies? Copies => copies;

    /// <summary>Puts the mean gradient of <see cref="Batch"/> into <see cref="Gradients"/> and returns its mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double Compute()
    {
        copies?.CheckEqualToParameters();
        groups = Math.Min(threads, Batch.Examples);
        WorkPlan.SplitIntoGroups(Batch.ExampleStart.AsSpan(0, Batch.Examples + 1), groups, groupCut);
        For(groups, forwardBackwardGroup, groupOwners);
        For(gradientJobs.Length, weightGradientJob, gradientOwners);
        return Batch.MeanLoss(activations.Losses);
    }

    /// <summary>The L2 norm of <see cref="Gradients"/> as the last <see cref="Compute"/> left it.</summary>
    public double GradientNorm()
    {
        double total = 0;
        foreach (double sum in squareSums) total += sum;
        return Math.Sqrt(total);
    }

    /// <summary>
    /// Adam's step over all the parameters with the moments <paramref name="m"/> and <paramref name="v"/>,
    /// from <see cref="Gradients"/>; returns false when a new weight is not finite (all are written anyway).
    /// </summary>
    public bool Update(float[] m, float[] v, in Adam.StepConstants constants)
    {
        (this.m, this.v, adamConstants) = (m, v, constants);
        updateNotFinite = 0;
        For(optimizerChunks.Length, optimizerChunk, optimizerOwners);
        return updateNotFinite == 0;
    }

    /// <summary>Makes the weight copies equal the parameters again, after the trainer has put back weights from outside the optimizer.</summary>
    public void ResetCopies() => copies?.Reset();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ForwardBackwardGroup(int g)
    {
        var weights = copies?.For(g);
        int n0 = Batch.ExampleStart[groupCut[g]], n1 = Batch.ExampleStart[groupCut[g + 1]];
        var workspace = gemm?.Rent();
        Gpt.Forward(model, activations, Batch, n0, n1, withLoss: true, weights, workspace);
        Gpt.Backward(model, activations, activationGradients, Batch, n0, n1, weights, workspace);
        if (workspace is not null) gemm!.Return(workspace);
        copies?.Claim(g);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void WeightGradientJob(int i)
    {
        var job = gradientJobs[i];
        var gradient = Gradients.AsSpan(job.Offset, job.Length);
        gradient.Clear(); // the backward pass accumulates; this job alone writes these elements
        var workspace = gemm?.Rent();
        Gpt.WeightGradients(model, activations, activationGradients, Batch, Gradients, job, workspace);
        if (workspace is not null) gemm!.Return(workspace);
        squareSums[i] = Kernels.GradientNorm.SumOfSquares(gradient);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void OptimizerChunk(int i)
    {
        var (start, length, _) = optimizerChunks[i];
        var parameters = model.Parameters.AsSpan(start, length);
        if (!Adam.Update(parameters, Gradients.AsSpan(start, length), m.AsSpan(start, length), v.AsSpan(start, length), adamConstants, copies is null ? default : copies.Home(i)))
            Volatile.Write(ref updateNotFinite, 1);
        copies?.Send(i, parameters);
    }

    /// <summary>Runs body(0) .. body(count - 1) on this step's threads, job i preferably on thread owners[i].</summary>
    void For(int count, Action<int> body, int[] owners)
    {
        if (pool is null || count == 1)
            for (int i = 0; i < count; i++) body(i);
        else
            pool.For(count, body, owners, threads);
    }
}
