using System.Management.Automation;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>Invoke-Training as users run it: typed rows, logs, validation, progress, Ctrl+C.</summary>
public class TrainingCmdletTests
{
    [Fact]
    public void WithNoInputItTrainsTheDefaultModelAndWritesOneTypedFlatRowPerStep()
    {
        using var ps = new PowerShellSession();
        var steps = ps.Run<TrainingStep>("Invoke-Training -Steps 300");
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(300, s.Steps));
        Assert.True(steps.Take(30).Average(s => s.Loss) > steps.TakeLast(30).Average(s => s.Loss) + 1);

        // Flat for Export-Csv: the same scalar properties on every object, TrainingStep's own in the order it declares them
        // (OutputObjectTests pins that order).
        var declared = typeof(TrainingStep).GetProperties().OrderBy(p => p.MetadataToken).Select(p => p.Name);
        var row = ps.Run("Invoke-Training -Steps 2 | ForEach-Object { $_.PSObject.Properties.Name -join ',' }").Output;
        Assert.Equal(2, row.Count);
        Assert.All(row, r => Assert.Equal(string.Join(",", declared), r.ToString()));
        var types = ps.Run("(Invoke-Training -Steps 1).PSObject.Properties | ForEach-Object { $_.TypeNameOfValue }").Output.Select(o => o.ToString());
        Assert.All(types, t => Assert.Contains(t, new[] { "System.Int64", "System.Double", "System.Nullable`1[[System.Double, System.Private.CoreLib, Version=10.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e]]", "System.Nullable`1[System.Double]" }));
    }

    [Fact]
    public void AModelFromThePipelineIsTrainedInPlace()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("$m = New-Model -Seed 3; $before = $m.GetWeights(); $m | Invoke-Training -Steps 50 -LogInterval 10; $m.Steps; [Linq.Enumerable]::SequenceEqual($before, $m.GetWeights())");
        result.ThrowIfFailed();
        Assert.Equal([10L, 20, 30, 40, 50], result.Output.Take(5).Select(o => ((TrainingStep)o.BaseObject).Step));
        Assert.Equal(50L, result.Output[5].BaseObject);
        Assert.Equal(false, result.Output[6].BaseObject);
    }

    [Fact]
    public void WhatIfTrainsNothingAndCreatesOrTouchesNoFile()
    {
        using var ps = new PowerShellSession();
        File.WriteAllText(ps.PathOf("run.csv"), "the log of an earlier run");
        var result = ps.Run("""
            $m = New-Model -Layers 1 -EmbeddingSize 8 -Heads 2
            $before = $m.GetWeights()
            Invoke-Training -Model $m -Steps 50 -LogPath run.csv -CheckpointPath ck.json -PassThru -WhatIf
            $m.Steps
            [Linq.Enumerable]::SequenceEqual([float[]]$before, [float[]]$m.GetWeights())
            """);
        result.ThrowIfFailed();
        Assert.Equal([0L, true], result.Output.Select(o => o.BaseObject)); // no model, no step on the pipeline
        Assert.Null(((Model)ps.Variable("m")!).Optimizer);
        Assert.Equal("the log of an earlier run", File.ReadAllText(ps.PathOf("run.csv")));
        Assert.Equal(["run.csv"], Directory.EnumerateFileSystemEntries(ps.Folder).Select(Path.GetFileName));
        Assert.Empty(result.Progress);

        // Resuming: the checkpoint and the log it would append to stay as they are.
        ps.Run("Invoke-Training -Steps 40 -CheckpointPath ck.json -LogPath run.csv | Select-Object -First 20 | Out-Null").ThrowIfFailed();
        byte[] checkpoint = File.ReadAllBytes(ps.PathOf("ck.json")), log = File.ReadAllBytes(ps.PathOf("run.csv"));
        var resumed = ps.Run("Invoke-Training -Resume ck.json -LogPath run.csv -WhatIf");
        resumed.ThrowIfFailed();
        Assert.Empty(resumed.Output);
        Assert.Equal(checkpoint, File.ReadAllBytes(ps.PathOf("ck.json")));
        Assert.Equal(log, File.ReadAllBytes(ps.PathOf("run.csv")));
    }

    [Fact]
    public void NothingPromptsUnlessConfirmPreferenceIsMediumOrLower()
    {
        using var ps = new PowerShellSession();
        var attribute = Assert.IsType<CmdletAttribute>(Assert.Single(ps.Run("(Get-Command Invoke-Training).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)").Output).BaseObject);
        Assert.True(attribute.SupportsShouldProcess);
        Assert.Equal(ConfirmImpact.Medium, attribute.ConfirmImpact);
        // The default preference (High) trains without asking. At Medium it asks, and this host, which
        // cannot prompt, refuses: so the first run proves that no prompt was even attempted.
        Assert.Equal(3, ps.Run<TrainingStep>("$ConfirmPreference = 'High'; Invoke-Training -Steps 3").Count);
        var asked = ps.Run("$ConfirmPreference = 'Medium'; Invoke-Training -Steps 3");
        Assert.NotNull(asked.Error);
        Assert.Empty(asked.Output);
    }

    [Fact]
    public void PassThruWritesTheTrainedModelInsteadOfTheSteps()
    {
        using var ps = new PowerShellSession();
        var model = Assert.Single(ps.Run<Model>("Invoke-Training -Steps 20 -PassThru"));
        Assert.Equal(20, model.Summary.Steps);
    }

    [Fact]
    public void LogPathWritesTheSameRowsAsTheObjectsInTheInvariantCulture()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("[cultureinfo]::CurrentCulture = 'de-DE'; $steps = Invoke-Training -Steps 40 -LogInterval 10 -LogPath run.csv -ValidationText 'the cat is big' -ValidationInterval 20; $steps");
        result.ThrowIfFailed();
        var steps = result.Output.Select(o => (TrainingStep)o.BaseObject).ToList();
        Assert.Equal([10L, 20, 30, 40], steps.Select(s => s.Step));
        var lines = File.ReadAllLines(ps.PathOf("run.csv"));
        // PowerShell reads the log as the table its own ConvertTo-Csv makes of the rows in the invariant culture: every column,
        // in its order, every digit (it writes a missing validation loss unquoted, the log as "": both are empty cells).
        var table = ps.Run("""
            [cultureinfo]::CurrentCulture = [cultureinfo]::InvariantCulture
            filter Cells { ($_.PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ',' }
            ($steps | ConvertTo-Csv | ConvertFrom-Csv | Cells) -join "`n"
            (Import-Csv run.csv | Cells) -join "`n"
            ($steps | ConvertTo-Csv)[0]
            """).Output.Select(o => o.ToString()).ToList();
        Assert.Equal(3, table.Count);
        Assert.Equal(table[0], table[1]);
        Assert.Equal(table[2], lines[0]);
        Assert.Equal(steps.Count, lines.Length - 1);
        for (int i = 0; i < steps.Count; i++)
        {
            var cells = lines[i + 1].Split(',').Select(c => c.Trim('"')).ToArray();
            Assert.Equal(steps[i].Step.ToString(), cells[0]);
            Assert.Equal(steps[i].Loss, double.Parse(cells[2], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(steps[i].ValidationLoss is null ? "" : steps[i].ValidationLoss!.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), cells[8]);
        }
        Assert.Equal([null, 20L, null, 40L], steps.Select(s => s.ValidationLoss is null ? (long?)null : s.Step));
    }

    [Fact]
    public void ValidationFractionHoldsOutSentencesAndFillsValidationLoss()
    {
        using var ps = new PowerShellSession();
        var steps = ps.Run<TrainingStep>("Invoke-Training -Steps 200 -ValidationFraction 0.01 -ValidationInterval 100");
        Assert.Equal([100L, 200], steps.Where(s => s.ValidationLoss is not null).Select(s => s.Step));
        Assert.True(steps[^1].ValidationLoss < steps[99].ValidationLoss);
        var verbose = ps.Run("Invoke-Training -Steps 1 -ValidationFraction 0.01 -Verbose").Verbose;
        Assert.Contains(verbose, v => v.Contains("29,700 sentences") && v.Contains("validating on 300"));
    }

    [Fact]
    public void NanoGptsOptionsReachTheEngineAndItsCheckpoints()
    {
        using var ps = new PowerShellSession();
        var steps = ps.Run<TrainingStep>("$m = New-Model -Init Gpt2 -Seed 7; Invoke-Training -Model $m -Steps 12 -BatchSize 4 -LearningRate 0.003 -WeightDecay 0.1 -WarmupSteps 3 -Schedule Cosine -MinLearningRate 0.0003 -GradientClip 0.5 -CheckpointPath ck.json");

        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        var model = Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, 7, Initialization.Gpt2);
        var options = new TrainingOptions
        {
            Steps = 12, BatchSize = 4, LearningRate = 0.003, WeightDecay = 0.1, WarmupSteps = 3, Schedule = Schedule.Cosine, MinLearningRate = 0.0003, GradientClip = 0.5,
        };
        var expected = new List<TrainingStep>();
        using (var trainer = new Trainer(model, Corpus.Encode(tokenizer, lines), options)) trainer.Run(expected.Add);

        Assert.Equal(expected.Select(s => (s.Loss, s.GradNorm, s.LearningRate)), steps.Select(s => (s.Loss, s.GradNorm, s.LearningRate)));
        Assert.Equal(0.0003, steps[^1].LearningRate, 1e-18); // the cosine ends at the minimum
        Assert.Contains(steps, s => s.GradNorm > 0.5);         // the norm before clipping
        Assert.Equal(model.Parameters, ((Model)ps.Variable("m")!).Parameters);
        Assert.Equal(options with { CheckpointInterval = 1000 }, ModelFile.Load(ps.PathOf("ck.json")).Optimizer!.Options); // -CheckpointPath keeps its default interval
    }

    [Fact]
    public void ThreadCountDoesNotChangeTheNumbers()
    {
        using var ps = new PowerShellSession();
        var one = ps.Run<TrainingStep>("Invoke-Training -Steps 30 -BatchSize 4 -ThreadCount 1");
        var two = ps.Run<TrainingStep>("Invoke-Training -Steps 30 -BatchSize 4 -ThreadCount 2");
        Assert.Equal(one.Select(s => s.Loss), two.Select(s => s.Loss));
    }

    [Fact]
    public void ParallelTrainingsHaveDistinctActivitiesAndDoNotInterfere()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("""
            $a = New-Model -Seed 1; $b = New-Model -Seed 1
            $module = (Get-Module MicroGpt).Path
            $a, $b | ForEach-Object -Parallel { Import-Module $using:module; Invoke-Training -Model $_ -Steps 5000 -ThreadCount 1 | Select-Object -Last 1 } -ThrottleLimit 2
            [Linq.Enumerable]::SequenceEqual($a.GetWeights(), $b.GetWeights())
            """);
        result.ThrowIfFailed();
        Assert.Equal(2, result.Output.Count(o => o.BaseObject is TrainingStep));
        Assert.Equal(true, result.Output[^1].BaseObject); // the same seeds trained side by side give the same model
        Assert.Equal(2, result.Progress.Where(p => p.RecordType == ProgressRecordType.Completed).Select(p => p.ActivityId).Distinct().Count());
    }

    [Fact]
    public void ForEachObjectParallelAndThreadJobsTrainIndependentModelsSideBySideAsSequentialTrainingDoes()
    {
        using var ps = new PowerShellSession();
        // Each run waits at a barrier until all three are running, so they train at the same time.
        var result = ps.Run("""
            $module = (Get-Module MicroGpt).Path
            $runs = @{ Seed = 1; EmbeddingSize = 16; BatchSize = 1 }, @{ Seed = 2; EmbeddingSize = 32; BatchSize = 4 }, @{ Seed = 3; EmbeddingSize = 24; BatchSize = 2 }
            $train = '
                param($Run, $Barrier)
                $together = if ($Barrier) { $Barrier.SignalAndWait([TimeSpan]::FromSeconds(60)) } else { $true }
                $model = New-Model -Layers 1 -EmbeddingSize $Run.EmbeddingSize -Seed $Run.Seed
                $null = Invoke-Training -Model $model -Steps 300 -BatchSize $Run.BatchSize -Seed $Run.Seed
                [pscustomobject]@{ Seed = $Run.Seed; Model = $model; Together = $together }'
            $sequential = foreach ($run in $runs) { & ([scriptblock]::Create($train)) $run $null }

            $barrier = [Threading.Barrier]::new(3)
            $parallel = $runs | ForEach-Object -ThrottleLimit 3 -Parallel {
                Import-Module $using:module
                & ([scriptblock]::Create($using:train)) $_ $using:barrier
            }

            $barrier = [Threading.Barrier]::new(3)
            $jobs = foreach ($run in $runs) {
                Start-ThreadJob -ThrottleLimit 3 -ArgumentList $module, $train, $run, $barrier -ScriptBlock {
                    param($Module, $Train, $Run, $Barrier)
                    Import-Module $Module
                    & ([scriptblock]::Create($Train)) $Run $Barrier
                }
            }
            $threaded = $jobs | Receive-Job -Wait -AutoRemoveJob
            """);
        result.ThrowIfFailed();
        var sequential = Runs(ps, "sequential");
        foreach (string side in new[] { "parallel", "threaded" })
        {
            var runs = Runs(ps, side);
            Assert.All(runs, r => Assert.True(r.Together, $"{side}: run {r.Seed} did not meet the others"));
            Assert.Equal([1, 2, 3], runs.Select(r => r.Seed));
            for (int i = 0; i < runs.Count; i++)
            {
                Assert.NotSame(sequential[i].Model, runs[i].Model);
                Assert.Equal(300, runs[i].Model.Steps);
                Assert.Equal(sequential[i].Model.Loss, runs[i].Model.Loss);
                Assert.Equal(sequential[i].Model.Parameters.Select(BitConverter.SingleToInt32Bits), runs[i].Model.Parameters.Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    /// <summary>The runs a script left in a variable, by seed.</summary>
    static List<(int Seed, Model Model, bool Together)> Runs(PowerShellSession ps, string variable)
    {
        static object Value(PSObject run, string name) => run.Properties[name].Value is PSObject wrapped ? wrapped.BaseObject : run.Properties[name].Value;
        return ((object[])ps.Variable(variable)!).Cast<PSObject>()
            .Select(r => ((int)Value(r, "Seed"), (Model)Value(r, "Model"), (bool)Value(r, "Together")))
            .OrderBy(r => r.Item1).ToList();
    }

    [Fact]
    public void StoppingThePipelineKeepsEveryCompletedStepAndTheModelTrainsOnAfterwards()
    {
        using var ps = new PowerShellSession();
        ps.Run("$m = New-Model").ThrowIfFailed();
        var stopped = ps.Run("Invoke-Training -Model $m -Steps 1000000 -LogPath run.csv", stopAfter: 300);
        Assert.True(stopped.Stopped);
        Assert.Empty(stopped.Progress); // rows at the end of the pipeline print in a console: no bar over them
        long steps = (long)ps.Run("$m.Steps").Output[0].BaseObject;
        Assert.InRange(steps, 300, 1000);
        var lines = File.ReadAllLines(ps.PathOf("run.csv"));
        Assert.Equal(steps, lines.Length - 1); // every completed step is logged, the last line whole
        Assert.StartsWith($"\"{steps}\",", lines[^1]);
        Assert.EndsWith("\"", lines[^1]);

        var after = ps.Run("Invoke-Training -Model $m -Steps 10 | ForEach-Object Loss; $m | Save-Model -Path m.json -PassThru | ForEach-Object Length");
        after.ThrowIfFailed();
        Assert.Equal(11, after.Output.Count);
        Assert.Equal(steps + 10, (long)ps.Run("$m.Steps").Output[0].BaseObject);
    }
}
