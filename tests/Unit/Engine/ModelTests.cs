using MicroGpt;

namespace MicroGpt.Tests.Engine;

public class ModelTests
{
    [Fact]
    public void TheReferenceConfigurationHas63296Parameters()
    {
        var config = new ModelConfig(VocabSize: 597, EmbeddingSize: 32, Heads: 4, Layers: 2, BlockSize: 16);
        Assert.Equal(63_296, config.ParameterCount);
        Assert.Equal(63_296, new ParameterLayout(config).Count);
        Assert.Equal(8, config.HeadSize);
    }

    [Fact]
    public void LayoutFollowsTheTutorialsOrder()
    {
        var config = new ModelConfig(5, 4, 2, 2, 3);
        var tensors = ParameterLayout.Tensors(config).ToList();
        Assert.Equal(["wte", "wpe", "lm_head", "h.0.attn.q", "h.0.attn.k", "h.0.attn.v", "h.0.attn.o", "h.0.mlp.fc", "h.0.mlp.proj",
            "h.1.attn.q", "h.1.attn.k", "h.1.attn.v", "h.1.attn.o", "h.1.mlp.fc", "h.1.mlp.proj"], tensors.Select(t => t.Name));
        int offset = 0;
        foreach (var t in tensors) { Assert.Equal(offset, t.Offset); offset += t.Rows * t.Columns; }
        Assert.Equal(config.ParameterCount, offset);
    }

    [Fact]
    public void InitializationIsTheSeededGaussianInBufferOrder()
    {
        var config = new ModelConfig(5, 4, 2, 1, 3);
        var model = TestData.RandomModel(config, seed: 42);
        var rng = new Rng(42);
        Assert.All(model.Parameters, p => Assert.Equal((float)rng.NextGaussian(0, 0.08), p));
        Assert.Equal(model.Parameters, TestData.RandomModel(config, seed: 42).Parameters);
        Assert.NotEqual(model.Parameters, TestData.RandomModel(config, seed: 43).Parameters);
    }

    [Fact]
    public void InitialWeightsHaveTheRequestedSpread()
    {
        var model = TestData.RandomModel(new ModelConfig(597, 32, 4, 2, 16));
        double mean = model.Parameters.Average(p => (double)p);
        double std = Math.Sqrt(model.Parameters.Average(p => ((double)p - mean) * ((double)p - mean)));
        Assert.Equal(0, mean, 0.002);
        Assert.Equal(0.08, std, 0.002);
    }

    [Theory]
    [InlineData(0, 32, 4, 2, 16, "VocabSize")]
    [InlineData(597, 0, 4, 2, 16, "EmbeddingSize")]
    [InlineData(597, 32, -1, 2, 16, "Heads")]
    [InlineData(597, 32, 4, 0, 16, "Layers")]
    [InlineData(597, 32, 4, 2, 0, "BlockSize")]
    [InlineData(597, 30, 4, 2, 16, "Heads")]          // 30 is not divisible by 4
    [InlineData(597, 65536, 4, 64, 16, "EmbeddingSize")] // 3.3 trillion parameters
    public void InvalidConfigurationsAreRefusedNamingTheSetting(int vocab, int embedding, int heads, int layers, int block, string setting)
    {
        var ex = Assert.Throws<InvalidConfigurationException>(() => new ModelConfig(vocab, embedding, heads, layers, block).Validate());
        Assert.Equal(setting, ex.Parameter);
    }

    [Fact]
    public void ATokenizerOfTheWrongSizeIsRefused()
    {
        var config = new ModelConfig(10, 8, 2, 1, 4);
        var ex = Assert.Throws<InvalidConfigurationException>(() => Model.Create(config, TestData.Words(5), 1));
        Assert.Contains("6 tokens", ex.Message);
    }

    [Fact]
    public void GetWeightsIsACopyAndSetWeightsReplacesTheWeightsUnlessTheModelTrains()
    {
        var model = TestData.RandomModel(new ModelConfig(7, 8, 2, 1, 4));
        var weights = model.GetWeights();
        Assert.Equal(model.Parameters, weights);
        weights[3] = 42;
        Assert.NotEqual(42, model.Parameters[3]); // a copy: changing it leaves the model alone
        model.SetWeights(weights);
        Assert.Equal(42, model.Parameters[3]);
        weights[3] = 7;
        Assert.Equal(42, model.Parameters[3]); // SetWeights copied, it does not keep the array

        var wrong = Assert.Throws<ArgumentException>(() => model.SetWeights(new float[weights.Length - 1]));
        Assert.Contains($"{weights.Length - 1:N0} were given", wrong.Message);
        using (new Trainer(model, TestData.RandomSentences(7, 4, 3, seed: 1), new TrainingOptions { Steps = 1 }))
            Assert.Throws<ModelBusyException>(() => model.SetWeights(weights));
        Assert.Equal(42, model.Parameters[3]);
        model.SetWeights(weights); // free again once the trainer is gone
        Assert.Equal(7, model.Parameters[3]);
    }

    [Fact]
    public void UntrainedLossIsNearLogVocabulary()
    {
        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        var model = Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, 42);
        var sentences = Corpus.Encode(tokenizer, lines.Take(500).ToList());
        double loss = new Evaluator(model, sentences).MeanLoss();
        Assert.InRange(loss, Math.Log(tokenizer.VocabSize) - 0.3, Math.Log(tokenizer.VocabSize) + 0.3);
    }

    [Fact]
    public void EvaluatorIsTheMeanOfTheReferenceSentenceLosses()
    {
        var config = new ModelConfig(13, 16, 4, 2, 6);
        var model = TestData.RandomModel(config);
        var sentences = TestData.RandomSentences(13, 150, 8, seed: 5); // more than one chunk
        var reference = new ReferenceGpt(config).BatchLoss(TestData.ToDouble(model.Parameters), sentences);
        Assert.Equal(reference, new Evaluator(model, sentences, threads: 1).MeanLoss(), 1e-5);
        Assert.Equal(new Evaluator(model, sentences, threads: 1).MeanLoss(), new Evaluator(model, sentences, threads: 2).MeanLoss());
    }
}
