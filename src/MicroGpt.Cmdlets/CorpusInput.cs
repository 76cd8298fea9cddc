using System.Collections.Concurrent;

namespace MicroGpt.Commands;

/// <summary>
/// The sentences a cmdlet reads: from files (-Path), from strings (-Text, pipeline), or, with
/// neither, from the default corpus that ships in the engine. Keeps the lines as read (a BPE
/// tokenizer learns from the text) and a description for messages. In stream mode it is the text
/// itself instead: the files exactly as they are, joined in order; strings (which have lost their
/// line ends) joined by LF.
/// </summary>
sealed class CorpusInput
{
    CorpusInput(IReadOnlyList<string> lines, TokenizerKind kind, string description, CorpusOrigin origin, string? streamText = null)
    {
        Lines = lines;
        Sentences = Corpus.Normalize(kind, lines);
        Description = description;
        Origin = origin;
        StreamText = streamText;
    }

    /// <summary>The lines as read, without line ends (a string given may hold several, separated by newlines); none in stream mode.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>The sentences (none in stream mode).</summary>
    public IReadOnlyList<Sentence> Sentences { get; }

    /// <summary>In stream mode, the whole text; null otherwise.</summary>
    public string? StreamText { get; }

    /// <summary>Where the sentences came from, for messages: "the default corpus", a file name, "-Text".</summary>
    public string Description { get; }

    /// <summary>Where the sentences came from, as checkpoints keep it: the default corpus, text, or the files' full paths.</summary>
    public CorpusOrigin Origin { get; }

    public static CorpusInput FromFiles(IReadOnlyList<string> files, TokenizerKind kind) =>
        new(CorpusFile.ReadLines(files), kind, files.Count == 1 ? $"'{files[0]}'" : $"{files.Count} files",
            new CorpusOrigin(CorpusSource.Files, files.ToList()));

    public static CorpusInput FromText(IEnumerable<string> text, TokenizerKind kind, string description = "the text given") => new(text.ToList(), kind, description, CorpusOrigin.Text);

    /// <summary>Stream mode: the files' text exactly as it is, joined in order.</summary>
    public static CorpusInput StreamFromFiles(IReadOnlyList<string> files) =>
        new([], TokenizerKind.Character, files.Count == 1 ? $"'{files[0]}'" : $"{files.Count} files", new CorpusOrigin(CorpusSource.Files, files.ToList()), CorpusFile.ReadText(files));

    /// <summary>Stream mode: strings joined by LF, the line end they lost (Get-Content's lines) or never had.</summary>
    public static CorpusInput StreamFromText(IEnumerable<string> text, string description = "the text given") =>
        new([], TokenizerKind.Character, description, CorpusOrigin.Text, string.Join("\n", text));

    /// <summary>Stream mode: the default corpus's lines, each ending in LF.</summary>
    public static CorpusInput DefaultStream() => DefaultStreamInput.Value;

    static readonly Lazy<CorpusInput> DefaultStreamInput = new(() => new([], TokenizerKind.Character, DefaultDescription, CorpusOrigin.Default, string.Concat(Corpus.DefaultLines().Select(line => line + "\n"))));

    /// <summary>The default corpus, in sentences as a tokenizer of <paramref name="kind"/> reads them.</summary>
    public static CorpusInput Default(TokenizerKind kind) => DefaultSentences.GetOrAdd(kind, k => new(Corpus.DefaultLines(), k, DefaultDescription, CorpusOrigin.Default));

    /// <summary>The word tokenizer of the default corpus: what every cmdlet uses when given no model and no corpus.</summary>
    public static Tokenizer DefaultTokenizer => DefaultWordTokenizer.Value;

    /// <summary>True for a tokenizer with the default corpus's vocabulary (New-Model's without -Tokenizer, saved and loaded or not).</summary>
    public static bool IsDefaultVocabulary(Tokenizer tokenizer) => tokenizer.SameAs(DefaultTokenizer);

    const string DefaultDescription = "the default corpus";

    // Read once per process: the corpus and its tokenizer never change, and are never mutated.
    static readonly ConcurrentDictionary<TokenizerKind, CorpusInput> DefaultSentences = new();
    static readonly Lazy<Tokenizer> DefaultWordTokenizer = new(() => Default(TokenizerKind.Word).BuildTokenizer(TokenizerKind.Word));

    /// <summary>Refuses a corpus with no sentence, naming where it came from.</summary>
    public CorpusInput EnsureSentences() =>
        Sentences.Count > 0 ? this : throw new CorpusException($"{Capitalized(Description)} has no sentences: every line is blank.");

    /// <summary>
    /// The tokenizer of the corpus, of <paramref name="vocabSize"/> tokens for the kinds that learn
    /// to a size (BPE, which learns from <see cref="Lines"/>, each ended by a newline); one piece
    /// too many names its line and source.
    /// </summary>
    public Tokenizer BuildTokenizer(TokenizerKind kind, int? vocabSize = null, CancellationToken cancel = default) =>
        Tokenizer.Build(kind, new TokenizerCorpus(Sentences, Lines, Description), vocabSize, cancel);

    /// <summary>Stream mode's tokenizer when none is given: the characters (code points) of the whole text, line ends and all.</summary>
    public Tokenizer BuildStreamTokenizer() => Tokenizer.Build(TokenizerKind.Character, [new Sentence(StreamText!, 1)], Description);

    /// <summary>Stream mode: the whole text encoded exactly as it is; an unknown piece names its line and source.</summary>
    public int[] EncodeStream(Tokenizer tokenizer) => Corpus.EncodeStream(tokenizer, StreamText!, Description);

    /// <summary>The sentences encoded with a tokenizer; an unknown piece names its line and source.</summary>
    public int[][] Encode(Tokenizer tokenizer)
    {
        EnsureSentences();
        return Corpus.Encode(tokenizer, Sentences, Description);
    }

    static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
