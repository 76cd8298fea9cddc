using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Encodes text the way the model sees it: token ids with BOS at both ends.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Tokens", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(TokenizedText))]
public sealed class GetTokensCommand : MicroGptCmdlet
{
    const string DefaultSet = "Default";
    const string TokenizerSet = "Tokenizer";
    const string ModelSet = "Model";

    Tokenizer? tokenizer;

    #region Parameters

    /// <summary>The text to encode, one sentence per line; accepts pipeline input. Blank lines are skipped.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public string[]? Text { get; set; }

    /// <summary>Files whose lines to encode, taken literally (no wildcards); files from Get-Item or Get-ChildItem bind here by their FullName.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "LP")] // not PSPath: the lines of Get-Content carry their file's PSPath, and must stay text
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>The tokenizer to encode with. Without -Tokenizer or -Model, the default corpus's.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TokenizerSet)]
    public Tokenizer Tokenizer { get; set; } = null!;

    /// <summary>A model whose tokenizer to encode with.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ModelSet)]
    public Model Model { get; set; } = null!;

    /// <summary>
    /// Encode as a stream model reads: each text, or each file's whole text, exactly as it is (line
    /// ends are tokens, nothing trimmed or lower-cased), with no BOS.
    /// </summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    #endregion

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        tokenizer = ParameterSetName switch
        {
            TokenizerSet => Tokenizer,
            ModelSet => Model.Tokenizer,
            _ => CorpusInput.DefaultTokenizer,
        };
    }

    protected override void ProcessRecord()
    {
        // A piped file is taken as a file, not as the text of its ToString() (see IsPiped).
        bool pipedFile = IsPiped(nameof(LiteralPath), LiteralPath);
        bool file = pipedFile || IsOnCommandLine(nameof(LiteralPath)), text = !pipedFile && Text is not null;
        if (file == text)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(file ? "Give text or files to encode, not both." : "Give the text to encode: -Text, -LiteralPath, or text or files on the pipeline."),
                ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, null));
        if (Stream)
        {
            // As Invoke-Training -Stream reads: each string, or each file's text, whole and as it is.
            var texts = file ? LiteralPath!.Select(path => ReadCorpus(null, null, tokenizer!.TokenKind, literalPaths: [path], stream: true).StreamText!) : Text!;
            foreach (string whole in texts) Write(whole, tokenizer!.TokenizeStream);
            return;
        }
        // The same rules as training: one sentence per line, trimmed, blank lines skipped,
        // lower-cased for word tokenizers.
        var sentences = file ? ReadCorpus(null, null, tokenizer!.TokenKind, literalPaths: LiteralPath).Sentences : Corpus.Normalize(tokenizer!.TokenKind, Text!);
        foreach (var sentence in sentences) Write(sentence.Text, tokenizer.Tokenize);
    }

    void Write(string text, Func<string, TokenizedText> tokenize)
    {
        try
        {
            WriteObject(tokenize(text));
        }
        catch (UnknownTokenException ex)
        {
            WriteError(ToErrorRecord(ex, text)); // one bad text does not stop the others
        }
    }
}
