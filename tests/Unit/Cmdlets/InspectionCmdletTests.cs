using System.Management.Automation;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>Get-Prediction, Get-Attention, Export-AttentionMap and Find-SimilarToken as users run them: what they write, and what they refuse.</summary>
public class InspectionCmdletTests
{
    const string Trained = "$m = New-Model -Seed 1; Invoke-Training -Model $m -Steps 300 | Out-Null";
    const string Sentence = "the bird flew"; // line 4 of the default corpus

    static void CheckError(PowerShellSession.Result result, string id, string command, ErrorCategory category, object target, params string[] named)
    {
        var error = result.Error ?? throw new Xunit.Sdk.XunitException("no error was written");
        Assert.Equal($"{id},MicroGpt.Commands.{command}", error.FullyQualifiedErrorId);
        Assert.Equal(category, error.CategoryInfo.Category);
        Assert.Equal(target, error.TargetObject is PSObject o ? o.BaseObject : error.TargetObject);
        foreach (string name in named) Assert.Contains(name, error.Exception.Message);
    }

    [Fact]
    public void GetPredictionWritesTheEnginesPredictionsAndSurprises()
    {
        using var ps = new PowerShellSession();
        ps.Run(Trained).ThrowIfFailed();
        var model = (Model)ps.Variable("m")!;
        var inspector = new Inspector(model);

        Assert.Equal(inspector.Predictions("The bird", 10), ps.Run<Prediction>("Get-Prediction -Model $m -Prompt 'The bird'"));
        Assert.Equal(inspector.Predictions("the bird", 3, 0.7), ps.Run<Prediction>("$m | Get-Prediction 'the bird' -Top 3 -Temperature 0.7"));
        Assert.Equal(inspector.Predictions("", 5), ps.Run<Prediction>("$m | Get-Prediction -Top 5")); // what starts a sentence
        var each = ps.Run<TokenSurprise>($"$m | Get-Prediction '{Sentence}' -Each");
        Assert.Equal(inspector.Surprises(Sentence), each);
        Assert.Equal(["the", "bird", "flew", "<BOS>"], each.Select(s => s.Token));
        Assert.Equal(inspector.Surprises(Sentence, [2]), ps.Run<TokenSurprise>($"$m | Get-Prediction -Text '{Sentence}' -Position 2"));
        // the surprise of a sentence is what Measure-Model measures: the mean of -LogProbability is its loss, bit for bit
        double loss = Assert.Single(ps.Run<Measurement>($"Measure-Model -Model $m -Text '{Sentence}'")).Loss;
        Assert.Equal(loss, each.Sum(s => -s.LogProbability) / each.Count);
        var least = Assert.Single(ps.Run<TokenSurprise>($"$m | Get-Prediction '{Sentence}' -Each | Sort-Object Probability | Select-Object -First 1"));
        Assert.Equal(each.MinBy(s => s.Probability), least);
    }

    [Fact]
    public void GetAttentionWritesEveryWeightOrThoseOfTheLayersAndHeadsAsked()
    {
        using var ps = new PowerShellSession();
        ps.Run(Trained).ThrowIfFailed();
        var inspector = new Inspector((Model)ps.Variable("m")!);
        var all = ps.Run<AttentionWeight>($"Get-Attention -Model $m -Text '{Sentence}'");
        Assert.Equal(inspector.Attention(Sentence), all);
        Assert.Equal(2 * 4 * 4 * 5 / 2, all.Count); // 2 layers, 4 heads, BOS and 3 words
        Assert.Equal(inspector.Attention(Sentence, [1], [2, 0]), ps.Run<AttentionWeight>($"$m | Get-Attention '{Sentence}' -Layer 1 -Head 2, 0"));
    }

    [Fact]
    public void WithStreamGetPredictionAndGetAttentionReadTheTextAsItIsWithoutBos()
    {
        using var ps = new PowerShellSession();
        ps.Run("""
            $text = "The cat sat.`nThe dog ran.`nA cat ran.`n" * 4
            $m = New-Model -Tokenizer (New-Tokenizer -Text $text -Stream) -EmbeddingSize 16 -Layers 1 -Heads 2 -BlockSize 16 -Seed 1
            Invoke-Training -Model $m -Text $text -Stream -Steps 30 -BatchSize 4 | Out-Null
            """).ThrowIfFailed();
        var inspector = new Inspector((Model)ps.Variable("m")!, stream: true);
        const string prompt = "The cat.\nA d"; // a line end and upper case, which sentence mode would split or lower

        var next = ps.Run<Prediction>("Get-Prediction -Model $m -Prompt \"The cat.`nA d\" -Stream -Top 3");
        Assert.Equal(inspector.Predictions(prompt, 3), next);
        Assert.All(next, p => Assert.Equal(prompt, p.Prompt));
        var each = ps.Run<TokenSurprise>("$m | Get-Prediction \"The cat.`nA d\" -Stream -Each");
        Assert.Equal(inspector.Surprises(prompt), each);
        Assert.Equal(prompt[1..].Select(c => c.ToString()), each.Select(s => s.Token)); // from position 1, no closing <BOS>
        Assert.Equal(inspector.Surprises(prompt, [8]), ps.Run<TokenSurprise>("$m | Get-Prediction \"The cat.`nA d\" -Stream -Position 8"));
        Assert.Equal("\n", Assert.Single(inspector.Surprises(prompt, [8])).Token);

        var weights = ps.Run<AttentionWeight>("Get-Attention -Model $m -Text \"The cat.`nA d\" -Stream");
        Assert.Equal(inspector.Attention(prompt), weights);
        Assert.Equal(2 * 12 * 13 / 2, weights.Count); // 1 layer, 2 heads, 12 characters
        Assert.DoesNotContain(weights, w => w.QueryToken == "<BOS>" || w.KeyToken == "<BOS>");
        Assert.Equal("T", weights[0].QueryToken);

        // Without -Stream the same text is two sentences, and a stream's text must fit as it is.
        CheckError(ps.Run("Get-Prediction -Model $m -Prompt \"The cat.`nA d\""), "InvalidConfiguration", "GetPredictionCommand", ErrorCategory.InvalidArgument, prompt, "2 sentences");
        string seventeen = new('a', 17);
        CheckError(ps.Run($"Get-Attention -Model $m -Text '{seventeen}' -Stream"), "TextTooLong", "GetAttentionCommand", ErrorCategory.InvalidArgument, seventeen, "17 characters", "At most 16 characters fit");
        Assert.Equal(16, ps.Run<TokenSurprise>($"Get-Prediction -Model $m -Text '{seventeen}' -Stream -Each").Count); // the last is only predicted
    }

    [Fact]
    public void ExportAttentionMapDrawsThePipelineOrACsvFileAtomically()
    {
        using var ps = new PowerShellSession();
        ps.Run($"""
            {Trained}
            $weights = Get-Attention -Model $m -Text '{Sentence}'
            $file = $weights | Export-AttentionMap ./att.svg -PassThru
            $weights | Export-Csv att.csv
            Import-Csv att.csv | Export-AttentionMap ./csv.svg
            $weights | Export-AttentionMap ./whatif.svg -WhatIf
            $weights | Where-Object Layer -eq 1 | Export-AttentionMap ./one.svg -Title 'Layer 1'
            """).ThrowIfFailed();
        var file = Assert.IsType<FileInfo>(ps.Variable("file"));
        Assert.Equal(ps.PathOf("att.svg"), file.FullName);
        var weights = ((object[])ps.Variable("weights")!).Select(o => (AttentionWeight)((PSObject)o).BaseObject).ToList();
        string svg = File.ReadAllText(ps.PathOf("att.svg"));
        Assert.Equal(AttentionMap.Render(weights, new AttentionMapOptions()), svg);
        Assert.Equal(svg, File.ReadAllText(ps.PathOf("csv.svg"))); // the rows of a CSV file draw as their objects do
        Assert.False(File.Exists(ps.PathOf("whatif.svg")));
        Assert.Contains(">Layer 1</text>", File.ReadAllText(ps.PathOf("one.svg")));
        Assert.DoesNotContain("layer 0,", File.ReadAllText(ps.PathOf("one.svg")));
        Assert.Empty(Directory.GetFiles(ps.Folder, "*" + AtomicFile.TemporarySuffix, SearchOption.AllDirectories));
    }

    [Fact]
    public void ExportAttentionMapLeavesOutRowsWithoutWeightsAndRefusesWhatIsNotOneText()
    {
        using var ps = new PowerShellSession();
        var rows = ps.Run("[pscustomobject]@{ Layer = 0; Head = 0; QueryPosition = 0; QueryToken = 'a'; KeyPosition = 0; KeyToken = 'a'; Weight = 1 }, [pscustomobject]@{ Layer = 'x' } | Export-AttentionMap ./rows.svg");
        Assert.Null(rows.Terminating);
        Assert.Equal("InvalidChartData,MicroGpt.Commands.ExportAttentionMapCommand", Assert.Single(rows.Errors).FullyQualifiedErrorId);
        Assert.True(File.Exists(ps.PathOf("rows.svg")));

        var nothing = ps.Run("@() | Export-AttentionMap ./none.svg");
        CheckError(nothing, "InvalidChartData", "ExportAttentionMapCommand", ErrorCategory.InvalidData, null!, "nothing to draw");
        var two = ps.Run("$m = New-Model -Layers 1; & { Get-Attention -Model $m 'the cat'; Get-Attention -Model $m 'a cat' } | Export-AttentionMap ./two.svg");
        CheckError(two, "InvalidChartData", "ExportAttentionMapCommand", ErrorCategory.InvalidData, "0, 0", "two weights for query 0 and key 0", "one text at a time");
        var other = ps.Run("$m = New-Model -Layers 1; & { Get-Attention -Model $m 'the cat' -Head 0; Get-Attention -Model $m 'a cat' -Head 1 } | Export-AttentionMap ./other.svg");
        CheckError(other, "InvalidChartData", "ExportAttentionMapCommand", ErrorCategory.InvalidData, "a", "Position 1 is both 'the' and 'a'");
        var tooHigh = ps.Run("[pscustomobject]@{ Layer = 0; Head = 0; QueryPosition = 0; QueryToken = 'a'; KeyPosition = 0; KeyToken = 'a'; Weight = 1.5 } | Export-AttentionMap ./high.svg");
        CheckError(tooHigh, "InvalidChartData", "ExportAttentionMapCommand", ErrorCategory.InvalidData, 1.5, "1.5");
        var unwritable = ps.Run("New-Model -Layers 1 | Get-Attention 'the cat' | Export-AttentionMap ./missing/att.svg");
        CheckError(unwritable, "FileWriteFailed", "ExportAttentionMapCommand", ErrorCategory.WriteError, ps.PathOf("missing/att.svg"));
        Assert.Equal(["rows.svg"], Directory.GetFileSystemEntries(ps.Folder).Select(Path.GetFileName));
    }

    [Fact]
    public void FindSimilarTokenWritesTheNearestTokensOfEach()
    {
        using var ps = new PowerShellSession();
        ps.Run(Trained).ThrowIfFailed();
        var model = (Model)ps.Variable("m")!;
        var found = ps.Run<SimilarToken>("Find-SimilarToken -Model $m -Token cat, Dog -Count 3");
        Assert.Equal(Inspector.SimilarTokens(model, "cat", 3).Concat(Inspector.SimilarTokens(model, "dog", 3)), found);
        Assert.Equal(10, ps.Run<SimilarToken>("$m | Find-SimilarToken bird").Count);
    }

    [Fact]
    public void BadInputIsAnErrorWithOurIdNamingTheValue()
    {
        using var ps = new PowerShellSession();
        ps.Run("$m = New-Model -Layers 2").ThrowIfFailed();
        CheckError(ps.Run("Get-Prediction -Model $m -Prompt 'the zebra'"), "UnknownToken", "GetPredictionCommand", ErrorCategory.InvalidData, "the zebra", "'zebra'");
        CheckError(ps.Run("Get-Attention -Model $m -Text 'the zebra'"), "UnknownToken", "GetAttentionCommand", ErrorCategory.InvalidData, "the zebra", "'zebra'");
        CheckError(ps.Run("Find-SimilarToken -Model $m -Token zebra"), "UnknownToken", "FindSimilarTokenCommand", ErrorCategory.InvalidData, "zebra", "'zebra'");
        string sixteen = string.Join(" ", Enumerable.Repeat("the", 16));
        CheckError(ps.Run($"Get-Prediction -Model $m -Prompt '{sixteen}'"), "TextTooLong", "GetPredictionCommand", ErrorCategory.InvalidArgument, sixteen, "16 words", "block size of 16", "At most 15 words");
        CheckError(ps.Run($"Get-Attention -Model $m -Text '{sixteen}'"), "TextTooLong", "GetAttentionCommand", ErrorCategory.InvalidArgument, sixteen, "16 words");
        CheckError(ps.Run("Get-Attention -Model $m -Text 'the cat' -Layer 0, 2"), "LayerOutOfRange", "GetAttentionCommand", ErrorCategory.InvalidArgument, 2, "no layer 2", "0 to 1");
        CheckError(ps.Run("Get-Attention -Model $m -Text 'the cat' -Head 4"), "HeadOutOfRange", "GetAttentionCommand", ErrorCategory.InvalidArgument, 4, "no head 4", "0 to 3");
        CheckError(ps.Run("Get-Prediction -Model $m -Text 'the cat' -Position 4"), "PositionOutOfRange", "GetPredictionCommand", ErrorCategory.InvalidArgument, 4, "no position 4", "1 to 3");
        CheckError(ps.Run("Find-SimilarToken -Model $m -Token 'the cat'"), "InvalidConfiguration", "FindSimilarTokenCommand", ErrorCategory.InvalidArgument, "the cat", "2 words, not one");
        Assert.StartsWith("ParameterArgumentValidationError,", ps.Run("Get-Prediction -Model $m -Temperature 0").Error!.FullyQualifiedErrorId);
        Assert.StartsWith("ParameterArgumentValidationError,", ps.Run("Get-Prediction -Model $m -Top 0").Error!.FullyQualifiedErrorId);
    }

    [Fact]
    public void CharacterModelsArePredictedAndAttendedCharacterByCharacter()
    {
        using var ps = new PowerShellSession();
        ps.Run("$m = New-Tokenizer -Text 'anna', 'bob' -Kind Character | New-Model -Layers 1 -BlockSize 8").ThrowIfFailed();
        Assert.Equal(["b", "o", "b", "<BOS>"], ps.Run<TokenSurprise>("$m | Get-Prediction bob -Each").Select(s => s.Token));
        Assert.Equal(4 * 5 / 2 * 4, ps.Run<AttentionWeight>("$m | Get-Attention bob").Count);
        Assert.Equal(["a", "b", "n", "o"], ps.Run<Prediction>("$m | Get-Prediction an -Top 5").Select(p => p.Token).Where(t => t != "<BOS>").Order());
    }
}
