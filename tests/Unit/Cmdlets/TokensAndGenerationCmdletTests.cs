namespace MicroGpt.Tests.Cmdlets;

/// <summary>New-Tokenizer, Get-Tokens, New-Model, Invoke-Generation and Measure-Model as users run them.</summary>
public class TokensAndGenerationCmdletTests
{
    [Fact]
    public void TheDefaultTokenizerAndModelAreTheTutorials()
    {
        using var ps = new PowerShellSession();
        var tokenizer = Assert.Single(ps.Run<Tokenizer>("New-Tokenizer"));
        Assert.Equal(597, tokenizer.VocabSize);
        Assert.Equal(596, tokenizer.Bos);
        var model = Assert.Single(ps.Run<Model>("New-Model"));
        Assert.Equal(63_296, model.Parameters.Length);
        Assert.Equal(new ModelConfig(597, 32, 4, 2, 16), model.Config);
        var verbose = ps.Run("New-Model -Verbose").Verbose;
        Assert.Contains(verbose, v => v.Contains("63,296 parameters"));
    }

    [Fact]
    public void NewTokenizerReadsTextFromThePipelineAndFiles()
    {
        using var ps = new PowerShellSession();
        var words = Assert.Single(ps.Run<Tokenizer>("'The cat', 'a DOG' | New-Tokenizer"));
        Assert.Equal(["a", "cat", "dog", "the"], words.Vocabulary);
        File.WriteAllLines(ps.PathOf("names.txt"), ["anna", "bob", "", "cleo"]);
        var characters = Assert.Single(ps.Run<Tokenizer>("New-Tokenizer -Path names.txt -Kind Character"));
        Assert.Equal(["a", "b", "c", "e", "l", "n", "o"], characters.Vocabulary);
        Assert.Equal("Character", characters.Kind);
    }

    [Fact]
    public void GetTokensShowsTheModelsViewOfEachLine()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("'The cat is big', 'the zebra is big', 'a dog' | Get-Tokens");
        var encoded = result.Output.Select(o => Assert.IsType<TokenizedText>(o.BaseObject)).ToList();
        Assert.Equal(["the cat is big", "a dog"], encoded.Select(e => e.Text));
        Assert.Equal(["<BOS>", "the", "cat", "is", "big", "<BOS>"], encoded[0].Tokens);
        Assert.Equal(6, encoded[0].Count);
        Assert.Equal(596, encoded[0].Ids[0]);
        Assert.Equal(596, encoded[0].Ids[^1]);
        var error = Assert.Single(result.Errors);
        Assert.Equal("UnknownToken,MicroGpt.Commands.GetTokensCommand", error.FullyQualifiedErrorId);
        Assert.Contains("'zebra'", error.Exception.Message);

        var model = ps.Run("$m = New-Model -Layers 1; Get-Tokens -Model $m -Text 'the cat'");
        Assert.Equal(4, Assert.IsType<TokenizedText>(Assert.Single(model.Output).BaseObject).Count);
    }

    [Fact]
    public void GenerationIsSeededUsesTheVocabularyAndContinuesAPrompt()
    {
        using var ps = new PowerShellSession();
        ps.Run("$m = Invoke-Training -Steps 1500 -PassThru").ThrowIfFailed();
        var first = ps.Run<Sample>("Invoke-Generation -Model $m -Count 10 -Seed 7");
        var again = ps.Run<Sample>("$m | Invoke-Generation -Count 10 -Seed 7");
        Assert.Equal(10, first.Count);
        Assert.Equal(first.Select(s => s.Text), again.Select(s => s.Text));
        var vocabulary = ((Model)ps.Variable("m")!).Tokenizer.Vocabulary.ToHashSet();
        Assert.All(first, s => Assert.All(s.Tokens, t => Assert.Contains(t, vocabulary)));
        Assert.All(first, s => Assert.InRange(s.MeanLogProbability, -20, 0));

        var prompted = ps.Run<Sample>("Invoke-Generation -Model $m -Count 5 -Prompt 'The dog' -Seed 1");
        Assert.All(prompted, s => Assert.StartsWith("the dog", s.Text));

        var unique = ps.Run<Sample>("Invoke-Generation -Model $m -Count 20 -Unique -Temperature 0.5 -Seed 2");
        Assert.Equal(unique.Count, unique.Select(s => s.Text).Distinct().Count());

        var greedy = ps.Run<Sample>("Invoke-Generation -Model $m -Count 3 -Temperature 0");
        Assert.Single(greedy.Select(s => s.Text).Distinct());
    }

    [Fact]
    public void MeasureModelReportsLossAndPerplexity()
    {
        using var ps = new PowerShellSession();
        var measurement = Assert.Single(ps.Run<Measurement>("New-Model | Measure-Model -Text 'the cat is big', 'a dog runs'"));
        Assert.Equal(2, measurement.Sentences);
        Assert.Equal(5 + 4, measurement.Tokens); // min(T, tokens - 1) predicted positions per sentence
        Assert.Equal(Math.Exp(measurement.Loss), measurement.Perplexity, 1e-9);
        Assert.InRange(measurement.Loss, Math.Log(597) - 0.5, Math.Log(597) + 0.5);
    }

    [Fact]
    public void ExportLossChartDrawsStepsFromThePipelineOrACsvLog()
    {
        using var ps = new PowerShellSession();
        var file = ps.Run("Invoke-Training -Steps 300 -ValidationFraction 0.01 -ValidationInterval 100 -LogPath run.csv | Export-LossChart -Path loss.svg -PassThru");
        file.ThrowIfFailed();
        string svg = File.ReadAllText(ps.PathOf("loss.svg"));
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg);
        Assert.Contains("validation", svg);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(svg, "<circle").Count); // validation at steps 100, 200 and 300
        System.Xml.Linq.XDocument.Parse(svg); // well-formed

        // CSV rows as Import-Csv gives them: strings, the validation column empty when not measured.
        var rows = ps.Run("""
            $lines = [IO.File]::ReadAllLines([IO.Path]::Combine($PWD.Path, 'run.csv'))
            $names = $lines[0].Split(',').Trim('"')
            $lines[1..($lines.Count - 1)] | ForEach-Object {
                $cells = $_.Split(',').Trim('"'); $row = [ordered]@{}
                for ($i = 0; $i -lt $names.Count; $i++) { $row[$names[$i]] = $cells[$i] }
                [pscustomobject]$row
            } | Export-LossChart -Path fromcsv.svg -Smoothing 0
            """);
        rows.ThrowIfFailed();
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(ps.PathOf("fromcsv.svg")), "<circle").Count);
    }
}
