using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using MicroGpt.Kernels;

namespace MicroGpt.Bench;

/// <summary>The default corpus, encoded once, and the full-length lines cut from its words.</summary>
sealed record BenchCorpus(Tokenizer Tokenizer, int[][] Sentences)
{
    readonly Dictionary<int, int[][]> fullLength = [];

    public static BenchCorpus Load()
    {
        var lines = Corpus.Normalize(TokenizerKind.Word, Corpus.DefaultLines());
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, lines.Select(s => s.Text));
        return new BenchCorpus(tokenizer, Corpus.Encode(tokenizer, lines));
    }

    /// <summary>The sequences a row of this shape trains on.</summary>
    public int[][] For(Shape shape) => shape.Kind == Sequences.FullLength ? FullLength(shape.T) : Sentences;

    /// <summary>
    /// Lines of exactly <paramref name="positions"/> words, [BOS, w1..wT, BOS] each, so that every
    /// line trains T positions (its targets are w1..wT): the default corpus's sentences, in file
    /// order, run together as one stream of words and cut every T words (about 150,000 words, so
    /// 2,300 lines at T 64). Text the default vocabulary knows, in lines longer than any sentence.
    /// </summary>
    public int[][] FullLength(int positions)
    {
        if (fullLength.TryGetValue(positions, out var lines)) return lines;
        var words = Sentences.SelectMany(sentence => sentence[1..^1]).ToArray();
        int bos = Tokenizer.Bos;
        lines = Enumerable.Range(0, words.Length / positions)
            .Select(i => (int[])[bos, .. words.AsSpan(i * positions, positions), bos])
            .ToArray();
        return fullLength[positions] = lines;
    }

    /// <summary>Stream mode's corpus: the default corpus's words in file order, as one stream (no BOS).</summary>
    public int[] Stream => stream ??= Sentences.SelectMany(sentence => sentence[1..^1]).ToArray();

    int[]? stream;

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

    /// <summary>A step of <paramref name="batch"/> lines of exactly T positions each.</summary>
    public static double FullLengthStep(ModelConfig config, int batch) => batch * PerSentence(config, config.BlockSize + 1) + Adam(config);
}

/// <summary>The machine, its peak FLOP rate as measured, and what it delivered at the time of a run.</summary>
static class Machine
{
    const int ProbeChains = 12; // independent FMA chains: enough to fill two FMA pipes of 4-cycle latency with room to spare
    const int ProbeTries = 5;   // the best of five 0.2 s loops: a peak is what the core can do, so a slow spell is not it

    /// <summary>One core's peak FLOP rate, measured once per process with the widest FMA the CPU has.</summary>
    public static PeakRate Peak => peak.Value;
    static readonly Lazy<PeakRate> peak = new(ProbePeak);

    /// <summary>
    /// The best FMA rate of one thread: <see cref="ProbeChains"/> independent chains of 512-bit
    /// FMAs where the CPU has AVX-512, of 256-bit FMAs where it has AVX2 and FMA, and of scalar
    /// multiply-adds otherwise. With AVX-512 it also measures the 256-bit rate: a core with
    /// full-width 512-bit units does about twice the 256-bit rate, one that splits each 512-bit
    /// operation in two about the same.
    /// </summary>
    static PeakRate ProbePeak()
    {
        if (Avx512F.IsSupported)
            return new PeakRate(Best(Fma512Rounds, 16), "512-bit FMA (AVX-512)", Best(Fma256Rounds, 8));
        if (Fma.IsSupported)
            return new PeakRate(Best(Fma256Rounds, 8), "256-bit FMA (AVX2)", null);
        return new PeakRate(Best(ScalarRounds, 1), "scalar multiply-add (no FMA)", null);

        static double Best(Func<int, int> rounds, int lanes) => Enumerable.Range(0, ProbeTries).Max(_ => Gflops(rounds, lanes));
    }

    /// <summary>
    /// What the loop of <paramref name="rounds"/> did in 0.2 s of this thread's own CPU time,
    /// counting 2 flops a lane. CPU time rather than wall time, so that other processes that
    /// share the core (this machine is shared) do not lower the peak.
    /// </summary>
    static double Gflops(Func<int, int> rounds, int lanes)
    {
        long done = 0;
        double start = ThreadCpuSeconds();
        while (ThreadCpuSeconds() - start < 0.2) done += rounds(10_000);
        return done * ProbeChains * lanes * 2 / (ThreadCpuSeconds() - start) / 1e9;
    }

    /// <summary>The calling thread's CPU time (Linux's CLOCK_THREAD_CPUTIME_ID); elsewhere, wall time.</summary>
    static double ThreadCpuSeconds()
    {
        const int ClockThreadCpuTime = 3;
        if (!OperatingSystem.IsLinux()) return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
        return ClockGetTime(ClockThreadCpuTime, out var now) == 0 ? now.Seconds + now.Nanoseconds * 1e-9
            : throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int Fma512Rounds(int rounds)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int k = 0; k < rounds; k++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, c); a1 = Avx512F.FusedMultiplyAdd(a1, m, c); a2 = Avx512F.FusedMultiplyAdd(a2, m, c); a3 = Avx512F.FusedMultiplyAdd(a3, m, c);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, c); a5 = Avx512F.FusedMultiplyAdd(a5, m, c); a6 = Avx512F.FusedMultiplyAdd(a6, m, c); a7 = Avx512F.FusedMultiplyAdd(a7, m, c);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, c); a9 = Avx512F.FusedMultiplyAdd(a9, m, c); a10 = Avx512F.FusedMultiplyAdd(a10, m, c); a11 = Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        return float.IsNaN((a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar()) ? 0 : rounds; // keeps every chain alive
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int Fma256Rounds(int rounds)
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
        return float.IsNaN((a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).ToScalar()) ? 0 : rounds;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int ScalarRounds(int rounds)
    {
        float m = 0.999999f, c = 1e-7f;
        float a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (int k = 0; k < rounds; k++)
        {
            a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c;
            a6 = a6 * m + c; a7 = a7 * m + c; a8 = a8 * m + c; a9 = a9 * m + c; a10 = a10 * m + c; a11 = a11 * m + c;
        }
        return float.IsNaN(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11) ? 0 : rounds;
    }

    /// <summary>
    /// What all cores do at this moment, since the VM shares its host: the work they do together
    /// in a spin loop as a multiple of what one core does (2.0 on two dedicated cores).
    /// </summary>
    public static double Capacity() => ParallelCapacity(300);

    /// <summary>The work all cores do together in a spin loop as a multiple of one core's, each spinning for <paramref name="milliseconds"/>.</summary>
    public static double ParallelCapacity(int milliseconds) =>
        (double)SpinCount(Environment.ProcessorCount, milliseconds).Sum() / SpinCount(1, milliseconds)[0];

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
        // The family and model say which generation the VM's host is (AMD family 25 is Zen 3 and 4,
        // 26 is Zen 5): the name alone ("AMD EPYC") does not, and VMs of the same name have run on both.
        string cpu = "unknown CPU";
        try
        {
            var info = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
                .GroupBy(p => p[0].Trim()).ToDictionary(g => g.Key, g => g.First()[1].Trim());
            if (info.TryGetValue("model name", out var name))
                cpu = $"{name} (family {info.GetValueOrDefault("cpu family", "?")}, model {info.GetValueOrDefault("model", "?")})";
        }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} cores, {Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9)} GB, " +
               $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}, " +
               $"AVX2+FMA {(Simd.Enabled ? "on" : "off")}, AVX-512 {(System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "available" : "absent")}";
    }
}

/// <summary>
/// One core's peak: GFLOP/s of the widest FMA loop, which kind it was, and with AVX-512 the
/// 256-bit loop's rate beside it.
/// </summary>
sealed record PeakRate(double Gflops, string Vectors, double? Gflops256)
{
    public string Describe() =>
        $"{Gflops:F0} GFLOP/s per core, measured with {Vectors}" +
        (Gflops256 is { } narrow ? $" (256-bit FMA: {narrow:F0} GFLOP/s; the 512-bit loop did {Gflops / narrow:F2}x its work)" : "");
}

/// <summary>The reference run in a child process, so that its peak memory and collections are its own.</summary>
static class ReferenceChild
{
    public const int Steps = 5000;

    public sealed record Result(double Seconds, long Steps, long Tokens, double Flops, double PeakMegabytes, int Collections, double FirstLoss, double LastLoss);

    public static Result Spawn(int threads)
    {
        var f = ChildProcess.Run("--reference-child", threads.ToString(CultureInfo.InvariantCulture));
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

        double peak = ChildProcess.ResidentMegabytes("VmHWM:");
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT {clock.Elapsed.TotalSeconds} {Steps} {tokens} {flops} {peak} {collections} {losses.Take(200).Average()} {losses.TakeLast(200).Average()}"));
        return 0;
    }
}

/// <summary>
/// A measurement in a fresh process of this bench, so that its memory, collections and start-up are
/// its own: the child prints one line "RESULT" and its figures, separated by spaces.
/// </summary>
static class ChildProcess
{
    /// <summary>Runs this bench with <paramref name="args"/> and returns the figures of its RESULT line.</summary>
    public static double[] Run(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!, args)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').SingleOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The child `{string.Join(' ', args)}` exited with {process.ExitCode} and printed no RESULT line: {output}");
        return line[7..].Split(' ').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>A size field of /proc/self/status in MB: "VmRSS:" (resident now) or "VmHWM:" (the peak resident size).</summary>
    public static double ResidentMegabytes(string field) =>
        long.Parse(File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
}
