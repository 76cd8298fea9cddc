namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// The scripts in examples/, run in the hosted engine with fewer steps than their defaults, and
/// their results checked.
/// </summary>
public class ExampleScriptTests
{
    static PowerShellSession.Result RunExample(PowerShellSession ps, string name, string arguments)
    {
        string script = Path.Combine(PowerShellSession.RepoRoot, "examples", name);
        var result = ps.Run($"& '{script}' {arguments}");
        result.ThrowIfFailed();
        return result;
    }

    static List<string> Lines(PowerShellSession.Result result) => result.Output.Select(o => o.ToString()).ToList();

    [Fact]
    public void TheSweepWritesOneRowPerRunAndPicksTheBestByValidationLoss()
    {
        using var ps = new PowerShellSession();
        var result = RunExample(ps, "sweep.ps1", "-Steps 300 -LearningRate 0.001, 0.01 -EmbeddingSize 16, 32");
        var rows = File.ReadAllLines(ps.PathOf("sweep.csv"));
        Assert.Equal("\"EmbeddingSize\",\"LearningRate\",\"Parameters\",\"TrainLoss\",\"ValidationLoss\",\"Seconds\"", rows[0]);
        Assert.Equal(5, rows.Length);
        var losses = rows.Skip(1).Select(r => double.Parse(r.Split(',')[4].Trim('"'), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        string summary = Lines(result)[^1];
        Assert.Contains($"validation loss {losses.Min().ToString(System.Globalization.CultureInfo.InvariantCulture)}", summary);
        Assert.Contains("learning rate 0.01", summary); // 300 steps at 0.001 learn far less
        Assert.True(File.Exists(ps.PathOf("best-model.json")));
    }

    [Fact]
    public void FineTuningTurnsStatementsIntoQuestions()
    {
        using var ps = new PowerShellSession();
        var result = RunExample(ps, "fine-tune.ps1", "-PretrainSteps 2000 -FineTuneSteps 600 -LearningRate 0.003");
        var lines = Lines(result);
        int before = lines.IndexOf("Samples before fine-tuning:"), after = lines.IndexOf("Samples after fine-tuning:");
        Assert.Equal(8, after - before - 2); // eight samples, then the fine-tuning line
        var stages = result.Output.Where(o => o.Properties["Stage"] is not null).ToList();
        double questionBefore = (double)stages[0].Properties["QuestionLoss"].Value, questionAfter = (double)stages[1].Properties["QuestionLoss"].Value;
        Assert.True(questionAfter < questionBefore - 0.3, $"question loss {questionBefore} -> {questionAfter}");
        string[] questionWords = ["can", "do", "does", "is", "are", "where", "what", "who", "will"];
        int asked = lines.Skip(after + 1).Take(8).Count(l => questionWords.Contains(l.Trim().Split(' ')[0]));
        Assert.True(asked >= 5, string.Join(" / ", lines.Skip(after + 1).Take(8)));
        Assert.True(File.Exists(ps.PathOf("question-model.json")));
    }

    [Fact]
    public void TheUnattendedRunResumesWhereAStoppedRunEndedAndExitsZero()
    {
        using var ps = new PowerShellSession();
        Directory.CreateDirectory(ps.PathOf("run"));
        // A first run that was stopped at step 150 of 300 (as a kill or a reboot would stop it).
        ps.Run("Invoke-Training -Steps 300 -CheckpointPath run/checkpoint.json -CheckpointInterval 100 -LogPath run/training.csv | ForEach-Object { if ($_.Step -eq 150) { break } }");
        var result = RunExample(ps, "unattended.ps1", "-WorkFolder run -Steps 300 -CheckpointInterval 100; \"exit $LASTEXITCODE\"");
        Assert.Equal("exit 0", Lines(result)[^1]);
        Assert.Contains("trained to step 300", Lines(result)[^2]);
        var log = File.ReadAllLines(ps.PathOf("run/training.csv")).Skip(1).Select(l => l.Split(',')[0].Trim('"')).ToList();
        Assert.Equal(Enumerable.Range(1, 300).Select(i => i.ToString()), log);
        Assert.Single(ps.Run<Model>("Import-Model run/model.json"), m => m.Summary.Steps == 300);

        // A failure is an exit code, not a prompt: a corrupt checkpoint.
        File.WriteAllText(ps.PathOf("run/checkpoint.json"), "{ not json");
        var failed = RunExample(ps, "unattended.ps1", "-WorkFolder run 2>$null; \"exit $LASTEXITCODE\"");
        Assert.Equal("exit 1", Lines(failed)[^1]);
    }

    /// <summary>The header's example names a folder that a fresh clone does not have (./run): the script makes it.</summary>
    [Fact]
    public void TheUnattendedRunStartsInAWorkFolderThatDoesNotExistYet()
    {
        using var ps = new PowerShellSession();
        var result = RunExample(ps, "unattended.ps1", "-WorkFolder ./new/run -Steps 40 -CheckpointInterval 15; \"exit $LASTEXITCODE\"");
        Assert.Equal("exit 0", Lines(result)[^1]);
        Assert.Equal(41, File.ReadAllLines(ps.PathOf("new/run/training.csv")).Length);
        Assert.Single(ps.Run<Model>("Import-Model new/run/model.json"), m => m.Summary.Steps == 40);
    }

    [Fact]
    public void TheNamesModelInventsNewNames()
    {
        using var ps = new PowerShellSession();
        var lines = Lines(RunExample(ps, "names.ps1", "-Steps 1500"));
        var known = File.ReadAllLines(Path.Combine(PowerShellSession.RepoRoot, "module", "data", "names.txt")).ToHashSet();
        string letters = new(known.SelectMany(n => n).Distinct().Order().ToArray());
        Assert.Equal($"Vocabulary: {letters.Length + 1} tokens ({letters} and BOS)", lines[0]);
        var losses = lines.Where(l => l.StartsWith("step")).Select(l => double.Parse(l.Split("loss ")[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(4, losses.Count);
        var names = lines.Where(l => l.StartsWith("  ")).Select(l => l.Trim()).ToList();
        Assert.Equal(12, names.Count);
        Assert.All(names, n => Assert.Matches("^[a-z]{1,11}$", n));
        Assert.All(names, n => Assert.DoesNotContain(n, known));
    }

    [Fact]
    public void TheTextModelLearnsTheHelpAsAStreamAndContinuesIt()
    {
        using var ps = new PowerShellSession();
        var lines = Lines(RunExample(ps, "text.ps1", "-Steps 40 -MaxTokens 60"));
        string help = File.ReadAllText(Path.Combine(PowerShellSession.RepoRoot, "module", "en-US", "about_MicroGpt.help.txt"));
        Assert.Equal($"Vocabulary: {help.EnumerateRunes().Distinct().Count() + 1} tokens (the text's characters and BOS)", lines[0]);
        var steps = lines.Where(l => l.StartsWith("step")).ToList();
        Assert.Equal(10, steps.Count);
        Assert.All(steps, l => Assert.Contains("validation", l)); // -ValidationFraction 0.1, measured at every row
        var losses = steps.Select(l => double.Parse(l.Split("loss ")[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(losses[^1] < losses[0] - 0.5, string.Join(", ", losses)); // from about ln 93 towards the statistics of the text
        Assert.StartsWith("Loss over the whole text: ", lines[^3]);
        string sample = lines[^1];
        Assert.StartsWith("\n", sample); // the default prompt, a line end
        Assert.Equal(61, sample.EnumerateRunes().Count());
        Assert.All(sample.EnumerateRunes(), r => Assert.Contains(r.ToString(), help));
    }

    [Fact]
    public void InspectShowsTheModelBeforeAndAfterTrainingAndDrawsBothAttentionMaps()
    {
        using var ps = new PowerShellSession();
        var lines = Lines(RunExample(ps, "inspect.ps1", "-Steps 1500"));
        Assert.Equal("== Before training ==", lines[0]);
        Assert.Contains("== After 1500 steps ==", lines);
        var losses = lines.Where(l => l.StartsWith("Loss of 'the cat eats a cake': "))
            .Select(l => double.Parse(l.Split(": ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, losses.Count);
        Assert.True(losses[0] > 6 && losses[1] < losses[0] - 2, $"the sentence's loss went from {losses[0]} to {losses[1]}");
        Assert.Equal(2, lines.Count(l => l.StartsWith("Nearest to 'cat': ") && l.Split(", ").Length == 5));
        foreach (string map in new[] { "before.svg", "after.svg" })
        {
            string svg = File.ReadAllText(ps.PathOf(map));
            Assert.Equal(2 * 4 * 6 * 7 / 2, System.Text.RegularExpressions.Regex.Matches(svg, "class=\"cell\"").Count); // 2 layers, 4 heads, BOS and 5 words
        }
        Assert.Contains("Before training", File.ReadAllText(ps.PathOf("before.svg")));
    }
}
