namespace MicroGpt;

/// <summary>
/// The loss of a model on held-out sentences, measured the way training measures it: the mean
/// over sentences of each sentence's mean cross-entropy over min(T, tokens - 1) positions. In
/// stream mode (<see cref="ForStream(Model, int[], int)"/>) the examples are consecutive windows of a token stream and
/// the loss is the mean over all their predicted tokens.
/// Forward only; threads take fixed chunks of sentences (on a trainer's <see cref="WorkerPool"/>,
/// or one of the measurement's own) and the per-sentence losses are summed in order, so the figure
/// does not depend on the thread count. Buffers are allocated once. A long measurement goes in
/// slices of a few chunks per thread: between slices, on the calling thread, it reports how far it
/// got and stops if cancelled.
/// </summary>
public sealed class Evaluator
{
    readonly Model model;
    readonly int[][] sentences;
    readonly double[] exampleLoss;           // each example's summed row losses
    readonly bool weighByTokens;             // stream mode: the mean over tokens, not over examples
    readonly Worker[] workers;
    readonly int threads;
    readonly Action<int> evaluateSliceChunk; // made once: a measurement allocates nothing
    readonly int chunkSentences;             // examples per job: its rows within maxJobRows (Tunables.EvaluationChunkRows)
    int sliceFirst;                          // the first chunk of the slice under way

    /// <summary>Measures on encoded sentences with up to <paramref name="threads"/> threads (0: one per processor).</summary>
    public Evaluator(Model model, IReadOnlyList<int[]> sentences, int threads = 1) : this(model, sentences, threads, weighByTokens: false, Tunables.EvaluationChunkRows)
    {
    }

    /// <summary>As the public constructor, with jobs of at most <paramref name="maxJobRows"/> positions (tests: the loss must not depend on it).</summary>
    internal Evaluator(Model model, IReadOnlyList<int[]> sentences, int threads, int maxJobRows) : this(model, sentences, threads, weighByTokens: false, maxJobRows)
    {
    }

    /// <summary>
    /// Measures on a token stream with up to <paramref name="threads"/> threads (0: one per processor):
    /// the mean loss over every token but the first, each predicted from up to BlockSize tokens before
    /// it. The stream is cut into consecutive windows of BlockSize + 1 tokens, each starting at the
    /// last token of the one before, so their predictions cover the stream once and never overlap;
    /// the last may be shorter. A stream shorter than BlockSize + 1 tokens is refused.
    /// </summary>
    public static Evaluator ForStream(Model model, int[] stream, int threads = 1) => ForStream(model, stream, threads, Tunables.EvaluationChunkRows);

    /// <summary>As <see cref="ForStream(Model, int[], int)"/>, with jobs of at most <paramref name="maxJobRows"/> positions.</summary>
    internal static Evaluator ForStream(Model model, int[] stream, int threads, int maxJobRows) =>
        new(model, WindowsOf(model, stream), threads, weighByTokens: true, maxJobRows);

    /// <summary>
    /// As <see cref="ForStream(Model, int[], int)"/>, on at most <paramref name="maxWindows"/> of
    /// those windows, evenly spaced (see <see cref="EvenlySpaced"/>); the loss is the mean over the
    /// chosen windows' tokens.
    /// </summary>
    public static Evaluator ForStreamWindows(Model model, int[] stream, int maxWindows, int threads = 1) =>
        new(model, EvenlySpaced(WindowsOf(model, stream), maxWindows), threads, weighByTokens: true, Tunables.EvaluationChunkRows);

    /// <summary>
    /// At most <paramref name="count"/> of the examples (all when count is 0 or there are no more):
    /// example floor(i n / count) of the n for i from 0, evenly spaced along them, the same at
    /// every measurement.
    /// </summary>
    public static IReadOnlyList<int[]> EvenlySpaced(IReadOnlyList<int[]> examples, int count) =>
        count > 0 && count < examples.Count ? Enumerable.Range(0, count).Select(i => examples[(int)((long)i * examples.Count / count)]).ToArray() : examples;

    /// <summary>The consecutive windows of BlockSize + 1 tokens that cover a stream, each starting at the last token of the one before.</summary>
    static IReadOnlyList<int[]> WindowsOf(Model model, int[] stream)
    {
        int blockSize = model.Config.BlockSize;
        StreamWindows.CheckLength(stream.Length, blockSize, "measured");
        var windows = new int[(stream.Length - 2) / blockSize + 1][];
        for (int w = 0; w < windows.Length; w++)
        {
            int start = w * blockSize;
            windows[w] = stream[start..Math.Min(stream.Length, start + blockSize + 1)];
        }
        return windows;
    }

    Evaluator(Model model, IReadOnlyList<int[]> sentences, int threads, bool weighByTokens, int maxJobRows)
    {
        this.weighByTokens = weighByTokens;
        if (threads <= 0) threads = Environment.ProcessorCount;
        if (sentences.Count == 0) throw new CorpusException("There are no sentences to measure the loss on.");
        model.CheckTokens(sentences, "evaluation");
        model.CheckFinite();
        this.model = model;
        this.sentences = sentences.ToArray();
        exampleLoss = new double[this.sentences.Length];
        int longestRows = Math.Max(1, Math.Min(model.Config.BlockSize, this.sentences.Max(s => s.Length) - 1));
        chunkSentences = Math.Clamp(maxJobRows / longestRows, 1, Tunables.EvaluationChunk);
        this.threads = Math.Max(1, Math.Min(threads, Chunks));
        int maxRows = JobRows = chunkSentences * longestRows;
        workers = new Worker[this.threads];
        for (int i = 0; i < workers.Length; i++) workers[i] = new Worker(new Activations(model.Config, maxRows), new PackedBatch(maxRows, chunkSentences));
        evaluateSliceChunk = i => EvaluateChunk(sliceFirst + i);
    }

    /// <summary>The examples measured: sentences, or in stream mode windows.</summary>
    public int Sentences => sentences.Length;

    /// <summary>The threads a measurement uses: at most one per chunk of sentences.</summary>
    internal int Threads => threads;

    /// <summary>The positions one job holds at most, and so the rows of each thread's activations.</summary>
    internal int JobRows { get; }

    /// <summary>The jobs a measurement is cut into, of up to <see cref="chunkSentences"/> examples each.</summary>
    int Chunks => (sentences.Length + chunkSentences - 1) / chunkSentences;

    /// <summary>Predicted tokens: the sum over sentences of min(T, tokens - 1).</summary>
    public long Tokens => sentences.Sum(s => (long)PackedBatch.RowsOf(s.Length, model.Config.BlockSize));

    /// <summary>The mean loss, its perplexity, and what it was measured on (see <see cref="MeanLoss(Action{int}?, CancellationToken)"/>).</summary>
    public Measurement Measure(Action<int>? onProgress = null, CancellationToken cancellation = default)
    {
        double loss = MeanLoss(onProgress, cancellation);
        return new Measurement(loss, Math.Exp(loss), weighByTokens ? 0 : Sentences, Tokens) { Windows = weighByTokens ? Sentences : 0 };
    }

    /// <summary>
    /// The mean over sentences of each sentence's mean loss. After each slice, on the calling thread,
    /// <paramref name="onProgress"/> hears how many sentences are measured; a cancelled
    /// <paramref name="cancellation"/> stops the measurement at the next slice with an
    /// <see cref="OperationCanceledException"/>, and nothing is returned.
    /// </summary>
    public double MeanLoss(Action<int>? onProgress = null, CancellationToken cancellation = default)
    {
        using var pool = threads > 1 ? new WorkerPool(threads - 1) : null;
        return MeanLoss(pool, onProgress, cancellation);
    }

    /// <summary>
    /// <see cref="MeanLoss(Action{int}?, CancellationToken)"/> on the threads of <paramref name="pool"/>
    /// (a trainer's, with at least <see cref="Threads"/> threads), or on the calling thread alone when null.
    /// </summary>
    internal double MeanLoss(WorkerPool? pool, Action<int>? onProgress = null, CancellationToken cancellation = default)
    {
        int chunks = Chunks;
        int sliceChunks = Tunables.EvaluationSliceChunksPerThread * threads;
        for (int first = 0; first < chunks; first += sliceChunks)
        {
            cancellation.ThrowIfCancellationRequested();
            int end = Math.Min(chunks, first + sliceChunks);
            if (pool is null || threads == 1)
                for (int i = first; i < end; i++) EvaluateChunk(i);
            else
            {
                sliceFirst = first;
                pool.For(end - first, evaluateSliceChunk, threads: threads);
            }
            onProgress?.Invoke(Math.Min(sentences.Length, end * chunkSentences));
        }
        double total = 0;
        if (weighByTokens)
        {
            foreach (double loss in exampleLoss) total += loss;
            return total / Tokens;
        }
        for (int i = 0; i < sentences.Length; i++) total += exampleLoss[i] / PackedBatch.RowsOf(sentences[i].Length, model.Config.BlockSize);
        return total / sentences.Length;
    }

    void EvaluateChunk(int chunk)
    {
        var worker = TakeWorker();
        try
        {
            var batch = worker.Batch;
            batch.Clear();
            int first = chunk * chunkSentences, last = Math.Min(sentences.Length, first + chunkSentences);
            for (int i = first; i < last; i++) batch.Add(sentences[i], model.Config.BlockSize);
            Gpt.Forward(model, worker.Activations, batch, 0, batch.Rows, withLoss: true);
            for (int b = 0; b < batch.Examples; b++)
            {
                int n0 = batch.ExampleStart[b], n1 = batch.ExampleStart[b + 1];
                double sum = 0;
                for (int n = n0; n < n1; n++) sum += worker.Activations.Losses[n];
                exampleLoss[first + b] = sum;
            }
        }
        finally
        {
            worker.Busy = 0;
        }
    }

    Worker TakeWorker()
    {
        while (true)
            foreach (var worker in workers)
                if (Interlocked.CompareExchange(ref worker.Busy, 1, 0) == 0) return worker;
    }

    sealed class Worker(Activations activations, PackedBatch batch)
    {
        public Activations Activations { get; } = activations;
        public PackedBatch Batch { get; } = batch;
        public int Busy;
    }
}

/// <summary>A held-out loss, measured as training measures it, and its perplexity e^loss: over sentences, or in stream mode over the windows of a stream.</summary>
public sealed record Measurement(double Loss, double Perplexity, int Sentences, long Tokens)
{
    /// <summary>In stream mode, the consecutive windows the stream was cut into; 0 for sentences.</summary>
    public int Windows { get; init; }
}
