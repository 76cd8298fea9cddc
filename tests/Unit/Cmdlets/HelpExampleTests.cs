using System.Xml.Linq;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// Every example in the cmdlets' help (module/en-US/MicroGpt.Cmdlets.dll-Help.xml), run as written
/// in a fresh hosted engine and folder, with <see cref="StandIns"/> for the cmdlets the bare engine
/// lacks. An example runs without error, except the ones that show an error, which must show the
/// documented one; and each writes what its remarks promise (an object, a file, or both).
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
        ps.Run(StandIns.Script).ThrowIfFailed();
        var result = ps.Run(code);

        if (ShowsError.TryGetValue((cmdlet, example), out string? id))
        {
            Assert.StartsWith(id + ",", result.Error?.FullyQualifiedErrorId ?? "no error");
            return;
        }
        result.ThrowIfFailed();
        bool wroteFiles = Directory.EnumerateFiles(ps.Folder).Any();
        if (code.Contains("-WhatIf") && !code.Contains('\n'))
            Assert.False(wroteFiles, $"{cmdlet} example {example} wrote a file under -WhatIf"); // it shows "What if:" on the host only
        else
            Assert.True(result.Output.Count > 0 || wroteFiles || result.Verbose.Count > 0, $"{cmdlet} example {example} showed nothing:\n{code}");
    }

    [Fact]
    public void EveryCmdletHasExamplesToRun()
    {
        var examples = Load();
        Assert.Equal(9, examples.Count);
        Assert.All(examples, e => Assert.True(e.Code.Count >= 2, $"{e.Cmdlet}: {e.Code.Count} examples"));
        Assert.True(examples.Single(e => e.Cmdlet == "Invoke-Training").Code.Count >= 3);
    }
}
