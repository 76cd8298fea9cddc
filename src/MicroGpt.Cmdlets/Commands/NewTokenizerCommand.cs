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
    const string LiteralPathSet = "LiteralPath";
    const string TextSet = "Text";

    readonly List<string> text = [];
    readonly List<string> files = [];
    readonly CancellationTokenSource stopping = new();

    #region Parameters

    /// <summary>Corpus files, one sentence per line. Wildcards are allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Corpus files, taken literally (no wildcards); files from Get-Item or Get-ChildItem bind here by their FullName, and make one vocabulary.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("FullName", "LP")] // not PSPath: the lines of Get-Content carry their file's PSPath, and must stay text
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Sentences, one per string (or several per string, one per line); accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TextSet, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Text { get; set; } = [];

    /// <summary>Word (each space-separated word a token, lines lower-cased), Character (each character a token) or Bpe (byte-level byte-pair encoding, learned to -VocabSize tokens).</summary>
    [Parameter]
    public TokenizerKind Kind { get; set; } = TokenizerKind.Word;

    /// <summary>For -Kind Bpe (and only for it): the tokens to learn, BOS included, from 257 (the 256 bytes and BOS) to what the text allows.</summary>
    [Parameter]
    public int VocabSize { get; set; }

    /// <summary>Learn the characters of the text exactly as it is, line ends included, for stream mode (Invoke-Training -Stream): a Character tokenizer.</summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    #endregion

    protected override void StopProcessing() => stopping.Cancel();

    protected override void ProcessRecord()
    {
        // Files and text, from the command line or the pipeline, are gathered into one corpus.
        if (ParameterSetName == LiteralPathSet) files.AddRange(LiteralPath);
        else if (ParameterSetName == TextSet) text.AddRange(Text);
    }

    protected override void EndProcessing()
    {
        if (files.Count > 0 && text.Count > 0)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Pipe files or text lines to build a vocabulary from, not both."), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, null));
        if (Stream && MyInvocation.BoundParameters.ContainsKey(nameof(Kind)) && Kind != TokenizerKind.Character)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Stream learns the characters of the whole text; it makes a Character tokenizer, not a {Kind} one. Leave out -Kind, or -Stream (a Bpe tokenizer encodes any text, so Invoke-Training -Stream takes one as it is)."), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, Kind));
        if (Stream && IsOnCommandLine(nameof(VocabSize)))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Stream learns every character of the text and takes no -VocabSize ({VocabSize}); -VocabSize is for -Kind Bpe."), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, VocabSize));
        // An empty pipeline (Get-Content of an empty file) is an empty corpus, not the default one.
        var corpus = ReadCorpus(Path, ParameterSetName == TextSet || MyInvocation.ExpectingInput ? text : null, Kind, literalPaths: files.Count > 0 ? [.. files] : null, stream: Stream);
        if (Stream)
        {
            if (corpus.StreamText!.Length == 0)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"{corpus.Description} is empty: there are no characters to learn."), ErrorIds.InvalidCorpus, ErrorCategory.InvalidData, corpus.Description));
            var characters = Guard(() => corpus.BuildStreamTokenizer(), corpus.Description);
            WriteVerbose($"Vocabulary: {characters.VocabSize:N0} tokens ({characters.Vocabulary.Count:N0} characters of {corpus.StreamText.Length:N0} UTF-16 units of text, and BOS).");
            WriteObject(characters);
            return;
        }
        Guard(() => corpus.EnsureSentences(), corpus.Description);
        WriteVerbose($"Read {corpus.Sentences.Count:N0} sentences from {corpus.Description}.");

        int? vocabSize = IsOnCommandLine(nameof(VocabSize)) ? VocabSize : null;
        Tokenizer tokenizer;
        try
        {
            tokenizer = Guard(() => corpus.BuildTokenizer(Kind, vocabSize, stopping.Token), corpus.Description);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return; // Ctrl+C while BPE learns: nothing is written
        }
        WriteVerbose($"Vocabulary: {tokenizer.VocabSize:N0} tokens ({tokenizer.Vocabulary.Count:N0} {tokenizer.Info.Pieces} and BOS).");
        WriteObject(tokenizer);
    }
}
