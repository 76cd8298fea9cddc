namespace MicroGpt;

/// <summary>
/// Sentences as the trainer sees them in sentence mode: one per line, trimmed, blank lines
/// skipped, and lower-cased for the kinds that say so (words: the tutorial's rules). Also the
/// default corpus that ships inside this assembly, so that every example runs on a fresh install.
/// </summary>
public static class Corpus
{
    const string DefaultResource = "MicroGpt.sentences.txt";

    /// <summary>The normalized, non-blank lines of some text, with their 1-based line numbers.</summary>
    public static List<Sentence> Normalize(TokenizerKind kind, IEnumerable<string> lines)
    {
        bool lowerCase = TokenizerKindInfo.Of(kind).LowerCasesSentences;
        var sentences = new List<Sentence>();
        int number = 0;
        foreach (string raw in lines)
        {
            foreach (string line in raw.Split('\n'))
            {
                number++;
                string text = line.Trim();
                if (text.Length == 0) continue;
                sentences.Add(new Sentence(lowerCase ? text.ToLowerInvariant() : text, number));
            }
        }
        return sentences;
    }

    /// <summary>The default corpus: 30,000 grade-1 sentences written by tools/CorpusGenerator.</summary>
    public static IReadOnlyList<string> DefaultLines()
    {
        using var stream = typeof(Corpus).Assembly.GetManifestResourceStream(DefaultResource)
            ?? throw new InvalidOperationException($"The resource {DefaultResource} is missing from {typeof(Corpus).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return lines;
    }

    /// <summary>
    /// Holds out ceil(fraction N) sentences for validation, chosen by a seeded shuffle; both parts
    /// keep the corpus's order. The same seed and fraction always hold out the same sentences.
    /// </summary>
    public static (int[][] Training, int[][] Validation) HoldOut(int[][] sentences, double fraction, int seed)
    {
        int count = (int)Math.Ceiling(sentences.Length * fraction);
        if (!(fraction > 0) || count >= sentences.Length)
            throw new InvalidConfigurationException("ValidationFraction", fraction, $"ValidationFraction {fraction} must hold out some of the {sentences.Length} sentences and leave some to train on.");
        var order = Enumerable.Range(0, sentences.Length).ToArray();
        new Rng(seed).Shuffle(order.AsSpan());
        var heldOut = new bool[sentences.Length];
        foreach (int i in order.AsSpan(0, count)) heldOut[i] = true;
        return (sentences.Where((_, i) => !heldOut[i]).ToArray(), sentences.Where((_, i) => heldOut[i]).ToArray());
    }

    /// <summary>Encodes every sentence ([BOS, ..., BOS]), naming the line (and the <paramref name="origin"/>, when given) of the first piece the tokenizer lacks.</summary>
    public static int[][] Encode(Tokenizer tokenizer, IReadOnlyList<Sentence> sentences, string? origin = null)
    {
        var encoded = new int[sentences.Count][];
        for (int i = 0; i < sentences.Count; i++)
        {
            try
            {
                encoded[i] = tokenizer.EncodeSentence(sentences[i].Text);
            }
            catch (UnknownTokenException ex)
            {
                throw ex.At(sentences[i].Line, origin);
            }
        }
        return encoded;
    }

    /// <summary>
    /// Stream mode's tokens: the whole text encoded at once, exactly as it is (<see cref="Tokenizer.Encode"/>).
    /// A piece the tokenizer lacks is named with its line (and the <paramref name="origin"/>, when given).
    /// </summary>
    public static int[] EncodeStream(Tokenizer tokenizer, string text, string? origin = null)
    {
        try
        {
            return tokenizer.Encode(text);
        }
        catch (UnknownTokenException ex)
        {
            int at = Math.Max(0, text.IndexOf(ex.Piece, StringComparison.Ordinal));
            int lineStart = at == 0 ? 0 : text.LastIndexOf('\n', at - 1) + 1;
            int lineEnd = text.IndexOf('\n', at);
            string line = text[lineStart..(lineEnd < 0 ? text.Length : lineEnd)].TrimEnd('\r');
            int number = 1 + text.AsSpan(0, lineStart).Count('\n');
            throw new UnknownTokenException(ex.Piece, line, ex.PieceName).At(number, origin);
        }
    }
}

/// <summary>One normalized sentence and the 1-based line it came from.</summary>
public readonly record struct Sentence(string Text, int Line);
