using System.Text.RegularExpressions;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// The PowerShell examples of README.md, run as written in the hosted engine, and their results checked.
/// </summary>
public class ReadmeExampleTests
{
    static List<string> PowerShellBlocks() =>
        Regex.Matches(File.ReadAllText(Path.Combine(PowerShellSession.RepoRoot, "README.md")), "```powershell\\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToList();

    static PowerShellSession.Result RunBlock(PowerShellSession ps, string block)
    {
        // The tour trains on the user's own sentences: here, a few in the default corpus's words.
        File.WriteAllLines(ps.PathOf("my-sentences.txt"), ["the cat is big", "we play in the park", "the dog runs to the barn", "a bird can fly"]);
        // Import-Module ./out/MicroGpt is relative to the repository: run it from there.
        string script = block.Replace("Import-Module ./out/MicroGpt", $"Import-Module '{PowerShellSession.ModulePath}'");
        var result = ps.Run(script);
        result.ThrowIfFailed();
        return result;
    }

    [Fact]
    public void TheQuickTourRunsAsWritten()
    {
        var blocks = PowerShellBlocks();
        Assert.Equal(2, blocks.Count);
        using var ps = new PowerShellSession();
        var result = RunBlock(ps, blocks[0]);

        var csv = File.ReadAllLines(ps.PathOf("loss.csv"));
        Assert.Equal("\"Step\",\"Steps\",\"Loss\",\"LearningRate\",\"GradNorm\",\"Tokens\",\"TokensPerSecond\",\"ElapsedSeconds\",\"ValidationLoss\"", csv[0]);
        Assert.Equal(5001, csv.Length);
        Assert.Equal(3001, File.ReadAllLines(ps.PathOf("run.csv")).Length);
        Assert.True(File.Exists(ps.PathOf("model.json")));

        var samples = result.Output.Where(o => o.BaseObject is Sample).ToList();
        Assert.Equal(10, samples.Count);
        var sweep = result.Output.Where(o => o.BaseObject is System.Management.Automation.PSCustomObject).ToList();
        Assert.Equal([0.003, 0.01, 0.03], sweep.Select(o => (double)o.Properties["LearningRate"].Value));
        Assert.All(sweep, o => Assert.InRange((double)o.Properties["ValidationLoss"].Value, 1, 7));
    }

    [Fact]
    public void TheStepByStepTourRunsAsWritten()
    {
        using var ps = new PowerShellSession();
        var result = RunBlock(ps, PowerShellBlocks()[1]);
        var output = result.Output.Select(o => o.BaseObject).ToList();
        Assert.Equal(597, Assert.IsType<Tokenizer>(output[0]).VocabSize);
        var tokens = Assert.IsType<TokenizedText>(output[1]);
        Assert.Equal(7, tokens.Count);
        Assert.Equal([500L, 1000, 1500, 2000], output.OfType<TrainingStep>().Take(4).Select(s => s.Step));
        var samples = output.OfType<Sample>().ToList();
        Assert.Equal(5, samples.Count);
        Assert.All(samples, s => Assert.StartsWith("the dog", s.Text));
        Assert.Equal(2, Assert.Single(output.OfType<Measurement>()).Sentences);
        Assert.StartsWith("<svg", File.ReadAllText(ps.PathOf("loss.svg")));
    }
}
