using System.Management.Automation;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>Save-Model and Import-Model as users run them.</summary>
public class ModelFileCmdletTests
{
    [Fact]
    public void SaveAndImportRoundTripEveryWeightBit()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("$m = New-Model -Layers 1 -EmbeddingSize 16 -Heads 2; Invoke-Training -Model $m -Steps 20 | Out-Null; $m | Save-Model -Path m.json -PassThru; Import-Model m.json");
        result.ThrowIfFailed();
        var file = Assert.IsType<FileInfo>(result.Output[0].BaseObject);
        Assert.Equal(ps.PathOf("m.json"), file.FullName);
        var loaded = Assert.IsType<Model>(result.Output[1].BaseObject);
        var original = (Model)ps.Variable("m")!;
        Assert.Equal(original.Parameters, loaded.Parameters);
        Assert.Equal(original.Config, loaded.Config);
        Assert.Equal(original.Tokenizer.Vocabulary, loaded.Tokenizer.Vocabulary);
        Assert.Equal(20, loaded.Summary.Steps);
    }

    [Fact]
    public void RelativePathsFollowThePowerShellLocationNotTheProcessDirectory()
    {
        using var ps = new PowerShellSession();
        Directory.CreateDirectory(ps.PathOf("sub"));
        ps.Run("New-Model -Layers 1 | Save-Model -Path ./sub/m.json").ThrowIfFailed();
        Assert.True(File.Exists(ps.PathOf(Path.Combine("sub", "m.json"))));
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "sub", "m.json")));
        Assert.Single(ps.Run<Model>("Import-Model ./sub/m.json"));
    }

    [Fact]
    public void WhatIfWritesNothingAndNoClobberRefusesToOverwrite()
    {
        using var ps = new PowerShellSession();
        ps.Run("New-Model -Layers 1 | Save-Model -Path m.json -WhatIf").ThrowIfFailed();
        Assert.False(File.Exists(ps.PathOf("m.json")));

        File.WriteAllText(ps.PathOf("m.json"), "keep me");
        var result = ps.Run("New-Model -Layers 1 | Save-Model -Path m.json -NoClobber");
        Assert.Equal("ModelFileExists,MicroGpt.Commands.SaveModelCommand", result.Error!.FullyQualifiedErrorId);
        Assert.Equal("keep me", File.ReadAllText(ps.PathOf("m.json")));
    }

    [Fact]
    public void FilesFromThePipelineAreImportedByPathOrByPSPath()
    {
        using var ps = new PowerShellSession();
        ps.Run("1..3 | ForEach-Object { New-Model -Layers 1 -Seed $_ | Save-Model -Path \"m$_.json\" }").ThrowIfFailed();
        Assert.Equal(3, ps.Run<Model>("'m*.json' | Import-Model").Count);
        Assert.Equal(3, ps.Run<Model>("[IO.DirectoryInfo]::new($PWD.Path).GetFiles('*.json') | ForEach-Object { [pscustomobject]@{ PSPath = $_.FullName } } | Import-Model").Count);
        Assert.Single(ps.Run<Model>("[pscustomobject]@{ Path = 'm2.json' } | Import-Model"));
    }

    [Fact]
    public void SafetensorsRoundTripsThroughImportModel()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("$m = New-Model -Layers 1 -EmbeddingSize 8 -Heads 2; $m | Save-Model -Path m.safetensors; Import-Model m.safetensors");
        result.ThrowIfFailed();
        Assert.True(File.Exists(ps.PathOf("m.config.json")));
        Assert.Equal(((Model)ps.Variable("m")!).Parameters, Assert.IsType<Model>(result.Output[0].BaseObject).Parameters);
    }

    [Fact]
    public void OptimizerStateIsSavedOnRequestAndResumeContinuesExactly()
    {
        using var ps = new PowerShellSession();
        ps.Run("$full = New-Model -Layers 1 -EmbeddingSize 16 -Heads 2; Invoke-Training -Model $full -Steps 200 | Out-Null").ThrowIfFailed();
        // Stop the second run after 120 steps, as a downstream Select-Object -First 120 would:
        // the checkpoint written on the way out holds exactly the 120 steps done.
        ps.Run("$half = New-Model -Layers 1 -EmbeddingSize 16 -Heads 2; Invoke-Training -Model $half -Steps 200 -CheckpointPath ckpt.json -CheckpointInterval 50 -LogPath run.csv | ForEach-Object { if ($_.Step -eq 120) { break } }");
        Assert.Equal(120L, (long)ps.Run("$half.Steps").Output[0].BaseObject);
        var resumed = ps.Run("Invoke-Training -Resume ckpt.json -LogPath run.csv");
        resumed.ThrowIfFailed();
        var steps = resumed.Output.Select(o => (TrainingStep)o.BaseObject).ToList();
        Assert.Equal(200, steps[^1].Step);
        Assert.Equal(121, steps[0].Step);
        var log = File.ReadAllLines(ps.PathOf("run.csv")).Skip(1).Select(l => long.Parse(l.Split(',')[0].Trim('"'))).ToList();
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), log); // one row per step across the two runs

        var full = (Model)ps.Variable("full")!;
        ps.Run("Import-Model ckpt.json | ForEach-Object { $global:final = $_ }").ThrowIfFailed();
        Assert.Equal(full.Parameters, ((Model)ps.Variable("final")!).Parameters);
    }

    [Fact]
    public void AResumedRunSplitsItsValidationSentencesAsTheFirstRunDid()
    {
        using var ps = new PowerShellSession();
        ps.Run("Invoke-Training -Steps 60 -Seed 5 -ValidationFraction 0.1 -ValidationInterval 30 -CheckpointPath ck.json | ForEach-Object { if ($_.Step -eq 40) { break } }");
        var resumed = ps.Run("Invoke-Training -Resume ck.json -ValidationFraction 0.1");
        resumed.ThrowIfFailed();
        var steps = resumed.Output.Select(o => (TrainingStep)o.BaseObject).ToList();
        Assert.Equal(41, steps[0].Step);
        Assert.NotNull(steps[^1].ValidationLoss);
    }

    [Fact]
    public void ResumingAfterAKillDropsTheLogRowsTheCheckpointDoesNotHold()
    {
        using var ps = new PowerShellSession();
        // A run killed at step 15 whose last checkpoint was at step 10: copy that checkpoint back, as
        // the disk would hold it after the kill, over the one the clean exit wrote.
        ps.Run("""
            Invoke-Training -Steps 20 -CheckpointPath ck.json -CheckpointInterval 10 -LogPath log.csv | ForEach-Object {
                if ($_.Step -eq 10) { [IO.File]::Copy("$PWD/ck.json", "$PWD/ck10.json", $true) }
                if ($_.Step -eq 15) { break }
            }
            """);
        File.Copy(ps.PathOf("ck10.json"), ps.PathOf("ck.json"), overwrite: true);
        Assert.Equal(16, File.ReadAllLines(ps.PathOf("log.csv")).Length); // the header and steps 1 to 15
        ps.Run("Invoke-Training -Resume ck.json -LogPath log.csv | Out-Null").ThrowIfFailed();
        var steps = File.ReadAllLines(ps.PathOf("log.csv")).Skip(1).Select(l => long.Parse(l.Split(',')[0].Trim('"')));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), steps);
    }
}
