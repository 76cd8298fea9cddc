using System.Diagnostics;
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
    const string Activity = "Measuring MicroGpt model";

    readonly CancellationTokenSource stopping = new();

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

    protected override void StopProcessing() => stopping.Cancel();

    /// <summary>
    /// Measures in slices (see <see cref="Evaluator.MeanLoss"/>): between them, on the pipeline
    /// thread, a progress bar for long measurements, and Ctrl+C ends the command there, writing nothing.
    /// </summary>
    protected override void ProcessRecord()
    {
        var kind = Model.Tokenizer.Kind;
        var corpus = ReadCorpus(Path, ParameterSetName == TextSet ? Text : null, kind);
        var sentences = Guard(() => corpus.Encode(Model.Tokenizer), corpus.Description);
        WriteVerbose($"Measuring on {sentences.Length:N0} sentences from {corpus.Description}.");
        var evaluator = Guard(() => new Evaluator(Model, sentences, ThreadCount), corpus.Description);
        var bar = new ProgressBar(this, Activity, stopping.Token);
        var clock = Stopwatch.StartNew();
        Measurement measurement;
        try
        {
            measurement = evaluator.Measure(done =>
            {
                if (bar.Due)
                    bar.Show($"Sentence {done:N0} of {sentences.Length:N0}", (int)(100L * done / sentences.Length), ProgressBar.SecondsRemaining(clock.Elapsed, done, sentences.Length));
            }, stopping.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        finally
        {
            bar.Hide();
        }
        WriteObject(measurement);
    }
}
