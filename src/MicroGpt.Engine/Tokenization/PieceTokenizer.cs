using System.Text;
using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// A tokenizer whose tokens are the distinct pieces of a corpus (its words, or its characters) in
/// ordinal order, each looked up whole: a piece the corpus did not have cannot be encoded. A model
/// file keeps the pieces as <c>vocabulary</c>, and its checksum hashes the kind and each piece.
/// </summary>
public abstract class PieceTokenizer : Tokenizer
{
    readonly Dictionary<string, int> ids;

    private protected PieceTokenizer(string[] pieces) : base(pieces)
    {
        ids = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++)
        {
            if (pieces[i].Length == 0 || !ids.TryAdd(pieces[i], i))
                throw new ArgumentException($"The vocabulary entry '{pieces[i]}' at index {i} is empty or repeated.", nameof(pieces));
            if (Refusal(pieces[i]) is { } refusal)
                throw new ArgumentException($"The {Info.Piece} vocabulary entry '{pieces[i]}' at index {i} {refusal}.", nameof(pieces));
        }
    }

    internal override bool EncodesAnyText => false;

    public override int[] Encode(string text)
    {
        var tokens = new List<int>();
        foreach (string piece in Split(text))
            tokens.Add(ids.TryGetValue(piece, out int id) ? id : throw new UnknownTokenException(piece, text, Info.Piece));
        return tokens.ToArray();
    }

    /// <summary>The pieces of a text, in order.</summary>
    private protected abstract IEnumerable<string> Split(string text);

    /// <summary>Why <paramref name="piece"/> cannot be one of this kind's pieces ("contains white space"), or null when it can.</summary>
    private protected abstract string? Refusal(string piece);

    /// <summary>What goes between two decoded pieces.</summary>
    private protected abstract string Separator { get; }

    private protected override string DecodePieces(List<int> tokens) => string.Join(Separator, tokens.Select(token => Vocabulary[token]));

    private protected override void WriteContent(Utf8JsonWriter json)
    {
        json.WriteStartArray("vocabulary");
        foreach (string piece in Vocabulary) json.WriteStringValue(piece);
        json.WriteEndArray();
    }

    internal override void AddTo(ref Fnv1a hash)
    {
        hash.Add((int)TokenKind);
        foreach (string piece in Vocabulary) hash.Add(piece);
    }

    /// <summary>
    /// The tokenizer (made by <paramref name="create"/>) of the distinct pieces of some sentences,
    /// in ordinal order; one too many pieces names its line and <paramref name="origin"/>.
    /// </summary>
    private protected static Tokenizer Learn(TokenizerKindInfo kind, IEnumerable<Sentence> sentences, string origin, Func<string, IEnumerable<string>> split, Func<string[], Tokenizer> create)
    {
        var pieces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sentence in sentences)
            foreach (string piece in split(sentence.Text))
                if (pieces.Add(piece) && pieces.Count > MaxVocabulary)
                    throw new CorpusException($"{char.ToUpperInvariant(origin[0])}{origin[1..]} has more than {MaxVocabulary:N0} distinct {kind.Pieces} (line {sentence.Line} brings one more): "
                        + $"a model's embedding and output tables grow with each one. {kind.TooManyPiecesAdvice}");
        if (pieces.Count == 0) throw new CorpusException("The corpus has no sentences: every line is blank.");
        var sorted = pieces.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return create(sorted);
    }

    /// <summary>The tokenizer (made by <paramref name="create"/>) of a model file's <c>vocabulary</c>.</summary>
    private protected static Tokenizer ReadVocabulary(JsonElement element, Func<string[], Tokenizer> create)
    {
        var vocabulary = ModelFile.Required(element, "vocabulary", JsonValueKind.Array).EnumerateArray().Select((piece, i) =>
            piece.ValueKind == JsonValueKind.String ? piece.GetString()! : throw new FormatProblem($"tokenizer.vocabulary[{i}] is not a string.")).ToArray();
        try { return create(vocabulary); }
        catch (ArgumentException ex) { throw new FormatProblem($"its vocabulary is invalid: {ex.Message}"); }
    }
}

/// <summary>
/// The tutorial's tokenizer: each word is a token. Words are split at any white space (a tab or
/// a no-break space too, where the tutorial splits at spaces only, which gives the same words on
/// its corpus) and runs of it count as one; decoding joins them with single spaces.
/// </summary>
public sealed class WordTokenizer(IEnumerable<string> vocabulary) : PieceTokenizer(vocabulary.ToArray())
{
    internal override TokenizerKindInfo Info => TokenizerKindInfo.Word;

    private protected override IEnumerable<string> Split(string text) => Words(text);

    private protected override string? Refusal(string piece) => piece.Any(char.IsWhiteSpace) ? "contains white space" : null;

    private protected override string Separator => " ";

    internal static IEnumerable<string> Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    internal static Tokenizer Learn(IEnumerable<Sentence> sentences, string origin) => Learn(TokenizerKindInfo.Word, sentences, origin, Words, pieces => new WordTokenizer(pieces));

    internal static Tokenizer ReadVocabulary(JsonElement element) => ReadVocabulary(element, pieces => new WordTokenizer(pieces));
}

/// <summary>Each character (a Unicode code point, so an emoji is one) is a token; decoding gives the text back exactly.</summary>
public sealed class CharacterTokenizer(IEnumerable<string> vocabulary) : PieceTokenizer(vocabulary.ToArray())
{
    internal override TokenizerKindInfo Info => TokenizerKindInfo.Character;

    private protected override IEnumerable<string> Split(string text) => Characters(text);

    private protected override string? Refusal(string piece) =>
        Rune.DecodeFromUtf16(piece, out _, out int used) == System.Buffers.OperationStatus.Done && used == piece.Length ? null : "is not one character";

    private protected override string Separator => "";

    internal static IEnumerable<string> Characters(string text) => text.EnumerateRunes().Select(r => r.ToString());

    internal static Tokenizer Learn(IEnumerable<Sentence> sentences, string origin) => Learn(TokenizerKindInfo.Character, sentences, origin, Characters, pieces => new CharacterTokenizer(pieces));

    internal static Tokenizer ReadVocabulary(JsonElement element) => ReadVocabulary(element, pieces => new CharacterTokenizer(pieces));
}
