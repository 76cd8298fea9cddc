using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>One candidate for the next token after a prompt (Get-Prediction).</summary>
public sealed record Prediction
{
    /// <summary>The text read, as the tokenizer gives it back.</summary>
    public required string Prompt { get; init; }
    /// <summary>1 for the most likely token; ties go to the lower id.</summary>
    public required int Rank { get; init; }
    /// <summary>The token's piece ("&lt;BOS&gt;" ends the sentence).</summary>
    public required string Token { get; init; }
    public required int Id { get; init; }
    /// <summary>The probability a sampler at this temperature draws the token with, before top-k and top-p.</summary>
    public required double Probability { get; init; }
    /// <summary>Its natural log, computed from the logits (so it stays finite where the probability rounds to 0).</summary>
    public required double LogProbability { get; init; }
}

/// <summary>How the model predicted one token of a text that it read (Get-Prediction -Each).</summary>
public sealed record TokenSurprise
{
    /// <summary>The token's position in what the model reads (in sentence mode BOS is position 0, so the first piece is 1; in stream mode the first piece is 0, with nothing before it to predict it from).</summary>
    public required int Position { get; init; }
    /// <summary>The text before the token.</summary>
    public required string Context { get; init; }
    /// <summary>The token that came.</summary>
    public required string Token { get; init; }
    public required int Id { get; init; }
    /// <summary>The probability the model gave it: exactly training's softmax.</summary>
    public required double Probability { get; init; }
    /// <summary>Its natural log: exactly minus training's loss for this position.</summary>
    public required double LogProbability { get; init; }
    /// <summary>1 when it was the model's first choice; ties go to the lower id.</summary>
    public required int Rank { get; init; }
    /// <summary>The model's first choice at this position.</summary>
    public required string Expected { get; init; }
}

/// <summary>One attention weight: how much a query position attends to a key position, in one head of one layer (Get-Attention).</summary>
public sealed record AttentionWeight(int Layer, int Head, int QueryPosition, string QueryToken, int KeyPosition, string KeyToken, double Weight);

/// <summary>A token whose embedding points the way another's does (Find-SimilarToken).</summary>
public sealed record SimilarToken
{
    /// <summary>The token asked about.</summary>
    public required string Query { get; init; }
    /// <summary>1 for the nearest; ties go to the lower id.</summary>
    public required int Rank { get; init; }
    public required string Token { get; init; }
    public required int Id { get; init; }
    /// <summary>The cosine of the angle between the two rows of the token embedding (wte): 1 the same direction, 0 unrelated, -1 opposite.</summary>
    public required double Similarity { get; init; }
}

/// <summary>
/// Reads a model for a learner: what it expects next after a prompt, how it predicted each token of
/// a text, where each head attends, and which tokens it embeds alike. Every number comes from
/// <see cref="ModelReader"/> (the training forward's, bit for bit) or from the weights themselves.
/// <para>
/// It works from token ids and the tokenizer's pieces. What the model reads of a text is decided in
/// one place, <see cref="Tokens"/> and <see cref="Reading"/>: in sentence mode, a sentence as
/// <see cref="Corpus.Normalize"/> leaves it, wrapped in BOS; in stream mode (a model trained with
/// -Stream never saw BOS), the text exactly as it is. A model does not record its mode, so the caller
/// says which. Not thread-safe (it holds a reader); the model may be shared.
/// </para>
/// </summary>
public sealed class Inspector
{
    readonly Model model;
    readonly bool stream;
    readonly ModelReader reader;
    readonly float[] probabilities; // (V) scratch for a tempered distribution
    readonly int[] order;           // (V) token ids, most likely first
    readonly float[] ranked;        // (V) the probabilities <see cref="order"/> sorts by

    /// <summary>Reads <paramref name="model"/> as it was trained: on sentences, or with <paramref name="stream"/> on one token stream.</summary>
    public Inspector(Model model, bool stream = false)
    {
        this.model = model;
        this.stream = stream;
        reader = new ModelReader(model);
        probabilities = new float[model.Config.VocabSize];
        order = new int[model.Config.VocabSize];
        ranked = new float[model.Config.VocabSize];
    }

    Tokenizer Tokenizer => model.Tokenizer;

    /// <summary>
    /// The tokens of <paramref name="text"/> as the model meets them. In sentence mode
    /// [BOS, pieces..., BOS], one sentence at a time; in stream mode the pieces of the text exactly as
    /// given (no BOS, no normalizing, newlines kept). The model predicts all but the first.
    /// </summary>
    public int[] Tokens(string text)
    {
        if (stream)
        {
            var pieces = Corpus.EncodeStream(Tokenizer, text);
            if (pieces.Length == 0)
                throw new InvalidConfigurationException(nameof(text), text, "In stream mode the text must hold at least one token: there is no BOS to read before it.");
            return pieces;
        }
        var sentences = Corpus.Normalize(Tokenizer.TokenKind, [text]);
        if (sentences.Count > 1)
            throw new InvalidConfigurationException(nameof(text), text, $"The text holds {sentences.Count} sentences (lines); give one at a time.");
        return Tokenizer.EncodeSentence(sentences.Count == 0 ? "" : sentences[0].Text);
    }

    /// <summary>
    /// The <see cref="Tokens"/> of <paramref name="text"/> and how many of them the model reads. To
    /// predict what comes next (and to attend): a sentence's opening BOS and pieces, a stream's every
    /// token. To predict <paramref name="each"/> token: all but the last, which is only predicted.
    /// What does not fit the block size is refused.
    /// </summary>
    (int[] Ids, int Read) Reading(string text, bool each)
    {
        var ids = Tokens(text);
        int read = stream && !each ? ids.Length : ids.Length - 1, blockSize = model.Config.BlockSize;
        if (read > blockSize)
            throw stream
                ? new TextTooLongException(text, ids.Length, blockSize, Tokenizer.Info.Pieces, streamFit: blockSize + ids.Length - read)
                : new TextTooLongException(text, read - 1, blockSize, Tokenizer.Info.Pieces);
        return (ids, read);
    }

    /// <summary>
    /// The <paramref name="top"/> most likely tokens after <paramref name="prompt"/>, most likely first,
    /// from the distribution a <see cref="Sampler"/> at <paramref name="temperature"/> draws from.
    /// </summary>
    public List<Prediction> Predictions(string prompt, int top, double temperature = 1)
    {
        if (top < 1) throw new InvalidConfigurationException(nameof(top), top, $"Top must be at least 1; {top} is not.");
        var (ids, length) = Reading(prompt, each: false);
        var read = ids.AsSpan(0, length);
        reader.Forward(read);
        int position = read.Length - 1;
        reader.SamplingProbabilities(probabilities, position, temperature);
        Rank(probabilities);
        string text = Tokenizer.Decode(read.ToArray());
        var logits = reader.Logits(position);
        var predictions = new List<Prediction>(Math.Min(top, order.Length));
        for (int r = 0; r < Math.Min(top, order.Length); r++)
        {
            int id = order[r];
            predictions.Add(new Prediction
            {
                Prompt = text,
                Rank = r + 1,
                Token = Tokenizer.PieceOf(id),
                Id = id,
                Probability = probabilities[id],
                LogProbability = Softmax.LogAt(logits, id, temperature),
            });
        }
        return predictions;
    }

    /// <summary>
    /// For each token of <paramref name="text"/> after the first (in sentence mode: after the opening
    /// BOS, the closing BOS too), or for those at <paramref name="positions"/>: the probability and
    /// rank the model gave it.
    /// </summary>
    public List<TokenSurprise> Surprises(string text, IReadOnlyCollection<int>? positions = null)
    {
        var (ids, read) = Reading(text, each: true);
        foreach (int asked in positions ?? [])
            if (asked < 1 || asked >= ids.Length)
                throw new InvalidConfigurationException("position", asked, $"The text's tokens after {(stream ? "the first" : "BOS")} are at positions 1 to {ids.Length - 1}; there is no position {asked}.");
        reader.Forward(ids.AsSpan(0, read));
        var surprises = new List<TokenSurprise>(ids.Length - 1);
        for (int position = 1; position < ids.Length; position++)
        {
            if (positions is not null && !positions.Contains(position)) continue;
            int id = ids[position];
            var p = reader.Probabilities(position - 1);
            Rank(p);
            surprises.Add(new TokenSurprise
            {
                Position = position,
                Context = Tokenizer.Decode(ids[..position]),
                Token = Tokenizer.PieceOf(id),
                Id = id,
                Probability = p[id],
                LogProbability = reader.LogProbability(position - 1, id),
                Rank = order.AsSpan().IndexOf(id) + 1,
                Expected = Tokenizer.PieceOf(order[0]),
            });
        }
        return surprises;
    }

    /// <summary>
    /// The attention weights of every query position of <paramref name="text"/> over its keys, in the
    /// <paramref name="layers"/> and <paramref name="heads"/> asked for (all when null), layer by layer,
    /// head by head, query by query.
    /// </summary>
    public List<AttentionWeight> Attention(string text, IReadOnlyCollection<int>? layers = null, IReadOnlyCollection<int>? heads = null)
    {
        var config = model.Config;
        foreach (int layer in layers ?? []) ModelReader.CheckLayer(config, layer);
        foreach (int head in heads ?? []) ModelReader.CheckHead(config, head);
        var (ids, length) = Reading(text, each: false);
        var read = ids.AsSpan(0, length);
        reader.Forward(read);
        var pieces = read.ToArray().Select(Tokenizer.PieceOf).ToArray();
        var weights = new List<AttentionWeight>();
        for (int layer = 0; layer < config.Layers; layer++)
        {
            if (layers is not null && !layers.Contains(layer)) continue;
            for (int head = 0; head < config.Heads; head++)
            {
                if (heads is not null && !heads.Contains(head)) continue;
                for (int q = 0; q < read.Length; q++)
                {
                    var row = reader.Attention(layer, head, q);
                    for (int k = 0; k <= q; k++) weights.Add(new AttentionWeight(layer, head, q, pieces[q], k, pieces[k], row[k]));
                }
            }
        }
        return weights;
    }

    /// <summary>
    /// The <paramref name="count"/> pieces whose token embeddings (rows of wte) have the highest cosine
    /// similarity to <paramref name="token"/>'s, nearest first; BOS and the token itself are left out.
    /// The token is a piece of the vocabulary, or text that reads as one piece as a prompt is read.
    /// </summary>
    public static List<SimilarToken> SimilarTokens(Model model, string token, int count)
    {
        if (count < 1) throw new InvalidConfigurationException(nameof(count), count, $"Count must be at least 1; {count} is not.");
        var tokenizer = model.Tokenizer;
        // A piece as it is ("Cat", " " of a character model), else the token read as a prompt is ("CAT" is "cat" to words).
        int piece = tokenizer.Vocabulary.IndexOf(token);
        var sentence = Corpus.Normalize(tokenizer.TokenKind, [token]);
        var ids = piece >= 0 ? [piece] : sentence.Count == 1 ? tokenizer.Encode(sentence[0].Text) : [];
        if (ids.Length != 1)
            throw new InvalidConfigurationException(nameof(token), token, $"'{token}' is {ids.Length} {tokenizer.Info.Pieces}, not one: Find-SimilarToken compares the embeddings of single tokens.");
        int query = ids[0], c = model.Config.EmbeddingSize;
        var wte = model.Parameters.AsSpan(model.Layout.Wte, model.Config.VocabSize * c); // (V, C)
        var q = wte.Slice(query * c, c);
        var similarities = new double[tokenizer.Bos];
        for (int id = 0; id < tokenizer.Bos; id++) similarities[id] = Cosine(q, wte.Slice(id * c, c));
        var nearest = Enumerable.Range(0, tokenizer.Bos).Where(id => id != query)
            .OrderByDescending(id => similarities[id]).ThenBy(id => id).Take(count);
        return nearest.Select((id, r) => new SimilarToken
        {
            Query = tokenizer.PieceOf(query),
            Rank = r + 1,
            Token = tokenizer.PieceOf(id),
            Id = id,
            Similarity = similarities[id],
        }).ToList();
    }

    /// <summary>a.b / (|a| |b|) in double; 0 when either is all zeros.</summary>
    static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }
        return aa > 0 && bb > 0 ? dot / Math.Sqrt(aa * bb) : 0;
    }

    /// <summary>Sorts <see cref="order"/> by <paramref name="p"/>, most likely first, ties by id.</summary>
    void Rank(ReadOnlySpan<float> p)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        p.CopyTo(ranked);
        Array.Sort(order, (a, b) => ranked[b].CompareTo(ranked[a]) is var byValue && byValue != 0 ? byValue : a.CompareTo(b));
    }
}
