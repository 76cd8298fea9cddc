using System.Globalization;
using System.Text.RegularExpressions;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// The PowerShell examples of README.md, run as written in the hosted engine, and their results
/// checked: what they print, that every file they write is in .gitignore, and that the loss figures
/// the help quotes are the ones the default run gives.
/// </summary>
public class ReadmeExampleTests
{
    static List<string> PowerShellBlocks() =>
        Regex.Matches(File.ReadAllText(Path.Combine(PowerShellSession.RepoRoot, "README.md")), "```powershell\\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToList();

    /// <summary>
    /// Runs a block as in the root of a fresh clone (after dotnet build), from a temporary folder:
    /// paths into the repository's own folders (./out/MicroGpt, ./module/data/...) are made absolute,
    /// so a block that names a file the repository does not have fails here as it would there.
    /// </summary>
    static PowerShellSession.Result RunBlock(PowerShellSession ps, string block)
    {
        string script = Regex.Replace(block, @"(?<=[\s(""'])\./(?<folder>[\w.-]+)/", m =>
            Directory.Exists(Path.Combine(PowerShellSession.RepoRoot, m.Groups["folder"].Value)) ? $"{PowerShellSession.RepoRoot}/{m.Groups["folder"].Value}/" : m.Value);
        var result = ps.Run(script);
        result.ThrowIfFailed();
        return result;
    }

    /// <summary>The files and folders .gitignore lists at the repository's root ("/loss.csv", "/run/").</summary>
    static HashSet<string> IgnoredAtRoot() =>
        File.ReadAllLines(Path.Combine(PowerShellSession.RepoRoot, ".gitignore"))
            .Where(line => line.StartsWith('/')).Select(line => line.Trim('/')).ToHashSet();

    static void AssertEverythingWrittenIsIgnored(PowerShellSession ps)
    {
        var ignored = IgnoredAtRoot();
        var written = Directory.EnumerateFileSystemEntries(ps.Folder).Select(Path.GetFileName).ToList();
        Assert.NotEmpty(written);
        Assert.All(written, name => Assert.True(ignored.Contains(name!), $"The README writes '{name}', which .gitignore does not list."));
    }

    [Fact]
    public void TheQuickTourRunsAsWritten()
    {
        var blocks = PowerShellBlocks();
        Assert.Equal(3, blocks.Count);
        Assert.DoesNotMatch(@"my-sentences", blocks[0]); // a file a fresh clone does not have
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
        AssertEverythingWrittenIsIgnored(ps);
        AssertTheHelpQuotesTheDefaultRunsLosses(csv);
    }

    [Fact]
    public void TheStepByStepTourRunsAsWritten()
    {
        using var ps = new PowerShellSession();
        var result = RunBlock(ps, PowerShellBlocks()[1]);
        var output = result.Output.Select(o => o.BaseObject).ToList();
        Assert.Equal(597, Assert.IsAssignableFrom<Tokenizer>(output[0]).VocabSize);
        var tokens = Assert.IsType<TokenizedText>(output[1]);
        Assert.Equal(7, tokens.Count);
        Assert.Equal([500L, 1000, 1500, 2000], output.OfType<TrainingStep>().Take(4).Select(s => s.Step));
        var samples = output.OfType<Sample>().ToList();
        Assert.Equal(5, samples.Count);
        Assert.All(samples, s => Assert.StartsWith("the dog", s.Text));
        Assert.Equal(2, Assert.Single(output.OfType<Measurement>()).Sentences);
        Assert.StartsWith("<svg", File.ReadAllText(ps.PathOf("loss.svg")));
        AssertEverythingWrittenIsIgnored(ps);
    }

    [Fact]
    public void TheLookInsideRunsAsWritten()
    {
        using var ps = new PowerShellSession();
        var output = RunBlock(ps, PowerShellBlocks()[2]).Output.Select(o => o.BaseObject).ToList();
        var predictions = output.OfType<Prediction>().ToList();
        Assert.Equal(5, predictions.Count);
        Assert.Equal("is", predictions[0].Token); // as the comment says, with the default seed
        var surprises = output.OfType<TokenSurprise>().ToList();
        Assert.Equal(6, surprises.Count);
        Assert.Equal(surprises.OrderBy(s => s.Probability), surprises);
        Assert.Equal(["cow", "bird", "mouse"], output.OfType<SimilarToken>().Select(s => s.Token).Where(t => t is "cow" or "bird" or "mouse"));
        Assert.StartsWith("<svg", File.ReadAllText(ps.PathOf("attention.svg")));
        AssertEverythingWrittenIsIgnored(ps);
    }

    /// <summary>
    /// about_MicroGpt and Invoke-Training's help quote the default run's losses (the tour's loss.csv:
    /// the default corpus, model and options): the last step's, and the mean and range of the last
    /// 100 steps, rounded to two decimals as quoted. They are the figures of processors with AVX2
    /// (256-bit and 512-bit kernels give the same bits); the scalar kernels round otherwise, and
    /// 5,000 steps later end elsewhere (a mean of 3.21), as about_MicroGpt says.
    /// </summary>
    static void AssertTheHelpQuotesTheDefaultRunsLosses(string[] csv)
    {
        if (!(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported)) return;
        var losses = csv.Skip(1).Select(line => double.Parse(line.Split(',')[2].Trim('"'), CultureInfo.InvariantCulture)).ToList();
        var last100 = losses.TakeLast(100).ToList();
        string F2(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
        string last = F2(losses[^1]), meanOfLast100 = F2(last100.Average()), range = $"range from {F2(last100.Min())} to {F2(last100.Max())}";
        string about = Regex.Replace(File.ReadAllText(Path.Combine(PowerShellSession.RepoRoot, "module", "en-US", "about_MicroGpt.help.txt")), @"\s+", " ");
        string help = File.ReadAllText(Path.Combine(PowerShellSession.RepoRoot, "module", "en-US", "MicroGpt.Cmdlets.dll-Help.xml"));
        Assert.Contains($"the last step's loss is {last}, the mean loss of the last 100 steps is {meanOfLast100}", about);
        Assert.Contains($"and those 100 {range}", about);
        Assert.Contains($"the last 100 steps {range}, around a mean of {meanOfLast100} over the last 100 steps", help);
        Assert.DoesNotContain("near 2", about + help);
    }
}
