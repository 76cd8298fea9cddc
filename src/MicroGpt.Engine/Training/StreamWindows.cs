using System.Runtime.CompilerServices;

namespace MicroGpt;

/// <summary>
/// Stream mode's batches, as nanoGPT's <c>get_batch</c> takes them: the corpus is one token stream,
/// and a batch is B windows of T + 1 tokens, each at an offset drawn uniformly from the N - T
/// places a window fits, so that every one of its T predictions counts (weight 1 / (B T): the
/// batch loss is the mean over all its predicted tokens). The offset of window i of step s is a
/// hash of (seed, s, i), a counter rather than a random stream, so a step's batch needs nothing
/// from the steps before it: a resumed run takes exactly the windows the uninterrupted run would have.
/// </summary>
sealed class StreamWindows : IBatchSource
{
    readonly int[] stream;
    readonly int batchSize, blockSize;
    readonly ulong seed;

    /// <summary>Windows of the token stream <paramref name="stream"/> for <paramref name="model"/>, B a step as <paramref name="options"/> set.</summary>
    public StreamWindows(Model model, int[] stream, TrainingOptions options)
    {
        blockSize = model.Config.BlockSize;
        CheckLength(stream.Length, blockSize, "training");
        model.CheckTokens([stream], "training");
        this.stream = stream;
        batchSize = options.BatchSize;
        seed = unchecked((uint)options.Seed);
        Fingerprint = FingerprintOf(stream);
    }

    public int MaxExamples => batchSize;

    public int MaxRows => batchSize * blockSize;

    public string Unit => "tokens";

    public int Size => stream.Length;

    public ulong Fingerprint { get; }

    /// <summary>Refuses a stream too short for one window of <paramref name="blockSize"/> + 1 tokens.</summary>
    internal static void CheckLength(int tokens, int blockSize, string what)
    {
        if (tokens < blockSize + 1)
            throw new CorpusException($"The {what} stream has {tokens:N0} tokens; stream mode needs at least the block size plus one ({blockSize + 1:N0}) for one window. Give more text, or a model with a smaller block size.");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Fill(PackedBatch batch, long step)
    {
        batch.Clear();
        for (int i = 0; i < batchSize; i++)
            batch.Add(stream.AsSpan(Offset(step, i), blockSize + 1), blockSize);
        batch.SetMeanWeights();
    }

    /// <summary>The first token of window <paramref name="index"/> of the 0-based step <paramref name="step"/>: uniform over 0 .. N - T - 1.</summary>
    internal int Offset(long step, int index)
    {
        ulong places = (ulong)(stream.Length - blockSize);
        ulong hash = Mix(Mix(Mix(seed) ^ (ulong)step) ^ (ulong)index);
        return (int)Math.BigMul(hash, places, out _); // the high word of hash * places: uniform to within places / 2^64
    }

    /// <summary>SplitMix64's finalizer: every input bit flips about half of the output bits.</summary>
    static ulong Mix(ulong x)
    {
        unchecked
        {
            x += 0x9E3779B97F4A7C15;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
            return x ^ (x >> 31);
        }
    }

    /// <summary>FNV-1a over the tokens, starting from a different basis than sentence mode's so that the two never match.</summary>
    static ulong FingerprintOf(int[] stream)
    {
        ulong hash = 14695981039346656037 ^ 0x5354524541; // "STREA"
        foreach (int token in stream) hash = (hash ^ (uint)token) * 1099511628211;
        return hash;
    }
}
