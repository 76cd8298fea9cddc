using System.Xml.Linq;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// Every example in the cmdlets' help (module/en-US/MicroGpt.Cmdlets.dll-Help.xml), run as written
/// in a fresh hosted engine and folder. An example runs without error, except the ones that show an error, which must show the
/// documented one; and each writes the objects and files its remarks describe (their types and
/// counts; the remarks' figures are "about" figures and are not compared).
/// </summary>
public class HelpExampleTests
{
    static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>The examples whose point is an error, and the error id they show.</summary>
    static readonly Dictionary<(string Cmdlet, int Example), string> ShowsError = new()
    {
        [("Get-Tokens", 2)] = "UnknownToken",
        [("New-Model", 4)] = "InvalidConfiguration",
        [("Save-Model", 3)] = "ModelFileExists",
        [("Invoke-Training", 12)] = "InvalidConfiguration",
        [("Get-Attention", 3)] = "LayerOutOfRange",
    };

    /// <summary>What each example writes: objects (type name, and how many; 0 for "at least one") and files.</summary>
    static readonly Dictionary<(string Cmdlet, int Example), (string Type, int Count, string[] Files)> Writes = new()
    {
        [("New-Tokenizer", 1)] = ("Tokenizer", 1, []),
        [("New-Tokenizer", 2)] = ("Tokenizer", 1, []),
        [("New-Tokenizer", 3)] = ("Tokenizer", 1, []),
        [("New-Tokenizer", 4)] = ("Int32", 1, []),
        [("New-Tokenizer", 5)] = ("Tokenizer", 1, []),
        [("New-Tokenizer", 6)] = ("String", 1, []),
        [("New-Tokenizer", 7)] = ("String", 1, []),
        [("Get-Tokens", 1)] = ("TokenizedText", 1, []),
        [("Get-Tokens", 2)] = ("TokenizedText", 1, []),
        [("Get-Tokens", 3)] = ("String", 1, []),
        [("Get-Tokens", 4)] = ("TokenizedText", 2, []),
        [("Get-Tokens", 5)] = ("String", 1, []),
        [("Get-Tokens", 6)] = ("String", 1, []),
        [("New-Model", 1)] = ("Model", 1, []),
        [("New-Model", 2)] = ("Model", 1, []),
        [("New-Model", 3)] = ("Model", 1, []),
        [("New-Model", 5)] = ("PSCustomObject", 2, []),
        [("New-Model", 6)] = ("GenericMeasureInfo", 1, []),
        [("New-Model", 7)] = ("GenericMeasureInfo", 1, []),
        [("Invoke-Training", 1)] = ("", 0, ["loss.csv"]),
        [("Invoke-Training", 2)] = ("TrainingStep", 4, []),
        [("Invoke-Training", 3)] = ("Model", 1, ["run.csv", "model.json"]),
        [("Invoke-Training", 4)] = ("TrainingStep", 10, []),
        [("Invoke-Training", 5)] = ("PSCustomObject", 3, []),
        [("Invoke-Training", 6)] = ("Model", 1, ["checkpoint.json", "run.csv"]),
        [("Invoke-Training", 7)] = ("Sample", 3, []),
        [("Invoke-Training", 8)] = ("String", 5, []),
        [("Invoke-Training", 9)] = ("TrainingStep", 3, []),
        [("Invoke-Training", 10)] = ("", 0, []),
        [("Invoke-Training", 11)] = ("PSCustomObject", 4, []),
        [("Invoke-Training", 13)] = ("TrainingStep", 10, []),
        [("Save-Model", 1)] = ("FileInfo", 1, ["model.json"]),
        [("Save-Model", 2)] = ("FileInfo", 1, ["model.safetensors", "model.config.json"]),
        [("Save-Model", 4)] = ("Model", 1, ["checkpoint.json"]),
        [("Import-Model", 1)] = ("Sample", 5, ["model.json"]),
        [("Import-Model", 2)] = ("Measurement", 2, ["short.json", "long.json"]),
        [("Import-Model", 3)] = ("Model", 3, ["model-16.json", "model-32.json", "model-64.json"]),
        [("Import-Model", 4)] = ("Model", 1, ["weights.safetensors"]),
        [("Invoke-Generation", 1)] = ("Sample", 5, ["model.json"]),
        [("Invoke-Generation", 2)] = ("Sample", 3, []),
        [("Invoke-Generation", 3)] = ("Sample", 2, []),
        [("Invoke-Generation", 4)] = ("String", 10, []),
        [("Invoke-Generation", 5)] = ("Sample", 2, []),
        [("Invoke-Generation", 6)] = ("String", 1, []),
        [("Measure-Model", 1)] = ("Measurement", 1, []),
        [("Measure-Model", 2)] = ("Measurement", 1, []),
        [("Measure-Model", 3)] = ("Measurement", 1, []),
        [("Measure-Model", 4)] = ("Measurement", 1, []),
        [("Measure-Model", 5)] = ("Measurement", 1, []),
        [("Export-LossChart", 1)] = ("FileInfo", 1, ["loss.svg"]),
        [("Export-LossChart", 2)] = ("", 0, ["run.csv", "run.svg"]),
        [("Export-LossChart", 3)] = ("", 0, []),
        [("Export-LossChart", 4)] = ("FileInfo", 1, ["spikes.svg", "spikes-log.svg", "end.svg"]),
        [("Get-Prediction", 1)] = ("Prediction", 5, []),
        [("Get-Prediction", 2)] = ("TokenSurprise", 4, []),
        [("Get-Prediction", 3)] = ("PSCustomObject", 2, []),
        [("Get-Prediction", 4)] = ("Prediction", 3, []),
        [("Get-Prediction", 5)] = ("Prediction", 3, []),
        [("Get-Attention", 1)] = ("AttentionWeight", 6, []),
        [("Get-Attention", 2)] = ("AttentionWeight", 5, []),
        [("Export-AttentionMap", 1)] = ("FileInfo", 1, ["attention.svg"]),
        [("Export-AttentionMap", 2)] = ("", 0, ["attention.csv", "untrained.svg"]),
        [("Export-AttentionMap", 3)] = ("", 0, []),
        [("Find-SimilarToken", 1)] = ("SimilarToken", 5, []),
        [("Find-SimilarToken", 2)] = ("SimilarToken", 6, []),
    };

    public static TheoryData<string, int> Examples()
    {
        var data = new TheoryData<string, int>();
        foreach (var (cmdlet, examples) in Load())
            for (int i = 1; i <= examples.Count; i++) data.Add(cmdlet, i);
        return data;
    }

    static List<(string Cmdlet, List<string> Code)> Load()
    {
        var help = XDocument.Load(Path.Combine(PowerShellSession.RepoRoot, "module", "en-US", "MicroGpt.Cmdlets.dll-Help.xml"));
        return help.Root!.Elements(Command + "command")
            .Select(c => (c.Element(Command + "details")!.Element(Command + "name")!.Value.Trim(),
                          c.Element(Command + "examples")!.Elements(Command + "example").Select(e => e.Element(Dev + "code")!.Value).ToList()))
            .ToList();
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void RunsAsWritten(string cmdlet, int example)
    {
        string code = Load().Single(c => c.Cmdlet == cmdlet).Code[example - 1];
        using var ps = new PowerShellSession();
        var result = ps.Run(code);

        if (ShowsError.TryGetValue((cmdlet, example), out string? id))
        {
            Assert.StartsWith(id + ",", result.Error?.FullyQualifiedErrorId ?? "no error");
            return;
        }
        result.ThrowIfFailed();
        Assert.True(Writes.TryGetValue((cmdlet, example), out var writes), $"{cmdlet} example {example} is new: say what it writes in {nameof(Writes)}");
        var (type, count, files) = writes;
        if (type.Length > 0)
        {
            int written = result.Output.Count(o => o.TypeNames.Any(name => name.EndsWith($".{type}", StringComparison.Ordinal))); // its type or a base type (Tokenizer)
            Assert.True(count == 0 ? written > 0 : written == count, $"{cmdlet} example {example} wrote {written} {type} objects, not {(count == 0 ? "some" : count)}:\n{code}");
        }
        Assert.All(files, f => Assert.True(File.Exists(ps.PathOf(f)), $"{cmdlet} example {example} did not write {f}"));
        if (type.Length == 0 && files.Length == 0) // -WhatIf: it says "What if:" on the host, and writes nothing
        {
            Assert.Empty(result.Output);
            Assert.Empty(Directory.EnumerateFileSystemEntries(ps.Folder));
        }
    }

    [Fact]
    public void EveryCmdletHasExamplesToRun()
    {
        var examples = Load();
        Assert.Equal(13, examples.Count);
        Assert.All(examples, e => Assert.True(e.Code.Count >= 2, $"{e.Cmdlet}: {e.Code.Count} examples"));
        Assert.True(examples.Single(e => e.Cmdlet == "Invoke-Training").Code.Count >= 3);
    }
}
