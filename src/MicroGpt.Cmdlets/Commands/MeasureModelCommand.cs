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
    const string LiteralPathSet = "LiteralPath";
    const string TextSet = "Text";
    const string Activity = "Measuring MicroGpt model";

    readonly CancellationTokenSource stopping = new();

    readonly List<string> pipedFiles = [];
    readonly List<string> pipedText = [];

    #region Parameters

    /// <summary>The model to measure; accepts pipeline input (each piped model is measured on the corpus of -Path, -LiteralPath or -Text).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Model Model { get; set; } = null!;

    /// <summary>Files of held-out sentences, one per line; wildcards are allowed. Default: the default corpus.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Files of held-out sentences, taken literally (no wildcards); files from Get-Item or Get-ChildItem bind here by their FullName, and are measured as one corpus.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("FullName", "LP")] // not PSPath: the lines of Get-Content carry their file's PSPath, and must stay text
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>Held-out sentences; accepts pipeline input (Get-Content's lines), measured as one corpus.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = TextSet)]
    [AllowEmptyString] // blank lines (Get-Content gives them) are skipped, as in files
    [ValidateNotNull]
    public string[]? Text { get; set; }

    /// <summary>
    /// Measure the text as one token stream (the files exactly as they are, joined in order): the mean
    /// loss over every token but the first, each predicted from up to BlockSize tokens before it, in
    /// consecutive non-overlapping windows. Deterministic: the same text gives the same figure.
    /// </summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    /// <summary>Threads to use; 0 (default) means one per processor. The result does not depend on it.</summary>
    [Parameter]
    [ValidateRange(0, 1024)]
    public int ThreadCount { get; set; }

    #endregion

    protected override void StopProcessing() => stopping.Cancel();

    protected override void ProcessRecord()
    {
        // A piped model is measured as it comes, on the corpus of the command line; piped files
        // and text lines are gathered into one corpus for -Model, measured at the end. A model is
        // taken as a model, and a file as a file, before their ToString() is taken as text.
        if (IsPiped(nameof(Model), Model)) Measure(Model, CommandLineCorpus());
        else if (IsPiped(nameof(LiteralPath), LiteralPath)) pipedFiles.AddRange(LiteralPath!);
        else if (IsPiped(nameof(Text), Text)) pipedText.AddRange(Text!);
        else Measure(Model, CommandLineCorpus()); // nothing piped: the command's one record
    }

    protected override void EndProcessing()
    {
        if (pipedFiles.Count > 0 && pipedText.Count > 0)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Pipe files or text lines to measure, not both."), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, Model));
        if (pipedFiles.Count > 0 || pipedText.Count > 0)
            Measure(Model, ReadCorpus(null, pipedText.Count > 0 ? pipedText : null, Model.Tokenizer.TokenKind, literalPaths: pipedFiles.Count > 0 ? [.. pipedFiles] : null, stream: Stream));
    }

    CorpusInput CommandLineCorpus() => ReadCorpus(IsOnCommandLine(nameof(Path)) ? Path : null, IsOnCommandLine(nameof(Text)) ? Text : null, Model.Tokenizer.TokenKind,
        literalPaths: IsOnCommandLine(nameof(LiteralPath)) ? LiteralPath : null, stream: Stream);

    /// <summary>
    /// Measures in slices (see <see cref="Evaluator.MeanLoss"/>): between them, on the pipeline
    /// thread, a progress bar for long measurements, and Ctrl+C ends the command there, writing nothing.
    /// </summary>
    void Measure(Model model, CorpusInput corpus)
    {
        Evaluator evaluator;
        string unit;
        if (Stream)
        {
            var tokens = Guard(() => corpus.EncodeStream(model.Tokenizer), corpus.Description);
            evaluator = Guard(() => Evaluator.ForStream(model, tokens, ThreadCount), corpus.Description);
            WriteVerbose($"Measuring on {tokens.Length:N0} tokens from {corpus.Description}, in {evaluator.Sentences:N0} windows.");
            unit = "Window";
        }
        else
        {
            WarnIfMadeForStream(model);
            var sentences = Guard(() => corpus.Encode(model.Tokenizer), corpus.Description);
            WarnOfCutSentences(sentences, model, corpus.Description, "the measurement");
            WriteVerbose($"Measuring on {sentences.Length:N0} sentences from {corpus.Description}.");
            evaluator = Guard(() => new Evaluator(model, sentences, ThreadCount), corpus.Description);
            unit = "Sentence";
        }
        int examples = evaluator.Sentences;
        var bar = new ProgressBar(this, Activity, stopping.Token);
        var clock = Stopwatch.StartNew();
        Measurement measurement;
        try
        {
            measurement = evaluator.Measure(done =>
            {
                if (bar.Due)
                    bar.Show($"{unit} {done:N0} of {examples:N0}", (int)(100L * done / examples), ProgressBar.SecondsRemaining(clock.Elapsed, done, examples));
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
