using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using MicroGpt;
using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// Twenty training runs (sentence lengths, batch sizes, thread counts 1 to 8, shapes that take the
/// packed products, validation, a resumed run), each reduced to one SHA-256 of its losses, gradient
/// norms, validation losses and final weights, and compared with tests/Unit/Data/golden-trajectories.json.
/// A refactoring must leave every hash as it is. A change that is meant to change numbers (another
/// summation order, a new kernel) re-pins them, and says so in its commit:
///     MICROGPT_WRITE_GOLDEN=1 dotnet test --filter FullyQualifiedName~GoldenTrajectoryTests
/// writes the hashes of the kernel path this CPU takes: "vector" (AVX2 and FMA; the 256-bit and
/// 512-bit paths give the same bits) or "scalar" (run it again with DOTNET_EnableAVX2=0).
/// </summary>
public class GoldenTrajectoryTests
{
    static string GoldenFile => Path.Combine(Cmdlets.PowerShellSession.RepoRoot, "tests", "Unit", "Data", "golden-trajectories.json");

    static string KernelPath => Simd.Enabled ? "vector" : "scalar";

    /// <summary>A run: the corpus (encoded, and its model), the options, and how many steps.</summary>
    sealed record Run(string Name, Func<(Model Model, int[][] Training, int[][]? Validation)> Setup, TrainingOptions Options, int Steps, int ResumeAt = 0);

    static readonly Lazy<(Tokenizer Tokenizer, int[][] Sentences)> DefaultCorpus = new(() =>
    {
        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        return (tokenizer, Corpus.Encode(tokenizer, lines));
    });

    static (Model, int[][], int[][]?) Tutorial(int embedding = 32, int heads = 4, int layers = 2, int block = 16, int seed = 42)
    {
        var (tokenizer, sentences) = DefaultCorpus.Value;
        return (Model.Create(new ModelConfig(tokenizer.VocabSize, embedding, heads, layers, block), tokenizer, seed), sentences, null);
    }

    /// <summary>Sentences of random words: lengths 1..maxWords (longer than the block size, they are cut).</summary>
    static (Model, int[][], int[][]?) RandomWords(ModelConfig config, int count, int maxWords, int seed, int validation = 0)
    {
        var sentences = TestData.RandomSentences(config.VocabSize, count + validation, maxWords, seed);
        return (TestData.RandomModel(config, seed), sentences[..count], validation > 0 ? sentences[count..] : null);
    }

    /// <summary>Lines of exactly T positions: BOS and T words (the closing BOS is never predicted).</summary>
    static (Model, int[][], int[][]?) FullLength(ModelConfig config, int count, int seed)
    {
        var rng = new Random(seed);
        int bos = config.VocabSize - 1;
        var sentences = Enumerable.Range(0, count)
            .Select(_ => new[] { bos }.Concat(Enumerable.Range(0, config.BlockSize).Select(_ => rng.Next(bos))).Append(bos).ToArray()).ToArray();
        return (TestData.RandomModel(config, seed), sentences, null);
    }

    static (Model, int[][], int[][]?) Names()
    {
        var lines = Corpus.Normalize(TokenizerKind.Character, File.ReadLines(Path.Combine(Cmdlets.PowerShellSession.RepoRoot, "module", "data", "names.txt")));
        var tokenizer = Tokenizer.Build(TokenizerKind.Character, lines.Select(s => s.Text));
        return (Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, 3), Corpus.Encode(tokenizer, lines), null);
    }

    static readonly Run[] Runs =
    [
        new("tutorial-b1-t1", () => Tutorial(), new() { ThreadCount = 1 }, 40),
        new("tutorial-b1-t2", () => Tutorial(), new() { ThreadCount = 2 }, 40),
        new("tutorial-b4-t1", () => Tutorial(), new() { BatchSize = 4, ThreadCount = 1 }, 25),
        new("tutorial-b4-t3", () => Tutorial(), new() { BatchSize = 4, ThreadCount = 3 }, 25),
        new("tutorial-b16-t2", () => Tutorial(), new() { BatchSize = 16, ThreadCount = 2 }, 15),
        new("tutorial-b16-t5", () => Tutorial(), new() { BatchSize = 16, ThreadCount = 5 }, 15),
        new("tutorial-b32-t8", () => Tutorial(), new() { BatchSize = 32, ThreadCount = 8 }, 10),
        new("tutorial-noshuffle-b8-t4", () => Tutorial(), new() { BatchSize = 8, ThreadCount = 4, Shuffle = false }, 15),
        new("words-validation-b4-t2", () => RandomWords(new ModelConfig(41, 32, 4, 2, 16), 200, 12, 5, validation: 30), new() { BatchSize = 4, ThreadCount = 2, Steps = 20, ValidationInterval = 5 }, 20),
        new("names-b8-t2", Names, new() { BatchSize = 8, ThreadCount = 2 }, 20),
        new("long-sentences-c64-b8-t1", () => RandomWords(new ModelConfig(61, 64, 4, 2, 16), 100, 30, 7), new() { BatchSize = 8, ThreadCount = 1 }, 12),
        new("long-sentences-c64-b8-t6", () => RandomWords(new ModelConfig(61, 64, 4, 2, 16), 100, 30, 7), new() { BatchSize = 8, ThreadCount = 6 }, 12),
        new("full-c128-l4-t64-b4-t1", () => FullLength(new ModelConfig(97, 128, 4, 4, 64), 40, 11), new() { BatchSize = 4, ThreadCount = 1, LearningRate = 0.001 }, 6),
        new("full-c128-l4-t64-b4-t2", () => FullLength(new ModelConfig(97, 128, 4, 4, 64), 40, 11), new() { BatchSize = 4, ThreadCount = 2, LearningRate = 0.001 }, 6),
        new("full-c128-l4-t64-b4-t7", () => FullLength(new ModelConfig(97, 128, 4, 4, 64), 40, 11), new() { BatchSize = 4, ThreadCount = 7, LearningRate = 0.001 }, 6),
        new("odd-heads-c48-h3-b6-t3", () => RandomWords(new ModelConfig(53, 48, 3, 2, 16), 120, 10, 13), new() { BatchSize = 6, ThreadCount = 3 }, 15),
        new("small-c16-l1-t8-b3-t1", () => RandomWords(new ModelConfig(23, 16, 2, 1, 8), 80, 12, 17), new() { BatchSize = 3, ThreadCount = 1 }, 20),
        new("resumed-b4-t2", () => Tutorial(), new() { BatchSize = 4, ThreadCount = 2, Steps = 30 }, 20, ResumeAt: 9),
        new("other-adam-b2-t2", () => Tutorial(), new() { BatchSize = 2, ThreadCount = 2, LearningRate = 0.003, Beta1 = 0.9, Beta2 = 0.95, Epsilon = 1e-6 }, 20),
        new("full-c32-t32-b12-t4-seed7", () => FullLength(new ModelConfig(61, 32, 4, 2, 32), 60, 7), new() { BatchSize = 12, ThreadCount = 4, Seed = 7 }, 15),
    ];

    public static TheoryData<string> RunNames()
    {
        var data = new TheoryData<string>();
        foreach (var run in Runs) data.Add(run.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(RunNames))]
    public void TrainingGivesThePinnedNumbers(string name)
    {
        string hash = Hash(Runs.Single(r => r.Name == name));
        var golden = File.Exists(GoldenFile) ? JsonNode.Parse(File.ReadAllText(GoldenFile))!.AsObject() : new JsonObject();
        if (Environment.GetEnvironmentVariable("MICROGPT_WRITE_GOLDEN") == "1")
        {
            lock (Runs) Pin(name, hash);
            return;
        }
        string? pinned = golden[KernelPath]?[name]?.GetValue<string>();
        Assert.True(pinned is not null, $"No pinned hash for {name} on the {KernelPath} path; see the class comment to pin it.");
        Assert.Equal(pinned, hash);
    }

    static void Pin(string name, string hash)
    {
        var golden = File.Exists(GoldenFile) ? JsonNode.Parse(File.ReadAllText(GoldenFile))!.AsObject() : new JsonObject();
        if (golden[KernelPath] is not JsonObject path) golden[KernelPath] = path = new JsonObject();
        path[name] = hash;
        var sorted = new JsonObject();
        foreach (var (kernel, hashes) in golden.OrderBy(p => p.Key))
            sorted[kernel] = new JsonObject(hashes!.AsObject().OrderBy(p => p.Key).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value!.GetValue<string>())));
        File.WriteAllText(GoldenFile, sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Trains the run and hashes every number it gave, in order, and the weights it left.</summary>
    static string Hash(Run run)
    {
        var (model, training, validation) = run.Setup();
        var options = run.Options with { Steps = Math.Max(run.Options.Steps, run.Steps) };
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(double value) => sha.AppendData(BitConverter.GetBytes(value));

        OptimizerState? resume = null;
        if (run.ResumeAt > 0)
        {
            // The first part, saved as a checkpoint and loaded again: the rest must continue exactly.
            using (var first = new Trainer(model, training, options, validation))
                for (int s = 0; s < run.ResumeAt; s++) AddStep(first.Step());
            string file = Path.Combine(Path.GetTempPath(), $"golden-{Guid.NewGuid():N}.json");
            try
            {
                ModelFile.Save(model, file, includeOptimizer: true);
                model = ModelFile.Load(file);
                resume = model.Optimizer;
            }
            finally { File.Delete(file); }
        }
        using (var trainer = new Trainer(model, training, options, validation, resume))
            for (long s = trainer.NextStep; s <= run.Steps; s++) AddStep(trainer.Step());
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(model.GetWeights().AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());

        void AddStep(TrainingStep step)
        {
            Add(step.Loss);
            Add(step.GradNorm);
            Add(step.LearningRate);
            Add(step.ValidationLoss ?? double.NaN);
        }
    }
}
