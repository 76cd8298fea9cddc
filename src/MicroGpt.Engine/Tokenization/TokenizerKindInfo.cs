using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// What MicroGpt knows of a kind of tokenizer before it has a tokenizer of it: its names, how
/// sentence mode normalizes a line for it, how it learns a vocabulary from a corpus, and how it
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
        LearnsToVocabSize = false,
        Learn = (corpus, _, _) => WordTokenizer.Learn(corpus),
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
        LearnsToVocabSize = false,
        Learn = (corpus, _, _) => CharacterTokenizer.Learn(corpus),
        Read = CharacterTokenizer.ReadVocabulary,
    };

    public static TokenizerKindInfo Bpe { get; } = new()
    {
        Kind = TokenizerKind.Bpe,
        FileName = "bpe",
        Piece = "token",
        Pieces = "tokens",
        LowerCasesSentences = false,
        LearnsToVocabSize = true,
        Learn = BytePairTokenizer.Learn,
        Read = BytePairTokenizer.ReadMerges,
    };

    /// <summary>Every kind, the registry that model files are read through.</summary>
    public static IReadOnlyList<TokenizerKindInfo> All { get; } = [Word, Character, Bpe];

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

    /// <summary>What to do about a corpus with more than <see cref="Tokenizer.MaxVocabulary"/> pieces, for the kinds whose vocabulary is every distinct piece.</summary>
    public string? TooManyPiecesAdvice { get; init; }

    /// <summary>Whether sentence mode lower-cases a line for this kind (the tutorial does for words); every kind trims it.</summary>
    public required bool LowerCasesSentences { get; init; }

    /// <summary>
    /// Whether learning stops at a vocabulary size it is given (BPE's merges), rather than taking
    /// every distinct piece of the corpus (words, characters).
    /// </summary>
    public required bool LearnsToVocabSize { get; init; }

    /// <summary>
    /// The tokenizer of a corpus, of the vocabulary size given (BOS included) when the kind
    /// <see cref="LearnsToVocabSize"/>; too many pieces name their line and the corpus's origin.
    /// </summary>
    public required Func<TokenizerCorpus, int?, CancellationToken, Tokenizer> Learn { get; init; }

    /// <summary>The tokenizer a model file's <c>tokenizer</c> object describes (its <c>kind</c> already read).</summary>
    public required Func<JsonElement, Tokenizer> Read { get; init; }
}
