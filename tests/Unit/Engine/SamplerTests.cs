using System.Security.Cryptography;
using System.Text;
using MicroGpt;
using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

public class SamplerTests
{
    static readonly ModelConfig Config = new(13, 16, 4, 2, 6);

    [Fact]
    public void KvCacheLogitsEqualTheReferencePerPosition()
    {
        var model = TestData.RandomModel(Config);
        var reference = new ReferenceGpt(Config);
        var p = TestData.ToDouble(model.Parameters);
        var keys = new[] { new List<double[]>(), new List<double[]>() };
        var values = new[] { new List<double[]>(), new List<double[]>() };
        int[] tokens = [12, 3, 7, 0, 11];
        var activations = new Activations(Config, Config.BlockSize);
        var rows = new PackedBatch(Config.BlockSize, 1);
        for (int n = 0; n < tokens.Length; n++)
        {
            rows.Tokens[n] = tokens[n]; rows.Positions[n] = n; rows.Start[n] = 0;
            Gpt.Forward(model, activations, rows, n, n + 1, withLoss: false);
            var expected = reference.Logits(p, tokens[n], n, keys, values);
            var actual = activations.Logits.AsSpan(n * Config.VocabSize, Config.VocabSize).ToArray();
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5);
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameSamples()
    {
        var model = TestData.RandomModel(Config);
        string[] Draw(int seed)
        {
            var sampler = new Sampler(model, new SamplingOptions { Seed = seed, Temperature = 1 });
            return Enumerable.Range(0, 8).Select(_ => sampler.Generate().Text).ToArray();
        }
        Assert.Equal(Draw(5), Draw(5));
        Assert.NotEqual(Draw(5), Draw(6));
        Assert.True(Draw(5).Distinct().Count() > 1); // consecutive samples continue the stream
    }

    [Fact]
    public void SamplesUseTheVocabularyAndStopAtBosOrTheBlockSize()
    {
        var model = TestData.RandomModel(Config);
        var sampler = new Sampler(model, new SamplingOptions { Temperature = 1.5 });
        var samples = Enumerable.Range(0, 50).Select(_ => sampler.Generate()).ToList();
        foreach (var sample in samples)
        {
            Assert.All(sample.Ids, id => Assert.InRange(id, 0, Config.VocabSize - 2)); // never BOS inside
            Assert.Equal(sample.Tokens, sample.Ids.Select(id => model.Tokenizer.Vocabulary[id]));
            Assert.Equal(string.Join(' ', sample.Tokens), sample.Text);
            Assert.True(sample.Complete ? sample.Ids.Count < Config.BlockSize : sample.Ids.Count == Config.BlockSize);
            Assert.True(sample.MeanLogProbability < 0);
        }
        Assert.Contains(samples, s => s.Complete);
    }

    [Fact]
    public void TemperatureZeroAndTopKOneAreGreedy()
    {
        var model = TestData.RandomModel(Config);
        var greedy = new Sampler(model, new SamplingOptions { Temperature = 0 }).Generate();
        var topOne = new Sampler(model, new SamplingOptions { TopK = 1, Seed = 99 }).Generate();
        Assert.Equal(greedy.Ids, topOne.Ids);

        // The greedy path picks the arg max of the reference's logits at every position.
        var reference = new ReferenceGpt(Config);
        var p = TestData.ToDouble(model.Parameters);
        var keys = new[] { new List<double[]>(), new List<double[]>() };
        var values = new[] { new List<double[]>(), new List<double[]>() };
        int token = model.Tokenizer.Bos;
        for (int n = 0; n < greedy.Ids.Count; n++)
        {
            var logits = reference.Logits(p, token, n, keys, values);
            token = Array.IndexOf(logits, logits.Max());
            Assert.Equal(greedy.Ids[n], token);
        }
    }

    /// <summary>
    /// The samples of fixed seeds, pinned as one SHA-256 per kernel path: texts, ids, the bits of
    /// MeanLogProbability and Complete, over temperatures (greedy included), top-k, top-p and a prompt.
    /// A change to the forward pass or the sampler must leave them as they are; one meant to change
    /// them pins the new hashes (this test's failure prints them; run it also with DOTNET_EnableAVX2=0)
    /// and says so in its commit.
    /// </summary>
    [Fact]
    public void TheSamplesOfASeedArePinned()
    {
        var pinned = new Dictionary<string, string>
        {
            ["vector"] = "0D37DDCFBFD97FC0689E970803AA6A3A7F2BE69C3ED38C9E0297BE323CA475F1",
            ["scalar"] = "6E54ADDAAA66CECA9274F08ACF5F551E968CDA8E68BEF85B41D61316F93BC294",
        };
        var config = new ModelConfig(31, 32, 4, 2, 16);
        var model = TestData.RandomModel(config, seed: 11);
        for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] *= 2; // distributions of a trained model's spread, unlike a fresh model's flat ones
        var options = new SamplingOptions[]
        {
            new() { Temperature = 0 }, new() { Temperature = 0.5 }, new(), new() { Temperature = 1 }, new() { Temperature = 1.5 },
            new() { TopK = 3 }, new() { TopP = 0.7 }, new() { Temperature = 1.2, TopK = 10, TopP = 0.9 },
        };
        var text = new StringBuilder();
        foreach (var option in options)
            for (int seed = 1; seed <= 4; seed++)
            {
                var sampler = new Sampler(model, option with { Seed = seed });
                for (int i = 0; i < 5; i++)
                {
                    var sample = sampler.Generate(i == 4 ? model.Tokenizer.Encode("w003 w007") : null);
                    text.AppendLine($"{sample.Text}|{string.Join(' ', sample.Ids)}|{BitConverter.DoubleToInt64Bits(sample.MeanLogProbability)}|{sample.Complete}");
                }
            }
        string path = Simd.Enabled ? "vector" : "scalar";
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        Assert.True(pinned[path] == hash, $"The samples on the {path} path hash to {hash}, not to the pinned {pinned[path]}:\n{text}");
    }

    public static TheoryData<int, double, float[]> Truncations => new()
    {
        { 0, 1.0, [0.1f, 0.5f, 0.3f, 0.1f] },   // nothing cut
        { 0, 0.5, [0f, 0.5f, 0f, 0f] },         // the first token reaches p alone
        { 0, 0.7, [0f, 0.5f, 0.3f, 0f] },       // 0.5 < 0.7 <= 0.8
        { 0, 0.2, [0f, 0.5f, 0f, 0f] },         // at least one token, even when it exceeds p
        { 2, 1.0, [0f, 0.5f, 0.3f, 0f] },       // exactly k
        { 3, 1.0, [0.1f, 0.5f, 0.3f, 0.1f] },   // the tie at the cut is kept
        { 2, 0.4, [0f, 0.5f, 0f, 0f] },         // top-k, then top-p
    };

    [Theory]
    [MemberData(nameof(Truncations))]
    public void TopKAndTopPKeepTheRightTokens(int topK, double topP, float[] expected)
    {
        float[] probabilities = [0.1f, 0.5f, 0.3f, 0.1f];
        Sampler.Truncate(probabilities, topK, topP, new float[4]);
        Assert.Equal(expected, probabilities);
    }

    [Fact]
    public void APromptIsContinued()
    {
        var model = TestData.RandomModel(Config);
        var sample = new Sampler(model, new SamplingOptions()).Generate(model.Tokenizer.Encode("w003 w007"));
        Assert.Equal(["w003", "w007"], sample.Tokens.Take(2));
        Assert.StartsWith("w003 w007", sample.Text);

        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(model, new SamplingOptions()).Generate([3, model.Tokenizer.Bos]));
        Assert.Throws<InvalidConfigurationException>(() => new Sampler(model, new SamplingOptions()).Generate(Enumerable.Repeat(1, 6).ToList()));
    }

    [Theory]
    [InlineData(-1, 0, 1, "Temperature")]
    [InlineData(1, -2, 1, "TopK")]
    [InlineData(1, 0, 0, "TopP")]
    [InlineData(1, 0, 1.2, "TopP")]
    public void OptionsOutOfRangeAreRefused(double temperature, int topK, double topP, string option)
    {
        var ex = Assert.Throws<InvalidConfigurationException>(() => new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP }.Validate());
        Assert.Equal(option, ex.Parameter);
    }
}
