using System.Management.Automation;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>Invoke-Training as users run it: typed rows, logs, validation, progress, Ctrl+C.</summary>
public class TrainingCmdletTests
{
    static readonly string[] StepColumns = ["Step", "Steps", "Loss", "LearningRate", "GradNorm", "Tokens", "TokensPerSecond", "ElapsedSeconds", "ValidationLoss"];

    [Fact]
    public void WithNoInputItTrainsTheDefaultModelAndWritesOneTypedFlatRowPerStep()
    {
        using var ps = new PowerShellSession();
        var steps = ps.Run<TrainingStep>("Invoke-Training -Steps 300");
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(300, s.Steps));
        Assert.True(steps.Take(30).Average(s => s.Loss) > steps.TakeLast(30).Average(s => s.Loss) + 1);

        // Flat for Export-Csv: the same scalar properties on every object, in the documented order.
        var row = ps.Run("Invoke-Training -Steps 2 | ForEach-Object { $_.PSObject.Properties.Name -join ',' }").Output;
        Assert.All(row, r => Assert.Equal(string.Join(",", StepColumns), r.ToString()));
        var types = ps.Run("(Invoke-Training -Steps 1).PSObject.Properties | ForEach-Object { $_.TypeNameOfValue }").Output.Select(o => o.ToString());
        Assert.All(types, t => Assert.Contains(t, new[] { "System.Int64", "System.Double", "System.Nullable`1[[System.Double, System.Private.CoreLib, Version=10.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e]]", "System.Nullable`1[System.Double]" }));
    }

    [Fact]
    public void AModelFromThePipelineIsTrainedInPlace()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("$m = New-Model -Seed 3; $before = $m.Parameters.Clone(); $m | Invoke-Training -Steps 50 -LogInterval 10; $m.Summary.Steps; [Linq.Enumerable]::SequenceEqual([float[]]$before, [float[]]$m.Parameters)");
        result.ThrowIfFailed();
        Assert.Equal([10L, 20, 30, 40, 50], result.Output.Take(5).Select(o => ((TrainingStep)o.BaseObject).Step));
        Assert.Equal(50L, result.Output[5].BaseObject);
        Assert.Equal(false, result.Output[6].BaseObject);
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
        var result = ps.Run("[cultureinfo]::CurrentCulture = 'de-DE'; Invoke-Training -Steps 40 -LogInterval 10 -LogPath run.csv -ValidationText 'the cat is big' -ValidationInterval 20");
        result.ThrowIfFailed();
        var steps = result.Output.Select(o => (TrainingStep)o.BaseObject).ToList();
        Assert.Equal([10L, 20, 30, 40], steps.Select(s => s.Step));
        var lines = File.ReadAllLines(ps.PathOf("run.csv"));
        Assert.Equal(string.Join(",", StepColumns.Select(c => $"\"{c}\"")), lines[0]);
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
            [Linq.Enumerable]::SequenceEqual([float[]]$a.Parameters, [float[]]$b.Parameters)
            """);
        result.ThrowIfFailed();
        Assert.Equal(2, result.Output.Count(o => o.BaseObject is TrainingStep));
        Assert.Equal(true, result.Output[^1].BaseObject); // the same seeds trained side by side give the same model
        Assert.Equal(2, result.Progress.Where(p => p.RecordType == ProgressRecordType.Completed).Select(p => p.ActivityId).Distinct().Count());
    }

    [Fact]
    public void StoppingThePipelineKeepsEveryCompletedStepAndTheModelTrainsOnAfterwards()
    {
        using var ps = new PowerShellSession();
        ps.Run("$m = New-Model").ThrowIfFailed();
        var stopped = ps.Run("Invoke-Training -Model $m -Steps 1000000 -LogPath run.csv", stopAfter: 300);
        Assert.True(stopped.Stopped);
        Assert.Empty(stopped.Progress); // rows at the end of the pipeline print in a console: no bar over them
        long steps = (long)ps.Run("$m.Summary.Steps").Output[0].BaseObject;
        Assert.InRange(steps, 300, 1000);
        var lines = File.ReadAllLines(ps.PathOf("run.csv"));
        Assert.Equal(steps, lines.Length - 1); // every completed step is logged, the last line whole
        Assert.StartsWith($"\"{steps}\",", lines[^1]);
        Assert.EndsWith("\"", lines[^1]);

        var after = ps.Run("Invoke-Training -Model $m -Steps 10 | ForEach-Object Loss; $m | Save-Model -Path m.json -PassThru | ForEach-Object Length");
        after.ThrowIfFailed();
        Assert.Equal(11, after.Output.Count);
        Assert.Equal(steps + 10, (long)ps.Run("$m.Summary.Steps").Output[0].BaseObject);
    }
}
