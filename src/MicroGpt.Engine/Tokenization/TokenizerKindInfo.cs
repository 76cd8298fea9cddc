using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// What MicroGpt knows of a kind of tokenizer before it has a tokenizer of it: its names, how
/// sentence mode normalizes a line for it, how it learns a vocabulary from sentences, and how it
/// reads itself from a model file's <c>tokenizer</c> object. <see cref="All"/> is the registry: a
/// file's <c>tokenizer.kind</c> is looked up in it by <see cref="FileName"/>. A new kind is a
/// <see cref="Tokenizer"/> subclass, a <see cref="TokenizerKind"/> member and an entry here.
/// </summary>
sealed class TokenizerKindInfo
{
    public static TokenizerKindInfo Word { get; } = new()
    {
        Kind = TokenizerKind.Word,
        FileName = "word",
        Piece = "word",
        Pieces = "words",
        TooManyPiecesAdvice = "Use a character tokenizer instead (New-Tokenizer -Kind Character), or a corpus with fewer distinct words.",
        LowerCasesSentences = true,
        Learn = WordTokenizer.Learn,
        Read = WordTokenizer.ReadVocabulary,
    };

    public static TokenizerKindInfo Character { get; } = new()
    {
        Kind = TokenizerKind.Character,
        FileName = "character",
        Piece = "character",
        Pieces = "characters",
        TooManyPiecesAdvice = "Use a corpus with fewer distinct characters.",
        LowerCasesSentences = false,
        Learn = CharacterTokenizer.Learn,
        Read = CharacterTokenizer.ReadVocabulary,
    };

    /// <summary>Every kind, the registry that model files are read through.</summary>
    public static IReadOnlyList<TokenizerKindInfo> All { get; } = [Word, Character];

    /// <summary>The kind New-Tokenizer -Kind names.</summary>
    public static TokenizerKindInfo Of(TokenizerKind kind) => All.Single(k => k.Kind == kind);

    /// <summary>The kind a model file's <c>tokenizer.kind</c> names, or null for a name MicroGpt does not know.</summary>
    public static TokenizerKindInfo? Named(string fileName) => All.SingleOrDefault(k => k.FileName == fileName);

    public required TokenizerKind Kind { get; init; }

    /// <summary>The kind's name in model files (<c>tokenizer.kind</c>).</summary>
    public required string FileName { get; init; }

    /// <summary>What one token is called in messages ("word"), and several ("words").</summary>
    public required string Piece { get; init; }
    public required string Pieces { get; init; }

    /// <summary>What to do about a corpus with more than <see cref="Tokenizer.MaxVocabulary"/> pieces.</summary>
    public required string TooManyPiecesAdvice { get; init; }

    /// <summary>Whether sentence mode lower-cases a line for this kind (the tutorial does for words); every kind trims it.</summary>
    public required bool LowerCasesSentences { get; init; }

    /// <summary>The tokenizer of some sentences; too many pieces name their line and the origin ("'words.txt'").</summary>
    public required Func<IEnumerable<Sentence>, string, Tokenizer> Learn { get; init; }

    /// <summary>The tokenizer a model file's <c>tokenizer</c> object describes (its <c>kind</c> already read).</summary>
    public required Func<JsonElement, Tokenizer> Read { get; init; }
}
