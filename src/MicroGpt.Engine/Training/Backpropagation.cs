namespace MicroGpt;

/// <summary>
/// The loss and the gradient of a batch of sentences, with no optimizer: the three phases that
/// make every result independent of the thread count. (1) Forward, loss and the activations'
/// backward, with threads on disjoint groups of whole sentences. (2) The weight gradients, each
/// element summed over the rows in row order by exactly one job. (3) The gradient's L2 norm from
/// fixed chunks reduced in order. Buffers are allocated once; a batch allocates nothing.
/// </summary>
sealed class Backpropagation
{
    const int NormChunk = 1 << 14;
    const int GradientGrain = 1 << 13;

    readonly Model model;
    readonly Activations activations;
    readonly ActivationGradients activationGradients;
    readonly PackedBatch batch;
    readonly WeightGradientJob[] gradientJobs;
    readonly double[] normPartials;
    readonly int[] groupStart;
    readonly int threads;
    readonly ParallelOptions parallelOptions;
    readonly Action<int> forwardBackwardGroup, weightGradientJob, normChunk; // made once: batches allocate nothing

    public Backpropagation(Model model, int maxSentences, int maxTokensPerSentence, int threads)
    {
        this.model = model;
        int maxRows = maxSentences * PackedBatch.RowsOf(maxTokensPerSentence, model.Config.BlockSize);
        this.threads = Math.Max(1, Math.Min(threads, maxSentences));
        Gradients = new float[model.Parameters.Length];
        activations = new Activations(model.Config, maxRows);
        activationGradients = new ActivationGradients(model.Config, maxRows);
        batch = new PackedBatch(maxRows, maxSentences);
        gradientJobs = Gpt.PlanWeightGradients(model.Config, GradientGrain);
        normPartials = new double[(Gradients.Length + NormChunk - 1) / NormChunk];
        groupStart = new int[this.threads + 1];
        parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = this.threads };
        forwardBackwardGroup = ForwardBackwardGroup;
        weightGradientJob = i => Gpt.WeightGradients(model, activations, activationGradients, batch, Gradients, gradientJobs[i]);
        normChunk = NormChunkSum;
    }

    /// <summary>The gradient of the last batch, averaged over its sentences; the caller zeroes it (Adam does).</summary>
    public float[] Gradients { get; }

    /// <summary>The predicted tokens of the last batch.</summary>
    public int Rows => batch.Rows;

    /// <summary>Accumulates the batch's mean gradient into <see cref="Gradients"/> and returns its mean loss.</summary>
    public double Compute(IReadOnlyList<int[]> sentences, IReadOnlyList<int> pick)
    {
        batch.Clear();
        foreach (int i in pick) batch.Add(sentences[i], model.Config.BlockSize);
        batch.SetMeanWeights();

        int groups = Math.Min(threads, batch.Sentences);
        for (int g = 0; g <= groups; g++) groupStart[g] = batch.SentenceStart[(int)((long)batch.Sentences * g / groups)];
        ParallelFor(groups, forwardBackwardGroup);
        ParallelFor(gradientJobs.Length, weightGradientJob);
        return batch.MeanLoss(activations.Losses);
    }

    /// <summary>The L2 norm of <see cref="Gradients"/>.</summary>
    public double GradientNorm()
    {
        ParallelFor(normPartials.Length, normChunk);
        double total = 0;
        foreach (double partial in normPartials) total += partial;
        return Math.Sqrt(total);
    }

    void ForwardBackwardGroup(int g)
    {
        int n0 = groupStart[g], n1 = groupStart[g + 1];
        Gpt.Forward(model, activations, batch, n0, n1, withLoss: true);
        Gpt.Backward(model, activations, activationGradients, batch, n0, n1);
    }

    void NormChunkSum(int i)
    {
        var chunk = Gradients.AsSpan(i * NormChunk, Math.Min(NormChunk, Gradients.Length - i * NormChunk));
        double sum = 0;
        foreach (float g in chunk) sum += (double)g * g;
        normPartials[i] = sum;
    }

    void ParallelFor(int count, Action<int> body)
    {
        if (threads == 1 || count == 1)
            for (int i = 0; i < count; i++) body(i);
        else
            Parallel.For(0, count, parallelOptions, body);
    }
}
