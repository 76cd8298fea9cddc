using System.Diagnostics;
using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Trains a model in place and writes one TrainingStep object per step.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Training", DefaultParameterSetName = NewRunSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TrainingStep), typeof(Model))]
public sealed class InvokeTrainingCommand : MicroGptCmdlet
{
    const string NewRunSet = "NewRun";
    const string ResumeSet = "Resume";
    const string Activity = "Training MicroGpt model";
    static readonly TimeSpan QuietBeforeBar = TimeSpan.FromSeconds(1); // rows that print show progress themselves

    readonly CancellationTokenSource stopping = new();
    readonly List<Model> pipedModels = [];
    readonly List<string> pipedFiles = [];
    readonly List<string> pipedText = [];

    #region Parameters

    /// <summary>The model to train, in place; accepts pipeline input (each piped model gets its own run). Default: a new model on the corpus's vocabulary.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ParameterSetName = NewRunSet)]
    // In the Resume set too, so that a model piped to -Resume is refused as such, not taken as text.
    // Not DontShow: one hidden parameter hides it, and every common parameter, from tab completion.
    [Parameter(ValueFromPipeline = true, ParameterSetName = ResumeSet)]
    [ValidateNotNull] // an explicit $null (say, from a failed Import-Model) must not mean "a new model"
    public Model? Model { get; set; }

    /// <summary>A checkpoint (Save-Model -IncludeOptimizerState, or -CheckpointPath) whose run to continue exactly; it keeps being updated unless -CheckpointPath names another file.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
    [ValidateNotNullOrEmpty]
    public string Resume { get; set; } = "";

    /// <summary>Corpus files, one sentence per line; wildcards are allowed. Default: the default corpus.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Corpus files, taken literally (no wildcards); files from Get-Item or Get-ChildItem bind here by their FullName.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "LP")] // not PSPath: the lines of Get-Content carry their file's PSPath, and must stay text
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>Corpus sentences given as strings; accepts pipeline input (Get-Content's lines), gathered into one corpus.</summary>
    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNull] // blank lines are allowed (Get-Content gives them) and skipped, as in files
    public string[]? Text { get; set; }

    /// <summary>Optimizer steps; the learning rate decays over them (see -Schedule).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Steps))]
    public int Steps { get; set; } = 5000;

    /// <summary>Adam's initial learning rate (greater than 0, at most 1).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.LearningRate))]
    public double LearningRate { get; set; } = 0.01;

    /// <summary>Adam's first-moment decay (at least 0, less than 1).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Beta1))]
    public double Beta1 { get; set; } = 0.85;

    /// <summary>Adam's second-moment decay (at least 0, less than 1).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Beta2))]
    public double Beta2 { get; set; } = 0.99;

    /// <summary>Adam's epsilon (greater than 0, at most 1).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Epsilon))]
    public double Epsilon { get; set; } = 1e-8;

    /// <summary>AdamW's decoupled weight decay (at least 0, at most 1): each step first shrinks every weight by lr * decay of itself. Default 0: none.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.WeightDecay))]
    public double WeightDecay { get; set; }

    /// <summary>Steps over which the rate rises linearly to -LearningRate before it decays (fewer than -Steps). Default 0.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.WarmupSteps))]
    public int WarmupSteps { get; set; }

    /// <summary>How the rate decays after the warm-up: Linear (the tutorial's, the default) or Cosine (nanoGPT's, to -MinLearningRate at the last step).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Schedule))]
    public Schedule Schedule { get; set; }

    /// <summary>The rate the schedule decays to (at least 0, at most -LearningRate). Default 0.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.MinLearningRate))]
    public double MinLearningRate { get; set; }

    /// <summary>Scale the gradient down to this global norm when it is larger, as clip_grad_norm_ does; the GradNorm column keeps the norm before. Default 0: no clipping.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.GradientClip))]
    public double GradientClip { get; set; }

    /// <summary>Sentences (with -Stream, windows) per step; their gradients are averaged.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.BatchSize))]
    public int BatchSize { get; set; } = 1;

    /// <summary>Seeds the shuffle of the sentences (and the -ValidationFraction split).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Seed))]
    public int Seed { get; set; } = 42;

    /// <summary>Take the sentences in file order instead of shuffling them.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Shuffle), Negated = true)]
    public SwitchParameter NoShuffle { get; set; }

    /// <summary>The most threads this training uses; 0 (default) means one per processor. Results do not depend on it.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.ThreadCount))]
    public int ThreadCount { get; set; }

    /// <summary>
    /// Stream mode: the corpus is one token stream (the files' text exactly as it is, joined in order;
    /// line ends are tokens), and each step takes -BatchSize windows of BlockSize + 1 tokens at seeded
    /// offsets, every one of their BlockSize predictions counting. Without -Model, a Character
    /// tokenizer learned from the whole text. A run resumed from a stream checkpoint stays in stream mode.
    /// </summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.Stream))]
    public SwitchParameter Stream { get; set; }

    /// <summary>Files of held-out sentences (with -Stream, held-out text) whose loss fills the ValidationLoss column.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ValidationPath { get; set; }

    /// <summary>Held-out sentences given as strings.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ValidationText { get; set; }

    /// <summary>Hold out this fraction of the corpus (a seeded random choice of sentences; with -Stream, the last fraction of the stream) for validation instead of training on it.</summary>
    [Parameter]
    [ValidateRange(0.0, 0.9)]
    public double ValidationFraction { get; set; }

    /// <summary>Measure the validation loss every this many steps, and at the last step. Default: Steps / 10.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.ValidationInterval))]
    public int ValidationInterval { get; set; }

    /// <summary>Measure the validation loss on at most this many held-out sentences (with -Stream, windows), evenly spaced (default: all of them).</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.ValidationExamples))]
    public int ValidationExamples { get; set; }

    /// <summary>Also write the rows to this CSV file, one flushed line per row.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LogPath { get; set; }

    /// <summary>Write a row every this many steps (and for the last step, and every step with a validation loss).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int LogInterval { get; set; } = 1;

    /// <summary>Save the model and optimizer state here (atomically) every -CheckpointInterval steps, at the end, and when stopped.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CheckpointPath { get; set; }

    /// <summary>Steps between checkpoints. Default: 1000, or for -Resume the interval its run had.</summary>
    [Parameter]
    [TrainingOption(nameof(TrainingOptions.CheckpointInterval))]
    public int CheckpointInterval { get; set; } = DefaultCheckpointInterval;

    const int DefaultCheckpointInterval = 1000;

    /// <summary>Write the trained model to the pipeline instead of the steps (the steps still go to -LogPath).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    #endregion

    protected override void StopProcessing() => stopping.Cancel();

    protected override void ProcessRecord()
    {
        // Piped objects are gathered, and trained at the end of the input: text lines and files
        // make one corpus, trained once. A model is taken as a model, and a file as a file, before
        // their ToString() is taken as text (see IsPiped).
        if (IsPiped(nameof(Model), Model)) pipedModels.Add(Model!);
        else if (IsPiped(nameof(LiteralPath), LiteralPath)) pipedFiles.AddRange(LiteralPath!);
        else if (IsPiped(nameof(Text), Text)) pipedText.AddRange(Text!);
    }

    protected override void EndProcessing()
    {
        if (MyInvocation.ExpectingInput && pipedModels.Count == 0 && pipedFiles.Count == 0 && pipedText.Count == 0)
        {
            WriteWarning("Nothing came down the pipeline, so nothing was trained.");
            return;
        }
        var (paths, literalPaths, text) = CorpusArguments();
        if (new object?[] { ValidationPath, ValidationText, ValidationFraction > 0 ? ValidationFraction : null }.Count(v => v is not null) > 1)
            Refuse("Use one of -ValidationPath, -ValidationText and -ValidationFraction.", "ValidationFraction");
        if (ParameterSetName == ResumeSet && (pipedModels.Count > 0 || Model is not null))
            Refuse($"-Resume continues the model saved in '{Resume}'; it cannot train another model, from -Model or the pipeline. Pipe the corpus instead, or train the model without -Resume.", Resume);
        if (pipedModels.Count > 1 && (LogPath ?? CheckpointPath) is { } file)
            Refuse($"{pipedModels.Count} models came down the pipeline, but -{(LogPath is not null ? nameof(LogPath) : nameof(CheckpointPath))} names one file ('{file}') that each run would overwrite. Train them one at a time (ForEach-Object), each with its own file.", file);

        // Without piped models, the one model: -Model, -Resume's, or a new one (null here).
        IEnumerable<Model?> models = pipedModels.Count > 0 ? pipedModels : new[] { Model };
        foreach (var model in models) TrainModel(model, paths, literalPaths, text);
    }

    /// <summary>The corpus, given in one way: -Path, -LiteralPath, -Text, or files or text from the pipeline; or none, for the default corpus.</summary>
    (string[]? Paths, string[]? LiteralPaths, IReadOnlyList<string>? Text) CorpusArguments()
    {
        string[]? literalPaths = IsOnCommandLine(nameof(LiteralPath)) ? LiteralPath : pipedFiles.Count > 0 ? [.. pipedFiles] : null;
        IReadOnlyList<string>? text = IsOnCommandLine(nameof(Text)) ? Text : pipedText.Count > 0 ? pipedText : null;
        var given = new (string Name, bool Given)[]
        {
            ("-Path", Path is not null), ("-LiteralPath", IsOnCommandLine(nameof(LiteralPath))), ("-Text", IsOnCommandLine(nameof(Text))),
            ("files from the pipeline", pipedFiles.Count > 0), ("text from the pipeline", pipedText.Count > 0),
        }.Where(g => g.Given).Select(g => g.Name).ToList();
        if (given.Count > 1) Refuse($"Give the corpus one way, not {string.Join(" and ", given)}.", given[1]);
        return (Path, literalPaths, text);
    }

    /// <summary>One run: the corpus read and encoded for the model, everything checked, then (unless -WhatIf) the steps.</summary>
    void TrainModel(Model? given, string[]? paths, string[]? literalPaths, IReadOnlyList<string>? text)
    {
        var options = TrainingOptionAttribute.OptionsOf(this) with
        {
            // Kept in the run's checkpoints; a resumed run keeps its own unless one is given.
            CheckpointInterval = MyInvocation.BoundParameters.ContainsKey(nameof(CheckpointInterval)) || (ParameterSetName == NewRunSet && CheckpointPath is not null) ? CheckpointInterval : 0,
        };
        var (checkpoint, resumed) = ParameterSetName == ResumeSet ? LoadCheckpoint(options) : (null, null);
        var model = resumed ?? given;
        if (resumed?.Optimizer!.Options.Stream ?? Stream)
        {
            TrainStream(model, options, checkpoint, paths, literalPaths, text);
            return;
        }
        var corpus = ReadCorpus(paths, text, model?.Tokenizer.TokenKind ?? TokenizerKind.Word, literalPaths: literalPaths);
        WriteVerbose($"Read {corpus.Sentences.Count:N0} sentences from {corpus.Description}.");
        model ??= NewDefaultModel(corpus);
        WarnIfMadeForStream(model);
        var sentences = Guard(() => Encode(corpus, model, checkpoint), corpus.Description);
        WarnOfCutSentences(sentences, model, corpus.Description, "training");
        // A resumed run holds out the sentences it first held out.
        var (training, validation) = SplitValidation(sentences, model, resumed?.Optimizer!.Options.Seed ?? Seed);

        var (logPath, checkpointPath) = OutputPaths(checkpoint);

        // Everything that can be refused is checked before anything changes: the options and the
        // corpus (by the trainer), then the files; only then is the log opened (or truncated).
        using var trainer = Guard(() => NewTrainer(model, training, options, validation, corpus, checkpoint), corpus.Description);
        string size = $"{training.Count:N0} sentences{(validation is null ? "" : $", validating on {validation.Count:N0} more")}";
        Run(trainer, model, corpus, size, logPath, checkpointPath, checkpoint);
    }

    /// <summary>
    /// A stream-mode run: the corpus's text as one token stream, encoded by the model's tokenizer
    /// (without -Model, a Character tokenizer of the whole text and a model of the tutorial's shape),
    /// held out at its end by -ValidationFraction, or against a -ValidationPath or -ValidationText stream.
    /// </summary>
    void TrainStream(Model? given, TrainingOptions options, string? checkpoint, string[]? paths, string[]? literalPaths, IReadOnlyList<string>? text)
    {
        if (NoShuffle)
            Refuse("-NoShuffle takes sentences in file order; stream mode has no sentences, only windows at seeded offsets. Leave out -NoShuffle or -Stream.", nameof(NoShuffle));
        var corpus = ReadCorpus(paths, text, TokenizerKind.Character, literalPaths: literalPaths, stream: true);
        WriteVerbose($"Read {corpus.StreamText!.Length:N0} UTF-16 units of text from {corpus.Description}.");
        var model = given ?? NewStreamModel(corpus);
        var tokens = Guard(() => EncodeStream(corpus, model, checkpoint), corpus.Description);
        int[] training = tokens;
        int[]? validation = null;
        if (ValidationPath is not null || ValidationText is not null)
        {
            var held = ReadCorpus(ValidationPath, ValidationText, TokenizerKind.Character, "the validation text", stream: true);
            validation = Guard(() => held.EncodeStream(model.Tokenizer), held.Description);
        }
        else if (ValidationFraction > 0)
        {
            // The last fraction, as nanoGPT's 90/10 split holds out the end of the data.
            int cut = (int)(tokens.Length * (1 - ValidationFraction));
            (training, validation) = (tokens[..cut], tokens[cut..]);
        }
        var (logPath, checkpointPath) = OutputPaths(checkpoint);
        using var trainer = Guard(() => NewStreamTrainer(model, training, options, validation, corpus, checkpoint), corpus.Description);
        string size = $"{training.Length:N0} tokens{(validation is null ? "" : $", validating on {validation.Length:N0} more")}";
        Run(trainer, model, corpus, size, logPath, checkpointPath, checkpoint);
    }

    /// <summary>Stream mode's model when none is given: the tutorial's shape, on a Character tokenizer of the whole text.</summary>
    Model NewStreamModel(CorpusInput corpus)
    {
        var tokenizer = Guard(() => corpus.BuildStreamTokenizer(), corpus.Description);
        var model = Guard(() => MicroGpt.Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, Seed), corpus.Description);
        WriteVerbose($"No -Model given: a new model with the tutorial's shape on the {tokenizer.Vocabulary.Count:N0} characters of the text, {model.Parameters.Length:N0} parameters.");
        return model;
    }

    /// <summary>The log's path and the checkpoint's: a resumed run keeps its checkpoint moving forward in the file it resumed from, unless told otherwise.</summary>
    (string? Log, string? Checkpoint) OutputPaths(string? checkpoint)
    {
        string? logPath = LogPath is null ? null : ResolveOutputPath(LogPath);
        string? checkpointPath = CheckpointPath is not null ? ResolveOutputPath(CheckpointPath) : checkpoint;
        if (checkpointPath is not null && Safetensors.IsSafetensorsPath(checkpointPath))
            Refuse($"A checkpoint holds the optimizer state, which safetensors files cannot: use a .json path instead of '{checkpointPath}'.", checkpointPath);
        return (logPath, checkpointPath);
    }

    /// <summary>A checked run's files and steps (unless -WhatIf): <paramref name="size"/> says what it trains on, for messages.</summary>
    void Run(Trainer trainer, Model model, CorpusInput corpus, string size, string? logPath, string? checkpointPath, string? checkpoint)
    {
        string run = DescribeRun(model, trainer, corpus, size, logPath, checkpointPath, checkpoint);
        if (!ShouldProcess(run, run, "Invoke-Training")) return;
        if (checkpointPath is not null) Guard(() => AtomicFile.CheckWritable(checkpointPath), checkpointPath);
        using var log = logPath is null ? null : Guard(() => TrainingLog.Open(logPath, checkpoint is null ? null : trainer.NextStep - 1), logPath);
        if (trainer.Finished) WriteWarning($"The run in '{checkpoint}' has already taken all its {trainer.Options.Steps:N0} steps; there is nothing left to train.");
        WriteVerbose($"Training {model.Parameters.Length:N0} parameters on {size}{(trainer.Options.Stream ? " (stream mode)" : "")}: steps {trainer.NextStep:N0} to {trainer.Options.Steps:N0}, batch {trainer.Options.BatchSize}.");

        Train(trainer, model, log, checkpointPath);
        if (PassThru && !stopping.IsCancellationRequested) WriteObject(model);
    }

    /// <summary>The stream encoded for the model; when resuming, a piece the vocabulary lacks says which corpus to pass.</summary>
    static int[] EncodeStream(CorpusInput corpus, Model model, string? checkpoint)
    {
        try { return corpus.EncodeStream(model.Tokenizer); }
        catch (UnknownTokenException unknown) when (checkpoint is not null)
        {
            throw CheckpointCorpusMismatch(checkpoint, model.Optimizer!, $"The checkpoint '{checkpoint}' was trained on another corpus than {corpus.Description}. {unknown.Message}", unknown);
        }
    }

    /// <summary>The stream-mode trainer; a resumed run given another stream than its checkpoint's says which corpus to pass.</summary>
    Trainer NewStreamTrainer(Model model, int[] training, TrainingOptions options, int[]? validation, CorpusInput corpus, string? checkpoint)
    {
        var resume = checkpoint is not null ? model.Optimizer : null;
        try { return Trainer.ForStream(model, training, options, validation, resume, corpus.Origin); }
        catch (CheckpointMismatchException mismatch)
        {
            throw CheckpointCorpusMismatch(checkpoint!, resume!, $"{mismatch.Message} These came from {corpus.Description}.", mismatch);
        }
    }

    /// <summary>
    /// The corpus encoded for the model. A word the vocabulary lacks says how to fix it: when
    /// resuming, pass the checkpoint's corpus; for a model of the default corpus's vocabulary, build
    /// the model on this corpus's words.
    /// </summary>
    int[][] Encode(CorpusInput corpus, Model model, string? checkpoint)
    {
        try { return corpus.Encode(model.Tokenizer); }
        catch (UnknownTokenException unknown) when (checkpoint is not null)
        {
            throw CheckpointCorpusMismatch(checkpoint, model.Optimizer!, $"The checkpoint '{checkpoint}' was trained on another corpus than {corpus.Description}. {unknown.Message}", unknown);
        }
        catch (UnknownTokenException unknown) when (CorpusInput.IsDefaultVocabulary(model.Tokenizer))
        {
            string tokenizer = corpus.Origin.Source == CorpusSource.Files ? $"New-Tokenizer {FileArguments(corpus.Origin.Files)}" : "New-Tokenizer -Text <the same sentences>";
            throw new PipelineError(new ErrorRecord(new ArgumentException($"{unknown.Message} The model has the default corpus's vocabulary; to train on the words of {corpus.Description}, build the model on them, New-Model -Tokenizer ({tokenizer}), or leave out -Model.", unknown),
                ErrorIds.UnknownToken, ErrorCategory.InvalidData, corpus.Description));
        }
    }

    /// <summary>The trainer; a resumed run given other sentences than its checkpoint's says which corpus to pass.</summary>
    Trainer NewTrainer(Model model, IReadOnlyList<int[]> training, TrainingOptions options, IReadOnlyList<int[]>? validation, CorpusInput corpus, string? checkpoint)
    {
        var resume = checkpoint is not null ? model.Optimizer : null;
        try { return new Trainer(model, training, options, validation, resume, corpus.Origin); }
        catch (CheckpointMismatchException mismatch)
        {
            throw CheckpointCorpusMismatch(checkpoint!, resume!, $"{mismatch.Message} These came from {corpus.Description}.", mismatch);
        }
    }

    /// <summary>A CheckpointMismatch error that says which corpus the checkpoint's run trained on, and how to pass it.</summary>
    static PipelineError CheckpointCorpusMismatch(string checkpoint, OptimizerState state, string problem, Exception inner)
    {
        string how = state.CorpusOrigin switch
        {
            { Source: CorpusSource.Files, Files: var files } => $"It was trained on {string.Join(", ", files.Select(Quote))}: resume with Invoke-Training -Resume {Quote(checkpoint)} {FileArguments(files)}.",
            { Source: CorpusSource.Default } => "It was trained on the default corpus: resume without -Path, -LiteralPath or -Text.",
            { Source: CorpusSource.Text } => "It was trained on sentences given as text: give the same ones again, with -Text or on the pipeline.",
            _ => "Give the corpus it was trained on, with -Path, -LiteralPath or -Text (this checkpoint was written before checkpoints named their corpus).",
        };
        return new PipelineError(new ErrorRecord(new ArgumentException($"{problem} {how}", inner), ErrorIds.CheckpointMismatch, ErrorCategory.InvalidArgument, checkpoint));
    }

    /// <summary>Files as arguments to type: -Path, or -LiteralPath when a name holds wildcard characters.</summary>
    static string FileArguments(IReadOnlyList<string> files) =>
        $"-{(files.Any(WildcardPattern.ContainsWildcardCharacters) ? nameof(LiteralPath) : nameof(Path))} {string.Join(", ", files.Select(Quote))}";

    static string Quote(string text) => $"'{text.Replace("'", "''")}'";

    static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    /// <summary>What -WhatIf says: the model, the corpus, the steps, and each file written or truncated.</summary>
    string DescribeRun(Model model, Trainer trainer, CorpusInput corpus, string size, string? logPath, string? checkpointPath, string? checkpoint)
    {
        var c = model.Config;
        string run = checkpoint is null ? "Training" : $"Resuming the run of '{checkpoint}', training";
        string steps = trainer.Finished ? $"no steps (the run took all its {trainer.Options.Steps:N0})" : $"steps {trainer.NextStep:N0} to {trainer.Options.Steps:N0}";
        var files = new List<string>();
        if (logPath is not null)
            files.Add(!File.Exists(logPath) ? $"creating the log '{logPath}'"
                : checkpoint is null ? $"truncating and rewriting the log '{logPath}'"
                : $"appending to the log '{logPath}' (after dropping any rows past step {trainer.NextStep - 1:N0})");
        if (checkpointPath is not null)
            files.Add($"{(File.Exists(checkpointPath) ? "replacing" : "writing")} the checkpoint '{checkpointPath}' every {CheckpointIntervalOf(trainer):N0} steps and at the end");
        return $"{run} a model of {Count(c.Layers, "layer")}, embedding {c.EmbeddingSize}, {Count(c.Heads, "head")}, block {c.BlockSize} and {c.VocabSize:N0} tokens ({model.Parameters.Length:N0} parameters) on {corpus.Description} ({size}{(trainer.Options.Stream ? ", in stream mode" : "")}), {steps}, batch {trainer.Options.BatchSize}; {(files.Count == 0 ? "writing no file" : string.Join(", and ", files))}.";
    }

    /// <summary>
    /// The trainer's steps, each logged, checkpointed when due, written and reported on the pipeline
    /// thread; Ctrl+C (StopProcessing) ends the run at the next step boundary, after which nothing
    /// more goes to the pipeline or the host.
    /// </summary>
    /// <remarks>
    /// A progress bar never stands over rows that print: with one up, the console host asks the
    /// terminal for the cursor position around every line it writes, and a Ctrl+C during one of
    /// those questions hangs it (see <see cref="ProgressBar"/>). When this command is the last of
    /// its pipeline, its rows go to the screen (or to a variable: it cannot tell which); the rows
    /// then show how far training got, and a bar appears only after a quiet second without a row,
    /// and goes before the next row. With -PassThru, or when a later command takes the rows, the
    /// bar shows throughout.
    /// </remarks>
    void Train(Trainer trainer, Model model, TrainingLog? log, string? checkpointPath)
    {
        var bar = new ProgressBar(this, Activity, stopping.Token);
        int checkpointInterval = CheckpointIntervalOf(trainer);
        bool rowsPrint = !PassThru && MyInvocation.PipelinePosition == MyInvocation.PipelineLength;
        var sinceRow = Stopwatch.StartNew();
        var clock = Stopwatch.StartNew();
        long firstStep = trainer.NextStep;
        TrainingStep? last = null;
        try
        {
            Guard(() => trainer.Run(step =>
            {
                last = step;
                bool row = step.Step % LogInterval == 0 || step.ValidationLoss is not null || step.Step == step.Steps;
                if (row) log?.Write(step);
                if (checkpointPath is not null && (step.Step % checkpointInterval == 0 || step.Step == step.Steps))
                    Guard(() => ModelFile.Save(model, checkpointPath, includeOptimizer: true), checkpointPath);
                if (stopping.IsCancellationRequested) return; // the step is kept and logged; the host hears no more
                if (row && !PassThru)
                {
                    if (rowsPrint) bar.Hide();
                    bar.WriteRow(step);
                    sinceRow.Restart();
                }
                if (bar.Due && (!rowsPrint || sinceRow.Elapsed >= QuietBeforeBar))
                    bar.Show($"Step {step.Step:N0} of {step.Steps:N0}, loss {step.Loss:F4}", (int)(100 * step.Step / step.Steps),
                        ProgressBar.SecondsRemaining(clock.Elapsed, step.Step - firstStep + 1, step.Steps - firstStep + 1));
            }, stopping.Token), model);
        }
        finally
        {
            // Stopped (Ctrl+C, a downstream Select-Object -First, an error): the model holds every
            // completed step; keep a checkpoint of exactly that state, and take the bar down.
            if (!trainer.Finished && last is not null && checkpointPath is not null && last.Step % checkpointInterval != 0)
                TrySave(model, checkpointPath);
            bar.Hide();
        }
        if (last is not null && !stopping.IsCancellationRequested)
            WriteVerbose($"Trained to step {last.Step:N0} of {last.Steps:N0}: loss {last.Loss:F4}, {last.TokensPerSecond:N0} tokens/s, {last.ElapsedSeconds:F2} s.");
    }

    /// <summary>The steps between checkpoints of this run: -CheckpointInterval, or a resumed run's own (kept in its checkpoint), or the default.</summary>
    static int CheckpointIntervalOf(Trainer trainer) =>
        trainer.Options.CheckpointInterval > 0 ? trainer.Options.CheckpointInterval : DefaultCheckpointInterval;

    void TrySave(Model model, string path)
    {
        try { ModelFile.Save(model, path, includeOptimizer: true); }
        catch (Exception ex) when (IsReportable(ex)) { WriteWarning($"The final checkpoint could not be written to '{path}': {ex.Message}"); }
    }

    /// <summary>The checkpoint's path and model; options given explicitly must be the ones its run started with.</summary>
    (string Path, Model Model) LoadCheckpoint(TrainingOptions requested)
    {
        string path = Guard(() => ResolveInputPaths(Resume, ErrorIds.ModelFileNotFound).First(), Resume);
        var model = Guard(() => ModelFile.Load(path), path);
        if (model.Optimizer is not { } state)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"The file '{path}' has no optimizer state to resume from; save checkpoints with -CheckpointPath or Save-Model -IncludeOptimizerState."),
                ErrorIds.CheckpointMismatch, ErrorCategory.InvalidData, path));
            throw new UnreachableException();
        }
        foreach (var (option, value, saved) in state.Conflicts(requested))
        {
            var (parameter, given) = TrainingOptionAttribute.ParametersOf(GetType()).Single(p => p.Attribute.Option == option);
            if (MyInvocation.BoundParameters.ContainsKey(parameter.Name))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-{parameter.Name} {given.ToParameter(value)} differs from the checkpoint's {given.ToParameter(saved)}; a resumed run keeps the options it started with."),
                    ErrorIds.CheckpointMismatch, ErrorCategory.InvalidArgument, value));
        }
        WriteVerbose($"Resuming '{path}' at step {state.NextStep + 1:N0} of {state.Options.Steps:N0}.");
        return (path, model);
    }

    Model NewDefaultModel(CorpusInput corpus)
    {
        var tokenizer = Guard(() => corpus.BuildTokenizer(TokenizerKind.Word), corpus.Description);
        var model = Guard(() => MicroGpt.Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, Seed), corpus.Description);
        WriteVerbose($"No -Model given: a new model with the tutorial's shape, vocabulary {tokenizer.VocabSize:N0}, {model.Parameters.Length:N0} parameters.");
        return model;
    }

    (IReadOnlyList<int[]> Training, IReadOnlyList<int[]>? Validation) SplitValidation(int[][] sentences, Model model, int seed)
    {
        if (ValidationPath is not null || ValidationText is not null)
        {
            var held = ReadCorpus(ValidationPath, ValidationText, model.Tokenizer.TokenKind, "the validation text");
            var heldOut = Guard(() => held.Encode(model.Tokenizer), held.Description);
            WarnOfCutSentences(heldOut, model, held.Description, "validation");
            return (sentences, heldOut);
        }
        if (ValidationFraction <= 0) return (sentences, null);
        var (training, validation) = Guard(() => Corpus.HoldOut(sentences, ValidationFraction, seed), ValidationFraction);
        return (training, validation);
    }

    void Refuse(string message, object target) =>
        ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, target));
}
