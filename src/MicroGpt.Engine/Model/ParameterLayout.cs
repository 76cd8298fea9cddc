namespace MicroGpt;

/// <summary>
/// Named offsets into the one flat parameter buffer, in the tutorial's order: Wte (V, C),
/// Wpe (T, C), LmHead (V, C), then per layer Wq, Wk, Wv, Wo (C, C each), Fc1 (4C, C),
/// Fc2 (C, 4C). Every matrix is row-major [out][in]. Wq, Wk and Wv are adjacent, so
/// together they are one (3C, C) matrix that a single matmul applies.
/// Gradient and Adam moment buffers share this layout.
/// </summary>
public sealed class ParameterLayout
{
    public ParameterLayout(ModelConfig config)
    {
        int v = config.VocabSize, c = config.EmbeddingSize, t = config.BlockSize;
        Wte = 0;
        Wpe = Wte + v * c;
        LmHead = Wpe + t * c;
        int offset = LmHead + v * c;
        Layers = new LayerOffsets[config.Layers];
        for (int l = 0; l < config.Layers; l++)
        {
            var layer = new LayerOffsets(offset, offset + c * c, offset + 2 * c * c, offset + 3 * c * c, offset + 4 * c * c, offset + 8 * c * c);
            Layers[l] = layer;
            offset += 12 * c * c;
        }
        Count = offset;
    }

    public int Wte { get; }
    public int Wpe { get; }
    public int LmHead { get; }
    public LayerOffsets[] Layers { get; }

    /// <summary>The number of parameters; equals <see cref="ModelConfig.ParameterCount"/>.</summary>
    public int Count { get; }

    /// <summary>The names and shapes of the tensors, in buffer order (for files and inspection).</summary>
    public static IEnumerable<(string Name, int Offset, int Rows, int Columns)> Tensors(ModelConfig config)
    {
        var layout = new ParameterLayout(config);
        int v = config.VocabSize, c = config.EmbeddingSize;
        yield return ("wte", layout.Wte, v, c);
        yield return ("wpe", layout.Wpe, config.BlockSize, c);
        yield return ("lm_head", layout.LmHead, v, c);
        for (int l = 0; l < config.Layers; l++)
        {
            var layer = layout.Layers[l];
            yield return ($"h.{l}.attn.q", layer.Wq, c, c);
            yield return ($"h.{l}.attn.k", layer.Wk, c, c);
            yield return ($"h.{l}.attn.v", layer.Wv, c, c);
            yield return ($"h.{l}.attn.o", layer.Wo, c, c);
            yield return ($"h.{l}.mlp.fc", layer.Fc1, 4 * c, c);
            yield return ($"h.{l}.mlp.proj", layer.Fc2, c, 4 * c);
        }
    }

    /// <summary>The tensor and element of a parameter index, for messages: "lm_head[3, 5]".</summary>
    public static string NameOf(ModelConfig config, int index)
    {
        foreach (var (name, offset, rows, columns) in Tensors(config))
            if (index >= offset && index < offset + rows * columns)
                return $"{name}[{(index - offset) / columns}, {(index - offset) % columns}]";
        throw new ArgumentOutOfRangeException(nameof(index), index, $"The model has {config.ParameterCount} parameters.");
    }
}

/// <summary>Offsets of one transformer layer's matrices. Wq starts the (3C, C) block of Wq|Wk|Wv.</summary>
public readonly record struct LayerOffsets(int Wq, int Wk, int Wv, int Wo, int Fc1, int Fc2);
