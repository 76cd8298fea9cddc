using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>
/// Reads a model: the forward pass over one sequence of tokens, and what it computed at each
/// position: the logits, the next-token probabilities, and each layer's attention weights.
/// Legend: T positions read (at most the block size), V vocabulary, L layers, H heads.
/// <para>
/// The numbers are the training forward's, bit for bit: the same kernels (<see cref="Gpt"/> over a
/// <see cref="PackedBatch"/> of one sentence), the same softmax (<see cref="Softmax.Forward"/>, as the
/// cross-entropy takes it), the same attention weights. So are the <see cref="Evaluator"/>'s, and the
/// <see cref="Sampler"/> reads with a reader. A trainer whose batches reach 64 rows computes its
/// matrix products packed (see <see cref="MatMul"/>), which rounds otherwise: its numbers agree with
/// these to float32 rounding, not bit for bit.
/// </para>
/// <para>
/// Positions are appended: <see cref="Append(ReadOnlySpan{int})"/> computes only the new ones, each
/// attending to the keys and values kept for the ones before it (a KV cache), with the same bits as
/// reading the whole sequence at once. A reader allocates its buffers once, for the block size, and
/// nothing per call. It is not thread-safe; readers of one model may run on many threads at once,
/// as long as nothing trains the model meanwhile.
/// </para>
/// </summary>
public sealed class ModelReader
{
    readonly Model model;
    readonly Activations activations;
    readonly PackedBatch rows;
    readonly float[] probabilities; // (T, V)
    readonly float[] maxLogits;     // (T)
    readonly float[] logSums;       // (T) log sum_i e^(logit[i] - max)

    /// <summary>A reader of <paramref name="model"/>, which must hold finite weights.</summary>
    public ModelReader(Model model)
    {
        model.CheckFinite();
        this.model = model;
        int t = model.Config.BlockSize;
        activations = new Activations(model.Config, t);
        rows = new PackedBatch(t, 1);
        probabilities = new float[t * model.Config.VocabSize];
        maxLogits = new float[t];
        logSums = new float[t];
    }

    /// <summary>The model read.</summary>
    public Model Model => model;

    /// <summary>How many positions have been read (T).</summary>
    public int Count { get; private set; }

    /// <summary>The tokens read, position by position.</summary>
    public ReadOnlySpan<int> Tokens => rows.Tokens.AsSpan(0, Count);

    /// <summary>Reads <paramref name="tokens"/> from position 0, in place of what was read before (which stays, if they are refused).</summary>
    public void Forward(ReadOnlySpan<int> tokens)
    {
        CheckFits(0, tokens);
        Count = 0;
        Read(tokens);
    }

    /// <summary>Forgets the positions read.</summary>
    public void Clear() => Count = 0;

    /// <summary>Reads one more position.</summary>
    public void Append(int token) => Append([token]);

    /// <summary>Reads <paramref name="tokens"/> at the positions after those read so far.</summary>
    public void Append(ReadOnlySpan<int> tokens)
    {
        CheckFits(Count, tokens);
        Read(tokens);
    }

    /// <summary>Refuses a token outside the vocabulary, or more positions than the block size.</summary>
    void CheckFits(int from, ReadOnlySpan<int> tokens)
    {
        int blockSize = model.Config.BlockSize;
        if (from + tokens.Length > blockSize)
            throw new InvalidConfigurationException(nameof(tokens), from + tokens.Length,
                $"{from + tokens.Length} positions do not fit in the model's block size of {blockSize}.");
        foreach (int token in tokens) CheckToken(token);
    }

    void CheckToken(int token)
    {
        int v = model.Config.VocabSize;
        if ((uint)token >= (uint)v)
            throw new InvalidConfigurationException("token", token, $"The token id {token} is outside the model's vocabulary of {v} (ids 0 to {v - 1}).");
    }

    /// <summary>The forward pass of the positions [Count, Count + tokens), then their probabilities.</summary>
    void Read(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) return;
        int v = model.Config.VocabSize, n0 = Count, n1 = Count + tokens.Length;
        for (int n = n0; n < n1; n++)
        {
            rows.Tokens[n] = tokens[n - n0];
            rows.Positions[n] = n;
            rows.Start[n] = 0;
        }
        Gpt.Forward(model, activations, rows, n0, n1, withLoss: false);
        for (int n = n0; n < n1; n++)
        {
            var (max, sum) = Softmax.Forward(probabilities.AsSpan(n * v, v), activations.Logits.AsSpan(n * v, v));
            maxLogits[n] = max;
            logSums[n] = MathF.Log(sum);
        }
        Count = n1;
    }

    /// <summary>The logits at <paramref name="position"/> (V): the scores of every token to come next.</summary>
    public ReadOnlySpan<float> Logits(int position)
    {
        CheckPosition(position);
        int v = model.Config.VocabSize;
        return activations.Logits.AsSpan(position * v, v);
    }

    /// <summary>The next-token probabilities at <paramref name="position"/> (V): softmax of the logits, as training's cross-entropy takes it.</summary>
    public ReadOnlySpan<float> Probabilities(int position)
    {
        CheckPosition(position);
        int v = model.Config.VocabSize;
        return probabilities.AsSpan(position * v, v);
    }

    /// <summary>
    /// log p(<paramref name="token"/>) at <paramref name="position"/>, from the logits rather than from
    /// the rounded probability: minus training's loss for that target, bit for bit.
    /// </summary>
    public float LogProbability(int position, int token)
    {
        var logits = Logits(position);
        CheckToken(token);
        // as training's loss: log(sum) - (logit - max)
        return -(logSums[position] - (logits[token] - maxLogits[position]));
    }

    /// <summary>
    /// The distribution a <see cref="Sampler"/> at <paramref name="temperature"/> draws from at
    /// <paramref name="position"/>, before top-k and top-p (<see cref="Softmax.Tempered"/>: in double,
    /// so within float32 rounding of <see cref="Probabilities"/> at temperature 1, not bit for bit).
    /// </summary>
    public void SamplingProbabilities(Span<float> destination, int position, double temperature)
    {
        if (!(temperature > 0 && double.IsFinite(temperature)))
            throw new InvalidConfigurationException(nameof(temperature), temperature, $"The temperature must be a positive number; {temperature} is not.");
        var logits = Logits(position);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, logits.Length, nameof(destination));
        Softmax.Tempered(destination, logits, temperature);
    }

    /// <summary>
    /// The attention weights of <paramref name="head"/> in <paramref name="layer"/> at
    /// <paramref name="queryPosition"/>: its softmax over the keys of positions 0..queryPosition.
    /// </summary>
    public ReadOnlySpan<float> Attention(int layer, int head, int queryPosition)
    {
        var config = model.Config;
        CheckLayer(config, layer);
        CheckHead(config, head);
        CheckPosition(queryPosition);
        // att is (L, N, H, T) with N = the block size
        var row = activations.Rows(activations.Att, layer, config.Heads * config.BlockSize, queryPosition, queryPosition + 1);
        return row.Slice(head * config.BlockSize, queryPosition + 1);
    }

    /// <summary>Refuses a layer the model does not have, naming it ("layer").</summary>
    internal static void CheckLayer(ModelConfig config, int layer)
    {
        if ((uint)layer >= (uint)config.Layers)
            throw new InvalidConfigurationException(nameof(layer), layer, $"The model has {config.Layers} layers (0 to {config.Layers - 1}); there is no layer {layer}.");
    }

    /// <summary>Refuses a head the model's layers do not have, naming it ("head").</summary>
    internal static void CheckHead(ModelConfig config, int head)
    {
        if ((uint)head >= (uint)config.Heads)
            throw new InvalidConfigurationException(nameof(head), head, $"The model has {config.Heads} heads per layer (0 to {config.Heads - 1}); there is no head {head}.");
    }

    void CheckPosition(int position)
    {
        if ((uint)position >= (uint)Count)
            throw new InvalidConfigurationException(nameof(position), position, $"Position {position} has not been read; positions 0 to {Count - 1} have.");
    }
}
