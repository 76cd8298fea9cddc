using System.Globalization;
using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// What every MicroGpt cmdlet shares: turning the engine's exceptions into ErrorRecords with a
/// fitting id and category, and resolving paths against the PowerShell location (not the
/// process's current directory), so that <c>cd</c> then a relative path works as users expect.
/// </summary>
public abstract class MicroGptCmdlet : PSCmdlet
{
    HashSet<string> boundOnCommandLine = [];

    protected override void BeginProcessing() => boundOnCommandLine = [.. MyInvocation.BoundParameters.Keys];

    /// <summary>
    /// True when <paramref name="parameter"/> holds <paramref name="value"/> from the current pipeline
    /// object rather than from the command line. PowerShell binds a piped object to every parameter
    /// that can take it: a piped model or file also reaches a string parameter as its ToString(), so
    /// cmdlets ask for the most specific parameter first (a model, then a file, then text).
    /// </summary>
    protected bool IsPiped(string parameter, object? value) => value is not null && !boundOnCommandLine.Contains(parameter);

    /// <summary>True when the parameter was given on the command line (not from the pipeline).</summary>
    protected bool IsOnCommandLine(string parameter) => boundOnCommandLine.Contains(parameter);

    /// <summary>An input path (must exist; wildcards allowed): every file it names.</summary>
    protected IReadOnlyList<string> ResolveInputPaths(string path, string notFoundId = ErrorIds.CorpusNotFound)
    {
        try
        {
            var files = GetResolvedProviderPathFromPSPath(path, out _);
            if (files.Count > 0) return files;
        }
        catch (ItemNotFoundException ex)
        {
            throw new PipelineError(new ErrorRecord(ex, notFoundId, ErrorCategory.ObjectNotFound, path));
        }
        // A wildcard that matches nothing resolves to no file at all.
        throw new PipelineError(new ErrorRecord(new FileNotFoundException($"No file matches '{path}'."), notFoundId, ErrorCategory.ObjectNotFound, path));
    }

    /// <summary>A corpus path taken literally (no wildcards), as -LiteralPath and a FileInfo's FullName give it: the file it names, which must exist.</summary>
    protected string ResolveLiteralInputPath(string path)
    {
        string resolved = GetUnresolvedProviderPathFromPSPath(path);
        if (File.Exists(resolved) || Directory.Exists(resolved)) return resolved; // a folder is reported when it cannot be read
        throw new PipelineError(new ErrorRecord(new FileNotFoundException($"Cannot find the file '{resolved}' because it does not exist."), ErrorIds.CorpusNotFound, ErrorCategory.ObjectNotFound, path));
    }

    /// <summary>
    /// The sentences of -Path files (wildcards allowed) or -LiteralPath files, else of -Text strings,
    /// else of the default corpus (in <paramref name="stream"/> mode, their text as one stream); a
    /// missing file stops the command with CorpusNotFound naming it.
    /// </summary>
    private protected CorpusInput ReadCorpus(string[]? paths, IEnumerable<string>? text, TokenizerKind kind, string textDescription = "the text given", string[]? literalPaths = null, bool stream = false) =>
        Guard(() =>
        {
            if (paths is not { Length: > 0 } && literalPaths is not { Length: > 0 })
                return text is not null ? stream ? CorpusInput.StreamFromText(text, textDescription) : CorpusInput.FromText(text, kind, textDescription)
                    : stream ? CorpusInput.DefaultStream() : CorpusInput.Default(kind);
            var files = (paths ?? []).SelectMany(p => ResolveInputPaths(p)).Concat((literalPaths ?? []).Select(p => ResolveLiteralInputPath(p))).ToList();
            try { return stream ? CorpusInput.StreamFromFiles(files) : CorpusInput.FromFiles(files, kind); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) // a folder, a locked file: reading, not writing, failed
            {
                throw new PipelineError(new ErrorRecord(ex, ErrorIds.CorpusUnreadable, ErrorCategory.ReadError, string.Join(", ", files)));
            }
        }, paths?.FirstOrDefault() ?? literalPaths?.FirstOrDefault());

    /// <summary>
    /// Warns when a model reads sentences whose character tokenizer has the line end as a token:
    /// sentence mode splits text at line ends, so it never reads one, and only a tokenizer learned
    /// from a whole text (New-Tokenizer -Stream, Invoke-Training -Stream) has it. A model file does
    /// not record its mode, so this is the one sign that -Stream was forgotten.
    /// </summary>
    private protected void WarnIfMadeForStream(Model model)
    {
        var tokenizer = model.Tokenizer;
        if (tokenizer.TokenKind == TokenizerKind.Character && tokenizer.Vocabulary.Contains("\n"))
            WriteWarning($"This model's tokenizer has the line end as a token, so it was learned from a whole text (-Stream), but {MyInvocation.MyCommand.Name} is in sentence mode, where text is one sentence a line and never holds a line end. Add -Stream to work as a stream model does.");
    }

    /// <summary>
    /// Warns when sentences are longer than the model's block size: a sentence of n tokens gives
    /// min(T, n - 1) predictions, so the end of a longer one is never seen, which is easy to miss
    /// (a character model of block 16 on 40-character lines learns only their first 16 characters).
    /// </summary>
    private protected void WarnOfCutSentences(IReadOnlyList<int[]> sentences, Model model, string description, string use)
    {
        int blockSize = model.Config.BlockSize, cut = 0, longest = 0;
        foreach (int[] sentence in sentences)
        {
            if (sentence.Length - 1 > blockSize) cut++;
            longest = Math.Max(longest, sentence.Length - 2); // the pieces between the two BOS
        }
        if (cut == 0) return;
        string pieces = model.Tokenizer.Info.Pieces;
        WriteWarning($"{cut:N0} of the {sentences.Count:N0} sentences of {description} are longer than the model's block size of {blockSize} and are cut: {use} covers only their first {blockSize} {pieces}, not their end. The longest has {longest:N0} {pieces}; a model made with New-Model -BlockSize {longest + 1} would see whole sentences.");
    }

    /// <summary>
    /// A property as a number: a TrainingStep's as it is; a CSV row's (Import-Csv gives text, empty
    /// where ValidationLoss was not measured) as the current culture writes numbers, which is how
    /// Export-Csv wrote them ("3,25" in de-DE), else as the invariant culture does, which is how
    /// -LogPath writes them ("3.25"). Neither allows thousands separators, so no text reads as a
    /// different number in the two: a decimal comma reads in one only, a decimal point in the other.
    /// </summary>
    protected static double? Number(object? value) => value switch
    {
        null => null,
        PSObject wrapped => Number(wrapped.BaseObject),
        string text => text.Length == 0 ? null
            : double.TryParse(text, NumberStyles.Float, CultureInfo.CurrentCulture, out double local) ? local
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double invariant) ? invariant
            : double.NaN,
        not (bool or char) when value.GetType().IsPrimitive || value is decimal => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        _ => double.NaN,
    };

    /// <summary>An output path, which need not exist yet.</summary>
    protected string ResolveOutputPath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>The ErrorRecord for an engine or I/O failure, with the id and category its type calls for.</summary>
    protected static ErrorRecord ToErrorRecord(Exception ex, object? target) => ex switch
    {
        PipelineError pipeline => pipeline.Record,
        UnknownTokenException => new ErrorRecord(ex, ErrorIds.UnknownToken, ErrorCategory.InvalidData, target),
        CheckpointMismatchException => new ErrorRecord(ex, ErrorIds.CheckpointMismatch, ErrorCategory.InvalidArgument, target),
        CorpusException => new ErrorRecord(ex, ErrorIds.InvalidCorpus, ErrorCategory.InvalidData, target),
        TextTooLongException tooLong => new ErrorRecord(ex, ErrorIds.TextTooLong, ErrorCategory.InvalidArgument, tooLong.Text),
        InvalidConfigurationException { Parameter: "layer" } config => new ErrorRecord(ex, ErrorIds.LayerOutOfRange, ErrorCategory.InvalidArgument, config.Value),
        InvalidConfigurationException { Parameter: "head" } config => new ErrorRecord(ex, ErrorIds.HeadOutOfRange, ErrorCategory.InvalidArgument, config.Value),
        InvalidConfigurationException { Parameter: "position" } config => new ErrorRecord(ex, ErrorIds.PositionOutOfRange, ErrorCategory.InvalidArgument, config.Value),
        InvalidConfigurationException config => new ErrorRecord(ex, ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, config.Value ?? target),
        TrainingDivergedException => new ErrorRecord(ex, ErrorIds.TrainingDiverged, ErrorCategory.InvalidResult, target),
        ModelNotFiniteException => new ErrorRecord(ex, ErrorIds.ModelNotFinite, ErrorCategory.InvalidData, target),
        VocabularyMismatchException mismatch => new ErrorRecord(ex, ErrorIds.VocabularyMismatch, ErrorCategory.InvalidArgument, mismatch.Path),
        ModelFileException file when !File.Exists(file.Path) => new ErrorRecord(ex, ErrorIds.ModelFileNotFound, ErrorCategory.ObjectNotFound, file.Path),
        ModelFileException file => new ErrorRecord(ex, ErrorIds.ModelFileCorrupt, ErrorCategory.InvalidData, file.Path),
        UnauthorizedAccessException => new ErrorRecord(ex, ErrorIds.FileWriteFailed, ErrorCategory.PermissionDenied, target),
        IOException => new ErrorRecord(ex, ErrorIds.FileWriteFailed, ErrorCategory.WriteError, target),
        ModelBusyException => new ErrorRecord(ex, ErrorIds.ModelBusy, ErrorCategory.ResourceBusy, target),
        _ => new ErrorRecord(ex, ex.GetType().Name, ErrorCategory.NotSpecified, target),
    };

    /// <summary>True for the failures a cmdlet reports as an ErrorRecord rather than as a crash.</summary>
    protected static bool IsReportable(Exception ex) =>
        ex is MicroGptException or PipelineError or IOException or UnauthorizedAccessException;

    /// <summary>Stops the command with the error: terminating, so a script run by a scheduler exits non-zero.</summary>
    protected void Fail(Exception ex, object? target) => ThrowTerminatingError(ToErrorRecord(ex, target));

    /// <summary>Runs <paramref name="action"/>, turning reportable failures into a terminating error.</summary>
    protected void Guard(Action action, object? target) => Guard(() => { action(); return 0; }, target);

    /// <summary>Runs <paramref name="action"/> and returns its result, turning reportable failures into a terminating error.</summary>
    protected T Guard<T>(Func<T> action, object? target)
    {
        try { return action(); }
        catch (Exception ex) when (IsReportable(ex))
        {
            Fail(ex, target);
            throw; // not reached: Fail throws
        }
    }

    /// <summary>An ErrorRecord that has already been built, carried through engine-style control flow.</summary>
    protected sealed class PipelineError(ErrorRecord record) : Exception(record.Exception.Message, record.Exception)
    {
        public ErrorRecord Record { get; } = record;
    }
}
