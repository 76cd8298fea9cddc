using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Writes the attention weights a model computes over a sentence: one object per layer, head, query and key.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Attention")]
[OutputType(typeof(AttentionWeight))]
public sealed class GetAttentionCommand : MicroGptCmdlet
{
    #region Parameters

    /// <summary>The sentence to read; its tokens must be in the vocabulary.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Prompt")]
    [AllowEmptyString]
    public string Text { get; set; } = "";

    /// <summary>The model to read; accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public Model Model { get; set; } = null!;

    /// <summary>Only these layers (0 is the first). Default: every layer.</summary>
    [Parameter]
    public int[]? Layer { get; set; }

    /// <summary>Only these heads (0 is the first). Default: every head.</summary>
    [Parameter]
    public int[]? Head { get; set; }

    /// <summary>Read the text as a model trained with -Stream reads it: exactly as given (no BOS, newlines kept), its first token at position 0.</summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        if (!Stream) WarnIfMadeForStream(Model);
        var weights = Guard(() => new Inspector(Model, Stream).Attention(Text, Layer, Head), Text);
        foreach (var weight in weights) WriteObject(weight);
    }
}
