using System.Security.Cryptography;
using MicroGpt;
using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// nanoGPT's training options (AdamW's weight decay, warm-up, the cosine schedule to a minimum
/// rate, gradient clipping, GPT-2's initialization), each over 20 steps against an independent
/// double-precision loop of the same formulas, written here from PyTorch's and nanoGPT's
/// definitions (torch.optim.AdamW, clip_grad_norm_, nanoGPT's get_lr and _init_weights); then the
/// same bits for every thread count and every kernel path, and a checkpoint that resumes them.
/// </summary>
public sealed class NanoGptOptionTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("microgpt-nanogpt-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // float32 against float64 for 20 Adam steps of size ~lr, as TrainerTests' tutorial loop: the losses agree to 1e-4.
    const double LossTolerance = 1e-4;

    // The engine's gradient is float32, the reference's a central difference in double, each at its
    // own weights, which drift apart over the steps: their norms stay within 2e-4 of each other
    // (measured); 1e-3 of the norm leaves room, and a clipped or unclipped norm is off by far more.
    const double NormRelativeTolerance = 1e-3;

    static readonly ModelConfig Tiny = new(7, 8, 2, 1, 5);

    /// <summary>
    /// The cases: each sets one option (or, last, nanoGPT's quick-start set of them together), and
    /// the run it must visibly differ from, so that a trainer ignoring the option fails.
    /// </summary>
    public static TheoryData<string> Cases() => ["weight decay", "warm-up, linear to a minimum", "warm-up, cosine to a minimum", "cosine", "gradient clip", "gpt2 init", "nanoGPT quick start"];

    static (TrainingOptions Options, Initialization Init, TrainingOptions Without, Initialization InitWithout) Case(string name)
    {
        var basic = new TrainingOptions { Steps = 20, Shuffle = false };
        return name switch
        {
            "weight decay" => (basic with { LearningRate = 0.05, WeightDecay = 1 }, default, basic with { LearningRate = 0.05 }, default),
            "warm-up, linear to a minimum" => (basic with { WarmupSteps = 6, MinLearningRate = 0.004 }, default, basic, default),
            "warm-up, cosine to a minimum" => (basic with { WarmupSteps = 6, Schedule = Schedule.Cosine, MinLearningRate = 0.001 }, default, basic, default),
            "cosine" => (basic with { Schedule = Schedule.Cosine }, default, basic, default),
            // The tiny model's gradient norms are 1.5 to 2.0 over these steps (1.3 to 2.1 with GPT-2 init): the clips catch some, not all.
            "gradient clip" => (basic with { GradientClip = 1.7 }, default, basic, default),
            "gpt2 init" => (basic, Initialization.Gpt2, basic, default),
            "nanoGPT quick start" => (basic with
            {
                LearningRate = 0.01, MinLearningRate = 0.001, WarmupSteps = 4, Schedule = Schedule.Cosine, Beta1 = 0.9, Beta2 = 0.99, WeightDecay = 0.1, GradientClip = 1.6,
            }, Initialization.Gpt2, basic, default),
            _ => throw new ArgumentException(name),
        };
    }

    /// <summary>nanoGPT's get_lr with lr_decay_iters = the last step; for Linear, the tutorial's decay after the warm-up.</summary>
    static double ReferenceRate(TrainingOptions o, int it)
    {
        if (it < o.WarmupSteps) return o.LearningRate * (it + 1) / (o.WarmupSteps + 1);
        if (o.Schedule == Schedule.Linear)
            return o.MinLearningRate + (o.LearningRate - o.MinLearningRate) * (o.Steps - it) / (o.Steps - o.WarmupSteps);
        int decayIters = o.Steps - 1;
        double ratio = (double)(it - o.WarmupSteps) / (decayIters - o.WarmupSteps);
        return o.MinLearningRate + 0.5 * (1 + Math.Cos(Math.PI * ratio)) * (o.LearningRate - o.MinLearningRate);
    }

    /// <summary>GPT-2's initialization, by tensor name: N(0, 0.02), and c_proj (attn.o, mlp.proj) N(0, 0.02 / sqrt(2 L)); each tensor in turn from one seeded stream.</summary>
    static float[] ReferenceGpt2Weights(ModelConfig config, int seed)
    {
        var rng = new Rng(seed);
        var weights = new float[config.ParameterCount];
        foreach (var (name, offset, rows, columns) in ParameterLayout.Tensors(config))
        {
            double std = name.EndsWith(".attn.o") || name.EndsWith(".mlp.proj") ? 0.02 / Math.Sqrt(2 * config.Layers) : 0.02;
            for (int i = 0; i < rows * columns; i++) weights[offset + i] = (float)rng.NextGaussian(0, std);
        }
        return weights;
    }

    /// <summary>The reference run: one sentence a step in file order; clip_grad_norm_, then AdamW (decay, then Adam's update with the tutorial's bias corrections).</summary>
    static (List<double> Losses, List<double> Norms, int Clipped) Reference(double[] p, int[][] sentences, TrainingOptions o)
    {
        var reference = new ReferenceGpt(Tiny);
        var m = new double[p.Length];
        var v = new double[p.Length];
        var all = Enumerable.Range(0, p.Length).ToArray();
        var (losses, norms, clipped) = (new List<double>(), new List<double>(), 0);
        for (int s = 0; s < o.Steps; s++)
        {
            var batch = new[] { sentences[s % sentences.Length] };
            losses.Add(reference.BatchLoss(p, batch));
            var g = reference.NumericalGradient(p, batch, all);
            double norm = Math.Sqrt(g.Sum(x => x * x));
            norms.Add(norm);
            if (o.GradientClip > 0)
            {
                double coefficient = Math.Min(1, o.GradientClip / (norm + 1e-6));
                if (coefficient < 1) clipped++;
                for (int i = 0; i < g.Length; i++) g[i] *= coefficient;
            }
            double lr = ReferenceRate(o, s);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] *= 1 - lr * o.WeightDecay;
                m[i] = o.Beta1 * m[i] + (1 - o.Beta1) * g[i];
                v[i] = o.Beta2 * v[i] + (1 - o.Beta2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(o.Beta1, s + 1));
                double vHat = v[i] / (1 - Math.Pow(o.Beta2, s + 1));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + o.Epsilon);
            }
        }
        return (losses, norms, clipped);
    }

    static List<TrainingStep> Train(Model model, int[][] sentences, TrainingOptions options)
    {
        var steps = new List<TrainingStep>();
        using (var trainer = new Trainer(model, sentences, options)) trainer.Run(steps.Add);
        return steps;
    }

    static Model TinyModel(Initialization init) => Model.Create(Tiny, TestData.Words(Tiny.VocabSize - 1), 1, init);

    [Theory]
    [MemberData(nameof(Cases))]
    public void TwentyStepsFollowTheDoublePrecisionReference(string name)
    {
        var (options, init, without, initWithout) = Case(name);
        var sentences = TestData.RandomSentences(7, 7, 6, seed: 9);
        var model = TinyModel(init);
        if (init == Initialization.Gpt2) Assert.Equal(ReferenceGpt2Weights(Tiny, 1), model.Parameters);
        var expected = Reference(TestData.ToDouble(model.Parameters), sentences, options);

        var steps = Train(model, sentences, options);
        Assert.Equal(options.Steps, steps.Count);
        for (int s = 0; s < steps.Count; s++)
        {
            Assert.True(Math.Abs(expected.Losses[s] - steps[s].Loss) < LossTolerance, $"step {s + 1}: reference loss {expected.Losses[s]}, engine {steps[s].Loss}");
            // GradNorm is the norm before clipping.
            Assert.True(Math.Abs(expected.Norms[s] - steps[s].GradNorm) < NormRelativeTolerance * expected.Norms[s], $"step {s + 1}: reference norm {expected.Norms[s]}, engine {steps[s].GradNorm}");
            Assert.Equal(ReferenceRate(options, s), steps[s].LearningRate, 1e-15);
        }
        if (options.GradientClip > 0) Assert.InRange(expected.Clipped, 1, options.Steps - 1); // some steps clip, some do not

        // The option shows: the same run without it leaves the reference's losses by far more than the tolerance.
        var other = Train(TinyModel(initWithout), sentences, without);
        Assert.True(other.Select((step, s) => Math.Abs(step.Loss - expected.Losses[s])).Max() > 10 * LossTolerance, $"{name} makes no difference the test can see");
    }

    [Theory]
    [InlineData(0, 1e-3 / 101)]              // the warm-up's first step: lr (it + 1) / (warmup + 1)
    [InlineData(49, 1e-3 * 50 / 101)]
    [InlineData(99, 1e-3 * 100 / 101)]       // its last
    [InlineData(100, 1e-3)]                  // the cosine's start: decay ratio 0
    [InlineData(575, 1e-4 + 0.5 * (1 + 0.70710678118654757) * 9e-4)] // ratio 1/4: cos(pi / 4) = sqrt(2) / 2
    [InlineData(1050, 5.5e-4)]               // ratio 1/2: half way between the rate and the minimum
    [InlineData(1525, 1e-4 + 0.5 * (1 - 0.70710678118654757) * 9e-4)]
    [InlineData(2000, 1e-4)]                 // the last step: the minimum
    public void TheCosineScheduleGivesNanoGptsGetLrForItsQuickStart(long step, double expected)
    {
        // nanoGPT's shakespeare-char quick start: learning_rate 1e-3, min_lr 1e-4, warmup_iters 100,
        // max_iters = lr_decay_iters = 2000, iterations 0 to 2000: 2,001 steps.
        var options = new TrainingOptions { LearningRate = 1e-3, MinLearningRate = 1e-4, WarmupSteps = 100, Steps = 2001, Schedule = Schedule.Cosine };
        Assert.Equal(expected, LearningRate.At(options, step), 1e-17);
    }

    [Theory]
    [InlineData(0, 0.01 / 5)]                    // warm-up: lr (s + 1) / (W + 1)
    [InlineData(3, 0.01 * 4 / 5)]
    [InlineData(4, 0.01)]                        // then the linear decay from the full rate
    [InlineData(54, 0.002 + 0.008 * 0.5)]        // half of the 100 steps after the warm-up
    [InlineData(103, 0.002 + 0.008 * 0.01)]      // the last step: one step's worth above the minimum, as the tutorial's decay ends
    public void TheLinearScheduleWarmsUpThenDecaysTowardsTheMinimum(long step, double expected)
    {
        var options = new TrainingOptions { LearningRate = 0.01, MinLearningRate = 0.002, WarmupSteps = 4, Steps = 104 };
        Assert.Equal(expected, LearningRate.At(options, step), 1e-17);
    }

    [Fact]
    public void WithoutWarmUpOrMinimumTheLinearScheduleIsTheTutorialsBitForBit()
    {
        var options = new TrainingOptions { LearningRate = 0.01, Steps = 5000 };
        for (long s = 0; s < options.Steps; s++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(options.LearningRate * (1 - (double)s / options.Steps)), BitConverter.DoubleToInt64Bits(LearningRate.At(options, s)));
    }

    [Fact]
    public void ACosineWithOneStepAfterTheWarmUpTakesTheMinimumThere()
    {
        var options = new TrainingOptions { LearningRate = 0.01, MinLearningRate = 0.003, WarmupSteps = 4, Steps = 5, Schedule = Schedule.Cosine };
        Assert.Equal(0.003, LearningRate.At(options, 4));
    }

    [Fact]
    public void Gpt2InitDrawsTheResidualProjectionsNarrower()
    {
        var config = new ModelConfig(50, 64, 4, 6, 16);
        var model = Model.Create(config, TestData.Words(49), 3, Initialization.Gpt2);
        Assert.Equal(ReferenceGpt2Weights(config, 3), model.Parameters);
        foreach (var (name, offset, rows, columns) in ParameterLayout.Tensors(config))
        {
            var values = model.Parameters.AsSpan(offset, rows * columns).ToArray();
            double std = Math.Sqrt(values.Average(x => (double)x * x));
            double expected = name.EndsWith(".attn.o") || name.EndsWith(".mlp.proj") ? 0.02 / Math.Sqrt(12) : 0.02;
            // 1,024 or more draws: the sample deviation is within 3 standard errors (sqrt(1/(2n)) < 2.3%) of the expected, 7% here.
            Assert.True(Math.Abs(std / expected - 1) < 0.07, $"{name}: std {std}, expected {expected}");
        }
        // The tutorial's stays the default: the same weights as before this option existed.
        var tutorial = Model.Create(config, TestData.Words(49), 3);
        var rng = new Rng(3);
        Assert.Equal(Enumerable.Range(0, tutorial.Parameters.Length).Select(_ => (float)rng.NextGaussian(0, Model.InitStd)), tutorial.Parameters);
    }

    [Fact]
    public void AdamWsVectorAndScalarPathsAgreeForEveryLength()
    {
        for (int length = 0; length <= 257; length++)
        {
            var p = TestData.RandomFloats(length, length); var g = TestData.RandomFloats(length, length + 1000);
            var m = TestData.RandomFloats(length, length + 2000, 0.1f); var v = TestData.RandomFloats(length, length + 3000, 0.1f).Select(Math.Abs).ToArray();
            var (p2, m2, v2) = (p.ToArray(), m.ToArray(), v.ToArray());
            var k = Adam.StepConstants.For(0.01, 0.9, 0.99, 1e-8, step: 7, weightDecay: 0.1, gradientScale: 0.37);
            Adam.Update(p, g, m, v, k);
            for (int i = 0; i < length; i++) // the scalar path, one element at a time
                Adam.Update(p2.AsSpan(i, 1), g.AsSpan(i, 1), m2.AsSpan(i, 1), v2.AsSpan(i, 1), k);
            Assert.Equal(p2, p);
            Assert.Equal(m2, m);
            Assert.Equal(v2, v);
        }
    }

    [Fact]
    public void OneAdamWStepDecaysThenUpdatesWithTheClippedGradient()
    {
        float[] p = [2f], g = [0.5f], m = [0f], v = [0f];
        Adam.Update(p, g, m, v, Adam.StepConstants.For(0.01, 0.85, 0.99, 1e-8, step: 0, weightDecay: 0.5, gradientScale: 0.5));
        // g = 0.25; p = 2 (1 - 0.005) = 1.99; mhat = 0.25, vhat = 0.0625: p -= 0.01 * 0.25 / 0.25
        Assert.Equal(0.0375f, m[0], 1e-9f);
        Assert.Equal(1.98f, p[0], 1e-6f);
        Assert.Equal(0.5f, g[0]); // the gradient is only read
    }

    /// <summary>nanoGPT's options together on the default corpus, large enough for the weight copies and several threads.</summary>
    static (Model Model, int[][] Sentences) DefaultCorpusModel()
    {
        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        return (Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, 42, Initialization.Gpt2), Corpus.Encode(tokenizer, lines));
    }

    static readonly TrainingOptions AllOptions = new()
    {
        Steps = 12, BatchSize = 8, LearningRate = 0.01, MinLearningRate = 0.001, WarmupSteps = 3, Schedule = Schedule.Cosine, WeightDecay = 0.1, GradientClip = 1.0,
    };

    /// <summary>SHA-256 of a run's losses, gradient norms and final weights.</summary>
    static string Hash(IEnumerable<TrainingStep> steps, float[] weights)
    {
        var numbers = steps.SelectMany(s => new[] { s.Loss, s.GradNorm }).SelectMany(BitConverter.GetBytes).Concat(weights.SelectMany(BitConverter.GetBytes)).ToArray();
        return Convert.ToHexString(SHA256.HashData(numbers));
    }

    /// <summary>
    /// The run with every option, pinned per kernel path. CI runs the engine's tests with
    /// DOTNET_EnableAVX512=0 too, so "vector" pins the 256-bit and 512-bit paths to the same bits.
    /// The tutorial's defaults keep their own pins (GoldenTrajectoryTests); these are new numbers.
    /// </summary>
    static readonly Dictionary<string, string> AllOptionsHash = new()
    {
        ["vector"] = "C6BB019E8CC36658B261E70F53EF5859745BAE0F9F1AB7703A609509B1BB2707",
        ["scalar"] = "81C0A36060F4FD2CE10EE4F690F1C26B244054C75CCDCEDE3C2968903712AE50",
    };

    [Fact]
    public void EveryThreadCountAndKernelPathGivesTheSameBits()
    {
        var hashes = new List<string>();
        for (int threads = 1; threads <= 8; threads++)
        {
            var (model, sentences) = DefaultCorpusModel();
            var steps = Train(model, sentences, AllOptions with { ThreadCount = threads });
            Assert.Contains(steps, s => s.GradNorm > AllOptions.GradientClip); // the clip acts
            hashes.Add(Hash(steps, model.Parameters));
        }
        Assert.All(hashes, h => Assert.Equal(hashes[0], h));
        string path = Simd.Enabled ? "vector" : "scalar";
        Assert.True(AllOptionsHash[path] == hashes[0], $"the {path} path gives {hashes[0]}, not the pinned {AllOptionsHash[path]}");
    }

    [Fact]
    public void ACheckpointResumesTheOptionsBitForBit()
    {
        var (straight, sentences) = DefaultCorpusModel();
        var straightSteps = Train(straight, sentences, AllOptions with { ThreadCount = 2 });

        var (model, _) = DefaultCorpusModel();
        using (var trainer = new Trainer(model, sentences, AllOptions with { ThreadCount = 2 }))
            for (int s = 0; s < 5; s++) trainer.Step();
        string path = Path.Combine(folder, "checkpoint.json");
        ModelFile.Save(model, path, includeOptimizer: true);
        var loaded = ModelFile.Load(path);
        Assert.Equal(AllOptions, loaded.Optimizer!.Options);
        var resumedSteps = new List<TrainingStep>();
        using (var trainer = new Trainer(loaded, sentences, new TrainingOptions { ThreadCount = 1 }, resume: loaded.Optimizer)) trainer.Run(resumedSteps.Add);

        Assert.Equal(straightSteps.Skip(5).Select(s => (s.Loss, s.GradNorm, s.LearningRate)), resumedSteps.Select(s => (s.Loss, s.GradNorm, s.LearningRate)));
        Assert.Equal(straight.Parameters, loaded.Parameters);
    }
}
