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
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Text { get; set; } = [];

    /// <summary>The tokenizer to encode with. Without -Tokenizer or -Model, the default corpus's.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TokenizerSet)]
    public Tokenizer Tokenizer { get; set; } = null!;

    /// <summary>A model whose tokenizer to encode with.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ModelSet)]
    public Model Model { get; set; } = null!;

    #endregion

    protected override void BeginProcessing()
    {
        tokenizer = ParameterSetName switch
        {
            TokenizerSet => Tokenizer,
            ModelSet => Model.Tokenizer,
            _ => CorpusInput.DefaultTokenizer,
        };
    }

    protected override void ProcessRecord()
    {
        // The same rules as training: one sentence per line, trimmed, blank lines skipped,
        // lower-cased for word tokenizers.
        foreach (var sentence in Corpus.Normalize(tokenizer!.TokenKind, Text))
        {
            try
            {
                WriteObject(tokenizer.Tokenize(sentence.Text));
            }
            catch (UnknownTokenException ex)
            {
                WriteError(ToErrorRecord(ex, sentence.Text)); // one bad text does not stop the others
            }
        }
    }
}
