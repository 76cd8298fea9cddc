using MicroGpt;
using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

public class ModelReaderTests
{
    // Float32 through two layers against the double reference, on these random models: logits agree
    // to 7e-7 and a probability moves by at most p times a logit's error, so probabilities and
    // attention weights (measured at most 9e-8 on either kernel path, and between the packed and
    // unpacked products) get this bound, and log-probabilities (a logit's error and the log-sum's,
    // measured at most 9.3e-7) the next.
    const double ReferenceTolerance = 1e-6;
    const double LogTolerance = 1e-5;

    /// <summary>
    /// The tutorial's shape in small, and one whose block holds 40 positions: rows past two blocks of
    /// the eight keys attention takes at a time, and past the length at which a trainer with a
    /// workspace would pack attention.
    /// </summary>
    public static TheoryData<ModelConfig> Configs => [new ModelConfig(13, 16, 4, 2, 6), new ModelConfig(50, 48, 3, 2, 40)];

    [Theory]
    [MemberData(nameof(Configs))]
    public void ItsNumbersAreThoseOfTheTrainingForwardBitForBit(ModelConfig config)
    {
        var model = TestData.RandomModel(config);
        var sentences = TestData.RandomSentences(config.VocabSize, 6, config.BlockSize + 3, seed: 5);
        // The sentences packed one after another, as a trainer runs them in batches under 64 rows
        // (with more, it takes the packed products; see APackingTrainerAgreesToFloatRounding).
        var batch = new PackedBatch(sentences.Length * config.BlockSize, sentences.Length);
        foreach (var sentence in sentences) batch.Add(sentence, config.BlockSize);
        batch.SetMeanWeights();
        var trained = new Activations(config, batch.Rows);
        var logits = new float[trained.Logits.Length];
        Gpt.Forward(model, trained, batch, 0, batch.Rows, withLoss: false);
        trained.Logits.CopyTo(logits, 0);
        Gpt.Forward(model, trained, batch, 0, batch.Rows, withLoss: true); // the probabilities replace the logits

        var reader = new ModelReader(model);
        int v = config.VocabSize, h = config.Heads, t = config.BlockSize;
        for (int b = 0; b < sentences.Length; b++)
        {
            int first = batch.ExampleStart[b], rows = batch.ExampleStart[b + 1] - first;
            reader.Forward(sentences[b].AsSpan(0, rows));
            Assert.Equal(rows, reader.Count);
            double loss = 0;
            for (int p = 0; p < rows; p++)
            {
                int n = first + p;
                Assert.Equal(logits.AsSpan(n * v, v).ToArray(), reader.Logits(p).ToArray());
                Assert.Equal(trained.Logits.AsSpan(n * v, v).ToArray(), reader.Probabilities(p).ToArray());
                Assert.Equal(-trained.Losses[n], reader.LogProbability(p, sentences[b][p + 1]));
                loss -= reader.LogProbability(p, sentences[b][p + 1]);
                for (int l = 0; l < config.Layers; l++)
                    for (int head = 0; head < h; head++)
                    {
                        var weights = trained.Rows(trained.Att, l, h * t, n, n + 1).Slice(head * t, t);
                        Assert.Equal(weights[..(p + 1)].ToArray(), reader.Attention(l, head, p).ToArray());
                        Assert.All(weights[(p + 1)..].ToArray(), w => Assert.Equal(0f, w)); // nothing hidden past the query
                    }
            }
            // The trainer's own loss of this sentence, one step of batch 1, from its own buffers.
            Assert.Equal(TestData.Gradient(model, [sentences[b]]).Loss, loss / rows);
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void ProbabilitiesAndAttentionMatchTheReferenceInDouble(ModelConfig config)
    {
        var model = TestData.RandomModel(config, seed: 3);
        var reference = new ReferenceGpt(config);
        var p = TestData.ToDouble(model.Parameters);
        var tokens = RandomTokens(config, seed: 9);
        var reader = new ModelReader(model);
        reader.Forward(tokens);

        var keys = Enumerable.Range(0, config.Layers).Select(_ => new List<double[]>()).ToArray();
        var values = Enumerable.Range(0, config.Layers).Select(_ => new List<double[]>()).ToArray();
        for (int n = 0; n < tokens.Length; n++)
        {
            var weights = new double[config.Layers, config.Heads][];
            var expected = ReferenceGpt.Softmax(reference.Logits(p, tokens[n], n, keys, values, (l, h, w) => weights[l, h] = w));
            var actual = reader.Probabilities(n);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], ReferenceTolerance);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(Math.Log(expected[i]), reader.LogProbability(n, i), LogTolerance);
            for (int l = 0; l < config.Layers; l++)
                for (int h = 0; h < config.Heads; h++)
                {
                    var w = reader.Attention(l, h, n);
                    Assert.Equal(n + 1, w.Length);
                    for (int j = 0; j <= n; j++) Assert.Equal(weights[l, h][j], w[j], ReferenceTolerance);
                }
        }
    }

    [Fact]
    public void APackingTrainerAgreesToFloatRounding()
    {
        // Batches of 64 rows or more take the packed products, which round otherwise (see MatMul).
        var config = new ModelConfig(50, 48, 3, 2, 40);
        var model = TestData.RandomModel(config);
        var sentence = RandomTokens(config, seed: 2); // 39 rows: attention packed too
        var batch = new PackedBatch(config.BlockSize, 1);
        batch.Add(sentence, config.BlockSize);
        var trained = new Activations(config, batch.Rows);
        Gpt.Forward(model, trained, batch, 0, batch.Rows, withLoss: true, gemm: new GemmWorkspace());
        var reader = new ModelReader(model);
        reader.Forward(sentence.AsSpan(0, batch.Rows));
        int v = config.VocabSize;
        for (int n = 0; n < batch.Rows; n++)
            for (int i = 0; i < v; i++) Assert.Equal(trained.Logits[n * v + i], reader.Probabilities(n)[i], ReferenceTolerance);
    }

    [Fact]
    public void AppendingPositionsGivesTheBitsOfReadingThemAtOnce()
    {
        var config = new ModelConfig(50, 48, 3, 2, 40);
        var model = TestData.RandomModel(config, seed: 4);
        var tokens = RandomTokens(config, seed: 6);
        var whole = new ModelReader(model);
        whole.Forward(tokens);
        var pieces = new ModelReader(model);
        pieces.Append(tokens[0]);
        pieces.Append(tokens.AsSpan(1, 12));
        for (int n = 13; n < tokens.Length; n++) pieces.Append(tokens[n]);
        Assert.Equal(tokens, pieces.Tokens.ToArray());
        AssertSameReading(whole, pieces);
    }

    [Fact]
    public void ReadersOnManyThreadsGetTheBitsOfOne()
    {
        var config = new ModelConfig(50, 48, 3, 2, 40);
        var model = TestData.RandomModel(config, seed: 5);
        var texts = TestData.RandomSentences(config.VocabSize, 16, 60, seed: 8).Select(s => s[..Math.Min(s.Length, config.BlockSize)]).ToArray(); // 3 to 40 positions
        var alone = new ModelReader(model);
        var expected = texts.Select(text =>
        {
            alone.Forward(text);
            return Snapshot(alone);
        }).ToArray();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, thread =>
        {
            var reader = new ModelReader(model);
            for (int round = 0; round < 5; round++)
                for (int i = 0; i < texts.Length; i++)
                {
                    int k = (i + thread * 5) % texts.Length; // each thread in its own order
                    reader.Forward(texts[k]);
                    Assert.Equal(expected[k], Snapshot(reader));
                }
        });
    }

    [Fact]
    public void ReadingAllocatesNothing()
    {
        var config = new ModelConfig(50, 48, 3, 2, 40);
        var model = TestData.RandomModel(config);
        var tokens = RandomTokens(config, seed: 1);
        var reader = new ModelReader(model);
        var distribution = new float[config.VocabSize];
        float sum = 0;
        void Read()
        {
            reader.Forward(tokens.AsSpan(0, 20));
            for (int n = 20; n < tokens.Length; n++) reader.Append(tokens[n]);
            reader.SamplingProbabilities(distribution, reader.Count - 1, 0.7);
            sum += reader.Probabilities(3)[5] + reader.Attention(1, 2, 30)[7] + reader.LogProbability(4, 2) + distribution[1];
        }
        for (int i = 0; i < 20; i++) Read();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Read();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes in 50 readings");
        Assert.True(float.IsFinite(sum));
    }

    [Fact]
    public void SamplingProbabilitiesAreTheTemperedSoftmaxOfTheLogits()
    {
        var config = new ModelConfig(13, 16, 4, 2, 6);
        var reader = new ModelReader(TestData.RandomModel(config));
        reader.Forward([12, 3, 7]);
        var distribution = new float[config.VocabSize];
        foreach (double temperature in new[] { 0.25, 1, 3 })
        {
            reader.SamplingProbabilities(distribution, 2, temperature);
            var exact = ReferenceGpt.Softmax(reader.Logits(2).ToArray().Select(x => x / temperature).ToArray());
            for (int i = 0; i < exact.Length; i++) Assert.Equal(exact[i], distribution[i], 1e-7); // float32 rounding of a double computation
        }
        var ex = Assert.Throws<InvalidConfigurationException>(() => reader.SamplingProbabilities(distribution, 2, 0));
        Assert.Equal("temperature", ex.Parameter);
    }

    [Fact]
    public void BadInputIsRefusedAndChangesNothing()
    {
        var config = new ModelConfig(13, 16, 4, 2, 6);
        var reader = new ModelReader(TestData.RandomModel(config));
        reader.Forward([12, 3, 7]);
        var before = Snapshot(reader);

        var tooLong = Assert.Throws<InvalidConfigurationException>(() => reader.Append([1, 2, 3, 4]));
        Assert.Equal(("tokens", 7), (tooLong.Parameter, (int)tooLong.Value!));
        Assert.Contains("block size of 6", tooLong.Message);
        var unknown = Assert.Throws<InvalidConfigurationException>(() => reader.Append([1, 13]));
        Assert.Equal(("token", 13), (unknown.Parameter, (int)unknown.Value!));
        Assert.Contains("13", unknown.Message);
        Assert.Throws<InvalidConfigurationException>(() => reader.Forward([-1]));
        Assert.Equal(before, Snapshot(reader)); // neither the positions read nor their numbers changed

        // Each refusal is ours (the cmdlets give it an id), and names the bad value and its setting.
        foreach (var (refused, parameter, value) in new (Action, string, int)[]
        {
            (() => reader.Logits(3), "position", 3),
            (() => reader.Probabilities(-1), "position", -1),
            (() => reader.Attention(0, 0, 3), "position", 3),
            (() => reader.Attention(2, 0, 0), "layer", 2),
            (() => reader.Attention(0, 4, 0), "head", 4),
            (() => reader.Attention(-1, 0, 0), "layer", -1),
            (() => reader.LogProbability(0, 13), "token", 13),
            (() => reader.LogProbability(0, -2), "token", -2),
        })
        {
            var ex = Assert.Throws<InvalidConfigurationException>(refused);
            Assert.Equal((parameter, value), (ex.Parameter, (int)ex.Value!));
            Assert.Contains($" {value}", ex.Message);
        }
        Assert.Equal(before, Snapshot(reader));

        var model = TestData.RandomModel(config);
        model.Parameters[17] = float.NaN;
        Assert.Throws<ModelNotFiniteException>(() => new ModelReader(model));
    }

    /// <summary>A block of random tokens, BOS among them.</summary>
    static int[] RandomTokens(ModelConfig config, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, config.BlockSize).Select(_ => rng.Next(config.VocabSize)).ToArray();
    }

    /// <summary>Everything a reader shows, as one comparable string of bits.</summary>
    static string Snapshot(ModelReader reader)
    {
        var bits = new List<int>(reader.Tokens.ToArray());
        var config = reader.Model.Config;
        for (int n = 0; n < reader.Count; n++)
        {
            foreach (float x in reader.Logits(n)) bits.Add(BitConverter.SingleToInt32Bits(x));
            foreach (float x in reader.Probabilities(n)) bits.Add(BitConverter.SingleToInt32Bits(x));
            bits.Add(BitConverter.SingleToInt32Bits(reader.LogProbability(n, 0)));
            for (int l = 0; l < config.Layers; l++)
                for (int h = 0; h < config.Heads; h++)
                    foreach (float x in reader.Attention(l, h, n)) bits.Add(BitConverter.SingleToInt32Bits(x));
        }
        return string.Join(',', bits);
    }

    static void AssertSameReading(ModelReader expected, ModelReader actual) => Assert.Equal(Snapshot(expected), Snapshot(actual));
}
