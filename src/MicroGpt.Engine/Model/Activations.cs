namespace MicroGpt;

/// <summary>
/// Every buffer one forward and backward pass needs, allocated once for a maximum number of
/// rows and reused every step, so that the training loop allocates nothing. Legend:
/// N = rows (packed positions), C = embedding size, H = heads, T = block size,
/// V = vocabulary, L = layers. Buffers with a layer dimension are (L, N, C) with N = MaxRows;
/// <see cref="Rows"/> cuts out the rows [n0, n1) of one layer.
/// </summary>
sealed class Activations
{
    public Activations(ModelConfig config, int maxRows)
    {
        CheckFits(config, maxRows);
        MaxRows = maxRows;
        var next = new Buffers(Lengths(config, maxRows));
        Encoded = next.Take(nameof(Encoded));
        EncodedRstd = next.Take(nameof(EncodedRstd));
        Residual = next.Take(nameof(Residual));
        Ln1 = next.Take(nameof(Ln1));
        Ln1Rstd = next.Take(nameof(Ln1Rstd));
        Qkv = next.Take(nameof(Qkv));
        Att = next.Take(nameof(Att));
        AttOut = next.Take(nameof(AttOut));
        Residual2 = next.Take(nameof(Residual2));
        Ln2 = next.Take(nameof(Ln2));
        Ln2Rstd = next.Take(nameof(Ln2Rstd));
        Fc = next.Take(nameof(Fc));
        FcRelu = next.Take(nameof(FcRelu));
        Logits = next.Take(nameof(Logits));
        Losses = next.Take(nameof(Losses));
        next.CheckAllTaken();
    }

    /// <summary>Each buffer below and its length for <paramref name="n"/> rows, in order (as llm.c's fill_in_activation_sizes).</summary>
    static (string Name, long Length)[] Lengths(ModelConfig config, long n)
    {
        long c = config.EmbeddingSize, l = config.Layers, h = config.Heads, t = config.BlockSize, v = config.VocabSize;
        return
        [
            (nameof(Encoded), n * c), (nameof(EncodedRstd), n), (nameof(Residual), (l + 1) * n * c),
            (nameof(Ln1), l * n * c), (nameof(Ln1Rstd), l * n), (nameof(Qkv), l * n * 3 * c), (nameof(Att), l * n * h * t),
            (nameof(AttOut), l * n * c), (nameof(Residual2), l * n * c), (nameof(Ln2), l * n * c), (nameof(Ln2Rstd), l * n),
            (nameof(Fc), l * n * 4 * c), (nameof(FcRelu), l * n * 4 * c), (nameof(Logits), n * v), (nameof(Losses), n),
        ];
    }

    public int MaxRows { get; }

    public float[] Encoded { get; }     // (N, C) wte[token] + wpe[position]
    public float[] EncodedRstd { get; } // (N)
    public float[] Residual { get; }    // (L + 1, N, C) the residual stream entering each layer, then leaving the last
    public float[] Ln1 { get; }         // (L, N, C) rmsnorm(residual)
    public float[] Ln1Rstd { get; }     // (L, N)
    public float[] Qkv { get; }         // (L, N, 3C) query, key, value side by side; the KV cache when sampling
    public float[] Att { get; }         // (L, N, H, T) attention weights
    public float[] AttOut { get; }      // (L, N, C) attention output, before Wo
    public float[] Residual2 { get; }   // (L, N, C) residual + Wo attOut
    public float[] Ln2 { get; }         // (L, N, C) rmsnorm(residual2)
    public float[] Ln2Rstd { get; }     // (L, N)
    public float[] Fc { get; }          // (L, N, 4C) Fc1 ln2, before relu
    public float[] FcRelu { get; }      // (L, N, 4C)
    public float[] Logits { get; }      // (N, V) logits, turned into probabilities in place
    public float[] Losses { get; }      // (N)

    /// <summary>
    /// Refuses, as a configuration error rather than an overflow or an out-of-memory crash, a
    /// shape whose activations for <paramref name="maxRows"/> rows would not fit: the largest
    /// buffer in one .NET array, and all of them, with their gradients, in the memory available.
    /// </summary>
    public static void CheckFits(ModelConfig config, long maxRows)
    {
        long[] lengths = [.. Lengths(config, maxRows).Select(b => b.Length), .. ActivationGradients.Lengths(config, maxRows).Select(b => b.Length)];
        long largest = lengths.Max(), bytes = lengths.Sum() * sizeof(float), available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (largest > Array.MaxLength || bytes > available)
            throw new InvalidConfigurationException(nameof(ModelConfig.BlockSize), config.BlockSize,
                $"Processing {maxRows:N0} positions at once with embedding size {config.EmbeddingSize}, {config.Layers} layers, {config.Heads} heads and block size {config.BlockSize} needs {bytes / (1 << 20):N0} MiB of activations{(largest > Array.MaxLength ? $", one buffer of {largest:N0} numbers (more than an array holds)" : "")}; {available / (1 << 20):N0} MiB are available. Use a smaller block size, batch or model.");
    }

    /// <summary>Rows [n0, n1) of layer l of a buffer whose rows are <paramref name="width"/> wide.</summary>
    public Span<float> Rows(float[] buffer, int layer, int width, int n0, int n1) =>
        buffer.AsSpan((layer * MaxRows + n0) * width, (n1 - n0) * width);
}

/// <summary>
/// The gradients of the activations. The ones marked "kept" are the gradients of each matmul's
/// output, which <see cref="Gpt.WeightGradients"/> reads after the per-sentence backward pass;
/// the others are scratch that every layer reuses.
/// </summary>
sealed class ActivationGradients
{
    public ActivationGradients(ModelConfig config, int maxRows)
    {
        var next = new Buffers(Lengths(config, maxRows));
        Logits = next.Take(nameof(Logits));
        Encoded = next.Take(nameof(Encoded));
        Residual = next.Take(nameof(Residual));
        Residual2 = next.Take(nameof(Residual2));
        Qkv = next.Take(nameof(Qkv));
        Fc = next.Take(nameof(Fc));
        Ln = next.Take(nameof(Ln));
        AttOut = next.Take(nameof(AttOut));
        FcRelu = next.Take(nameof(FcRelu));
        AttentionScratch = next.Take(nameof(AttentionScratch));
        next.CheckAllTaken();
    }

    /// <summary>Each buffer below and its length for <paramref name="n"/> rows, in order.</summary>
    internal static (string Name, long Length)[] Lengths(ModelConfig config, long n)
    {
        long c = config.EmbeddingSize, l = config.Layers, t = config.BlockSize, v = config.VocabSize;
        return
        [
            (nameof(Logits), n * v), (nameof(Encoded), n * c), (nameof(Residual), (l + 1) * n * c), (nameof(Residual2), l * n * c),
            (nameof(Qkv), l * n * 3 * c), (nameof(Fc), l * n * 4 * c), (nameof(Ln), n * c), (nameof(AttOut), n * c),
            (nameof(FcRelu), n * 4 * c), (nameof(AttentionScratch), n * t),
        ];
    }

    public float[] Logits { get; }    // (N, V) kept: dout of LmHead
    public float[] Encoded { get; }   // (N, C) kept: scattered into the embedding gradients
    public float[] Residual { get; }  // (L + 1, N, C) kept: layer l's output gradient is the dout of its Fc2
    public float[] Residual2 { get; } // (L, N, C) kept: dout of Wo
    public float[] Qkv { get; }       // (L, N, 3C) kept: dout of Wq|Wk|Wv
    public float[] Fc { get; }        // (L, N, 4C) kept: dout of Fc1
    public float[] Ln { get; }        // (N, C) scratch: gradient of ln1 or ln2
    public float[] AttOut { get; }    // (N, C) scratch
    public float[] FcRelu { get; }    // (N, 4C) scratch
    public float[] AttentionScratch { get; } // (N, T) scratch: the score gradients of each row, for one head at a time
}

/// <summary>Allocates the buffers of a list, in its order, checking that the constructor takes each by its name.</summary>
struct Buffers((string Name, long Length)[] list)
{
    int taken;

    public float[] Take(string name)
    {
        var (listed, length) = list[taken++];
        if (listed != name) throw new InvalidOperationException($"The buffer list has {listed} where {name} is taken.");
        return new float[length];
    }

    /// <summary>Throws unless every buffer of the list was taken.</summary>
    public readonly void CheckAllTaken()
    {
        if (taken != list.Length) throw new InvalidOperationException($"{list.Length} buffers are listed but {taken} were taken.");
    }
}
