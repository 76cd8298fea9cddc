using System.Collections.Concurrent;

namespace MicroGpt.Commands;

/// <summary>
/// The sentences a cmdlet reads: from files (-Path), from strings (-Text, pipeline), or, with
/// neither, from the default corpus that ships in the engine. Keeps a description for messages.
/// </summary>
sealed class CorpusInput
{
    CorpusInput(IReadOnlyList<Sentence> sentences, string description, CorpusOrigin origin)
    {
        Sentences = sentences;
        Description = description;
        Origin = origin;
    }

    public IReadOnlyList<Sentence> Sentences { get; }

    /// <summary>Where the sentences came from, for messages: "the default corpus", a file name, "-Text".</summary>
    public string Description { get; }

    /// <summary>Where the sentences came from, as checkpoints keep it: the default corpus, text, or the files' full paths.</summary>
    public CorpusOrigin Origin { get; }

    public static CorpusInput FromFiles(IReadOnlyList<string> files, TokenizerKind kind) =>
        new(Corpus.Normalize(kind, CorpusFile.ReadLines(files)), files.Count == 1 ? $"'{files[0]}'" : $"{files.Count} files",
            new CorpusOrigin(CorpusSource.Files, files.ToList()));

    public static CorpusInput FromText(IEnumerable<string> text, TokenizerKind kind, string description = "the text given") => new(Corpus.Normalize(kind, text), description, CorpusOrigin.Text);

    /// <summary>The default corpus, in sentences as a tokenizer of <paramref name="kind"/> reads them.</summary>
    public static CorpusInput Default(TokenizerKind kind) => DefaultSentences.GetOrAdd(kind, k => new(Corpus.Normalize(k, Corpus.DefaultLines()), DefaultDescription, CorpusOrigin.Default));

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

    /// <summary>The vocabulary of the sentences; one piece too many names its line and source.</summary>
    public Tokenizer BuildTokenizer(TokenizerKind kind) => Tokenizer.Build(kind, Sentences, Description);

    /// <summary>The sentences encoded with a tokenizer; an unknown piece names its line and source.</summary>
    public int[][] Encode(Tokenizer tokenizer)
    {
        EnsureSentences();
        return Corpus.Encode(tokenizer, Sentences, Description);
    }

    static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
