using System.Collections.ObjectModel;
using System.Text.Json;

namespace MicroGpt;

/// <summary>How a tokenizer cuts text into tokens (New-Tokenizer -Kind).</summary>
/// <remarks>A kind's value is hashed into the checksums of model files: never renumber one.</remarks>
public enum TokenizerKind
{
    /// <summary>Each space-separated word is a token (the tutorial's tokenizer).</summary>
    Word = 0,
    /// <summary>Each character is a token, for name-like corpora.</summary>
    Character = 1,
    /// <summary>Byte-level byte-pair encoding (GPT-2's, minbpe's): the 256 bytes, then merges learned to a vocabulary size; any text encodes.</summary>
    Bpe = 2,
}

/// <summary>
/// Maps text to token ids and back. Every kind has the same shape: its pieces (the tokens as text,
/// in id order), and one id past the last piece, BOS, which opens and closes every sentence in
/// sentence mode. <see cref="Encode"/> takes text exactly as it is; <see cref="EncodeSentence"/>
/// wraps a sentence (as <see cref="Corpus.Normalize"/> leaves it) in BOS, the tutorial's rule.
/// A tokenizer writes itself into a model file and says what the file's checksum hashes of it; a
/// file names its kind, and <see cref="TokenizerKindInfo"/> finds the kind that reads it.
/// Immutable, so one tokenizer can serve many models and threads. Its public properties are what
/// PowerShell shows of it (Select-Object *, ConvertTo-Json): the kinds add none.
/// </summary>
public abstract class Tokenizer
{
    private protected Tokenizer(string[] pieces) => Vocabulary = new TokenList<string>(pieces);

    /// <summary>"Word", "Character" or "Bpe": the name of the kind, which ConvertTo-Json writes as text (an enum property would be a number there).</summary>
    public string Kind => Info.Kind.ToString();

    /// <summary>The token pieces, in id order, without BOS.</summary>
    public TokenList<string> Vocabulary { get; }

    /// <summary>The id of the sentence delimiter: the number of pieces.</summary>
    public int Bos => Vocabulary.Count;

    /// <summary>Pieces plus BOS: the size of the model's embedding and output tables.</summary>
    public int VocabSize => Vocabulary.Count + 1;

    /// <summary>
    /// The most pieces a vocabulary may have. A model's embedding and output tables grow with each
    /// one (2 C floats a piece); a word vocabulary that reaches this is usually a corpus of names,
    /// numbers or noise, better read by a character tokenizer.
    /// </summary>
    public const int MaxVocabulary = 1 << 17;

    /// <summary>The kind: its names, its sentence rule, how it learns and reads itself.</summary>
    internal abstract TokenizerKindInfo Info { get; }

    /// <summary>Whether the tokens are words, characters or byte-pair tokens.</summary>
    internal TokenizerKind TokenKind => Info.Kind;

    /// <summary>
    /// True when every text encodes (a byte-level tokenizer); false when a text may hold a piece
    /// the vocabulary lacks, which <see cref="Encode"/> refuses with <see cref="UnknownTokenException"/>.
    /// </summary>
    internal abstract bool EncodesAnyText { get; }

    /// <summary>Builds the vocabulary of a corpus (lines as <see cref="Corpus.Normalize"/> leaves them), for the kinds that take no vocabulary size.</summary>
    public static Tokenizer Build(TokenizerKind kind, IEnumerable<string> sentences) =>
        Build(kind, sentences.Select((text, i) => new Sentence(text, i + 1)), "the corpus");

    /// <summary>Builds the vocabulary of a corpus, for the kinds that take no vocabulary size; one too many pieces names its line and <paramref name="origin"/> ("'words.txt'").</summary>
    public static Tokenizer Build(TokenizerKind kind, IEnumerable<Sentence> sentences, string origin)
    {
        var list = sentences.ToList();
        return Build(kind, new TokenizerCorpus(list, list.Select(s => s.Text).ToList(), origin));
    }

    /// <summary>
    /// Learns a tokenizer of <paramref name="kind"/> from a corpus. Kinds that learn to a size
    /// (BPE) need <paramref name="vocabSize"/>, BOS included (the size of a model's tables); the
    /// others take every distinct piece, and refuse one. Long learning stops at <paramref name="cancel"/>.
    /// </summary>
    public static Tokenizer Build(TokenizerKind kind, TokenizerCorpus corpus, int? vocabSize = null, CancellationToken cancel = default)
    {
        var info = TokenizerKindInfo.Of(kind);
        if (info.LearnsToVocabSize && vocabSize is null)
            throw new InvalidConfigurationException("VocabSize", null,
                $"A {kind} tokenizer needs a VocabSize: the number of tokens to learn, BOS included (at least {BytePairEncoding.ByteTokens + 1}, the byte tokens and BOS).");
        if (!info.LearnsToVocabSize && vocabSize is { } size)
            throw new InvalidConfigurationException("VocabSize", size,
                $"VocabSize {size} is for the kinds that learn to a size ({string.Join(", ", TokenizerKindInfo.All.Where(k => k.LearnsToVocabSize).Select(k => k.Kind))}): "
                + $"a {kind} tokenizer's vocabulary is every distinct {info.Piece} of the corpus.");
        return info.Learn(corpus, vocabSize, cancel);
    }

    /// <summary>The ids of a text exactly as it is: no BOS, nothing trimmed or lower-cased. A piece outside the vocabulary is an error naming it.</summary>
    public abstract int[] Encode(string text);

    /// <summary>Sentence mode: [BOS, ids of the sentence's pieces..., BOS], for a sentence as <see cref="Corpus.Normalize"/> leaves it.</summary>
    public int[] EncodeSentence(string sentence)
    {
        var pieces = Encode(sentence);
        var ids = new int[pieces.Length + 2];
        ids[0] = ids[^1] = Bos;
        pieces.CopyTo(ids, 1);
        return ids;
    }

    /// <summary>One sentence as the model sees it: ids and pieces, BOS at both ends.</summary>
    public TokenizedText Tokenize(string sentence) => Tokenized(sentence, EncodeSentence(sentence));

    /// <summary>A text as a stream model sees it: ids and pieces of the text exactly as it is, no BOS.</summary>
    public TokenizedText TokenizeStream(string text) => Tokenized(text, Encode(text));

    TokenizedText Tokenized(string text, int[] ids) => new(text, new TokenList<string>(ids.Select(PieceOf).ToArray()), new TokenList<int>(ids));

    /// <summary>The text of token ids, BOS left out: for characters and BPE, decode(encode(x)) is x; words come back joined by single spaces.</summary>
    public string Decode(int[] ids)
    {
        var tokens = new List<int>(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id > (uint)Bos)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary of {VocabSize}.");
            if (id != Bos) tokens.Add(id);
        }
        return DecodePieces(tokens);
    }

    /// <summary>The piece of one id ("&lt;BOS&gt;" for BOS).</summary>
    public string PieceOf(int token) => token == Bos ? "<BOS>" : Vocabulary[token];

    /// <summary>
    /// A piece as a table or a picture shows it: space, tab, CR and LF as visible signs (␣ ⇥ ␍ ↵),
    /// so that a character model's space is not an empty cell and a BPE piece's leading space shows.
    /// The pieces themselves (Token properties, Encode, Decode) keep the real characters.
    /// </summary>
    public static string Printable(string piece) =>
        piece.AsSpan().IndexOfAny(" \t\r\n") < 0 ? piece
            : piece.Replace(' ', '\u2423').Replace('\t', '\u21E5').Replace('\r', '\u240D').Replace('\n', '\u21B5');

    /// <summary>The text of ids that are all pieces (BOS already left out).</summary>
    private protected abstract string DecodePieces(List<int> tokens);

    /// <summary>True when <paramref name="other"/> encodes every text as this one does.</summary>
    internal virtual bool SameAs(Tokenizer other) => other.Info == Info && other.Vocabulary.SequenceEqual(Vocabulary);

    /// <summary>Writes a model file's <c>tokenizer</c> object: <c>kind</c>, then what the kind keeps.</summary>
    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("tokenizer");
        json.WriteString("kind", Info.FileName);
        WriteContent(json);
        json.WriteEndObject();
    }

    /// <summary>What the kind keeps in a model file's <c>tokenizer</c> object, after <c>kind</c>.</summary>
    private protected abstract void WriteContent(Utf8JsonWriter json);

    /// <summary>Reads a model file's <c>tokenizer</c> object, of the kind it names.</summary>
    internal static Tokenizer Read(JsonElement element)
    {
        var kind = ModelFile.Required(element, "kind", JsonValueKind.String);
        var info = TokenizerKindInfo.Named(kind.GetString()!)
            ?? throw new FormatProblem($"tokenizer.kind {StrictJson.Quote(kind)} is none of the kinds this MicroGpt reads ({string.Join(", ", TokenizerKindInfo.All.Select(k => $"\"{k.FileName}\""))}).");
        return info.Read(element);
    }

    /// <summary>Adds to a model file's checksum what it holds of the tokenizer: the kind, and what the kind keeps.</summary>
    internal abstract void AddTo(ref Fnv1a hash);
}

/// <summary>
/// A corpus as a tokenizer learns from it: its sentences (its lines as <see cref="Corpus.Normalize"/>
/// leaves them for the kind, with their numbers), its lines as they were read (no line ends), and
/// where it came from, for messages ("'words.txt'"). Word and character tokenizers learn the
/// sentences' pieces; BPE learns from the text.
/// </summary>
public sealed class TokenizerCorpus(IReadOnlyList<Sentence> sentences, IReadOnlyList<string> lines, string origin)
{
    public IReadOnlyList<Sentence> Sentences { get; } = sentences;
    public IReadOnlyList<string> Lines { get; } = lines;
    public string Origin { get; } = origin;

    /// <summary>The most characters <see cref="Text"/> gives: about what one .NET string can hold.</summary>
    public const int MaxTextLength = 1 << 30;

    /// <summary>
    /// The lines, each ended by a newline: a file's text, with every line end read as LF. A text
    /// longer than <see cref="MaxTextLength"/> is a <see cref="CorpusException"/>.
    /// </summary>
    public string Text()
    {
        long length = Lines.Sum(line => line.Length + 1L);
        if (length > MaxTextLength)
            throw new CorpusException($"{char.ToUpperInvariant(Origin[0])}{Origin[1..]} is {length:N0} characters long, more than the {MaxTextLength:N0} that a tokenizer learns from at once. "
                + "Learn the tokenizer on a part of the text; it still encodes all of it.");
        return string.Create((int)length, Lines, static (text, lines) =>
        {
            foreach (string line in lines)
            {
                line.CopyTo(text);
                text[line.Length] = '\n';
                text = text[(line.Length + 1)..];
            }
        });
    }
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
