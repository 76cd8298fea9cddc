using System.Diagnostics;
using System.Management.Automation;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>New-Tokenizer -Kind Bpe and a BPE model through the cmdlets, as users run them.</summary>
public class BytePairCmdletTests
{
    static readonly string[] Lines = ["The cat sat on the mat.", "", "The dog ran in the park!", "    indented, the cat ran."];

    [Fact]
    public void NewTokenizerLearnsTheSameMergesFromAFileTheTextAndThePipeline()
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("pets.txt"), Lines);
        var fromFile = (BytePairTokenizer)Assert.Single(ps.Run<Tokenizer>("New-Tokenizer -Kind Bpe -VocabSize 280 -Path pets.txt"));
        Assert.Equal(("Bpe", 280, 279), (fromFile.Kind, fromFile.VocabSize, fromFile.Bos));
        // The file's text: its lines, each ended by a newline, leading spaces and all.
        string text = string.Concat(Lines.Select(line => line + "\n"));
        Assert.Equal(BytePairEncoding.Train(text, 279).Merges, fromFile.Merges);
        foreach (string script in new[] { "Get-Content pets.txt | New-Tokenizer -Kind Bpe -VocabSize 280", "Get-Item pets.txt | New-Tokenizer -Kind Bpe -VocabSize 280", "New-Tokenizer -Kind Bpe -VocabSize 280 -Text (Get-Content pets.txt)" })
            Assert.True(Assert.Single(ps.Run<Tokenizer>(script)).SameAs(fromFile), script);
        var verbose = ps.Run("New-Tokenizer -Kind Bpe -VocabSize 280 -Path pets.txt -Verbose").Verbose;
        Assert.Contains(verbose, v => v.Contains("Vocabulary: 280 tokens (279 tokens and BOS)"));
    }

    [Theory]
    [InlineData("New-Tokenizer -Kind Bpe -VocabSize 256", 256, "VocabSize 256 must be between 257 (the 256 byte tokens and BOS)")]
    [InlineData("New-Tokenizer -Kind Bpe -VocabSize -5 -Text 'a b'", -5, "VocabSize -5 must be between 257")]
    [InlineData("New-Tokenizer -Kind Bpe -VocabSize 200000", 200_000, "VocabSize 200000 must be between 257 (the 256 byte tokens and BOS) and 131,073")]
    [InlineData("New-Tokenizer -Kind Bpe -VocabSize 5000 -Text 'hello hello world'", 5000, "VocabSize 5000 is more than this text allows")]
    [InlineData("New-Tokenizer -Kind Word -VocabSize 300", 300, "VocabSize 300 is for the kinds that learn to a size (Bpe)")]
    [InlineData("New-Tokenizer -Kind Character -VocabSize 300 -Text 'abc'", 300, "a Character tokenizer's vocabulary is every distinct character")]
    public void AVocabSizeThatCannotBeIsAnInvalidConfigurationNamingIt(string script, int value, string message)
    {
        using var ps = new PowerShellSession();
        var result = ps.Run(script);
        Assert.Empty(result.Output);
        var error = Assert.IsType<ErrorRecord>(result.Terminating);
        Assert.Equal("InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Equal(value, error.TargetObject);
        Assert.Contains(message, error.Exception.Message);
    }

    [Fact]
    public void BpeWithoutAVocabSizeSaysItNeedsOne()
    {
        using var ps = new PowerShellSession();
        var result = ps.Run("New-Tokenizer -Kind Bpe -Text 'the cat'");
        Assert.Empty(result.Output);
        Assert.Equal("InvalidConfiguration,MicroGpt.Commands.NewTokenizerCommand", result.Terminating?.FullyQualifiedErrorId);
        Assert.Contains("A Bpe tokenizer needs a VocabSize", result.Terminating!.Exception.Message);
    }

    [Fact]
    public void CtrlCStopsALongLearningPromptlyAndWritesNothing()
    {
        const double StopWithin = 2.0; // seconds, the interactive target; a merge takes microseconds, the whole learning about 6 s alone
        using var ps = new PowerShellSession();
        // 20,000 distinct random words: 60,000 tokens take seconds to learn.
        var rng = new Random(1);
        File.WriteAllLines(ps.PathOf("words.txt"), Enumerable.Range(0, 20_000).Select(_ => new string(Enumerable.Range(0, 60).Select(_ => (char)('a' + rng.Next(26))).ToArray())));
        Stopwatch? sinceStop = null;
        // Ctrl+C once the corpus is read ("Read 20,000 sentences"), as learning starts.
        var result = ps.Run("New-Tokenizer -Kind Bpe -VocabSize 60000 -Path words.txt -Verbose", item =>
        {
            if (item is not VerboseRecord { Message: var message } || !message.StartsWith("Read ")) return false;
            sinceStop = Stopwatch.StartNew();
            return true;
        });
        Assert.True(result.Stopped);
        Assert.True(sinceStop!.Elapsed.TotalSeconds < StopWithin, $"the stop took {sinceStop.Elapsed.TotalSeconds:F2} s");
        Assert.Empty(result.Output);
        Assert.Null(result.Terminating);
        Assert.DoesNotContain(result.Verbose, v => v.StartsWith("Vocabulary"));
    }

    [Fact]
    public void GetTokensShowsBytePiecesAndNeverAnUnknownToken()
    {
        using var ps = new PowerShellSession();
        ps.Run("$t = New-Tokenizer -Kind Bpe -VocabSize 400").ThrowIfFailed();
        var result = ps.Run("'The zebra ate 🍕', '   ', 'naïve' | Get-Tokens -Tokenizer $t");
        Assert.Empty(result.Errors);
        var encoded = result.Output.Select(o => Assert.IsType<TokenizedText>(o.BaseObject)).ToList();
        Assert.Equal(["The zebra ate 🍕", "naïve"], encoded.Select(e => e.Text)); // trimmed and blank lines skipped, as in training; not lower-cased
        var tokenizer = (Tokenizer)ps.Variable("t")!;
        Assert.Equal(tokenizer.Bos, encoded[0].Ids[0]);
        Assert.Equal(tokenizer.Bos, encoded[0].Ids[^1]);
        // The default corpus has no emoji: the pizza is its four bytes, each shown as \xNN.
        Assert.Equal(["\\xF0", "\\x9F", "\\x8D", "\\x95", "<BOS>"], encoded[0].Tokens.TakeLast(5));
        Assert.Equal("The zebra ate 🍕", tokenizer.Decode([.. encoded[0].Ids]));
    }

    [Fact]
    public void EncodeAndDecodeAreMethodsForScripts()
    {
        using var ps = new PowerShellSession();
        ps.Run("$t = New-Tokenizer -Kind Bpe -VocabSize 400").ThrowIfFailed();
        // An array that PowerShell built (object[]) is taken as int[]; emoji and unseen characters come back whole.
        var back = ps.Run("$ids = $t.Encode('Zoë saw 🦓 + 🐈!'); $t.Decode(@($ids | ForEach-Object { $_ }))");
        Assert.Equal("Zoë saw 🦓 + 🐈!", Assert.Single(back.Output).BaseObject);
        var ids = ps.Run("$t.Encode('the cat')");
        Assert.All(ids.Output, id => Assert.IsType<int>(id.BaseObject));
        Assert.Equal("the cat", Assert.Single(ps.Run("$t.Decode(@(" + string.Join(", ", ids.Output.Select(o => o.BaseObject)) + "))").Output).BaseObject);
    }

    [Theory]
    [InlineData("bpe.json")]
    [InlineData("bpe.safetensors")]
    public void ABpeModelTrainsSavesAndLoadsBitForBit(string file)
    {
        using var ps = new PowerShellSession();
        File.WriteAllLines(ps.PathOf("pets.txt"), Lines);
        ps.Run("$t = New-Tokenizer -Kind Bpe -VocabSize 290 -Path pets.txt; $m = New-Model -Tokenizer $t -Layers 1 -EmbeddingSize 16 -BlockSize 32").ThrowIfFailed();
        var steps = ps.Run<TrainingStep>("Invoke-Training -Model $m -Path pets.txt -Steps 30 -LearningRate 0.01");
        Assert.Equal(30, steps.Count);
        Assert.True(steps[^1].Loss < steps[0].Loss - 0.5, $"the loss went from {steps[0].Loss} to {steps[^1].Loss}");
        ps.Run($"$m | Save-Model -Path {file}; $loaded = Import-Model {file}").ThrowIfFailed();
        var (model, loaded) = ((Model)ps.Variable("m")!, (Model)ps.Variable("loaded")!);
        Assert.True(loaded.Tokenizer.SameAs(model.Tokenizer));
        Assert.Equal(model.Parameters.Select(BitConverter.SingleToInt32Bits), loaded.Parameters.Select(BitConverter.SingleToInt32Bits));
        // The loaded model measures and samples as the trained one does.
        var measured = ps.Run<Measurement>("$m, $loaded | Measure-Model -Path pets.txt");
        Assert.Equal(measured[0].Loss, measured[1].Loss);
        var samples = ps.Run<Sample>("$m, $loaded | Invoke-Generation -Count 3 -Seed 4");
        Assert.Equal(samples.Take(3).Select(s => s.Text), samples.Skip(3).Select(s => s.Text));
    }
}
