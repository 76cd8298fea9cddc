using System.Collections.ObjectModel;
using System.Text;

namespace MicroGpt;

/// <summary>How a tokenizer cuts text into tokens.</summary>
public enum TokenizerKind
{
    /// <summary>Each space-separated word is a token (the tutorial's tokenizer).</summary>
    Word,
    /// <summary>Each character is a token, for name-like corpora.</summary>
    Character,
}

/// <summary>
/// Maps text to token ids and back. The vocabulary is the distinct pieces of a corpus in
/// ordinal order; the id one past the last piece is BOS, which opens and closes every
/// sentence: a sentence encodes as [BOS, t1..tn, BOS]. Immutable, so one tokenizer can serve
/// many models and threads. Its public properties are what PowerShell shows of it.
/// </summary>
public sealed class Tokenizer
{
    readonly string[] vocabulary;
    readonly Dictionary<string, int> ids;

    Tokenizer(TokenizerKind kind, string[] vocabulary)
    {
        TokenKind = kind;
        this.vocabulary = vocabulary;
        Vocabulary = new TokenList<string>(vocabulary);
        ids = new Dictionary<string, int>(vocabulary.Length, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Length; i++)
        {
            if (vocabulary[i].Length == 0 || !ids.TryAdd(vocabulary[i], i))
                throw new ArgumentException($"The vocabulary entry '{vocabulary[i]}' at index {i} is empty or repeated.", nameof(vocabulary));
            if (kind == TokenizerKind.Character && !IsOneCharacter(vocabulary[i]))
                throw new ArgumentException($"The character vocabulary entry '{vocabulary[i]}' at index {i} is not one character.", nameof(vocabulary));
            if (kind == TokenizerKind.Word && vocabulary[i].Any(char.IsWhiteSpace))
                throw new ArgumentException($"The word vocabulary entry '{vocabulary[i]}' at index {i} contains white space.", nameof(vocabulary));
        }
    }

    /// <summary>"Word" or "Character": the name of <see cref="TokenKind"/>, which ConvertTo-Json writes as text (an enum property would be a number there).</summary>
    public string Kind => TokenKind.ToString();

    /// <summary>The token pieces, in id order, without BOS.</summary>
    public TokenList<string> Vocabulary { get; }

    /// <summary>The id of the sentence delimiter: the number of pieces.</summary>
    public int Bos => vocabulary.Length;

    /// <summary>Pieces plus BOS: the size of the model's embedding and output tables.</summary>
    public int VocabSize => vocabulary.Length + 1;

    /// <summary>Whether the tokens are words or characters.</summary>
    internal TokenizerKind TokenKind { get; }

    /// <summary>
    /// The most pieces a vocabulary may have. A model's embedding and output tables grow with each
    /// one (2 C floats a piece); a word vocabulary that reaches this is usually a corpus of names,
    /// numbers or noise, better read by a character tokenizer.
    /// </summary>
    public const int MaxVocabulary = 1 << 17;

    /// <summary>Builds the vocabulary of a corpus (lines as <see cref="Corpus.Normalize"/> leaves them).</summary>
    public static Tokenizer Build(TokenizerKind kind, IEnumerable<string> sentences) =>
        Build(kind, sentences.Select((text, i) => new Sentence(text, i + 1)), "the corpus");

    /// <summary>Builds the vocabulary of a corpus; one too many pieces names its line and <paramref name="origin"/> ("'words.txt'").</summary>
    public static Tokenizer Build(TokenizerKind kind, IEnumerable<Sentence> sentences, string origin)
    {
        var pieces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sentence in sentences)
            foreach (string piece in Split(kind, sentence.Text))
                if (pieces.Add(piece) && pieces.Count > MaxVocabulary)
                    throw new CorpusException($"{char.ToUpperInvariant(origin[0])}{origin[1..]} has more than {MaxVocabulary:N0} distinct {(kind == TokenizerKind.Word ? "words" : "characters")} (line {sentence.Line} brings one more): "
                        + $"a model's embedding and output tables grow with each one. {(kind == TokenizerKind.Word ? "Use a character tokenizer instead (New-Tokenizer -Kind Character), or a corpus with fewer distinct words." : "Use a corpus with fewer distinct characters.")}");
        if (pieces.Count == 0) throw new CorpusException("The corpus has no sentences: every line is blank.");
        var sorted = pieces.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return new Tokenizer(kind, sorted);
    }

    /// <summary>A tokenizer over a given vocabulary, as a model file stores it.</summary>
    public static Tokenizer FromVocabulary(TokenizerKind kind, IEnumerable<string> vocabulary) => new(kind, vocabulary.ToArray());

    /// <summary>
    /// The pieces of one normalized sentence: its words, or its characters. Words are split at any
    /// white space (a tab or a no-break space too, where the tutorial splits at spaces only, which
    /// gives the same words on its corpus) and runs of it count as one.
    /// </summary>
    public static IEnumerable<string> Split(TokenizerKind kind, string sentence) => kind switch
    {
        TokenizerKind.Word => sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries),
        _ => sentence.EnumerateRunes().Select(r => r.ToString()),
    };

    /// <summary>[BOS, ids of the pieces..., BOS]. A piece outside the vocabulary is an error naming it.</summary>
    public int[] Encode(string sentence)
    {
        var tokens = new List<int> { Bos };
        foreach (string piece in Split(TokenKind, sentence))
        {
            if (!ids.TryGetValue(piece, out int id))
                throw new UnknownTokenException(piece, sentence, TokenKind);
            tokens.Add(id);
        }
        tokens.Add(Bos);
        return tokens.ToArray();
    }

    /// <summary>One sentence as the model sees it: ids and pieces, BOS at both ends.</summary>
    public TokenizedText Tokenize(string sentence)
    {
        var ids = Encode(sentence);
        return new TokenizedText(sentence, new TokenList<string>(ids.Select(PieceOf).ToArray()), new TokenList<int>(ids));
    }

    /// <summary>The id of one piece; false when the vocabulary lacks it.</summary>
    public bool TryGetId(string piece, out int id) => ids.TryGetValue(piece, out id);

    /// <summary>The text of token ids, BOS left out: words joined by spaces, characters joined directly.</summary>
    public string Decode(ReadOnlySpan<int> tokens)
    {
        var text = new StringBuilder();
        foreach (int token in tokens)
        {
            if (token == Bos) continue;
            if ((uint)token > (uint)vocabulary.Length)
                throw new ArgumentOutOfRangeException(nameof(tokens), token, $"Token id {token} is outside the vocabulary of {VocabSize}.");
            if (TokenKind == TokenizerKind.Word && text.Length > 0) text.Append(' ');
            text.Append(vocabulary[token]);
        }
        return text.ToString();
    }

    /// <summary>The piece of one id ("&lt;BOS&gt;" for BOS).</summary>
    public string PieceOf(int token) => token == Bos ? "<BOS>" : vocabulary[token];

    static bool IsOneCharacter(string s) => Rune.DecodeFromUtf16(s, out _, out int used) == System.Buffers.OperationStatus.Done && used == s.Length;
}

/// <summary>A sentence as the model sees it: its pieces and ids, BOS included at both ends.</summary>
public sealed record TokenizedText(string Text, TokenList<string> Tokens, TokenList<int> Ids)
{
    public int Count => Ids.Count;
}

/// <summary>
/// Tokens, as pieces or as ids: a read-only list that prints as its items separated by spaces
/// ("the cat sat", "596 518 81 596"), so that Export-Csv writes them rather than "System.String[]".
/// ConvertTo-Json, the pipeline and indexing (negative indexes too) see an ordinary list.
/// </summary>
public sealed class TokenList<T>(T[] items) : ReadOnlyCollection<T>(items)
{
    public override string ToString() => string.Join(" ", this);
}
