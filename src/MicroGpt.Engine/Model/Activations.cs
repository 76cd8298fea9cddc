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
        int n = maxRows, c = config.EmbeddingSize, l = config.Layers, h = config.Heads, t = config.BlockSize;
        MaxRows = maxRows;
        Encoded = new float[n * c];
        EncodedRstd = new float[n];
        Residual = new float[(l + 1) * n * c];
        Ln1 = new float[l * n * c];
        Ln1Rstd = new float[l * n];
        Qkv = new float[l * n * 3 * c];
        Att = new float[l * n * h * t];
        AttOut = new float[l * n * c];
        Residual2 = new float[l * n * c];
        Ln2 = new float[l * n * c];
        Ln2Rstd = new float[l * n];
        Fc = new float[l * n * 4 * c];
        FcRelu = new float[l * n * 4 * c];
        Logits = new float[n * config.VocabSize];
        Losses = new float[n];
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
        long n = maxRows, c = config.EmbeddingSize, l = config.Layers, t = config.BlockSize, v = config.VocabSize;
        long largest = new[] { l * n * 4 * c, l * n * config.Heads * t, (l + 1) * n * c, n * v }.Max();
        // Every buffer of Activations and ActivationGradients, per row.
        long total = n * (2 * v + 8 * c + 2 * (l + 1) * c + l * (23 * c + config.Heads * t) + t + 2 * l + 2);
        long bytes = total * sizeof(float), available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
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
        int n = maxRows, c = config.EmbeddingSize, l = config.Layers;
        Logits = new float[n * config.VocabSize];
        Encoded = new float[n * c];
        Residual = new float[(l + 1) * n * c];
        Residual2 = new float[l * n * c];
        Qkv = new float[l * n * 3 * c];
        Fc = new float[l * n * 4 * c];
        Ln = new float[n * c];
        AttOut = new float[n * c];
        FcRelu = new float[n * 4 * c];
        AttentionScratch = new float[n * config.BlockSize];
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
