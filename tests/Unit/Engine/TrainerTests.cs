using MicroGpt;

namespace MicroGpt.Tests.Engine;

public class TrainerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly ModelConfig Small = new(13, 16, 4, 2, 6);

    static (Tokenizer Tokenizer, int[][] Sentences) DefaultCorpus()
    {
        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        return (tokenizer, Corpus.Encode(tokenizer, lines));
    }

    [Theory]
    [InlineData(42)] // the tutorial's seed
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void FiveThousandStepsOfTheReferenceConfigurationLearnMoreThanHowOftenEachWordComes(int seed)
    {
        // A model that knew only how often each word comes, and not what came before it, could do no
        // better than the entropy of the words to predict (weighted as the loss weighs them: each
        // sentence's mean): 4.80 nats on the default corpus, about the loss of the first 200 steps.
        // A model that uses the context ends well below it, whatever the seed of its weights and of
        // the shuffle: these four seeds end 1.48 to 1.63 nats below it (last 200 steps 3.18 to 3.32), and
        // the bound asks for 1.
        const double ContextMargin = 1.0; // nats: two thirds of the smallest margin these seeds leave (1.48, seed 2)
        var (tokenizer, sentences) = DefaultCorpus();
        var config = new ModelConfig(tokenizer.VocabSize);
        var model = Model.Create(config, tokenizer, seed);
        var losses = new List<double>();
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Seed = seed })) trainer.Run(step => losses.Add(step.Loss));
        double first = losses.Take(200).Average(), last = losses.TakeLast(200).Average(), frequencies = FrequencyOnlyLoss(sentences, config.BlockSize);
        output.WriteLine($"seed {seed}: mean loss of the first 200 steps {first:F3}, of the last 200 {last:F3}; knowing only the words' frequencies: {frequencies:F3}");
        Assert.Equal(5000, losses.Count);
        Assert.True(last < frequencies - ContextMargin, $"last 200: {last}, frequencies alone: {frequencies}");
        Assert.True(last < first - ContextMargin, $"first 200: {first}, last 200: {last}");
    }

    /// <summary>
    /// The lowest mean loss of a model that predicts every position with one distribution q: the
    /// cross-entropy is lowest for q = the weighted frequency of each target, and is then its entropy.
    /// </summary>
    static double FrequencyOnlyLoss(int[][] sentences, int blockSize)
    {
        var q = new Dictionary<int, double>();
        foreach (var sentence in sentences)
        {
            int rows = Math.Min(blockSize, sentence.Length - 1);
            for (int t = 1; t <= rows; t++) q[sentence[t]] = q.GetValueOrDefault(sentence[t]) + 1.0 / rows / sentences.Length;
        }
        return -q.Values.Sum(p => p * Math.Log(p));
    }

    [Fact]
    public void ARunStoppedAtStep2500AndResumedFromItsFileEndsBitIdentical()
    {
        var (tokenizer, sentences) = DefaultCorpus();
        var options = new TrainingOptions { Steps = 5000 };
        var uninterrupted = Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, 42);
        using (var trainer = new Trainer(uninterrupted, sentences, options)) trainer.Run(_ => { });

        var stopped = Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, 42);
        using (var cancel = new CancellationTokenSource())
        using (var trainer = new Trainer(stopped, sentences, options))
            trainer.Run(step => { if (step.Step == 2500) cancel.Cancel(); }, cancel.Token);
        string path = Path.Combine(Path.GetTempPath(), $"microgpt-resume-{Guid.NewGuid():N}.json");
        try
        {
            ModelFile.Save(stopped, path, includeOptimizer: true);
            var resumed = ModelFile.Load(path);
            Assert.Equal(2500, resumed.Optimizer!.NextStep);
            var steps = new List<long>();
            using (var trainer = new Trainer(resumed, sentences, new TrainingOptions { ThreadCount = 2 }, resume: resumed.Optimizer))
                trainer.Run(step => steps.Add(step.Step));
            Assert.Equal(Enumerable.Range(2501, 2500).Select(i => (long)i), steps);
            Assert.Equal(uninterrupted.Parameters.Select(BitConverter.SingleToInt32Bits), resumed.Parameters.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(uninterrupted.Optimizer!.M, resumed.Optimizer.M);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResumingOnAnotherCorpusIsRefused()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 10 })) trainer.Step();
        var other = TestData.RandomSentences(13, 10, 8, seed: 5);
        var ex = Assert.Throws<CheckpointMismatchException>(() => new Trainer(model, other, new TrainingOptions(), resume: model.Optimizer));
        Assert.Contains("same corpus", ex.Message);
    }

    [Fact]
    public void TrainingFollowsTheDoublePrecisionReferenceStepByStep()
    {
        // The tutorial's loop, in double precision: sentence s mod N at step s, Adam with linear decay.
        var tiny = new ModelConfig(7, 8, 2, 1, 5);
        var model = TestData.RandomModel(tiny);
        var sentences = TestData.RandomSentences(7, 7, 6, seed: 9);
        var options = new TrainingOptions { Steps = 20, Shuffle = false };
        var p = TestData.ToDouble(model.Parameters);
        var reference = new ReferenceGpt(tiny);
        var m = new double[p.Length];
        var v = new double[p.Length];
        var expected = new List<double>();
        var all = Enumerable.Range(0, p.Length).ToArray();
        for (int s = 0; s < options.Steps; s++)
        {
            var batch = new[] { sentences[s % sentences.Length] };
            expected.Add(reference.BatchLoss(p, batch));
            var g = reference.NumericalGradient(p, batch, all);
            double lr = LearningRate.At(options, s); // pinned on its own by LearningRateTests
            for (int i = 0; i < p.Length; i++)
            {
                m[i] = options.Beta1 * m[i] + (1 - options.Beta1) * g[i];
                v[i] = options.Beta2 * v[i] + (1 - options.Beta2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(options.Beta1, s + 1));
                double vHat = v[i] / (1 - Math.Pow(options.Beta2, s + 1));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + options.Epsilon);
            }
        }

        var actual = new List<double>();
        using (var trainer = new Trainer(model, sentences, options)) trainer.Run(step => actual.Add(step.Loss));

        // float32 against float64 for 20 Adam steps of size ~lr: the losses agree to 1e-4.
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i], 1e-4);
        Assert.True(expected[^1] < expected[0]);
    }

    [Fact]
    public void ABatchAveragesTheGradientsOfItsSentences()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 4, 8, seed: 2);
        var (batchLoss, batchGradient) = TestData.Gradient(model, sentences);
        var single = sentences.Select(s => TestData.Gradient(model, [s])).ToList();
        Assert.Equal(single.Average(x => x.Loss), batchLoss, 1e-6);
        for (int i = 0; i < batchGradient.Length; i++)
            Assert.Equal(single.Average(x => x.Gradient[i]), batchGradient[i], 1e-6);
    }

    [Theory]
    [InlineData(2, 2)]   // one sentence per thread
    [InlineData(5, 2)]   // uneven groups
    [InlineData(5, 3)]   // three copies of the weights, each fed by two others
    [InlineData(16, 2)]  // the benchmark's batch
    [InlineData(16, 4)]
    [InlineData(16, 5)]
    [InlineData(16, 6)]
    [InlineData(16, 7)]
    [InlineData(8, 8)]   // one sentence per thread again, seven copies
    public void ResultsAreBitIdenticalWhateverTheThreadCount(int batchSize, int threads)
    {
        var sentences = TestData.RandomSentences(13, 40, 8, seed: 4);
        Assert.True(WeightCopies.Worthwhile(TestData.RandomModel(Small).Parameters.Length, threads)); // so this covers the copies
        var one = Train(Small, sentences, batchSize, threads: 1, steps: 30);
        var many = Train(Small, sentences, batchSize, threads, steps: 30);
        Assert.Equal(one.Losses, many.Losses);
        Assert.Equal(one.Weights, many.Weights);
        Assert.Equal(one.Weights, Train(Small, sentences, batchSize, threads: 1, steps: 30).Weights); // and the same again with the same seed
    }

    [Fact]
    public void ResultsAreBitIdenticalWhenThreadsShareTheWeightsOfALargeModel()
    {
        var large = new ModelConfig(13, 256, 4, 2, 8);
        Assert.False(WeightCopies.Worthwhile(new ParameterLayout(large).Count, 2)); // so this covers shared weights
        var sentences = TestData.RandomSentences(13, 20, 6, seed: 5);
        var one = Train(large, sentences, batchSize: 4, threads: 1, steps: 4);
        var two = Train(large, sentences, batchSize: 4, threads: 2, steps: 4);
        Assert.Equal(one.Losses, two.Losses);
        Assert.Equal(one.Weights, two.Weights);
    }

    [Fact]
    public void ResultsAreBitIdenticalForOneToEightThreadsWithThePackedProducts()
    {
        // Embedding 128 and batches of about 450 rows: every product of the linear layers runs
        // packed (the forward for any batch of 64 rows or more, dinp from 128 channels, dW from
        // 256 rows), and each thread's share of the rows changes with the thread count.
        var config = new ModelConfig(13, 128, 4, 1, 16);
        var sentences = TestData.RandomSentences(13, 64, 24, seed: 6);
        Assert.True(MicroGpt.Kernels.MatMul.Packs(32 * 16) || !MicroGpt.Kernels.Simd.Enabled);
        var one = Train(config, sentences, batchSize: 32, threads: 1, steps: 3);
        for (int threads = 2; threads <= 8; threads++)
        {
            var many = Train(config, sentences, batchSize: 32, threads, steps: 3);
            Assert.Equal(one.Losses, many.Losses);
            Assert.Equal(one.Weights, many.Weights);
        }
    }

    // The losses and gradient norms of every step, then the weights.
    static (List<double> Losses, float[] Weights) Train(ModelConfig config, int[][] sentences, int batchSize, int threads, int steps)
    {
        var model = TestData.RandomModel(config, seed: 8);
        var losses = new List<double>();
        using var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = steps, BatchSize = batchSize, ThreadCount = threads });
        trainer.Run(s => losses.AddRange([s.Loss, s.GradNorm]));
        return (losses, model.Parameters);
    }

    [Fact]
    public void TheShuffleIsSeededAndCanBeTurnedOff()
    {
        var sentences = TestData.RandomSentences(13, 30, 8, seed: 4);
        List<double> Losses(TrainingOptions options)
        {
            var model = TestData.RandomModel(Small, seed: 8);
            var losses = new List<double>();
            using var trainer = new Trainer(model, sentences, options);
            trainer.Run(s => losses.Add(s.Loss));
            return losses;
        }
        var seeded = Losses(new TrainingOptions { Steps = 10, Seed = 1 });
        Assert.Equal(seeded, Losses(new TrainingOptions { Steps = 10, Seed = 1 }));
        Assert.NotEqual(seeded, Losses(new TrainingOptions { Steps = 10, Seed = 2 }));

        // Without shuffling, the first step trains on the first sentence.
        var plain = Losses(new TrainingOptions { Steps = 1, Shuffle = false });
        var untrained = TestData.RandomModel(Small, seed: 8);
        Assert.Equal(new ReferenceGpt(Small).Loss(TestData.ToDouble(untrained.Parameters), sentences[0]), plain[0], 1e-5);
    }

    [Fact]
    public void StepsReportScheduleTokensAndTime()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        var steps = new List<TrainingStep>();
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 4, BatchSize = 2, LearningRate = 0.02 }))
            trainer.Run(steps.Add);
        Assert.Equal([1L, 2, 3, 4], steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(4, s.Steps));
        Assert.Equal([0.02, 0.015, 0.01, 0.005], steps.Select(s => s.LearningRate), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.Second.Tokens > p.First.Tokens && p.Second.ElapsedSeconds >= p.First.ElapsedSeconds));
        Assert.All(steps, s => Assert.True(s.GradNorm > 0 && s.TokensPerSecond > 0 && s.ValidationLoss is null));
        Assert.Equal(4, model.Summary.Steps);
        Assert.Equal(steps[^1].Tokens, model.Summary.Tokens);
        Assert.Equal(steps[^1].Loss, model.Summary.LastLoss);
    }

    [Fact]
    public void ValidationOnTheTrainersPoolGivesTheOneThreadFiguresWhenStepsUseFewerThreads()
    {
        // Batch 1: every step runs on one thread, while 200 held-out sentences (four chunks) are
        // measured on three: the pool's two workers sit out the steps and join the validations.
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        var held = TestData.RandomSentences(13, 200, 8, seed: 5);
        List<TrainingStep> Run(int threads)
        {
            var steps = new List<TrainingStep>();
            using var trainer = new Trainer(TestData.RandomModel(Small), sentences, new TrainingOptions { Steps = 6, ValidationInterval = 2, ThreadCount = threads }, held);
            trainer.Run(steps.Add);
            return steps;
        }
        var one = Run(1);
        var three = Run(3);
        Assert.Equal([2L, 4, 6], three.Where(s => s.ValidationLoss is not null).Select(s => s.Step));
        Assert.Equal(one.Select(s => (s.Loss, s.GradNorm, s.ValidationLoss)), three.Select(s => (s.Loss, s.GradNorm, s.ValidationLoss))); // bit for bit
    }

    [Fact]
    public void ValidationLossIsMeasuredAtTheIntervalAndAtTheEnd()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        var held = TestData.RandomSentences(13, 5, 8, seed: 5);
        var steps = new List<TrainingStep>();
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 7, ValidationInterval = 3 }, held))
            trainer.Run(steps.Add);
        Assert.Equal([3L, 6, 7], steps.Where(s => s.ValidationLoss is not null).Select(s => s.Step));
        Assert.Equal(new Evaluator(model, held).MeanLoss(), steps[^1].ValidationLoss!.Value, 1e-12);
    }

    [Fact]
    public void ANonFiniteLossStopsWithTheStepAndKeepsTheLastGoodWeights()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        using var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 10 });
        trainer.Step();
        trainer.Step();
        model.Parameters[model.Layout.LmHead] = float.PositiveInfinity; // poison the output head
        var before = model.Parameters.ToArray();
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Step());
        Assert.Equal(3, ex.Step);
        Assert.Contains("step 3", ex.Message);
        Assert.Equal(before, model.Parameters);
        Assert.Equal(2, model.Summary.Steps);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)] // with per-thread copies of the weights, which must be put back too
    public void AnUpdateThatMakesAWeightNonFiniteIsUndoneToTheLastGoodStepExactly(int batchSize, int threads)
    {
        // Word 3 never appears, so its embedding has no gradient and Adam's moments for it only decay:
        // the second (beta2 0.1) much faster than the first (beta1 0.9). Started with a large first
        // moment, its update grows step after step, and with a tiny epsilon overflows a dozen steps
        // into the run: legal options, finite losses, and then an infinite weight.
        var model = Model.Create(new ModelConfig(5, 8, 2, 1, 6), TestData.Words(4), seed: 3);
        int[][] sentences = [[4, 0, 1, 2, 4], [4, 2, 1, 0, 4]];
        var options = new TrainingOptions { Steps = 1000, Beta1 = 0.9, Beta2 = 0.1, Epsilon = 1e-30, BatchSize = batchSize, ThreadCount = threads };
        using (var first = new Trainer(model, sentences, options)) first.Step();
        var state = model.Optimizer!;
        int unused = model.Layout.Wte + 3 * model.Config.EmbeddingSize;
        state.M.AsSpan(unused, model.Config.EmbeddingSize).Fill(1e35f);
        state.V.AsSpan(unused, model.Config.EmbeddingSize).Fill(1f);

        using var trainer = new Trainer(model, sentences, options, resume: state);
        var good = (Parameters: model.Parameters.ToArray(), M: state.M.ToArray(), V: state.V.ToArray(), Summary: model.Summary.Copy(), Step: trainer.NextStep - 1);
        TrainingDivergedException? diverged = null;
        while (diverged is null)
        {
            try
            {
                trainer.Step();
                good = (model.Parameters.ToArray(), state.M.ToArray(), state.V.ToArray(), model.Summary.Copy(), trainer.NextStep - 1);
            }
            catch (TrainingDivergedException ex) { diverged = ex; }
        }
        Assert.Equal(good.Step + 1, diverged.Step);
        Assert.Contains($"step {good.Step + 1}: its update made a weight infinite or NaN", diverged.Message);
        Assert.Contains($"keeps the weights of step {good.Step}", diverged.Message);
        Assert.True((good.Step - 1) % Tunables.BackupInterval > 0, $"step {good.Step}: the backup was of the step before, so no step was taken again"); // the run resumed after step 1
        CheckIsState(good, model, state);
        Assert.Equal(good.Step, state.NextStep);
        Assert.All(model.Parameters, w => Assert.True(float.IsFinite(w)));

        // The model keeps exactly that state: trying again diverges at the same step and changes nothing.
        Assert.Equal(diverged.Step, Assert.Throws<TrainingDivergedException>(() => trainer.Step()).Step);
        CheckIsState(good, model, state);

        static void CheckIsState((float[] Parameters, float[] M, float[] V, TrainingSummary Summary, long Step) good, Model model, OptimizerState state)
        {
            Assert.Equal(good.Parameters.Select(BitConverter.SingleToInt32Bits), model.Parameters.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(good.M.Select(BitConverter.SingleToInt32Bits), state.M.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(good.V.Select(BitConverter.SingleToInt32Bits), state.V.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal((good.Summary.Steps, good.Summary.Tokens, good.Summary.LastLoss), (model.Summary.Steps, model.Summary.Tokens, model.Summary.LastLoss));
        }
    }

    [Fact]
    public void AGradientTooLargeForFloat32ToSquareIsADivergenceBeforeTheUpdate()
    {
        // An output head of +-1e17: the loss stays finite (about 1e17), and the gradient that reaches
        // the layers below has a finite norm above 1e18, more than the trainer lets Adam square.
        var model = TestData.RandomModel(Small);
        var rng = new Random(3);
        for (int i = 0; i < model.Config.VocabSize * model.Config.EmbeddingSize; i++) model.Parameters[model.Layout.LmHead + i] = rng.Next(2) == 0 ? 1e17f : -1e17f;
        var before = model.Parameters.ToArray();
        using var trainer = new Trainer(model, TestData.RandomSentences(13, 10, 8, seed: 4), new TrainingOptions { Steps = 10 });
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Step());
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(ex.Message, @"step 1: the loss is [0-9.E+]+ and the gradient norm [0-9.E+]+\."), ex.Message); // both finite
        Assert.Equal(before, model.Parameters);
        Assert.Equal(0, model.Summary.Steps);
    }

    [Theory]
    [InlineData(nameof(TrainingOptions.Epsilon), 1e-50)]   // 0 in float32: 0 / 0 in the update
    [InlineData(nameof(TrainingOptions.Epsilon), 1e-40)]   // a denormal
    [InlineData(nameof(TrainingOptions.LearningRate), 1e-50)]
    [InlineData(nameof(TrainingOptions.Beta1), 0.99999999999)] // 1 in float32
    [InlineData(nameof(TrainingOptions.Beta2), 0.99999999999)]
    public void OptionsThatCannotWorkInFloat32AreRefusedNamingTheValue(string option, double value)
    {
        var options = option switch
        {
            nameof(TrainingOptions.Epsilon) => new TrainingOptions { Epsilon = value },
            nameof(TrainingOptions.LearningRate) => new TrainingOptions { LearningRate = value },
            nameof(TrainingOptions.Beta1) => new TrainingOptions { Beta1 = value },
            _ => new TrainingOptions { Beta2 = value },
        };
        var ex = Assert.Throws<InvalidConfigurationException>(() => options.Validate());
        Assert.Equal(option, ex.Parameter);
        Assert.Contains($"{option} {value}", ex.Message);
        Assert.Contains("float32", ex.Message);
        new TrainingOptions { Epsilon = 1.2e-38, LearningRate = 1.2e-38, Beta1 = 0.99999994, Beta2 = 0.99999994 }.Validate(); // the smallest and largest that work
    }

    [Fact]
    public void AResumedRunKeepsItsCheckpointAndValidationIntervalsUnlessNewOnesAreGiven()
    {
        var run = new TrainingOptions { CheckpointInterval = 7, ValidationInterval = 5, ThreadCount = 1 };
        Assert.Equal((7, 5, 2), new TrainingOptions { ThreadCount = 2 }.ResumingFrom(run) is var kept ? (kept.CheckpointInterval, kept.ValidationInterval, kept.ThreadCount) : default);
        var changed = new TrainingOptions { CheckpointInterval = 3, ValidationInterval = 4, LearningRate = 0.5 }.ResumingFrom(run);
        Assert.Equal((3, 4, 0.01), (changed.CheckpointInterval, changed.ValidationInterval, changed.LearningRate)); // the rate is the run's
    }

    [Fact]
    public void AFailedFirstStepLeavesTheModelsOptimizerStateAlone()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 3 })) trainer.Run(_ => { });
        var state = model.Optimizer;
        model.Parameters.AsSpan(model.Layout.LmHead, model.Config.EmbeddingSize).Fill(float.MaxValue); // finite, but the logits overflow
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 10 }))
            Assert.Throws<TrainingDivergedException>(() => trainer.Step());
        Assert.Same(state, model.Optimizer);
        Assert.Equal(3, model.Optimizer!.NextStep);
    }

    [Fact]
    public void CancellationStopsBetweenSteps()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        using var cancel = new CancellationTokenSource();
        int taken = 0;
        using var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 100 });
        trainer.Run(step => { if (++taken == 5) cancel.Cancel(); }, cancel.Token);
        Assert.Equal(5, taken);
        Assert.Equal(5, model.Summary.Steps);
        Assert.Equal(6, trainer.NextStep);
    }

    [Fact]
    public void AModelTrainsInOneRunAtATime()
    {
        var model = TestData.RandomModel(Small);
        var sentences = TestData.RandomSentences(13, 10, 8, seed: 4);
        using (new Trainer(model, sentences, new TrainingOptions()))
            Assert.Throws<ModelBusyException>(() => new Trainer(model, sentences, new TrainingOptions()));
        using var again = new Trainer(model, sentences, new TrainingOptions()); // released by Dispose
        Assert.Equal(1, again.NextStep);
    }

    [Theory]
    [InlineData("Steps", 0)]
    [InlineData("LearningRate", 0.0)]
    [InlineData("LearningRate", double.NaN)]
    [InlineData("LearningRate", 1.5)]
    [InlineData("Beta1", 1.0)]
    [InlineData("Beta2", -0.1)]
    [InlineData("Epsilon", 0.0)]
    [InlineData("BatchSize", 0)]
    public void OptionsOutOfRangeAreRefusedNamingTheOption(string option, object value)
    {
        var options = option switch
        {
            "Steps" => new TrainingOptions { Steps = (int)value },
            "LearningRate" => new TrainingOptions { LearningRate = (double)value },
            "Beta1" => new TrainingOptions { Beta1 = (double)value },
            "Beta2" => new TrainingOptions { Beta2 = (double)value },
            "Epsilon" => new TrainingOptions { Epsilon = (double)value },
            _ => new TrainingOptions { BatchSize = (int)value },
        };
        var ex = Assert.Throws<InvalidConfigurationException>(() => options.Validate());
        Assert.Equal(option, ex.Parameter);
        Assert.Contains(Convert.ToString(value, System.Globalization.CultureInfo.CurrentCulture)!, ex.Message);
    }
}

/// <summary>
/// Tests that watch the whole process (its threads, the runtime's bookkeeping of this thread's
/// allocations), so they run alone: no other test starts or ends a thread, or keeps the runtime busy, meanwhile.
/// </summary>
[Collection(nameof(Cmdlets.TimingCollection))]
public class TrainerProcessTests
{
    [Fact]
    public void StepsWithThePackedProductsAllocateOnlyTheirRow()
    {
        // The packing workspaces are the trainer's, made once: a step allocates its TrainingStep
        // (about 100 bytes) and nothing else, so a long run triggers no collection.
        // Embedding 128, batches of about 280 rows, sentences of up to 40 rows: every packed path,
        // attention's included.
        // The runtime's own one-off work on this thread lands in one window of steps and not in
        // every one: a method's tier-up or an OSR transition, which comes late on a loaded host
        // (486 and 501 bytes a step over 20 steps, in one CI run at load 16-30), or this thread's
        // allocation block retired while other threads run, whose unused rest the counter takes
        // in (8,008 to 8,200 bytes in one step). A step that allocates lands in every window. So
        // windows are measured until one is clean, and the cleanest must allocate no more than
        // its row in every step.
        const long RowBytes = 256; // the TrainingStep and nothing else
        const int Windows = 10, Steps = 20;
        var config = new ModelConfig(13, 128, 4, 1, 40);
        var sentences = TestData.RandomSentences(13, 64, 45, seed: 7);
        Assert.Contains(sentences, s => s.Length > MicroGpt.Kernels.Attention.PackedRows + 1);
        using var trainer = new Trainer(TestData.RandomModel(config), sentences, new TrainingOptions { Steps = 3 + Windows * Steps, BatchSize = 12, ThreadCount = 1 });
        for (int i = 0; i < 3; i++) trainer.Step();
        long[]? cleanest = null;
        for (int window = 0; window < Windows; window++)
        {
            var bytes = new long[Steps];
            for (int i = 0; i < Steps; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                trainer.Step();
                bytes[i] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            if (cleanest is null || bytes.Sum() < cleanest.Sum()) cleanest = bytes;
            if (bytes.All(b => b <= RowBytes)) break;
        }
        Assert.All(cleanest!, b => Assert.True(b <= RowBytes, $"steps allocated {string.Join(", ", cleanest!)} bytes"));
    }

    [Fact]
    public void ARefusedTrainerStartsNoThreads()
    {
        if (!OperatingSystem.IsLinux()) return; // the workers are counted by the name Linux keeps for each thread
        var model = TestData.RandomModel(new ModelConfig(13, 16, 4, 2, 6));
        var sentences = TestData.RandomSentences(13, 40, 8, seed: 4);
        using var holder = new Trainer(model, sentences, new TrainingOptions { BatchSize = 8, ThreadCount = 3 });
        int before = Workers();
        Assert.True(before >= 2, $"{before} workers: the holder's two are not counted, so a refused trainer's would not be either");
        for (int i = 0; i < 10; i++)
            Assert.Throws<ModelBusyException>(() => new Trainer(model, sentences, new TrainingOptions { BatchSize = 8, ThreadCount = 8 }));
        Assert.True(Workers() <= before, $"{Workers()} workers after the refusals, {before} before"); // each would have started 7
    }

    /// <summary>The threads of this process that are pool workers, by the name the pool gives them.</summary>
    static int Workers() =>
        Directory.GetDirectories("/proc/self/task").Count(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == "MicroGpt worker");
}

