namespace MicroGpt;

/// <summary>
/// The shape of a GPT: vocabulary, embedding size (C), heads (H), layers (L), block size (T).
/// The tutorial's configuration is C 32, H 4, L 2, T 16; on its 597-token vocabulary that is
/// 63,296 parameters. Validation happens here, once, so every buffer size derived from a
/// config is known to fit in memory.
/// </summary>
public sealed record ModelConfig(int VocabSize, int EmbeddingSize = 32, int Heads = 4, int Layers = 2, int BlockSize = 16)
{
    /// <summary>The most parameters a model may have: a float buffer and its Adam moments must fit in .NET arrays.</summary>
    public const long MaxParameters = 1L << 29;

    /// <summary>Float buffers of the model's size that training holds: weights, gradients, two Adam moments, and the trainer's backup of the weights and moments (see <see cref="Trainer"/>).</summary>
    const int TrainingBuffers = 7;

    /// <summary>The size of one head: C / H.</summary>
    public int HeadSize => EmbeddingSize / Heads;

    /// <summary>Throws <see cref="InvalidConfigurationException"/> naming the first setting that cannot work.</summary>
    public ModelConfig Validate()
    {
        Positive(nameof(VocabSize), VocabSize);
        Positive(nameof(EmbeddingSize), EmbeddingSize);
        Positive(nameof(Heads), Heads);
        Positive(nameof(Layers), Layers);
        Positive(nameof(BlockSize), BlockSize);
        if (VocabSize < 2)
            throw new InvalidConfigurationException(nameof(VocabSize), VocabSize, $"The vocabulary size {VocabSize} is too small: a model needs at least one token besides BOS.");
        if (EmbeddingSize % Heads != 0)
            throw new InvalidConfigurationException(nameof(Heads), Heads, $"The embedding size {EmbeddingSize} is not divisible by {Heads} heads.");
        long count = CountParameters(VocabSize, EmbeddingSize, Layers, BlockSize);
        if (count > MaxParameters)
            throw new InvalidConfigurationException(nameof(EmbeddingSize), EmbeddingSize,
                $"A model with embedding size {EmbeddingSize}, {Layers} layers, block size {BlockSize} and {VocabSize} tokens would have {count:N0} parameters, more than the {MaxParameters:N0} this engine supports.");
        long trainingBytes = count * sizeof(float) * TrainingBuffers;
        long available = MemoryBudget.Available();
        if (trainingBytes > available)
            throw new InvalidConfigurationException(nameof(EmbeddingSize), EmbeddingSize,
                $"A model with embedding size {EmbeddingSize}, {Layers} layers, block size {BlockSize} and {VocabSize} tokens would have {count:N0} parameters; training it needs {MemoryBudget.Describe(trainingBytes)}, more than the {MemoryBudget.Describe(available)} this process can still get.");
        return this;
    }

    /// <summary>Total parameters: (2V + T) C for the embeddings and head, 12 C^2 per layer.</summary>
    public long ParameterCount => CountParameters(VocabSize, EmbeddingSize, Layers, BlockSize);

    static long CountParameters(long v, long c, long l, long t) => (2 * v + t) * c + l * 12 * c * c;

    static void Positive(string name, int value)
    {
        if (value <= 0)
            throw new InvalidConfigurationException(name, value, $"{name} must be positive; {value} is not.");
    }
}
