using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Measures a model's loss and perplexity on held-out sentences.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "Model", DefaultParameterSetName = DefaultSet)]
[OutputType(typeof(Measurement))]
public sealed class MeasureModelCommand : MicroGptCmdlet
{
    const string DefaultSet = "Default";
    const string PathSet = "Path";
    const string TextSet = "Text";

    #region Parameters

    /// <summary>The model to measure; accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Model Model { get; set; } = null!;

    /// <summary>Files of held-out sentences, one per line. Default: the default corpus.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Held-out sentences.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TextSet)]
    [ValidateNotNullOrEmpty]
    public string[] Text { get; set; } = [];

    /// <summary>Threads to use; 0 (default) means one per processor. The result does not depend on it.</summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int ThreadCount { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        var kind = Model.Tokenizer.TokenKind;
        var corpus = ReadCorpus(Path, ParameterSetName == TextSet ? Text : null, kind);
        var sentences = Guard(() => corpus.Encode(Model.Tokenizer), corpus.Description);
        WriteVerbose($"Measuring on {sentences.Length:N0} sentences from {corpus.Description}.");
        var evaluator = Guard(() => new Evaluator(Model, sentences, ThreadCount), corpus.Description);
        WriteObject(evaluator.Measure());
    }
}
