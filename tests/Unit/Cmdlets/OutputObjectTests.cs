using System.Text.Json;
using System.Xml.Linq;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// The objects the cmdlets write, as PowerShell's generic cmdlets see them: Where-Object,
/// Sort-Object, Select-Object *, Format-List *, Export-Csv and ConvertTo-Json take the properties
/// the table views show, and none of them meets the engine's internals.
/// </summary>
public class OutputObjectTests
{
    /// <summary>Each output type, a command that writes one, and the properties users see, in order.</summary>
    public static TheoryData<string, string, string[]> OutputTypes() => new()
    {
        { "Model", "New-Model -Layers 1", ["Layers", "EmbeddingSize", "Heads", "BlockSize", "VocabSize", "ParameterCount", "Seed", "Steps", "Tokens", "Loss"] },
        { "Tokenizer", "New-Tokenizer -Text 'the cat sat'", ["Kind", "Vocabulary", "Bos", "VocabSize"] },
        { "TrainingStep", "Invoke-Training -Steps 1", ["Step", "Steps", "Loss", "LearningRate", "GradNorm", "Tokens", "TokensPerSecond", "ElapsedSeconds", "ValidationLoss"] },
        { "Sample", "New-Model -Layers 1 | Invoke-Generation -Count 1 -Seed 3", ["Text", "Tokens", "Ids", "MeanLogProbability", "Complete"] },
        { "TokenizedText", "'the cat sat' | Get-Tokens", ["Text", "Tokens", "Ids", "Count"] },
        { "Measurement", "New-Model -Layers 1 | Measure-Model -Text 'the cat is big'", ["Loss", "Perplexity", "Sentences", "Tokens", "Windows"] },
        { "Prediction", "New-Model -Layers 1 | Get-Prediction 'the cat' -Top 1", ["Prompt", "Rank", "Token", "Id", "Probability", "LogProbability"] },
        { "TokenSurprise", "New-Model -Layers 1 | Get-Prediction 'the cat' -Position 1", ["Position", "Context", "Token", "Id", "Probability", "LogProbability", "Rank", "Expected"] },
        { "AttentionWeight", "New-Model -Layers 1 | Get-Attention 'the cat' -Head 0 | Select-Object -First 1", ["Layer", "Head", "QueryPosition", "QueryToken", "KeyPosition", "KeyToken", "Weight"] },
        { "SimilarToken", "New-Model -Layers 1 | Find-SimilarToken cat -Count 1", ["Query", "Rank", "Token", "Id", "Similarity"] },
    };

    [Theory]
    [MemberData(nameof(OutputTypes))]
    public void SelectObjectFormatListExportCsvAndConvertToJsonSeeOnlyWhatUsersLookAt(string type, string command, string[] properties)
    {
        using var ps = new PowerShellSession();
        ps.Run($"$o = {command}").ThrowIfFailed();
        Assert.Contains($"MicroGpt.{type}", ps.Run("$o.PSObject.TypeNames").Output.Select(o => o.ToString())); // a tokenizer is of a kind: a WordTokenizer

        var selected = ps.Run("($o | Select-Object *).PSObject.Properties.Name").Output.Select(o => o.ToString());
        Assert.Equal(properties, selected);

        var csv = ps.Run("$o | ConvertTo-Csv").Output.Select(o => o.ToString()).ToList();
        Assert.Equal(string.Join(",", properties.Select(p => $"\"{p}\"")), csv[0]);
        string json = string.Concat(ps.Run("$o | ConvertTo-Json -Depth 5").Output);
        Assert.Equal(properties, JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name));
        string list = string.Concat(ps.Run("$o | Format-List * | Out-String -Width 300").Output);

        // Type names in a cell ("System.Single[]", "MicroGpt.Tokenizer") are what internals look like from outside.
        foreach (string text in new[] { csv[1], json, list })
        {
            Assert.DoesNotContain("System.", text);
            Assert.DoesNotContain("MicroGpt.", text);
        }
    }

    [Fact]
    public void ModelsAreFilteredSortedAndExportedByTheirProperties()
    {
        using var ps = new PowerShellSession();
        ps.Run("""
            $a, $b, $c = 1, 2, 3 | ForEach-Object { New-Model -Layers 1 -EmbeddingSize 16 -Seed $_ }
            Invoke-Training -Model $b -Steps 30 | Out-Null
            Invoke-Training -Model $c -Steps 3 | Out-Null
            """).ThrowIfFailed();
        var models = new[] { "a", "b", "c" }.Select(v => (Model)ps.Variable(v)!).ToArray();

        Assert.Equal([2, 3], ps.Run("$a, $b, $c | Where-Object Steps -gt 0 | ForEach-Object Seed").Output.Select(o => (int)o.BaseObject));
        var byLoss = models.Skip(1).OrderBy(m => m.Loss).Select(m => m.Seed);
        Assert.Equal(byLoss, ps.Run("$c, $b | Sort-Object Loss | ForEach-Object Seed").Output.Select(o => (int?)o.BaseObject));

        ps.Run("$a, $b, $c | Export-Csv models.csv").ThrowIfFailed();
        var rows = File.ReadAllLines(ps.PathOf("models.csv")).Skip(1).Select(l => l.Split(',').Select(c => c.Trim('"')).ToArray()).ToList();
        Assert.Equal(["0", "30", "3"], rows.Select(r => r[7]));                       // Steps
        Assert.Equal("", rows[0][9]);                                               // no loss before training
        Assert.Equal(models[1].Loss, double.Parse(rows[1][9], System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(rows, r => Assert.Equal(models[0].ParameterCount.ToString(), r[5]));

        var json = JsonDocument.Parse(string.Concat(ps.Run("$b | ConvertTo-Json").Output)).RootElement;
        Assert.Equal(30, json.GetProperty("Steps").GetInt64());
        Assert.Equal(models[1].Loss, json.GetProperty("Loss").GetDouble());
    }

    [Fact]
    public void EveryTableViewHasThreeToSixColumnsEachHeadedByAPropertyOfItsType()
    {
        var format = XDocument.Load(Path.Combine(PowerShellSession.RepoRoot, "module", "MicroGpt.format.ps1xml"));
        var views = format.Descendants("View").ToList();
        Assert.Equal(OutputTypes().Count, views.Count);
        foreach (var view in views)
        {
            string typeName = view.Element("ViewSelectedBy")!.Element("TypeName")!.Value;
            var type = typeof(Model).Assembly.GetType(typeName)!;
            var labels = view.Descendants("TableColumnHeader").Select(h => h.Element("Label")!.Value).ToList();
            Assert.InRange(labels.Count, 3, 6);
            Assert.All(labels, label => Assert.True(type.GetProperty(label) is not null, $"{typeName}'s column {label} is not one of its properties"));
        }
    }

    [Fact]
    public void TokensAndIdsExportAsTheirItemsAndIndexAsArrays()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("""
            $t = 'the cat sat' | Get-Tokens -Tokenizer (New-Tokenizer -Text 'the cat sat')
            ($t | ConvertTo-Csv)[1]
            $t.Ids[-1]
            $t.Tokens[1..2] -join '+'
            (New-Tokenizer -Text 'b a' | ConvertTo-Json -Compress)
            """);
        result.ThrowIfFailed();
        var lines = result.Output.Select(o => o.ToString()).ToList();
        Assert.Equal("\"the cat sat\",\"<BOS> the cat sat <BOS>\",\"3 2 0 1 3\",\"5\"", lines[0]);
        Assert.Equal("3", lines[1]);
        Assert.Equal("the+cat", lines[2]);
        Assert.Equal("""{"Kind":"Word","Vocabulary":["a","b"],"Bos":2,"VocabSize":3}""", lines[3]);
    }
}
