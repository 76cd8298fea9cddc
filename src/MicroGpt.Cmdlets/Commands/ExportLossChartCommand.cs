using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Draws training steps (from Invoke-Training or a CSV log) as an SVG loss chart.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "LossChart", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportLossChartCommand : MicroGptCmdlet
{
    readonly List<LossPoint> points = [];

    #region Parameters

    /// <summary>TrainingStep objects, or rows of a CSV log (Import-Csv), with Step, Loss and ValidationLoss properties.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public PSObject InputObject { get; set; } = null!;

    /// <summary>The SVG file to write.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Weight of the smoothed curve's moving average, 0 (off) to 0.99 (TensorBoard's slider).</summary>
    [Parameter]
    [ValidateRange(0.0, 0.99)]
    public double Smoothing { get; set; } = 0.9;

    /// <summary>The chart's title.</summary>
    [Parameter]
    public string Title { get; set; } = "Training loss";

    /// <summary>Width in pixels.</summary>
    [Parameter]
    [ValidateRange(200, 10000)]
    public int Width { get; set; } = 800;

    /// <summary>Height in pixels.</summary>
    [Parameter]
    [ValidateRange(150, 10000)]
    public int Height { get; set; } = 450;

    /// <summary>The bottom of the loss axis; by default it fits the data.</summary>
    [Parameter]
    public double? YMinimum { get; set; }

    /// <summary>The top of the loss axis; by default it fits the data, leaving out spikes on a linear axis.</summary>
    [Parameter]
    public double? YMaximum { get; set; }

    /// <summary>Linear (the default) or Log: a logarithmic loss axis, which fits every positive loss, spikes included.</summary>
    [Parameter]
    public AxisScale YScale { get; set; }

    /// <summary>Write the chart's FileInfo to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        double? Property(string name) => Number(InputObject.Properties[name]?.Value);
        double? step = Property("Step"), loss = Property("Loss"), validation = Property("ValidationLoss");
        if (step is not double s || loss is not double l || !double.IsFinite(s) || !double.IsFinite(l) || validation is double v && !double.IsFinite(v))
        {
            WriteError(new ErrorRecord(new ArgumentException($"The input '{InputObject}' has no finite numeric Step and Loss (and ValidationLoss, when given): it is left out of the chart."),
                ErrorIds.InvalidChartData, ErrorCategory.InvalidData, InputObject));
            return;
        }
        points.Add(new LossPoint(s, l, validation));
    }

    protected override void EndProcessing()
    {
        if (points.Count == 0)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("No training steps reached Export-LossChart: there is nothing to draw."), ErrorIds.InvalidChartData, ErrorCategory.InvalidData, null));
        string path = ResolveOutputPath(Path);
        string svg = Guard(() => LossChart.Render(points, new LossChartOptions { Width = Width, Height = Height, Title = Title, Smoothing = Smoothing, YMinimum = YMinimum, YMaximum = YMaximum, YScale = YScale }), Smoothing);
        if (!ShouldProcess(path, $"Write a loss chart of {points.Count:N0} steps")) return;
        Guard(() => AtomicFile.Write(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(svg))), path);
        WriteVerbose($"Wrote '{path}': {points.Count:N0} steps.");
        if (PassThru) WriteObject(InvokeProvider.Item.Get(path), enumerateCollection: true); // a FileInfo with PSPath, as Get-Item gives
    }
}
