using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Shows what a model expects next after a prompt, or how it predicted each token of a text.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Prediction", DefaultParameterSetName = NextSet)]
[OutputType(typeof(Prediction), ParameterSetName = [NextSet])]
[OutputType(typeof(TokenSurprise), ParameterSetName = [EachSet, PositionSet])]
public sealed class GetPredictionCommand : MicroGptCmdlet
{
    const string NextSet = "Next", EachSet = "Each", PositionSet = "Position";

    #region Parameters

    /// <summary>The text to read: the start of a sentence; with -Each or -Position, a whole sentence. Its tokens must be in the vocabulary.</summary>
    [Parameter(Position = 0)]
    [Alias("Text")]
    [AllowEmptyString]
    public string Prompt { get; set; } = "";

    /// <summary>The model to read; accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public Model Model { get; set; } = null!;

    /// <summary>How many candidates to write, most likely first.</summary>
    [Parameter(ParameterSetName = NextSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Top { get; set; } = 10;

    /// <summary>The temperature of the distribution, as Invoke-Generation -Temperature divides the logits by it.</summary>
    [Parameter(ParameterSetName = NextSet)]
    [ValidateInterval(0.0, 100.0, ExcludeMinimum = true)]
    public double Temperature { get; set; } = 1.0;

    /// <summary>For every token of the text, the probability and rank the model gave it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = EachSet)]
    public SwitchParameter Each { get; set; }

    /// <summary>Only the tokens at these positions of the text (its first token is at 1, after BOS; with -Stream, its second).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PositionSet)]
    public int[] Position { get; set; } = [];

    /// <summary>Read the text as a model trained with -Stream reads it: exactly as given (no BOS, newlines kept), its first token at position 0.</summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        if (!Stream) WarnIfMadeForStream(Model);
        var inspector = Guard(() => new Inspector(Model, Stream), Model);
        IEnumerable<object> results = ParameterSetName switch
        {
            NextSet => Guard(() => inspector.Predictions(Prompt, Top, Temperature), Prompt),
            EachSet => Guard(() => inspector.Surprises(Prompt), Prompt),
            _ => Guard(() => inspector.Surprises(Prompt, Position), Prompt),
        };
        foreach (var result in results) WriteObject(result);
    }
}
