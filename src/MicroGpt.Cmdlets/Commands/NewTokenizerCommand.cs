using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Builds a tokenizer: the vocabulary of a corpus.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "Tokenizer", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(Tokenizer))]
public sealed class NewTokenizerCommand : MicroGptCmdlet
{
    const string DefaultSet = "Default";
    const string PathSet = "Path";
    const string TextSet = "Text";

    readonly List<string> text = [];

    #region Parameters

    /// <summary>Corpus files, one sentence per line. Wildcards are allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Sentences, one per string (or several per string, one per line); accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TextSet, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Text { get; set; } = [];

    /// <summary>Word (each space-separated word a token, lines lower-cased) or Character (each character a token).</summary>
    [Parameter]
    public TokenizerKind Kind { get; set; } = TokenizerKind.Word;

    #endregion

    protected override void ProcessRecord()
    {
        if (ParameterSetName == TextSet) text.AddRange(Text);
    }

    protected override void EndProcessing()
    {
        var corpus = ReadCorpus(Path, ParameterSetName == TextSet ? text : null, Kind);
        Guard(() => corpus.EnsureSentences(), corpus.Description);
        WriteVerbose($"Read {corpus.Sentences.Count:N0} sentences from {corpus.Description}.");

        var tokenizer = Guard(() => corpus.BuildTokenizer(Kind), corpus.Description);
        WriteVerbose($"Vocabulary: {tokenizer.VocabSize:N0} tokens ({tokenizer.Vocabulary.Count:N0} {(Kind == TokenizerKind.Word ? "words" : "characters")} and BOS).");
        WriteObject(tokenizer);
    }
}
