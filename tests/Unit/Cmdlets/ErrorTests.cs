namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// Every bad input of DESIGN.md: a clear ErrorRecord with an id and category, a message naming the
/// offending value, and nothing changed (weights, files).
/// </summary>
public class ErrorTests
{
    static void CheckError(PowerShellSession.Result result, string id, string command, System.Management.Automation.ErrorCategory category, params string[] named)
    {
        var error = result.Error ?? throw new Xunit.Sdk.XunitException("no error was written");
        Assert.Equal($"{id},MicroGpt.Commands.{command}", error.FullyQualifiedErrorId);
        Assert.Equal(category, error.CategoryInfo.Category);
        foreach (string name in named) Assert.Contains(name, error.Exception.Message);
    }

    [Fact]
    public void AnUnknownWordInTheCorpusNamesTheWordAndTheLineAndChangesNothing()
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("corpus.txt"), ["the cat is big", "", "the zebra is big"]);
        var result = ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Path corpus.txt -Steps 10 -LogPath run.csv");
        Assert.NotNull(result.Terminating); // terminating: a scheduled script stops with a non-zero exit
        CheckError(result, "UnknownToken", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidData, "'zebra'", "Line 3", "corpus.txt");
        CheckUnchanged(ps);
        Assert.False(File.Exists(ps.PathOf("run.csv")));
    }

    [Fact]
    public void AnUnknownWordForAModelOfTheDefaultVocabularySaysHowToBuildOneOnTheCorpus()
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("zoo.txt"), ["the zebra is big", "the yak runs"]);
        var result = ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Path zoo.txt -Steps 10 -LogPath run.csv");
        string suggestion = $"New-Model -Tokenizer (New-Tokenizer -Path '{ps.PathOf("zoo.txt")}')";
        CheckError(result, "UnknownToken", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidData, "'zebra'", "Line 1", "default corpus's vocabulary", suggestion, "or leave out -Model");
        CheckUnchanged(ps);
        Assert.False(File.Exists(ps.PathOf("run.csv")));

        // The suggestion works as written.
        var steps = ps.Run<TrainingStep>($"Invoke-Training -Model ({suggestion}) -Path zoo.txt -Steps 3");
        Assert.Equal(3, steps.Count);

        // A model of another vocabulary gets no such advice: its vocabulary was chosen.
        var other = ps.Run("$m = New-Model -Tokenizer (New-Tokenizer -Text 'the cat is big'); $before = $m.GetWeights(); Invoke-Training -Model $m -Path zoo.txt -Steps 10");
        CheckError(other, "UnknownToken", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidData, "'zebra'");
        Assert.DoesNotContain("New-Tokenizer", other.Error!.Exception.Message);
        CheckUnchanged(ps);
    }

    [Fact]
    public void ResumingWithoutTheCheckpointsCorpusNamesItAndTheCommandThatPassesIt()
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("pets.txt"), ["the cat is big", "the dog runs", "we play in the park"]);
        ps.Run("$m = New-Model -Tokenizer (New-Tokenizer -Path pets.txt) -Layers 1 -EmbeddingSize 8 -Heads 2; Invoke-Training -Model $m -Path pets.txt -Steps 20 -CheckpointPath ck.json | Select-Object -First 10 | Out-Null").ThrowIfFailed();
        byte[] checkpoint = File.ReadAllBytes(ps.PathOf("ck.json"));
        string resume = $"resume with Invoke-Training -Resume '{ps.PathOf("ck.json")}' -Path '{ps.PathOf("pets.txt")}'.";

        // No corpus: the default one, whose first word the checkpoint's vocabulary lacks. Not UnknownToken.
        var none = ps.Run("Invoke-Training -Resume ck.json");
        CheckError(none, "CheckpointMismatch", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument,
            "was trained on another corpus than the default corpus", $"It was trained on '{ps.PathOf("pets.txt")}'", resume);
        // Another corpus in the checkpoint's words: another fingerprint, the same advice.
        var other = ps.Run("Invoke-Training -Resume ck.json -Text 'the cat is big'");
        CheckError(other, "CheckpointMismatch", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument, "other sentences", "the text given", resume);
        Assert.Equal(checkpoint, File.ReadAllBytes(ps.PathOf("ck.json")));
        Assert.Empty(none.Output.Concat(other.Output));

        // The advice runs as written, and the run continues where it stopped.
        string command = System.Text.RegularExpressions.Regex.Match(none.Error!.Exception.Message, "resume with (Invoke-Training .*)\\.$").Groups[1].Value;
        var steps = ps.Run<TrainingStep>(command);
        Assert.Equal(Enumerable.Range(11, 10).Select(i => (long)i), steps.Select(s => s.Step));
    }

    [Theory]
    [InlineData("Invoke-Training -Steps 20 -CheckpointPath ck.json | Out-Null", "Invoke-Training -Resume ck.json -Text 'the cat is big'", "It was trained on the default corpus: resume without -Path, -LiteralPath or -Text.")]
    [InlineData("Invoke-Training -Text 'the cat is big', 'the dog runs' -Steps 20 -CheckpointPath ck.json | Out-Null", "Invoke-Training -Resume ck.json -Text 'the cat is big'", "It was trained on sentences given as text: give the same ones again, with -Text or on the pipeline.")]
    public void ResumingWithAnotherCorpusSaysWhereTheCheckpointsCameFrom(string first, string resume, string advice)
    {
        using var ps = new PowerShellSession();
        ps.Run(first).ThrowIfFailed();
        byte[] checkpoint = File.ReadAllBytes(ps.PathOf("ck.json"));
        CheckError(ps.Run(resume), "CheckpointMismatch", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument, advice);
        Assert.Equal(checkpoint, File.ReadAllBytes(ps.PathOf("ck.json")));
    }

    /// <summary>
    /// tests/Unit/Data/checkpoint-without-corpus-origin.json was written by the module before
    /// checkpoints named their corpus: step 3 of 6 of a run on three sentences given as text
    /// (New-Tokenizer -Text $text | New-Model -EmbeddingSize 4 -Heads 2 -Layers 1 -BlockSize 4 -Seed 7).
    /// </summary>
    [Fact]
    public void ACheckpointWrittenBeforeCheckpointsNamedTheirCorpusStillResumesExactly()
    {
        using var ps = new PowerShellSession();
        File.Copy(Path.Combine(PowerShellSession.RepoRoot, "tests", "Unit", "Data", "checkpoint-without-corpus-origin.json"), ps.PathOf("old.json"));
        byte[] before = File.ReadAllBytes(ps.PathOf("old.json"));
        CheckError(ps.Run("Invoke-Training -Resume old.json"), "CheckpointMismatch", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument,
            "Give the corpus it was trained on, with -Path, -LiteralPath or -Text (this checkpoint was written before checkpoints named their corpus).");
        Assert.Equal(before, File.ReadAllBytes(ps.PathOf("old.json")));

        var resumed = ps.Run("""
            $text = 'the cat sat', 'the dog ran', 'a cat ran'
            $resumed = Invoke-Training -Resume old.json -Text $text -PassThru
            $whole = New-Tokenizer -Text $text | New-Model -EmbeddingSize 4 -Heads 2 -Layers 1 -BlockSize 4 -Seed 7
            Invoke-Training -Model $whole -Text $text -Steps 6 | Out-Null
            $resumed.Steps
            [Linq.Enumerable]::SequenceEqual([float[]]$resumed.GetWeights(), [float[]]$whole.GetWeights())
            (Get-Content old.json -Raw | ConvertFrom-Json).optimizer.corpusOrigin.source
            """);
        resumed.ThrowIfFailed();
        Assert.Equal([6L, true, "text"], resumed.Output.Select(o => o.BaseObject));
    }

    [Fact]
    public void SentencesLongerThanTheBlockSizeAreReportedWithTheirCountAndTheLongest()
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("lines.txt"), ["abcdefghijklmnopqrstuvwxyzabcdefghijklmn", "short", "abcdefghijklmnopqrst"]);
        var result = ps.Run("""
            $m = New-Tokenizer -Path lines.txt -Kind Character | New-Model -BlockSize 16 -Layers 1 -EmbeddingSize 8 -Heads 2
            Invoke-Training -Model $m -Path lines.txt -Steps 2 | Out-Null
            $m | Measure-Model -Path lines.txt | Out-Null
            """);
        result.ThrowIfFailed();
        Assert.Equal(2, result.Warnings.Count);
        Assert.All(result.Warnings, w =>
        {
            Assert.Contains($"2 of the 3 sentences of '{ps.PathOf("lines.txt")}' are longer than the model's block size of 16", w);
            Assert.Contains("covers only their first 16 characters, not their end.", w);
            Assert.Contains("The longest has 40 characters; a model made with New-Model -BlockSize 41 would see whole sentences.", w);
        });
        Assert.StartsWith("2 of the 3", result.Warnings[0]);

        // A block that fits every sentence (40 characters: 41 predictions) warns of nothing.
        var fits = ps.Run("$m = New-Tokenizer -Path lines.txt -Kind Character | New-Model -BlockSize 41 -Layers 1 -EmbeddingSize 8 -Heads 2; Invoke-Training -Model $m -Path lines.txt -Steps 2 | Out-Null");
        fits.ThrowIfFailed();
        Assert.Empty(fits.Warnings);
        // One word too many for a block of 4: "the cat is big" has 4 words and 5 predictions.
        var words = ps.Run("Invoke-Training -Model (New-Model -BlockSize 4 -Layers 1 -EmbeddingSize 8 -Heads 2) -Text 'the cat is big', 'the dog runs' -Steps 1 | Out-Null");
        Assert.Equal("1 of the 2 sentences of the text given are longer than the model's block size of 4 and are cut: training covers only their first 4 words, not their end. The longest has 4 words; a model made with New-Model -BlockSize 5 would see whole sentences.", Assert.Single(words.Warnings));
    }

    [Fact]
    public void AnEmptyCorpusIsRefused()
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("empty.txt"), ["", "   ", ""]);
        var result = ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Path empty.txt");
        CheckError(result, "InvalidCorpus", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidData, "empty.txt", "no sentences");
        CheckUnchanged(ps);
        CheckError(ps.Run("New-Tokenizer -Path empty.txt"), "InvalidCorpus", "NewTokenizerCommand", System.Management.Automation.ErrorCategory.InvalidData, "no sentences");
    }

    [Fact]
    public void AMissingCorpusFileIsNamed()
    {
        using var ps = new PowerShellSession();
        CheckError(ps.Run("New-Tokenizer -Path nowhere.txt"), "CorpusNotFound", "NewTokenizerCommand", System.Management.Automation.ErrorCategory.ObjectNotFound, "nowhere.txt");
        CheckError(ps.Run("Invoke-Training -Path *.nothing"), "CorpusNotFound", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.ObjectNotFound, "*.nothing");
        CheckError(ps.Run("Invoke-Training -LiteralPath 'no[1].txt'"), "CorpusNotFound", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.ObjectNotFound, ps.PathOf("no[1].txt"));
        CheckError(ps.Run("Measure-Model -Model (New-Model) -LiteralPath gone.txt"), "CorpusNotFound", "MeasureModelCommand", System.Management.Automation.ErrorCategory.ObjectNotFound, "gone.txt");
    }

    [Fact]
    public void SafetensorsFilesAreRefusedForOptimizerState()
    {
        using var ps = new PowerShellSession();
        CheckError(ps.Run("New-Model -Layers 1 | Save-Model m.safetensors -IncludeOptimizerState"), "InvalidConfiguration", "SaveModelCommand",
            System.Management.Automation.ErrorCategory.InvalidArgument, ".json");
        CheckError(ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Steps 5 -CheckpointPath ck.safetensors"), "InvalidConfiguration", "InvokeTrainingCommand",
            System.Management.Automation.ErrorCategory.InvalidArgument, "ck.safetensors");
        CheckUnchanged(ps);
        Assert.Empty(Directory.GetFileSystemEntries(ps.Folder));
    }

    [Fact]
    public void NoClobberGuardsTheSafetensorsConfigFileToo()
    {
        using var ps = new PowerShellSession();
        File.WriteAllText(ps.PathOf("m.config.json"), "mine");
        CheckError(ps.Run("New-Model -Layers 1 | Save-Model m.safetensors -NoClobber"), "ModelFileExists", "SaveModelCommand",
            System.Management.Automation.ErrorCategory.ResourceExists, "m.config.json");
        Assert.Equal("mine", File.ReadAllText(ps.PathOf("m.config.json")));
        Assert.False(File.Exists(ps.PathOf("m.safetensors")));
    }

    [Theory]
    [InlineData("-EmbeddingSize 30 -Heads 4", "30", "4 heads")]
    [InlineData("-EmbeddingSize 65536 -Layers 1024", "65536", "parameters")]
    public void SizesThatDoNotFitAreRefused(string arguments, string value, string reason)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run($"New-Model {arguments}");
        CheckError(result, "InvalidConfiguration", "NewModelCommand", System.Management.Automation.ErrorCategory.InvalidArgument, value, reason);
        Assert.Empty(result.Output);
    }

    [Theory]
    [InlineData("New-Model -Layers 0", "Layers", "0")]
    [InlineData("New-Model -EmbeddingSize -8", "EmbeddingSize", "-8")]
    [InlineData("Invoke-Training -Steps 0", "Steps", "0")]
    [InlineData("Invoke-Training -LearningRate 2", "LearningRate", "2")]
    [InlineData("Invoke-Training -Beta1 1.5", "Beta1", "1.5")]
    [InlineData("Invoke-Training -Beta2 -0.1", "Beta2", "-0.1")]
    [InlineData("Invoke-Generation -TopP 1.5", "TopP", "1.5")]
    public void ValuesOutOfRangeAreRefusedByParameterValidation(string script, string parameter, string value)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run(script);
        Assert.StartsWith($"ParameterArgumentValidationError,MicroGpt.Commands.", result.Error!.FullyQualifiedErrorId);
        Assert.Contains(parameter, result.Error.Exception.Message + result.Error.ToString());
        Assert.Contains(value, result.Error.Exception.Message);
    }

    /// <summary>
    /// The open ends of the engine's intervals (TrainingOptions.Validate, SamplingOptions.Validate):
    /// ValidateRange includes both ends, and let these through to the engine.
    /// </summary>
    [Theory]
    [InlineData("Invoke-Training -Model $m -Steps 5 -LearningRate 0", "LearningRate", "0", "greater than 0")]
    [InlineData("Invoke-Training -Model $m -Steps 5 -Beta1 1", "Beta1", "1", "less than 1")]
    [InlineData("Invoke-Training -Model $m -Steps 5 -Beta2 1", "Beta2", "1", "less than 1")]
    [InlineData("Invoke-Training -Model $m -Steps 5 -Epsilon 0", "Epsilon", "0", "greater than 0")]
    [InlineData("Invoke-Training -Model $m -Steps 5 -LearningRate NaN", "LearningRate", "NaN", "greater than 0")]
    [InlineData("Invoke-Generation -Model $m -TopP 0", "TopP", "0", "greater than 0")]
    public void RatesAtTheOpenEndsAreRefusedByParameterValidationAndChangeNothing(string command, string parameter, string value, string rule)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run($"$m = New-Model; $before = $m.GetWeights(); {command}");
        Assert.Equal($"ParameterArgumentValidationError,MicroGpt.Commands.{(command.StartsWith("Invoke-Training") ? "InvokeTrainingCommand" : "InvokeGenerationCommand")}", result.Error!.FullyQualifiedErrorId);
        Assert.Contains($"'{parameter}'", result.Error.Exception.Message);
        Assert.Contains($"The argument {value} ", result.Error.Exception.Message);
        Assert.Contains(rule, result.Error.Exception.Message);
        Assert.Empty(result.Output);
        CheckUnchanged(ps);
    }

    /// <summary>The closed ends stay open to use: the intervals are not narrower than the engine's.</summary>
    [Theory]
    [InlineData("-LearningRate 1")]
    [InlineData("-Beta1 0")]
    [InlineData("-Beta2 0")]
    [InlineData("-Epsilon 1")]
    [InlineData("-ValidationFraction 0")]
    public void RatesAtTheClosedEndsTrain(string arguments)
    {
        using var ps = new PowerShellSession();
        var steps = ps.Run<TrainingStep>($"Invoke-Training -Model (New-Model -Layers 1 -EmbeddingSize 8 -Heads 2) -Steps 2 {arguments}");
        Assert.Equal([1L, 2], steps.Select(s => s.Step));
    }

    [Fact]
    public void ANonFiniteLossStopsAtItsStepKeepsTheLastGoodWeightsAndTheLog()
    {
        using var ps = new PowerShellSession();
        // Finite weights whose logits overflow: the loss of the first step is not finite.
        var result = ps.Run("""
            $m = New-Model
            Invoke-Training -Model $m -Steps 3 | Out-Null
            $weights = $m.GetWeights()
            $head = ($m.VocabSize + $m.BlockSize) * $m.EmbeddingSize # the output head follows the two embeddings
            for ($i = 0; $i -lt $m.EmbeddingSize; $i++) { $weights[$head + $i] = [float]::MaxValue }
            $m.SetWeights($weights)
            $before = $m.GetWeights()
            Invoke-Training -Model $m -Steps 10 -LogPath run.csv
            """);
        Assert.NotNull(result.Terminating);
        CheckError(result, "TrainingDiverged", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidResult, "step 1");
        CheckUnchanged(ps);
        Assert.Single(File.ReadAllLines(ps.PathOf("run.csv"))); // the header: no step completed
    }

    [Fact]
    public void MissingCorruptTruncatedAndWrongShapeModelFilesAreNamedAndGiveNoModel()
    {
        using var ps = new PowerShellSession();
        ps.Run("New-Model -Layers 1 -EmbeddingSize 8 -Heads 2 | Save-Model -Path good.json").ThrowIfFailed();
        string good = File.ReadAllText(ps.PathOf("good.json"));
        File.WriteAllText(ps.PathOf("truncated.json"), good[..(good.Length / 2)]);
        File.WriteAllText(ps.PathOf("text.json"), "hello, I am not a model");
        File.WriteAllText(ps.PathOf("shape.json"), good.Replace("\"nLayer\":1", "\"nLayer\":2"));
        File.WriteAllText(ps.PathOf("nan.json"), good.Replace("\"weights\":[", "\"weights\":[NaN,"));
        File.WriteAllText(ps.PathOf("version.json"), good.Replace("\"formatVersion\":2", "\"formatVersion\":99"));

        CheckError(ps.Run("Import-Model missing.json"), "ModelFileNotFound", "ImportModelCommand", System.Management.Automation.ErrorCategory.ObjectNotFound, "missing.json");
        foreach (var (file, problem) in new[] { ("truncated.json", "not valid JSON"), ("text.json", "not a model file"), ("shape.json", "weights has"), ("nan.json", "not valid JSON"), ("version.json", "formatVersion 99") })
        {
            var result = ps.Run($"Import-Model {file}");
            CheckError(result, "ModelFileCorrupt", "ImportModelCommand", System.Management.Automation.ErrorCategory.InvalidData, file, problem);
            Assert.Empty(result.Output);
        }
        // One bad file does not stop the others.
        Assert.Single(ps.Run("'truncated.json', 'good.json' | Import-Model").Output);
    }

    [Fact]
    public void AVocabularyThatDoesNotMatchTheModelIsRefused()
    {
        using var ps = new PowerShellSession();
        ps.Run("New-Model -Layers 1 | Save-Model -Path m.json").ThrowIfFailed();
        // A file in the tutorial's own format: config and weights only, no vocabulary.
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(ps.PathOf("m.json")))!.AsObject();
        File.WriteAllText(ps.PathOf("tutorial.json"), new System.Text.Json.Nodes.JsonObject { ["config"] = json["config"]!.DeepClone(), ["weights"] = json["weights"]!.DeepClone() }.ToJsonString());

        CheckError(ps.Run("Import-Model tutorial.json"), "ModelFileCorrupt", "ImportModelCommand", System.Management.Automation.ErrorCategory.InvalidData, "no vocabulary");
        CheckError(ps.Run("Import-Model tutorial.json -Tokenizer ('the cat', 'a dog' | New-Tokenizer)"), "VocabularyMismatch", "ImportModelCommand",
            System.Management.Automation.ErrorCategory.InvalidArgument, "597 tokens", "has 5");
        CheckError(ps.Run("Import-Model m.json -Tokenizer ('the cat', 'a dog' | New-Tokenizer)"), "VocabularyMismatch", "ImportModelCommand",
            System.Management.Automation.ErrorCategory.InvalidArgument, "597 word tokens", "5 word tokens");
        Assert.Single(ps.Run<Model>("Import-Model tutorial.json -Tokenizer (New-Tokenizer)"));
    }

    [Fact]
    public void UnwritablePathsAreNamedAndLeaveNothingBehind()
    {
        using var ps = new PowerShellSession();
        var save = ps.Run("New-Model -Layers 1 | Save-Model -Path ./no/such/folder/m.json");
        CheckError(save, "FileWriteFailed", "SaveModelCommand", System.Management.Automation.ErrorCategory.WriteError, "folder");
        var log = ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Steps 5 -LogPath ./no/such/folder/run.csv");
        CheckError(log, "FileWriteFailed", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.WriteError, "run.csv");
        CheckUnchanged(ps);
        Assert.Empty(Directory.GetFileSystemEntries(ps.Folder));
    }

    [Fact]
    public void AnUnwritableCheckpointIsRefusedBeforeTrainingAndALogIsNotTruncatedByARefusal()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Steps 20 -CheckpointPath ./no/such/folder/ck.json -CheckpointInterval 10");
        CheckError(result, "FileWriteFailed", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.WriteError, "folder");
        CheckUnchanged(ps);

        File.WriteAllText(ps.PathOf("run.csv"), "keep me");
        var refused = ps.Run("$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Text 'the cat is big' -ValidationFraction 0.5 -Steps 5 -LogPath run.csv");
        CheckError(refused, "InvalidConfiguration", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument, "ValidationFraction");
        Assert.Equal("keep me", File.ReadAllText(ps.PathOf("run.csv")));
        Assert.Null(((Model)ps.Variable("m")!).Optimizer); // not even the optimizer state was touched
    }

    [Fact]
    public void ResumingFromAMissingOrStatelessFileIsNamed()
    {
        using var ps = new PowerShellSession();
        CheckError(ps.Run("Invoke-Training -Resume nope.json"), "ModelFileNotFound", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.ObjectNotFound, "nope.json");
        ps.Run("New-Model -Layers 1 | Save-Model -Path plain.json").ThrowIfFailed();
        CheckError(ps.Run("Invoke-Training -Resume plain.json"), "CheckpointMismatch", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidData, "plain.json", "no optimizer state");
        ps.Run("Invoke-Training -Steps 10 -CheckpointPath ck.json | Out-Null").ThrowIfFailed();
        CheckError(ps.Run("Invoke-Training -Resume ck.json -LearningRate 0.5"), "CheckpointMismatch", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument, "LearningRate", "0.5", "0.01");
        var finished = ps.Run("Invoke-Training -Resume ck.json");
        Assert.Empty(finished.Output);
        Assert.Contains(finished.Warnings, w => w.Contains("nothing left to train"));
    }

    [Fact]
    public void AModelBeingTrainedElsewhereIsBusy()
    {
        using var ps = new PowerShellSession();
        // Another run holds the model: an engine trainer made from PowerShell, as a parallel job would.
        var result = ps.Run("""
            $m = New-Model
            $other = [MicroGpt.Trainer]::new($m, [int[][]]@(, [int[]](596, 1, 596)), [MicroGpt.TrainingOptions]::new(), $null, $null)
            $before = $m.GetWeights()
            try { Invoke-Training -Model $m -Steps 5 } finally { $other.Dispose() }
            """);
        CheckError(result, "ModelBusy", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.ResourceBusy, "already being trained");
        CheckUnchanged(ps);
        Assert.Single(ps.Run<TrainingStep>("Invoke-Training -Model $m -Steps 1")); // free again
    }

    [Fact]
    public void AnExplicitNullModelIsRefusedRatherThanReplacedByANewOne()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("$m = Import-Model missing.json -ErrorAction SilentlyContinue; Invoke-Training -Model $m -Steps 3");
        Assert.StartsWith("ParameterArgumentValidationError,MicroGpt.Commands.InvokeTrainingCommand", result.Error!.FullyQualifiedErrorId);
        Assert.Empty(result.Output);
        Assert.StartsWith("ParameterArgumentValidationError,MicroGpt.Commands.InvokeGenerationCommand", ps.Run("Invoke-Generation -Model $null").Error!.FullyQualifiedErrorId);
    }

    [Fact]
    public void ChartRowsThatAreNotFiniteNumbersAreNamedAndLeftOut()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("[pscustomobject]@{ Step = '1'; Loss = 'NaN' }, [pscustomobject]@{ Step = 'two'; Loss = '3' }, [pscustomobject]@{ Step = '3'; Loss = '2.5' }, [pscustomobject]@{ Step = '4'; Loss = '2' } | Export-LossChart c.svg");
        Assert.Equal(2, result.Errors.Count);
        Assert.All(result.Errors, e => Assert.Equal("InvalidChartData,MicroGpt.Commands.ExportLossChartCommand", e.FullyQualifiedErrorId));
        Assert.Contains("Loss=NaN", result.Errors[0].Exception.Message);
        Assert.Contains("<polyline", File.ReadAllText(ps.PathOf("c.svg")));
        CheckError(ps.Run("@() | Export-LossChart empty.svg"), "InvalidChartData", "ExportLossChartCommand", System.Management.Automation.ErrorCategory.InvalidData, "nothing to draw");
        Assert.False(File.Exists(ps.PathOf("empty.svg")));
    }

    [Theory]
    [InlineData("$m | Save-Model m.json", "SaveModelCommand")]
    [InlineData("$m | Save-Model m.safetensors", "SaveModelCommand")]
    [InlineData("$m | Measure-Model -Text 'the cat is big'", "MeasureModelCommand")]
    [InlineData("$m | Invoke-Generation -Seed 1", "InvokeGenerationCommand")]
    [InlineData("$m | Invoke-Training -Steps 2 -LogPath run.csv", "InvokeTrainingCommand")]
    public void AModelWithNonFiniteWeightsIsRefusedByEveryCommandThatUsesItsWeights(string command, string commandClass)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run($"$m = New-Model -Layers 1; $w = $m.GetWeights(); $w[5] = [float]::NaN; $m.SetWeights($w); $before = $m.GetWeights(); {command}");
        CheckError(result, "ModelNotFinite", commandClass, System.Management.Automation.ErrorCategory.InvalidData, "wte[0, 5] is NaN");
        Assert.Empty(result.Output);
        Assert.Empty(Directory.GetFileSystemEntries(ps.Folder));
        Assert.Equal(((float[])ps.Variable("before")!).Select(BitConverter.SingleToInt32Bits), ((Model)ps.Variable("m")!).Parameters.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData("-Epsilon 1e-50", "Epsilon", "1E-50")]
    [InlineData("-Epsilon 1e-40", "Epsilon", "1E-40")]
    [InlineData("-LearningRate 1e-50", "LearningRate", "1E-50")]
    [InlineData("-Beta2 0.999999999", "Beta2", "0.999999999")]
    public void OptionsThatCannotWorkInFloat32AreRefusedUpFrontNamingTheValue(string arguments, string option, string value)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run($"$m = New-Model; $before = $m.GetWeights(); Invoke-Training -Model $m -Steps 5 {arguments}");
        CheckError(result, "InvalidConfiguration", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.InvalidArgument, option, value, "float32");
        CheckUnchanged(ps);
        Assert.Equal(0, ((Model)ps.Variable("m")!).Summary.Steps);
    }

    [Fact]
    public void AFolderGivenAsACorpusIsAReadError()
    {
        using var ps = new PowerShellSession();
        Directory.CreateDirectory(ps.PathOf("adir"));
        CheckError(ps.Run("Invoke-Training -Path adir"), "CorpusUnreadable", "InvokeTrainingCommand", System.Management.Automation.ErrorCategory.ReadError, "adir");
    }

    /// <summary>The session's $m still has the weights copied into $before.</summary>
    static void CheckUnchanged(PowerShellSession ps)
    {
        var model = (Model)ps.Variable("m")!;
        var before = (float[])ps.Variable("before")!;
        Assert.Equal(before, model.Parameters);
    }
}
