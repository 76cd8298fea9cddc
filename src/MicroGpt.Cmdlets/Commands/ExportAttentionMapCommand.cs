using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Draws attention weights (from Get-Attention or a CSV file) as an SVG grid of heat maps, one per layer and head.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "AttentionMap", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportAttentionMapCommand : MicroGptCmdlet
{
    readonly List<AttentionWeight> weights = [];

    #region Parameters

    /// <summary>AttentionWeight objects, or rows of a CSV file (Import-Csv) with their properties.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>The SVG file to write.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The picture's title. Default: the tokens the weights are of.</summary>
    [Parameter]
    public string? Title { get; set; }

    /// <summary>Write the picture's FileInfo to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        if (InputObject.BaseObject is AttentionWeight weight)
        {
            weights.Add(weight);
            return;
        }
        int? Integer(string name) => Number(InputObject.Properties[name]?.Value) is double d && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue ? (int)d : null;
        string? Piece(string name) => InputObject.Properties[name]?.Value?.ToString();
        if (Integer("Layer") is int layer && Integer("Head") is int head && Integer("QueryPosition") is int query && Integer("KeyPosition") is int key
            && Piece("QueryToken") is string queryToken && Piece("KeyToken") is string keyToken && Number(InputObject.Properties["Weight"]?.Value) is double w)
        {
            weights.Add(new AttentionWeight(layer, head, query, queryToken, key, keyToken, w));
            return;
        }
        WriteError(new ErrorRecord(new ArgumentException($"The input '{InputObject}' has no whole-number Layer, Head, QueryPosition and KeyPosition, QueryToken and KeyToken, and numeric Weight: it is left out of the map."),
            ErrorIds.InvalidChartData, ErrorCategory.InvalidData, InputObject));
    }

    protected override void EndProcessing()
    {
        if (weights.Count == 0)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("No attention weights reached Export-AttentionMap: there is nothing to draw."), ErrorIds.InvalidChartData, ErrorCategory.InvalidData, null));
        string path = ResolveOutputPath(Path);
        string svg = "";
        try { svg = AttentionMap.Render(weights, new AttentionMapOptions { Title = Title }); }
        catch (InvalidConfigurationException ex) // weights that are not one text's: a weight out of 0..1, a key after its query, a token in two places
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidChartData, ErrorCategory.InvalidData, ex.Value));
        }
        if (!ShouldProcess(path, $"Write an attention map of {weights.Count:N0} weights")) return;
        Guard(() => AtomicFile.Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(svg))), path);
        WriteVerbose($"Wrote '{path}': {weights.Count:N0} weights.");
        if (PassThru) WriteObject(InvokeProvider.Item.Get(path), enumerateCollection: true); // a FileInfo with PSPath, as Get-Item gives
    }
}
