using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>How to draw tokens: temperature, then top-k, then top-p, then a seeded weighted choice.</summary>
public sealed record SamplingOptions
{
    /// <summary>Divides the logits; below 1 sharpens, above 1 flattens. 0 picks the most likely token (greedy).</summary>
    public double Temperature { get; init; } = 0.8;
    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }
    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.</summary>
    public double TopP { get; init; } = 1.0;
    public int Seed { get; init; } = 42;

    public SamplingOptions Validate()
    {
        if (!(Temperature >= 0 && double.IsFinite(Temperature)))
            throw new InvalidConfigurationException(nameof(Temperature), Temperature, $"Temperature must be 0 (greedy) or a positive number; {Temperature} is not.");
        if (TopK < 0)
            throw new InvalidConfigurationException(nameof(TopK), TopK, $"TopK must be 0 (off) or positive; {TopK} is not.");
        if (!(TopP > 0 && TopP <= 1))
            throw new InvalidConfigurationException(nameof(TopP), TopP, $"TopP must be greater than 0 and at most 1; {TopP} is not.");
        return this;
    }
}

/// <summary>One generated sentence, or a continuation of a text (<see cref="Sampler.Continue"/>).</summary>
public sealed record Sample
{
    /// <summary>The sentence, prompt included, BOS left out.</summary>
    public required string Text { get; init; }
    /// <summary>Its pieces (words or characters), prompt included.</summary>
    public required TokenList<string> Tokens { get; init; }
    /// <summary>The token ids of <see cref="Tokens"/>.</summary>
    public required TokenList<int> Ids { get; init; }
    /// <summary>The mean natural-log probability the model (at temperature 1) gave each generated token, the closing BOS included.</summary>
    public double MeanLogProbability { get; init; }
    /// <summary>True when the model closed the sentence with BOS (a continuation: when it reached its length); false when it ran into the block size.</summary>
    public bool Complete { get; init; }
}

/// <summary>
/// Generates sentences one token at a time from BOS (and an optional prompt): a
/// <see cref="ModelReader"/> appends each new position, attending to the keys and values it kept
/// for the positions before it, and the next token is drawn from its logits. Stops at BOS or at the block size. Not thread-safe: a sampler holds
/// its random stream and buffers; the model it reads may be shared.
/// </summary>
public sealed class Sampler
{
    readonly Model model;
    readonly SamplingOptions options;
    readonly Rng rng;
    readonly ModelReader reader;
    readonly float[] probabilities;   // (V) the sampling distribution
    readonly float[] sortKeys;        // (V) scratch for top-k and top-p

    public Sampler(Model model, SamplingOptions options)
    {
        this.model = model;
        this.options = options.Validate();
        reader = new ModelReader(model);
        rng = new Rng(options.Seed);
        int v = model.Config.VocabSize;
        probabilities = new float[v];
        sortKeys = new float[v];
    }

    /// <summary>Generates one sentence, continuing the prompt's token ids (<see cref="Tokenizer.Encode"/>) when given.</summary>
    public Sample Generate(IReadOnlyList<int>? prompt = null)
    {
        var tokenizer = model.Tokenizer;
        int blockSize = model.Config.BlockSize;
        var ids = new List<int>(prompt ?? []);
        int outside = ids.FindIndex(id => (uint)id >= (uint)tokenizer.Bos);
        if (outside >= 0)
            throw new ArgumentOutOfRangeException(nameof(prompt), ids[outside], $"The prompt's token id {ids[outside]} is not one of the model's {tokenizer.Bos} pieces.");
        if (ids.Count >= blockSize)
            throw new InvalidConfigurationException(nameof(prompt), ids.Count, $"The prompt has {ids.Count} tokens, which leaves no room to generate within the block size of {blockSize}.");

        double logProbability = 0;
        int generated = 0;
        bool complete = false;
        reader.Clear();
        int token = tokenizer.Bos;
        for (int n = 0; n < blockSize; n++)
        {
            reader.Append(token);
            if (n < ids.Count) { token = ids[n]; continue; }   // still reading the prompt

            token = Choose(n);
            logProbability += Softmax.LogAt(reader.Logits(n), token);
            generated++;
            if (token == tokenizer.Bos) { complete = true; break; }
            ids.Add(token);
        }
        var idArray = ids.ToArray();
        return new Sample
        {
            Text = tokenizer.Decode(idArray),
            Tokens = new TokenList<string>(idArray.Select(tokenizer.PieceOf).ToArray()),
            Ids = new TokenList<int>(idArray),
            MeanLogProbability = generated > 0 ? logProbability / generated : 0,
            Complete = complete,
        };
    }

    /// <summary>
    /// Continues a text for <paramref name="maxTokens"/> tokens, as nanoGPT's <c>generate</c> does:
    /// each token is drawn from the model's reading of the last BlockSize tokens of the text so far
    /// (the prompt's token ids, <see cref="Tokenizer.Encode"/>, then what was drawn). Until the text
    /// fills the block, each new token is appended to what the reader holds; from then on the window
    /// slides, and the reader reads the last BlockSize tokens afresh. BOS, which a stream has not,
    /// is never drawn.
    /// </summary>
    public Sample Continue(IReadOnlyList<int> prompt, int maxTokens)
    {
        var tokenizer = model.Tokenizer;
        int blockSize = model.Config.BlockSize;
        if (prompt.Count == 0)
            throw new InvalidConfigurationException(nameof(prompt), "", "A continuation needs a prompt of at least one token to continue.");
        if (maxTokens < 1)
            throw new InvalidConfigurationException(nameof(maxTokens), maxTokens, $"MaxTokens must be at least 1; {maxTokens} is not.");
        var ids = new List<int>(prompt.Count + maxTokens);
        ids.AddRange(prompt);
        int outside = ids.FindIndex(id => (uint)id >= (uint)tokenizer.Bos);
        if (outside >= 0)
            throw new ArgumentOutOfRangeException(nameof(prompt), ids[outside], $"The prompt's token id {ids[outside]} is not one of the model's {tokenizer.Bos} pieces.");

        double logProbability = 0;
        reader.Forward(Window(ids, blockSize));
        for (int generated = 0; generated < maxTokens; generated++)
        {
            int position = reader.Count - 1;
            int token = Choose(position, allowBos: false);
            logProbability += Softmax.LogAt(reader.Logits(position), token);
            ids.Add(token);
            if (generated == maxTokens - 1) break;
            if (reader.Count < blockSize) reader.Append(token);
            else reader.Forward(Window(ids, blockSize)); // the block is full: slide it by one
        }
        var idArray = ids.ToArray();
        return new Sample
        {
            Text = tokenizer.Decode(idArray),
            Tokens = new TokenList<string>(idArray.Select(tokenizer.PieceOf).ToArray()),
            Ids = new TokenList<int>(idArray),
            MeanLogProbability = logProbability / maxTokens,
            Complete = true,
        };
    }

    /// <summary>The last <paramref name="blockSize"/> tokens of <paramref name="ids"/> (all of them when fewer).</summary>
    static ReadOnlySpan<int> Window(List<int> ids, int blockSize)
    {
        var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids);
        return all[Math.Max(0, all.Length - blockSize)..];
    }

    /// <summary>
    /// The next token after <paramref name="position"/>: temperature, top-k, top-p, then a weighted
    /// draw (or the arg max at temperature 0); BOS only when <paramref name="allowBos"/>.
    /// </summary>
    int Choose(int position, bool allowBos = true)
    {
        int bos = model.Tokenizer.Bos;
        if (options.Temperature == 0) return ArgMax(allowBos ? reader.Logits(position) : reader.Logits(position)[..bos]);
        reader.SamplingProbabilities(probabilities, position, options.Temperature);
        if (!allowBos) probabilities[bos] = 0;
        Truncate(probabilities, options.TopK, options.TopP, sortKeys);
        return rng.NextWeighted(probabilities);
    }

    /// <summary>
    /// Zeroes every probability outside the top k and outside the nucleus: the smallest set of most
    /// likely tokens whose probability reaches p (at least one token). Tokens tied with the last
    /// one kept are kept too. The weights need not be renormalized: the draw divides by their sum.
    /// </summary>
    internal static void Truncate(Span<float> probabilities, int topK, double topP, float[] sortKeys)
    {
        int v = probabilities.Length;
        int keep = topK > 0 ? Math.Min(topK, v) : v;
        if (keep == v && topP >= 1) return;
        for (int i = 0; i < v; i++) sortKeys[i] = -probabilities[i];
        Array.Sort(sortKeys, 0, v); // most likely first
        if (topP < 1)
        {
            double cumulative = 0;
            for (int r = 0; r < keep; r++)
            {
                cumulative += -sortKeys[r];
                if (cumulative >= topP) { keep = r + 1; break; }
            }
        }
        float threshold = -sortKeys[keep - 1];
        for (int i = 0; i < v; i++)
            if (probabilities[i] < threshold) probabilities[i] = 0;
    }

    static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
