using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MicroGpt.Kernels;

namespace MicroGpt.Bench;

/// <summary>The default corpus, encoded once.</summary>
sealed record BenchCorpus(Tokenizer Tokenizer, int[][] Sentences)
{
    public static BenchCorpus Load()
    {
        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        return new BenchCorpus(tokenizer, Corpus.Encode(tokenizer, lines));
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "global.json"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("global.json not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// Analytic floating-point work of one step: the matrix products (2 flops per multiply-add;
/// backward does twice the forward's), attention's products, and Adam (14 flops a parameter:
/// 3 for m, 4 for v, 2 bias corrections, square root, epsilon, divide, rate, update).
/// Elementwise work (norms, softmax, relu, residuals) is left out.
/// </summary>
static class Flops
{
    public static double PerSentence(ModelConfig config, int tokenCount)
    {
        int n = Math.Min(config.BlockSize, tokenCount - 1);
        double c = config.EmbeddingSize;
        double matmul = 2.0 * n * (12 * c * c * config.Layers + config.VocabSize * c);
        double attention = 4.0 * c * n * (n + 1) / 2 * config.Layers;
        return 3 * (matmul + attention);
    }

    public static double Adam(ModelConfig config) => 14.0 * config.ParameterCount;
}

/// <summary>The machine, the peak FLOP rate assumed for it, and what it delivered at the time of a run.</summary>
static class Machine
{
    /// <summary>
    /// Zen 4 (this EPYC) issues two 256-bit FMA per cycle per core (AVX-512 runs double-pumped
    /// on the same units): 2 x 8 lanes x 2 flops = 32 flops a cycle. The cores run at 3.6 GHz
    /// under load (a dependent-add chain and an FMA loop both measure 3.5 to 3.6 GHz at best;
    /// the 2.6 GHz that /proc/cpuinfo shows is the nominal rate), so 115 GFLOP/s per core.
    /// </summary>
    public const double PeakGflops = 32 * 3.6;
    public const string PeakNote = "Zen 4: two 256-bit FMA pipes = 32 flops/cycle, at the 3.6 GHz the cores run at under load";

    /// <summary>
    /// What the machine gives at this moment, since a VM shares its host: the best FMA rate of
    /// one thread (twelve independent chains of Vector256 FMAs), and the work all cores do in a
    /// spin loop as a multiple of what one core does (2.0 on two dedicated cores).
    /// </summary>
    public static (double FmaGflops, double ParallelCapacity) Probe() =>
        (Enumerable.Range(0, 3).Max(_ => FmaGflops()), ParallelCapacity(300));

    /// <summary>The work all cores do together in a spin loop as a multiple of one core's, each spinning for <paramref name="milliseconds"/>.</summary>
    public static double ParallelCapacity(int milliseconds) =>
        (double)SpinCount(Environment.ProcessorCount, milliseconds).Sum() / SpinCount(1, milliseconds)[0];

    static double FmaGflops()
    {
        long rounds = 0;
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 200) rounds += FmaRounds(10_000);
        return rounds * 12 * 16 / clock.Elapsed.TotalSeconds / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int FmaRounds(int rounds)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int k = 0; k < rounds; k++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c); a3 = Fma.MultiplyAdd(a3, m, c);
            a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c); a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c);
            a8 = Fma.MultiplyAdd(a8, m, c); a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return float.IsNaN((a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar()) ? 0 : rounds; // keeps every chain alive
    }

    /// <summary>Iterations of a dependent integer chain that each of <paramref name="threads"/> threads runs in the time given, all at once.</summary>
    static long[] SpinCount(int threads, int milliseconds)
    {
        var counts = new long[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var clock = Stopwatch.StartNew();
            ulong x = 1;
            long n = 0;
            while (clock.ElapsedMilliseconds < milliseconds)
            {
                for (int k = 0; k < 4096; k++) x = x * 6364136223846793005 + 1442695040888963407;
                n++;
            }
            counts[t] = n + (long)(x & 1); // x keeps the chain alive
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        return counts;
    }

    public static string Describe()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} cores, {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9)} GB, " +
               $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}, " +
               $"AVX2+FMA {(Simd.Enabled ? "on" : "off")}, AVX-512 {(System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "available" : "absent")}";
    }
}

/// <summary>The reference run in a child process, so that its peak memory and collections are its own.</summary>
static class ReferenceChild
{
    public const int Steps = 5000;

    public sealed record Result(double Seconds, long Steps, long Tokens, double Flops, double PeakMegabytes, int Collections, double FirstLoss, double LastLoss);

    public static Result Spawn(int threads)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!, ["--reference-child", threads.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').Single(l => l.StartsWith("RESULT "));
        var f = line[7..].Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return new Result(f[0], (long)f[1], (long)f[2], f[3], f[4], (int)f[5], f[6], f[7]);
    }

    public static int Run(int threads)
    {
        var corpus = BenchCorpus.Load();
        var config = new ModelConfig(corpus.Tokenizer.VocabSize);
        var options = new TrainingOptions { Steps = Steps, ThreadCount = threads };

        var warm = Model.Create(config, corpus.Tokenizer, 1);
        using (var trainer = new Trainer(warm, corpus.Sentences, options with { Steps = 300 })) trainer.Run(_ => { });

        var model = Model.Create(config, corpus.Tokenizer, 42);
        var losses = new double[Steps];
        double flops = 0;
        // Start on a collected heap, so that the collections counted are the run's own and not
        // the bill for the corpus loading and warm-up before it.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        int collections = GC.CollectionCount(0);
        long tokens = 0;
        var clock = Stopwatch.StartNew();
        using (var trainer = new Trainer(model, corpus.Sentences, options))
            trainer.Run(step => { losses[step.Step - 1] = step.Loss; tokens = step.Tokens; });
        clock.Stop();
        collections = GC.CollectionCount(0) - collections;

        // The FLOPs of the sentences the run took, recomputed outside the timed loop.
        var batches = new SentenceBatches(model, corpus.Sentences, options);
        var batch = new PackedBatch(batches.MaxRows, batches.MaxExamples);
        for (int s = 0; s < Steps; s++)
        {
            batches.Fill(batch, s);
            flops += Flops.PerSentence(config, batch.Rows + 1) + Flops.Adam(config);
        }

        double peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT {clock.Elapsed.TotalSeconds} {Steps} {tokens} {flops} {peak} {collections} {losses.Take(200).Average()} {losses.TakeLast(200).Average()}"));
        return 0;
    }
}
