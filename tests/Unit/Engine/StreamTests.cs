using System.Text;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// Stream mode: the windows a step takes, training on them (gradients against the double-precision
/// reference, resuming, thread counts), measuring a stream, continuing a text through a sliding
/// window, and reading and encoding a text exactly as it is.
/// </summary>
public class StreamTests
{
    static readonly ModelConfig Small = new(13, 16, 2, 1, 6);

    /// <summary>A random stream of ids below 12 (BOS, 12, never appears in a stream).</summary>
    static int[] RandomStream(int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => rng.Next(12)).ToArray();
    }

    static int[][] ExamplesOf(PackedBatch batch) =>
        Enumerable.Range(0, batch.Examples)
            .Select(b => batch.Tokens[batch.ExampleStart[b]..batch.ExampleStart[b + 1]].Append(batch.Targets[batch.ExampleStart[b + 1] - 1]).ToArray())
            .ToArray();

    [Fact]
    public void AStepTakesBWindowsOfTPlusOneTokensAtOffsetsThatTheSeedStepAndIndexDecide()
    {
        var stream = RandomStream(50, seed: 1);
        var windows = new StreamWindows(TestData.RandomModel(Small), stream, new TrainingOptions { BatchSize = 4, Seed = 7 });
        var batch = new PackedBatch(windows.MaxRows, windows.MaxExamples);
        foreach (long step in new long[] { 0, 1, 9, 1_000_000_007 })
        {
            windows.Fill(batch, step);
            var offsets = Enumerable.Range(0, 4).Select(i => windows.Offset(step, i)).ToArray();
            Assert.Equal(offsets.Select(o => stream[o..(o + 7)]).ToArray(), ExamplesOf(batch));
            Assert.Equal(4 * 6, batch.Rows); // every one of the T predictions of each window counts...
            Assert.All(batch.LossWeights.Take(batch.Rows), w => Assert.Equal(1f / (4 * 6), w)); // ...equally: the mean over the batch's tokens
            Assert.Equal(Enumerable.Range(0, 24).Select(n => n % 6), batch.Positions.Take(24));
        }
        // The same seed, step and index: the same offset, from a new source too; another seed: others.
        var again = new StreamWindows(TestData.RandomModel(Small), stream, new TrainingOptions { BatchSize = 4, Seed = 7 });
        var other = new StreamWindows(TestData.RandomModel(Small), stream, new TrainingOptions { BatchSize = 4, Seed = 8 });
        var steps = Enumerable.Range(0, 50).SelectMany(s => Enumerable.Range(0, 4).Select(i => (s, i))).ToArray();
        Assert.Equal(steps.Select(p => windows.Offset(p.s, p.i)), steps.Select(p => again.Offset(p.s, p.i)));
        Assert.NotEqual(steps.Select(p => windows.Offset(p.s, p.i)), steps.Select(p => other.Offset(p.s, p.i)));
    }

    [Fact]
    public void OffsetsCoverEveryPlaceAWindowFitsUniformly()
    {
        // 20 tokens and T 6: 14 places (0..13). 70,000 draws put about 5,000 on each; a uniform
        // draw lands within 5 sigma (5 sqrt(5000 * 13/14) = 341) of that except about once in 10^6 tests.
        var windows = new StreamWindows(TestData.RandomModel(Small), RandomStream(20, seed: 2), new TrainingOptions { BatchSize = 7, Seed = 3 });
        var counts = new int[20];
        for (long step = 0; step < 10_000; step++)
            for (int i = 0; i < 7; i++) counts[windows.Offset(step, i)]++;
        Assert.All(counts.Take(14), c => Assert.InRange(c, 5000 - 341, 5000 + 341));
        Assert.All(counts.Skip(14), c => Assert.Equal(0, c)); // a window never runs past the end
    }

    [Fact]
    public void AStreamShorterThanOneWindowIsRefusedNamingItsLength()
    {
        var model = TestData.RandomModel(Small);
        var ex = Assert.Throws<CorpusException>(() => Trainer.ForStream(model, RandomStream(6, seed: 1), new TrainingOptions()));
        Assert.Contains("6 tokens", ex.Message);
        Assert.Contains("(7)", ex.Message);
        Assert.Null(model.Optimizer);
        Assert.Throws<CorpusException>(() => Trainer.ForStream(model, RandomStream(7, seed: 1), new TrainingOptions(), validationStream: RandomStream(3, seed: 2)));
        Assert.Throws<CorpusException>(() => Evaluator.ForStream(model, RandomStream(6, seed: 1)));
        using var fits = Trainer.ForStream(model, RandomStream(7, seed: 1), new TrainingOptions { Steps = 1 }); // one window fits exactly
        Assert.Equal(6, fits.Step().Tokens);
    }

    [Theory]
    [InlineData(11, 16, 4, 2, 5, 3)]
    [InlineData(7, 12, 3, 1, 8, 2)]
    public void AStreamStepsGradientMatchesFiniteDifferencesOfTheReference(int vocab, int embedding, int heads, int layers, int block, int batch)
    {
        // As GradientCheckTests: float32 rounding against a double reference, relative 1e-3, absolute 2e-5.
        const double Relative = 1e-3, Absolute = 2e-5;
        var config = new ModelConfig(vocab, embedding, heads, layers, block);
        var model = TestData.RandomModel(config, seed: vocab);
        var rng = new Random(layers);
        var stream = Enumerable.Range(0, 40).Select(_ => rng.Next(vocab - 1)).ToArray();
        var windows = new StreamWindows(model, stream, new TrainingOptions { BatchSize = batch, Seed = 5 });
        var runner = new StepRunner(model, windows.MaxRows, windows.MaxExamples, 1, null);
        windows.Fill(runner.Batch, step: 3);
        double loss = runner.Compute();
        var examples = ExamplesOf(runner.Batch);

        var reference = new ReferenceGpt(config);
        var p = TestData.ToDouble(model.Parameters);
        Assert.Equal(reference.BatchLoss(p, examples), loss, 1e-5);
        var indices = Enumerable.Range(0, p.Length).Where(i => i % 7 == 0).ToArray();
        var numerical = reference.NumericalGradient(p, examples, indices, h: 1e-6);
        var failures = indices.Where((i, k) => Math.Abs(runner.Gradients[i] - numerical[k]) > Absolute + Relative * Math.Abs(numerical[k])).ToList();
        // A ReLU input within h of 0 bends the difference: measured again with a smaller h.
        var again = reference.NumericalGradient(p, examples, failures, h: 1e-8);
        Assert.Empty(failures.Where((i, k) => Math.Abs(runner.Gradients[i] - again[k]) > Absolute + Relative * Math.Abs(again[k])));
        Assert.True(failures.Count <= indices.Length / 100, $"{failures.Count} parameters needed a second look");
        Assert.Contains(numerical, g => Math.Abs(g) > 1e-3); // not vacuous
    }

    [Fact]
    public void ResultsAreBitIdenticalForOneToEightThreads()
    {
        // T 16 and 12 windows: 192 rows, so the products run packed, and each thread's share changes with the count.
        var config = new ModelConfig(13, 128, 4, 1, 16);
        var stream = RandomStream(400, seed: 3);
        var one = Train(config, stream, threads: 1, steps: 3);
        for (int threads = 2; threads <= 8; threads++)
        {
            var many = Train(config, stream, threads, steps: 3);
            Assert.Equal(one.Losses, many.Losses);
            Assert.Equal(one.Weights, many.Weights);
        }
    }

    static (List<double> Losses, float[] Weights) Train(ModelConfig config, int[] stream, int threads, int steps)
    {
        var model = TestData.RandomModel(config, seed: 8);
        var losses = new List<double>();
        using var trainer = Trainer.ForStream(model, stream, new TrainingOptions { Steps = steps, BatchSize = 12, ThreadCount = threads, LearningRate = 0.003 });
        trainer.Run(s => losses.AddRange([s.Loss, s.GradNorm]));
        return (losses, model.Parameters);
    }

    [Fact]
    public void ARunStoppedAndResumedFromItsFileEndsBitIdenticalAndStaysAStreamRun()
    {
        var stream = RandomStream(300, seed: 4);
        var validation = RandomStream(40, seed: 5);
        var options = new TrainingOptions { Steps = 60, BatchSize = 5, Seed = 11, ValidationInterval = 20 };
        var uninterrupted = TestData.RandomModel(Small, seed: 3);
        var fullLosses = new List<double?>();
        using (var trainer = Trainer.ForStream(uninterrupted, stream, options, validation)) trainer.Run(s => fullLosses.Add(s.ValidationLoss));

        var stopped = TestData.RandomModel(Small, seed: 3);
        using (var cancel = new CancellationTokenSource())
        using (var trainer = Trainer.ForStream(stopped, stream, options, validation))
            trainer.Run(step => { if (step.Step == 25) cancel.Cancel(); }, cancel.Token);
        string path = Path.Combine(Path.GetTempPath(), $"microgpt-stream-resume-{Guid.NewGuid():N}.json");
        try
        {
            ModelFile.Save(stopped, path, includeOptimizer: true);
            var resumed = ModelFile.Load(path);
            Assert.True(resumed.Optimizer!.Options.Stream);
            Assert.Equal(300, resumed.Optimizer.CorpusSentences);
            var resumedLosses = new List<double?>();
            using (var trainer = Trainer.ForStream(resumed, stream, new TrainingOptions { ThreadCount = 2 }, validation, resume: resumed.Optimizer))
                trainer.Run(s => resumedLosses.Add(s.ValidationLoss));
            Assert.Equal(fullLosses.Skip(25), resumedLosses);
            Assert.Equal(uninterrupted.Parameters.Select(BitConverter.SingleToInt32Bits), resumed.Parameters.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(uninterrupted.Optimizer!.V, resumed.Optimizer.V);

            // The stream's run resumes as one: not on sentences, and not on another stream.
            var again = ModelFile.Load(path);
            Assert.Throws<CheckpointMismatchException>(() => new Trainer(again, TestData.RandomSentences(13, 5, 4, seed: 1), new TrainingOptions(), resume: again.Optimizer));
            Assert.Throws<CheckpointMismatchException>(() => Trainer.ForStream(again, RandomStream(300, seed: 6), new TrainingOptions(), resume: again.Optimizer));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OnlyAStreamRunsCheckpointIsWrittenInVersion3()
    {
        // Version 3 adds the stream key alone: every other file stays as version 2 wrote it, byte for byte.
        string folder = Directory.CreateTempSubdirectory("microgpt-stream-version-").FullName;
        try
        {
            var stream = TestData.RandomModel(Small);
            using (var trainer = Trainer.ForStream(stream, RandomStream(50, seed: 1), new TrainingOptions { Steps = 2 })) trainer.Step();
            var sentences = TestData.RandomModel(Small);
            using (var trainer = new Trainer(sentences, TestData.RandomSentences(13, 5, 4, seed: 1), new TrainingOptions { Steps = 2 })) trainer.Step();
            string streamFile = Path.Combine(folder, "stream.json"), sentenceFile = Path.Combine(folder, "sentences.json"), weights = Path.Combine(folder, "stream.safetensors");
            ModelFile.Save(stream, streamFile, includeOptimizer: true);
            ModelFile.Save(sentences, sentenceFile, includeOptimizer: true);
            ModelFile.Save(stream, weights);
            Assert.Contains("\"formatVersion\":3", File.ReadAllText(streamFile));
            Assert.Contains("\"stream\":true", File.ReadAllText(streamFile));
            Assert.Contains("\"formatVersion\":2", File.ReadAllText(sentenceFile));
            Assert.DoesNotContain("\"stream\"", File.ReadAllText(sentenceFile));
            Assert.True(ModelFile.Load(streamFile).Optimizer!.Options.Stream);
            Assert.False(ModelFile.Load(sentenceFile).Optimizer!.Options.Stream);
            Assert.Contains("\"formatVersion\": 2", File.ReadAllText(Safetensors.ConfigPathFor(weights))); // indented for people
            Assert.Equal(stream.Parameters, ModelFile.Load(weights).Parameters);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ASentenceRunDoesNotResumeAsAStreamAndSentencesAreNotTakenForAStream()
    {
        var model = TestData.RandomModel(Small);
        using (var trainer = new Trainer(model, TestData.RandomSentences(13, 5, 4, seed: 1), new TrainingOptions { Steps = 3 })) trainer.Step();
        Assert.Throws<CheckpointMismatchException>(() => Trainer.ForStream(model, RandomStream(50, seed: 1), new TrainingOptions(), resume: model.Optimizer));
        var ex = Assert.Throws<InvalidConfigurationException>(() => new Trainer(TestData.RandomModel(Small), TestData.RandomSentences(13, 5, 4, seed: 1), new TrainingOptions { Stream = true }));
        Assert.Equal("Stream", ex.Parameter);
    }

    [Fact]
    public void MeasuringAStreamIsTheMeanLossOverEveryTokenComputedIndependently()
    {
        // 45 tokens, T 6: windows predict tokens 1-6, 7-12, ..., 43-44; each token j from the tokens
        // since the start of its window, ((j - 1) / T) T. The reference reads each prediction afresh.
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 9);
        var stream = RandomStream(45, seed: 7);
        var reference = new ReferenceGpt(config);
        var p = TestData.ToDouble(model.Parameters);
        double total = 0;
        for (int j = 1; j < stream.Length; j++)
        {
            int start = (j - 1) / 6 * 6;
            var keys = Enumerable.Range(0, config.Layers).Select(_ => new List<double[]>()).ToArray();
            var values = Enumerable.Range(0, config.Layers).Select(_ => new List<double[]>()).ToArray();
            double[] logits = [];
            for (int pos = 0; pos < j - start; pos++) logits = reference.Logits(p, stream[start + pos], pos, keys, values);
            total += -Math.Log(ReferenceGpt.Softmax(logits)[stream[j]]);
        }
        var measurement = Evaluator.ForStream(model, stream).Measure();
        Assert.Equal(total / 44, measurement.Loss, 1e-5); // float32 forward against double: as the sentence evaluator's tests
        Assert.Equal(44, measurement.Tokens);
        Assert.Equal(8, measurement.Windows);
        Assert.Equal(BitConverter.DoubleToInt64Bits(measurement.Loss), BitConverter.DoubleToInt64Bits(Evaluator.ForStream(model, stream, threads: 3).MeanLoss()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void ValidationExamplesMeasureThatManyEvenlySpacedWindowsAndChangeNoStep(int maxWindows)
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 9);
        var stream = RandomStream(45, seed: 7); // windows of 7 tokens starting every 6: 8 windows, the last of 3
        var windows = Enumerable.Range(0, 8).Select(w => stream[(w * 6)..Math.Min(45, w * 6 + 7)]).ToArray();
        var chosen = Enumerable.Range(0, maxWindows).Select(i => windows[i * 8 / maxWindows]).ToArray();
        // each chosen window measured alone, then weighed by its predicted tokens
        double total = 0;
        long tokens = 0;
        foreach (var window in chosen)
        {
            var alone = Evaluator.ForStream(model, window).Measure();
            total += alone.Loss * alone.Tokens;
            tokens += alone.Tokens;
        }
        var measured = Evaluator.ForStreamWindows(model, stream, maxWindows).Measure();
        Assert.Equal(maxWindows, measured.Windows);
        Assert.Equal(tokens, measured.Tokens);
        Assert.Equal(total / tokens, measured.Loss, 1e-12); // the same float32 row losses, summed in another order
        // 0, or as many windows as there are, is every window, bit for bit
        Assert.Equal(BitConverter.DoubleToInt64Bits(Evaluator.ForStream(model, stream).MeanLoss()), BitConverter.DoubleToInt64Bits(Evaluator.ForStreamWindows(model, stream, 0).MeanLoss()));
        Assert.Equal(BitConverter.DoubleToInt64Bits(Evaluator.ForStream(model, stream).MeanLoss()), BitConverter.DoubleToInt64Bits(Evaluator.ForStreamWindows(model, stream, 8).MeanLoss()));

        // In a run: the validation figures are those windows', and not one step changes.
        var (allLosses, allWeights, allValidation) = TrainValidated(config, 0);
        var (someLosses, someWeights, someValidation) = TrainValidated(config, maxWindows);
        Assert.Equal(allLosses, someLosses);
        Assert.Equal(allWeights, someWeights);
        Assert.NotEqual(allValidation, someValidation);
    }

    static (List<double> Losses, float[] Weights, List<double> Validation) TrainValidated(ModelConfig config, int validationExamples)
    {
        var model = TestData.RandomModel(config, seed: 8);
        var losses = new List<double>();
        var validation = new List<double>();
        using var trainer = Trainer.ForStream(model, RandomStream(300, seed: 4), new TrainingOptions { Steps = 6, BatchSize = 4, ValidationInterval = 3, ValidationExamples = validationExamples },
            validationStream: RandomStream(45, seed: 7));
        trainer.Run(s =>
        {
            losses.Add(s.Loss);
            if (s.ValidationLoss is { } v) validation.Add(v);
        });
        return (losses, model.Parameters, validation);
    }

    [Fact]
    public void InSentenceModeValidationExamplesAreEvenlySpacedHeldOutSentencesAndNotKeptInCheckpoints()
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var sentences = TestData.RandomSentences(13, 40, 4, seed: 1);
        var heldOut = TestData.RandomSentences(13, 10, 4, seed: 2);
        List<double> Validate(int examples, out float[] weights)
        {
            var model = TestData.RandomModel(config, seed: 3);
            var validation = new List<double>();
            using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 4, ValidationInterval = 2, ValidationExamples = examples }, validationSentences: heldOut))
                trainer.Run(s => { if (s.ValidationLoss is { } v) validation.Add(v); });
            weights = model.Parameters;
            return validation;
        }
        var some = Validate(4, out var someWeights);
        var all = Validate(0, out var allWeights);
        Assert.Equal(allWeights, someWeights);
        var trained = TestData.RandomModel(config, seed: 3);
        using (var trainer = new Trainer(trained, sentences, new TrainingOptions { Steps = 4 })) trainer.Run(_ => { });
        Assert.Equal(new Evaluator(trained, [heldOut[0], heldOut[2], heldOut[5], heldOut[7]]).MeanLoss(), some[^1]); // 10 held out, 4 chosen: 0, 2, 5, 7
        Assert.Equal(new Evaluator(trained, heldOut).MeanLoss(), all[^1]);
        Assert.DoesNotContain(TrainingOptions.All, o => o.Name == nameof(TrainingOptions.ValidationExamples) && o.InCheckpoints);
    }

    [Fact]
    public void ContinuingATextSlidesAWindowOfTheBlockSizeAsReadingEachWindowAfreshWould()
    {
        var config = new ModelConfig(13, 16, 2, 2, 6);
        var model = TestData.RandomModel(config, seed: 10);
        int[] prompt = [3, 1, 4, 1]; // 4 tokens, then 20 more: the window slides 18 times
        foreach (double temperature in new[] { 0.0, 1.0 })
        {
            var options = new SamplingOptions { Temperature = temperature, Seed = 5 };
            var sample = new Sampler(model, options).Continue(prompt, 20);

            // Naively: each token from a fresh read of the last T tokens, drawn as the sampler draws.
            var ids = prompt.ToList();
            var reader = new ModelReader(model);
            var rng = new Rng(5);
            var probabilities = new float[13];
            for (int g = 0; g < 20; g++)
            {
                reader.Forward(ids.Skip(Math.Max(0, ids.Count - 6)).ToArray());
                int last = reader.Count - 1;
                int token;
                if (temperature == 0) token = Array.IndexOf(reader.Logits(last)[..12].ToArray(), reader.Logits(last)[..12].ToArray().Max());
                else
                {
                    reader.SamplingProbabilities(probabilities, last, temperature);
                    probabilities[12] = 0;
                    token = rng.NextWeighted(probabilities);
                }
                ids.Add(token);
            }
            Assert.Equal(ids, sample.Ids);
            Assert.DoesNotContain(12, sample.Ids); // BOS is never drawn
            Assert.True(sample.MeanLogProbability < 0);
        }
        // A prompt longer than the block is read from its last T tokens.
        Assert.Equal(30, new Sampler(model, new SamplingOptions { Seed = 1 }).Continue(Enumerable.Range(0, 10).Select(i => i % 12).ToArray(), 20).Ids.Count);
    }

    [Fact]
    public void ATextIsReadExactlyAsItIsAndJoinedInOrder()
    {
        string folder = Directory.CreateTempSubdirectory("microgpt-stream-").FullName;
        try
        {
            string a = Path.Combine(folder, "a.txt"), b = Path.Combine(folder, "b.txt"), bad = Path.Combine(folder, "bad.txt");
            File.WriteAllBytes(a, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("  First line\r\n\r\nthird\rfourth 😀\t")]);
            File.WriteAllText(b, "Second file\n\n", new UnicodeEncoding(bigEndian: false, byteOrderMark: true));
            Assert.Equal("  First line\r\n\r\nthird\rfourth 😀\tSecond file\n\n", CorpusFile.ReadText([a, b]));
            File.WriteAllText(bad, "one\ntwo\nth\u0007ree\n");
            var ex = Assert.Throws<CorpusException>(() => CorpusFile.ReadText([bad]));
            Assert.Contains("line 3", ex.Message);
            Assert.Contains("U+0007", ex.Message);
            File.WriteAllBytes(bad, [.. "ok\nok\n"u8, 0xC3, 0x28]);
            Assert.Contains("line 3", Assert.Throws<CorpusException>(() => CorpusFile.ReadText([bad])).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ACharacterTokenizerOfTheWholeTextGivesItBackExactly()
    {
        string text = "ROMEO:\r\nBut, soft! what light\tthrough yonder window breaks?\n\n  It is the east 😀 ë\n";
        var tokenizer = Tokenizer.Build(TokenizerKind.Character, [new Sentence(text, 1)], "the text");
        Assert.Contains("\n", tokenizer.Vocabulary);
        Assert.Contains("\r", tokenizer.Vocabulary);
        Assert.Contains("😀", tokenizer.Vocabulary);
        var ids = Corpus.EncodeStream(tokenizer, text);
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal(text.EnumerateRunes().Count(), ids.Length);

        var ex = Assert.Throws<UnknownTokenException>(() => Corpus.EncodeStream(tokenizer, "But\nsoft\nwhat Z light\n", "'play.txt'"));
        Assert.Equal("Z", ex.Piece);
        Assert.Equal(3, ex.Line);
        Assert.Contains("Line 3 of 'play.txt'", ex.Message);
        Assert.Contains("\"what Z light\"", ex.Message);
    }
}
