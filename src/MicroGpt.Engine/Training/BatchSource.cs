using System.Runtime.CompilerServices;

namespace MicroGpt;

/// <summary>
/// Where a run's batches come from. A source packs the examples of a step into a
/// <see cref="PackedBatch"/>, each example some tokens whose every position but the last predicts
/// the next. What a step gets depends only on the step's number and on what the source was made
/// from (the corpus and the run's options), never on the steps before it, so a resumed run needs
/// no saved random state and every thread count sees the same batches.
/// </summary>
interface IBatchSource
{
    /// <summary>The most examples a batch holds.</summary>
    int MaxExamples { get; }

    /// <summary>The most rows (predicted positions) a batch holds.</summary>
    int MaxRows { get; }

    /// <summary>What <see cref="Size"/> counts, for messages: "sentences", say.</summary>
    string Unit { get; }

    /// <summary>The size of the corpus in <see cref="Unit"/>, kept in checkpoints.</summary>
    int Size { get; }

    /// <summary>A hash of the corpus as the source reads it, kept in checkpoints so that a run resumed on another corpus is refused.</summary>
    ulong Fingerprint { get; }

    /// <summary>Packs the examples of the 0-based step <paramref name="step"/> into <paramref name="batch"/>, with their loss weights.</summary>
    void Fill(PackedBatch batch, long step);
}

/// <summary>
/// The tutorial's batches: the sentences shuffled once (seeded Fisher-Yates) unless shuffling is
/// off, and step s takes sentences (s B + i) mod N, i = 0 .. B - 1, each one example, the batch's
/// loss the mean of their mean losses.
/// </summary>
sealed class SentenceBatches : IBatchSource
{
    readonly int[][] sentences;
    readonly int[] order;
    readonly int batchSize, blockSize;

    /// <summary>Batches of encoded sentences ([BOS, ..., BOS] each) for <paramref name="model"/>, in the order and size <paramref name="options"/> set.</summary>
    public SentenceBatches(Model model, IReadOnlyList<int[]> sentences, TrainingOptions options)
    {
        if (sentences.Count == 0) throw new CorpusException("The training corpus has no sentences.");
        model.CheckTokens(sentences, "training");
        this.sentences = sentences.ToArray();
        order = Enumerable.Range(0, this.sentences.Length).ToArray();
        if (options.Shuffle) new Rng(options.Seed).Shuffle(order.AsSpan());
        batchSize = options.BatchSize;
        blockSize = model.Config.BlockSize;
        MaxRows = batchSize * PackedBatch.RowsOf(this.sentences.Max(s => s.Length), blockSize);
        Fingerprint = FingerprintOf(this.sentences);
    }

    public int MaxExamples => batchSize;

    public int MaxRows { get; }

    public string Unit => "sentences";

    public int Size => sentences.Length;

    public ulong Fingerprint { get; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(PackedBatch batch, long step)
    {
        batch.Clear();
        for (int i = 0; i < batchSize; i++) batch.Add(sentences[order[(int)((step * batchSize + i) % sentences.Length)]], blockSize);
        batch.SetMeanWeights();
    }

    /// <summary>FNV-1a over the encoded sentences: cheap, stable across runs and machines.</summary>
    static ulong FingerprintOf(int[][] sentences)
    {
        ulong hash = 14695981039346656037;
        foreach (var sentence in sentences)
        {
            foreach (int token in sentence) hash = (hash ^ (uint)token) * 1099511628211;
            hash = (hash ^ 0xFFFFFFFF) * 1099511628211;
        }
        return hash;
    }
}
