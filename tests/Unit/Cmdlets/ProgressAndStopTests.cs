using System.Diagnostics;
using System.Management.Automation;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>Its tests look at when records come and how soon a stop returns, so they run alone.</summary>
[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection;

/// <summary>
/// Progress and Ctrl+C as the hosted engine sees them: when the cmdlets write progress records
/// (sparse, never a bar over rows that print), and how they stop (promptly, writing nothing more).
/// The interactive side, real pwsh in a terminal, is tests/Pester/CtrlC.Tests.ps1.
/// </summary>
[Collection(nameof(TimingCollection))]
public class ProgressAndStopTests
{
    const double RecordInterval = 0.2;  // seconds: at most about five records a second (DESIGN.md)
    const double QuietBeforeBar = 1.0;  // seconds without a row before a bar goes over rows that print
    const double StopWithin = 2.0;      // seconds from Ctrl+C to the prompt, the interactive target; a slice or a step takes milliseconds

    /// <summary>The default corpus, <paramref name="copies"/> times over, in $big.</summary>
    static void LoadLargeCorpus(PowerShellSession ps, int copies) =>
        ps.Run($"$big = (Get-Content (Join-Path (Get-Module MicroGpt).ModuleBase data/sentences.txt)) * {copies}").ThrowIfFailed();

    [Fact]
    public void MeasureModelShowsSparseProgressOnALongMeasurementAndTakesItDownAtTheEnd()
    {
        using var ps = new PowerShellSession();
        LoadLargeCorpus(ps, copies: 12);
        var (result, times) = RunNotingProgress(ps, "New-Model | Measure-Model -Text $big");

        Assert.Equal(360_000, Assert.IsType<Measurement>(Assert.Single(result.Output).BaseObject).Sentences);
        var processing = AssertSparseBarTakenDown(result, times);
        Assert.Matches(@"^Sentence [\d,]+ of 360,000$", processing[0].StatusDescription);
        Assert.All(processing.Zip(processing.Skip(1)), pair => Assert.True(pair.First.PercentComplete <= pair.Second.PercentComplete));
    }

    [Fact]
    public void StoppingMeasureModelMidMeasurementReturnsPromptlyAndWritesNothing()
    {
        using var ps = new PowerShellSession();
        LoadLargeCorpus(ps, copies: 20); // 600,000 sentences: several seconds to measure
        ps.Run("$m = New-Model").ThrowIfFailed();
        ProgressRecord? first = null;
        Stopwatch? sinceStop = null;
        var result = ps.Run("Measure-Model -Model $m -Text $big", item =>
        {
            if (item is not ProgressRecord record) return false;
            first = record;
            sinceStop = Stopwatch.StartNew();
            return true;
        });

        Assert.NotNull(first);
        Assert.True(sinceStop!.Elapsed.TotalSeconds < StopWithin, $"the stop took {sinceStop.Elapsed.TotalSeconds:F2} s");
        Assert.InRange(first.PercentComplete, 0, 50); // it was stopped mid-measurement
        Assert.True(result.Stopped);
        Assert.Empty(result.Output); // no Measurement of part of the corpus
        Assert.Empty(result.Errors);
        Assert.Null(result.Terminating);
    }

    [Fact]
    public void StoppingInvokeGenerationEndsItEvenWhileUniqueFindsNothingNew()
    {
        using var ps = new PowerShellSession();
        ps.Run("$m = New-Model").ThrowIfFailed();
        Stopwatch? sinceStop = null;
        // At temperature 0 every sample is the same: after the first, -Unique writes nothing for 20 x -Count tries.
        var result = ps.Run("Invoke-Generation -Model $m -Count 1000000 -Unique -Temperature 0", item =>
        {
            sinceStop = Stopwatch.StartNew();
            return true;
        });

        Assert.True(sinceStop!.Elapsed.TotalSeconds < StopWithin, $"the stop took {sinceStop.Elapsed.TotalSeconds:F2} s");
        Assert.True(result.Stopped);
        Assert.Single(result.Output);
        Assert.Empty(result.Warnings); // not the "only 1 distinct sentence" of a run that went to its end
    }

    [Fact]
    public void TrainingRowsAtTheEndOfThePipelineHaveNoBarOverThem()
    {
        using var ps = new PowerShellSession();
        // Last in its pipeline: in a console these rows print, and a bar over them is what hangs Ctrl+C.
        var result = ps.Run("Invoke-Training -Steps 5000");
        result.ThrowIfFailed();
        Assert.Equal(5000, result.Output.Count);
        Assert.Empty(result.Progress);
    }

    [Fact]
    public void TrainingRowsTakenByALaterCommandShowASparseBarThatEndsCompleted()
    {
        using var ps = new PowerShellSession();
        var (result, times) = RunNotingProgress(ps, "Invoke-Training -Steps 20000 | Select-Object -Last 1");

        Assert.Equal(20000L, Assert.IsType<TrainingStep>(Assert.Single(result.Output).BaseObject).Step);
        var processing = AssertSparseBarTakenDown(result, times);
        Assert.Matches(@"^Step [\d,]+ of 20,000, loss \d+\.\d{4}$", processing[0].StatusDescription);
    }

    [Fact]
    public void ALaterCommandThatStopsTrainingEarlyGetsTheBarTakenDown()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("Invoke-Training -Steps 1000000 | Select-Object -First 10000 | Select-Object -Last 1");
        result.ThrowIfFailed();
        Assert.Equal(10000L, Assert.IsType<TrainingStep>(Assert.Single(result.Output).BaseObject).Step);
        Assert.NotEmpty(result.Progress);
        Assert.Equal(ProgressRecordType.Completed, result.Progress[^1].RecordType);
    }

    [Fact]
    public void SparseRowsAtTheEndOfThePipelineGetABarOnlyBetweenThem()
    {
        using var ps = new PowerShellSession();
        // Rows about two seconds apart at this machine's pace (measured after a warm-up).
        ps.Run("Invoke-Training -Steps 1000 -LogInterval 1000").ThrowIfFailed();
        var pace = Assert.Single(ps.Run<TrainingStep>("Invoke-Training -Steps 5000 -LogInterval 5000"));
        long interval = (long)(2 * pace.Step / pace.ElapsedSeconds);

        var clock = Stopwatch.StartNew();
        var events = new List<(object Item, double Seconds)>();
        var result = ps.Run($"Invoke-Training -Steps {2 * interval} -LogInterval {interval}", item =>
        {
            events.Add((item, clock.Elapsed.TotalSeconds));
            return false;
        });
        result.ThrowIfFailed();

        Assert.Equal(2, result.Output.Count);
        Assert.Contains(result.Progress, p => p.RecordType == ProgressRecordType.Processing);
        bool barUp = false;
        double lastRow = 0;
        foreach (var (item, seconds) in events)
        {
            if (item is ProgressRecord { RecordType: ProgressRecordType.Processing })
            {
                Assert.True(seconds - lastRow >= QuietBeforeBar, $"a bar {seconds - lastRow:F2} s after a row");
                barUp = true;
            }
            else if (item is ProgressRecord) barUp = false;
            else
            {
                Assert.False(barUp, $"a row at {seconds:F2} s under a bar");
                lastRow = seconds;
            }
        }
        Assert.False(barUp);
    }

    /// <summary>Runs <paramref name="script"/>, noting when each progress record came (seconds from the start); it must not fail.</summary>
    static (PowerShellSession.Result Result, List<double> Times) RunNotingProgress(PowerShellSession ps, string script)
    {
        var clock = Stopwatch.StartNew();
        var times = new List<double>();
        var result = ps.Run(script, item =>
        {
            if (item is ProgressRecord) times.Add(clock.Elapsed.TotalSeconds);
            return false;
        });
        result.ThrowIfFailed();
        return (result, times);
    }

    /// <summary>
    /// One activity: Processing records at least <see cref="RecordInterval"/> apart, then one
    /// Completed record. Returns the Processing ones.
    /// </summary>
    static List<ProgressRecord> AssertSparseBarTakenDown(PowerShellSession.Result result, List<double> times)
    {
        var processing = result.Progress.SkipLast(1).ToList();
        Assert.True(processing.Count >= 2, $"{processing.Count} progress records");
        Assert.All(processing, p => Assert.Equal(ProgressRecordType.Processing, p.RecordType));
        Assert.Equal(ProgressRecordType.Completed, result.Progress[^1].RecordType);
        Assert.Single(result.Progress.Select(p => p.ActivityId).Distinct());
        var shown = times.SkipLast(1).ToList();
        Assert.All(shown.Zip(shown.Skip(1)), pair => Assert.True(pair.Second - pair.First >= RecordInterval, $"records {pair.Second - pair.First:F3} s apart"));
        return processing;
    }
}
