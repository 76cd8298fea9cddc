using MicroGpt;
using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>What Get-Prediction, Get-Attention and Find-SimilarToken read of a model, against the training forward and naive references.</summary>
public class InspectorTests
{
    // A probability and its log from the same logits, one rounded to float: exp(log p) and p agree to
    // float32's relative rounding of p (6e-8) plus the double log's, far inside this.
    const double LogConsistency = 1e-6;

    static readonly ModelConfig Small = new(13, 16, 4, 2, 6); // 12 words and BOS, 6 positions

    static string Sentence(params int[] words) => string.Join(" ", words.Select(w => $"w{w:D3}"));

    [Fact]
    public void PredictionsAreTheSamplersDistributionRankedWithTheirLogs()
    {
        var model = TestData.RandomModel(Small, seed: 4);
        var inspector = new Inspector(model);
        var reader = new ModelReader(model);
        var expected = new float[Small.VocabSize];
        foreach (double temperature in new[] { 1.0, 0.5, 2.5 })
        {
            var all = inspector.Predictions(Sentence(3, 7), top: 100, temperature);
            Assert.Equal(Small.VocabSize, all.Count); // -Top beyond the vocabulary gives it all
            reader.Forward([model.Tokenizer.Bos, 3, 7]);
            reader.SamplingProbabilities(expected, 2, temperature);
            Assert.Equal(Enumerable.Range(1, all.Count), all.Select(p => p.Rank));
            Assert.All(all, p => Assert.Equal(expected[p.Id], p.Probability));
            Assert.Equal(Enumerable.Range(0, Small.VocabSize).OrderByDescending(i => expected[i]).ThenBy(i => i), all.Select(p => p.Id));
            Assert.All(all, p => Assert.Equal(Softmax.LogAt(reader.Logits(2), p.Id, temperature), p.LogProbability));
            Assert.All(all, p => Assert.Equal(p.Probability, Math.Exp(p.LogProbability), LogConsistency));
            Assert.All(all, p => Assert.Equal(model.Tokenizer.PieceOf(p.Id), p.Token));
            Assert.All(all, p => Assert.Equal("w003 w007", p.Prompt));
            Assert.Equal(all.Take(3), inspector.Predictions(Sentence(3, 7), top: 3, temperature));
        }
    }

    [Fact]
    public void AGreedySamplerPicksTheFirstPrediction()
    {
        var model = TestData.RandomModel(Small, seed: 6);
        var inspector = new Inspector(model);
        var sampler = new Sampler(model, new SamplingOptions { Temperature = 0 });
        foreach (var prompt in new[] { Array.Empty<int>(), [1], [4, 9, 2] })
        {
            var first = inspector.Predictions(Sentence(prompt), top: 1).Single();
            var sample = sampler.Generate(prompt);
            int next = sample.Ids.Count > prompt.Length ? sample.Ids[prompt.Length] : model.Tokenizer.Bos;
            Assert.Equal(next, first.Id);
        }
    }

    /// <summary>Each token's log-probability is minus the training loss at its position: their mean is the trainer's loss of the sentence, bit for bit.</summary>
    [Fact]
    public void SurprisesAreMinusTheTrainingLossAtEachPositionWithTheirRanks()
    {
        var model = TestData.RandomModel(Small, seed: 8);
        var inspector = new Inspector(model);
        var reader = new ModelReader(model);
        int bos = model.Tokenizer.Bos;
        foreach (var words in new[] { new[] { 5 }, [2, 2, 11, 0], [1, 2, 3, 4, 5] }) // the last fills the block
        {
            var ids = new[] { bos }.Concat(words).Append(bos).ToArray();
            var surprises = inspector.Surprises(Sentence(words));
            Assert.Equal(Enumerable.Range(1, words.Length + 1), surprises.Select(s => s.Position));
            Assert.Equal(ids[1..], surprises.Select(s => s.Id));
            Assert.Equal("<BOS>", surprises[^1].Token);
            double loss = 0;
            foreach (var s in surprises) loss -= s.LogProbability;
            Assert.Equal(TestData.Gradient(model, [ids]).Loss, loss / surprises.Count);

            reader.Forward(ids.AsSpan(0, ids.Length - 1));
            foreach (var s in surprises)
            {
                var p = reader.Probabilities(s.Position - 1).ToArray();
                Assert.Equal(p[s.Id], s.Probability);
                int above = Enumerable.Range(0, p.Length).Count(i => p[i] > p[s.Id] || p[i] == p[s.Id] && i < s.Id);
                Assert.Equal(above + 1, s.Rank);
                Assert.Equal(model.Tokenizer.PieceOf(Enumerable.Range(0, p.Length).MaxBy(i => p[i])), s.Expected);
                Assert.Equal(model.Tokenizer.Decode(ids[..s.Position]), s.Context);
            }
            var two = inspector.Surprises(Sentence(words), [1, words.Length + 1]);
            Assert.Equal([surprises[0], surprises[^1]], two);
        }
    }

    /// <summary>The weights are the training forward's softmax, bit for bit, for every layer, head, query and key.</summary>
    [Fact]
    public void AttentionIsTheTrainingForwardsSoftmaxBitForBit()
    {
        var model = TestData.RandomModel(Small, seed: 10);
        int bos = model.Tokenizer.Bos, t = Small.BlockSize, h = Small.Heads;
        var ids = new[] { bos, 4, 0, 8, 8 };
        var batch = new PackedBatch(t, 1);
        batch.Add(ids.Append(bos).ToArray(), t);
        batch.SetMeanWeights();
        var trained = new Activations(Small, batch.Rows);
        Gpt.Forward(model, trained, batch, 0, batch.Rows, withLoss: true);

        var weights = new Inspector(model).Attention(Sentence(4, 0, 8, 8));
        Assert.Equal(Small.Layers * h * ids.Length * (ids.Length + 1) / 2, weights.Count);
        foreach (var w in weights)
        {
            float expected = trained.Rows(trained.Att, w.Layer, h * t, w.QueryPosition, w.QueryPosition + 1)[w.Head * t + w.KeyPosition];
            Assert.Equal(expected, w.Weight);
            Assert.Equal(model.Tokenizer.PieceOf(ids[w.QueryPosition]), w.QueryToken);
            Assert.Equal(model.Tokenizer.PieceOf(ids[w.KeyPosition]), w.KeyToken);
        }
        foreach (var row in weights.GroupBy(w => (w.Layer, w.Head, w.QueryPosition)))
            Assert.Equal(1, row.Sum(w => w.Weight), 1e-6); // a softmax row, in float32

        var some = new Inspector(model).Attention(Sentence(4, 0, 8, 8), layers: [1], heads: [0, 3]);
        Assert.Equal(weights.Where(w => w.Layer == 1 && w.Head is 0 or 3), some);
    }

    [Fact]
    public void NeighboursAreRankedByTheCosineOfTheirEmbeddings()
    {
        var model = TestData.RandomModel(Small, seed: 12);
        int c = Small.EmbeddingSize, wte = model.Layout.Wte;
        var row = (int id) => model.Parameters.AsSpan(wte + id * c, c);
        // w005 points exactly as w002 does, w009 exactly the other way: similarities 1 and -1
        for (int i = 0; i < c; i++) { row(5)[i] = 3 * row(2)[i]; row(9)[i] = -0.5f * row(2)[i]; }

        var all = Inspector.SimilarTokens(model, "w002", count: 100);
        Assert.Equal(11, all.Count); // every other word; BOS and w002 itself left out
        Assert.DoesNotContain(all, s => s.Id == 2 || s.Id == model.Tokenizer.Bos);
        Assert.Equal(("w005", 1.0), (all[0].Token, Math.Round(all[0].Similarity, 6)));
        Assert.Equal(("w009", -1.0), (all[^1].Token, Math.Round(all[^1].Similarity, 6)));
        foreach (var s in all)
        {
            var (a, b) = (row(2).ToArray().Select(x => (double)x).ToArray(), row(s.Id).ToArray().Select(x => (double)x).ToArray());
            double naive = a.Zip(b, (x, y) => x * y).Sum() / Math.Sqrt(a.Sum(x => x * x)) / Math.Sqrt(b.Sum(x => x * x));
            Assert.Equal(naive, s.Similarity, 1e-12);
            Assert.Equal("w002", s.Query);
        }
        Assert.Equal(Enumerable.Range(1, 11), all.Select(s => s.Rank));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Similarity >= p.Second.Similarity));
        Assert.Equal(all.Take(4), Inspector.SimilarTokens(model, "W002", count: 4)); // read as a prompt is: lower-cased for words
    }

    [Fact]
    public void CharacterModelsAreReadCharacterByCharacter()
    {
        var tokenizer = new CharacterTokenizer(["a", "b", "c", " "]);
        var model = Model.Create(new ModelConfig(5, 16, 4, 1, 8), tokenizer, 3);
        var inspector = new Inspector(model);
        var surprises = inspector.Surprises("ab ca");
        Assert.Equal(["a", "b", " ", "c", "a", "<BOS>"], surprises.Select(s => s.Token));
        Assert.Equal("ab c", surprises[4].Context);
        Assert.Equal(8 * 9 / 2 * 4, inspector.Attention("ab cabc").Count); // 7 characters and BOS fill the block of 8: 36 weights a head, 4 heads
        Assert.Equal(" ", Inspector.SimilarTokens(model, " ", 3)[0].Query);
    }

    /// <summary>
    /// A byte-pair model is read token by token as training reads it: the surprises of a sentence,
    /// characters it never learned included (they fall back to bytes), are minus the trainer's loss
    /// at each position, and their mean is that loss, bit for bit.
    /// </summary>
    [Fact]
    public void BytePairModelsAreReadAsTrainingReadsThem()
    {
        string[] lines = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"];
        var tokenizer = Tokenizer.Build(TokenizerKind.Bpe, new TokenizerCorpus(lines.Select((l, i) => new Sentence(l, i + 1)).ToList(), lines, "test"), vocabSize: 270);
        var model = Model.Create(new ModelConfig(tokenizer.VocabSize, 16, 4, 1, 32), tokenizer, 5);
        var inspector = new Inspector(model);
        const string text = "the cat saw a ü 🐕";
        var ids = tokenizer.EncodeSentence(text);
        var surprises = inspector.Surprises(text);
        Assert.Equal(ids[1..], surprises.Select(s => s.Id));
        Assert.True(surprises.Count > text.Length / 3, "the learned merges should leave the unseen characters as bytes");
        Assert.Equal(text, surprises[^1].Context); // the closing BOS is predicted after the whole text, unseen characters and all
        double loss = 0;
        foreach (var s in surprises) loss -= s.LogProbability;
        Assert.Equal(TestData.Gradient(model, [ids]).Loss, loss / surprises.Count);
        Assert.Equal(tokenizer.Decode(ids[1..^1]), inspector.Predictions(text, top: 1)[0].Prompt);
    }

    [Fact]
    public void BadInputIsRefusedNamingIt()
    {
        var model = TestData.RandomModel(Small);
        var inspector = new Inspector(model);
        var before = model.GetWeights();

        Assert.Equal("w999", Assert.Throws<UnknownTokenException>(() => inspector.Predictions("w001 w999", 5)).Piece);
        var tooLong = Assert.Throws<TextTooLongException>(() => inspector.Surprises(Sentence(1, 2, 3, 4, 5, 6)));
        Assert.Equal((6, 6), (tooLong.Count, tooLong.BlockSize));
        Assert.Contains("At most 5 words fit", tooLong.Message);
        Assert.Equal(5, inspector.Predictions(Sentence(1, 2, 3, 4, 5), 5).Count); // 5 words and BOS fill the block
        Assert.Equal("layer", Assert.Throws<InvalidConfigurationException>(() => inspector.Attention("w001", layers: [2])).Parameter);
        Assert.Equal(-1, Assert.Throws<InvalidConfigurationException>(() => inspector.Attention("w001", heads: [-1])).Value);
        Assert.Equal("head", Assert.Throws<InvalidConfigurationException>(() => inspector.Attention("w001", heads: [4])).Parameter);
        Assert.Equal(3, Assert.Throws<InvalidConfigurationException>(() => inspector.Surprises("w001", [3])).Value); // positions 1 and 2
        Assert.Equal("position", Assert.Throws<InvalidConfigurationException>(() => inspector.Surprises("w001", [0])).Parameter);
        Assert.Contains("2 sentences", Assert.Throws<InvalidConfigurationException>(() => inspector.Surprises("w001\nw002")).Message);
        Assert.Contains("2 words, not one", Assert.Throws<InvalidConfigurationException>(() => Inspector.SimilarTokens(model, "w001 w002", 3)).Message);
        Assert.Throws<UnknownTokenException>(() => Inspector.SimilarTokens(model, "cat", 3));
        Assert.Equal("count", Assert.Throws<InvalidConfigurationException>(() => Inspector.SimilarTokens(model, "w001", 0)).Parameter);
        Assert.Equal(before, model.GetWeights());
    }

    // The Evaluator sums each window's float32 row losses in double and divides once; the surprises
    // are the same rows' log-probabilities in double, summed in another order: they agree to float32
    // rounding of a loss near ln(V), far inside this.
    const double StreamLossAgreement = 1e-6;

    /// <summary>A character model of a stream: upper case, spaces and newlines are pieces as any other.</summary>
    static Model StreamModel(int seed) => Model.Create(new ModelConfig(6, 16, 4, 2, 8), new CharacterTokenizer(["a", "b", "C", " ", "\n"]), seed);

    /// <summary>Texts of BlockSize + 1 tokens: Measure-Model -Stream's one window, and the most -Each reads (the last token is only predicted).</summary>
    [Theory]
    [InlineData("ab\nC  bab")]
    [InlineData("\n\naaaaCC ")]
    [InlineData("C b a\nb\nC")]
    public void StreamSurprisesAreMinusMeasureModelStreamsLossAtEachPosition(string text)
    {
        var model = StreamModel(seed: 5);
        var surprises = new Inspector(model, stream: true).Surprises(text);
        var ids = model.Tokenizer.Encode(text);
        Assert.Equal(Enumerable.Range(1, text.Length - 1), surprises.Select(s => s.Position)); // nothing predicts position 0
        Assert.Equal(ids[1..], surprises.Select(s => s.Id));
        Assert.DoesNotContain(surprises, s => s.Token == "<BOS>");
        Assert.Equal(text[..^1], surprises[^1].Context);
        double loss = 0;
        foreach (var s in surprises) loss -= s.LogProbability;
        var measured = Evaluator.ForStream(model, Corpus.EncodeStream(model.Tokenizer, text)).Measure();
        Assert.Equal(measured.Loss, loss / surprises.Count, StreamLossAgreement);

        var reader = new ModelReader(model);
        reader.Forward(ids[..^1]);
        foreach (var s in surprises) Assert.Equal(reader.Probabilities(s.Position - 1)[s.Id], s.Probability);
    }

    [Fact]
    public void StreamPredictionsAndAttentionReadTheTextAsItIsWithoutBos()
    {
        var model = StreamModel(seed: 7);
        var inspector = new Inspector(model, stream: true);
        var reader = new ModelReader(model);
        var expected = new float[model.Config.VocabSize];
        foreach (var text in new[] { "a", "C\nb", "ab\nC  ba" })
        {
            var ids = model.Tokenizer.Encode(text);
            var all = inspector.Predictions(text, top: 100);
            reader.Forward(ids);
            reader.SamplingProbabilities(expected, ids.Length - 1, 1);
            Assert.All(all, p => Assert.Equal(expected[p.Id], p.Probability));
            Assert.All(all, p => Assert.Equal(Softmax.LogAt(reader.Logits(ids.Length - 1), p.Id, 1), p.LogProbability));
            Assert.All(all, p => Assert.Equal(text, p.Prompt));

            var weights = inspector.Attention(text);
            Assert.Equal(2 * 4 * ids.Length * (ids.Length + 1) / 2, weights.Count);
            Assert.Equal(text.Select(c => c.ToString()), weights.Where(w => w.Layer == 0 && w.Head == 0 && w.KeyPosition == 0).Select(w => w.QueryToken));
            Assert.All(weights, w => Assert.Equal(reader.Attention(w.Layer, w.Head, w.QueryPosition)[w.KeyPosition], w.Weight));
        }
        // The same text read as a sentence is lower-cased, trimmed, and opens with BOS.
        Assert.Equal("<BOS>", new Inspector(model).Attention("a")[0].QueryToken);

        var tooLong = Assert.Throws<TextTooLongException>(() => inspector.Predictions("ab\nC  bab", 5));
        Assert.Equal((9, 8), (tooLong.Count, tooLong.BlockSize));
        Assert.Contains("At most 8 characters fit", tooLong.Message);
        Assert.Throws<TextTooLongException>(() => inspector.Attention("ab\nC  bab"));
        Assert.Equal(8, inspector.Surprises("ab\nC  bab").Count); // -Each reads all but the last: 9 fit
        Assert.Contains("At most 9 characters fit", Assert.Throws<TextTooLongException>(() => inspector.Surprises("ab\nC  baba")).Message);
        Assert.Empty(inspector.Surprises("a")); // nothing before the one token to predict it from
        Assert.Equal("text", Assert.Throws<InvalidConfigurationException>(() => inspector.Predictions("", 5)).Parameter);
        Assert.Contains("positions 1 to 2", Assert.Throws<InvalidConfigurationException>(() => inspector.Surprises("abC", [0])).Message);
    }
}
