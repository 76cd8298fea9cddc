using System.Diagnostics;
using MicroGpt.Kernels;

namespace MicroGpt.Bench;

/// <summary>
/// GFLOP/s of the linear layer's three products alone (`--gemm [N C OC ...]`), by default at the
/// shapes of full-length training: N rows (a group's B T positions), C inputs, OC outputs, on
/// each vector path and on the small-shape kernels that MatMul keeps; first the micro-kernel
/// alone, and the FMA loop that gives the peak. Each figure is the median of <see cref="Runs"/>
/// timings of enough calls for about 50 ms, after a warm-up, in this thread's CPU time.
/// </summary>
static class GemmBench
{
    const int Runs = 7;

    public static void Run(IReadOnlyList<(int N, int C, int OC)>? shapes = null)
    {
        var workspace = new GemmWorkspace();
        double peak = Fma512Gflops();
        Console.WriteLine($"One thread's 512-bit FMA loop (twelve chains), CPU time: {peak:F0} GFLOP/s, the peak below");
        {
            var ap = Random(8 * Gemm.KC, 4); var bp = Random(32 * Gemm.KC, 5); var tile = new float[8 * 32];
            Row("micro-kernel alone, panels in L1", 8, Gemm.KC, 32, "Avx512", peak, 2.0 * 8 * 32 * Gemm.KC * 100, () => { for (int i = 0; i < 100; i++) Gemm.KernelOnly(ap, bp, tile); });
        }
        Console.WriteLine("| product | N | C | OC | path | GFLOP/s | % of peak |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        shapes ??= [(1024, 128, 384), (1024, 128, 512), (1024, 512, 128), (1024, 256, 768), (1024, 1024, 256), (1024, 512, 1536), (1024, 2048, 512), (512, 512, 2048)];
        foreach (var (n, c, oc) in shapes)
        {
            var inp = Random(n * c, 1); var w = Random(oc * c, 2); var dout = Random(n * oc, 3);
            var output = new float[n * oc]; var dinp = new float[n * c]; var dw = new float[oc * c];
            double flops = 2.0 * n * c * oc;
            var paths = new List<Gemm.Path> { Gemm.Path.Avx2 };
            if (Gemm.Best == Gemm.Path.Avx512) paths.Add(Gemm.Path.Avx512);
            foreach (var path in paths)
            {
                Row("forward", n, c, oc, path.ToString(), peak, flops, () => Gemm.Multiply(output, oc, inp, c, 1, w, 1, c, n, oc, c, false, workspace, path));
                Row("backward input", n, c, oc, path.ToString(), peak, flops, () => Gemm.Multiply(dinp, c, dout, oc, 1, w, c, 1, n, c, oc, true, workspace, path));
                Row("backward weight", n, c, oc, path.ToString(), peak, flops, () => Gemm.Multiply(dw, c, dout, 1, oc, inp, c, 1, oc, c, n, true, workspace, path));
            }
            Row("forward", n, c, oc, "small-shape kernel", peak, flops, () => MatMul.ForwardSmall(output, inp, w, n, c, oc));
            Row("backward input", n, c, oc, "small-shape kernel", peak, flops, () => MatMul.BackwardInputSmall(dinp, dout, w, n, c, oc));
            Row("backward weight", n, c, oc, "small-shape kernel", peak, flops, () => MatMul.BackwardWeightSmall(dw, dout, inp, n, c, oc, 0, oc));
        }
    }

    static void Row(string product, int n, int c, int oc, string path, double peak, double flops, Action call)
    {
        call();
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.Elapsed.TotalSeconds < 0.05 || calls < 2) { call(); calls++; }
        var times = new double[Runs];
        for (int r = 0; r < Runs; r++)
        {
            double start = ThreadSeconds();
            for (int i = 0; i < calls; i++) call();
            times[r] = (ThreadSeconds() - start) / calls;
        }
        Array.Sort(times);
        double gflops = flops / times[Runs / 2] / 1e9;
        Console.WriteLine($"| {product} | {n} | {c} | {oc} | {path} | {gflops:F1} | {100 * gflops / peak:F0}% |");
    }

    static double Fma512Gflops()
    {
        var best = 0.0;
        for (int r = 0; r < 5; r++)
        {
            double start = ThreadSeconds();
            float x = Chains(20_000_000);
            best = Math.Max(best, 20_000_000.0 * 12 * 32 / (ThreadSeconds() - start) / 1e9 + (x == 1234 ? 1 : 0));
        }
        return best;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static float Chains(int rounds)
    {
        var m = System.Runtime.Intrinsics.Vector512.Create(0.999999f);
        var c = System.Runtime.Intrinsics.Vector512.Create(1e-7f);
        var (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) = (c, c, c, c, c, c, c, c, c, c, c, c);
        for (int k = 0; k < rounds; k++)
        {
            a0 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a0, m, c); a1 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a1, m, c);
            a2 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a2, m, c); a3 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a3, m, c);
            a4 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a4, m, c); a5 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a5, m, c);
            a6 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a6, m, c); a7 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a7, m, c);
            a8 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a8, m, c); a9 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a9, m, c);
            a10 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a10, m, c); a11 = System.Runtime.Intrinsics.X86.Avx512F.FusedMultiplyAdd(a11, m, c);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11)[0];
    }

    /// <summary>
    /// This thread's CPU time: the machine is shared, and the scheduler's time slices given to
    /// other processes would otherwise count as this kernel's.
    /// </summary>
    public static double ThreadSeconds()
    {
        ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var t);
        return t.Seconds + t.Nanoseconds * 1e-9;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    struct TimeSpec { public long Seconds, Nanoseconds; }

    static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}

/// <summary>
/// Training on full-length rows (`--full C L T B threads...`): every line exactly T + 1 tokens,
/// cut from the default corpus's sentences laid end to end, so that each of the B lines of a
/// step trains on T positions. The thread counts take turns, slices of about 0.5 s after a warm-up;
/// each prints the median tokens/s of its slices with the min and max.
/// </summary>
static class FullLength
{
    const int Slices = 5;

    public static void Run(BenchCorpus corpus, int c, int l, int t, int b, int[] threadCounts)
    {
        var stream = corpus.Sentences.SelectMany(s => s.Skip(1)).ToArray();
        var lines = Enumerable.Range(0, stream.Length / (t + 1)).Select(i => stream.AsSpan(i * (t + 1), t + 1).ToArray()).ToArray();
        var config = new ModelConfig(corpus.Tokenizer.VocabSize, c, 4, l, t);
        var trainers = threadCounts.Select(threads => new Trainer(Model.Create(config, corpus.Tokenizer, 42), lines,
            new TrainingOptions { Steps = 1_000_000, BatchSize = b, ThreadCount = threads })).ToList();
        try
        {
            var probe = Stopwatch.StartNew();
            int warm = 0;
            while (probe.Elapsed.TotalSeconds < 1 || warm < 3) { trainers[0].Step(); warm++; }
            int steps = Math.Max(2, (int)(warm / probe.Elapsed.TotalSeconds / 2));
            foreach (var trainer in trainers.Skip(1))
                for (int i = 0; i < warm; i++) trainer.Step();
            var rates = threadCounts.Select(_ => new List<double>()).ToList();
            var cpuRates = threadCounts.Select(_ => new List<double>()).ToList();
            for (int slice = 0; slice < Slices; slice++)
                for (int k = 0; k < trainers.Count; k++)
                {
                    trainers[k].Step();
                    var clock = Stopwatch.StartNew();
                    double cpu = GemmBench.ThreadSeconds();
                    for (int i = 0; i < steps; i++) trainers[k].Step();
                    rates[k].Add((double)steps * b * t / clock.Elapsed.TotalSeconds);
                    cpuRates[k].Add((double)steps * b * t / (GemmBench.ThreadSeconds() - cpu));
                }
            for (int k = 0; k < trainers.Count; k++)
            {
                var r = rates[k].Order().ToList();
                // One thread does all of a one-thread trainer's work, so its CPU time is the step's cost without the host's other load.
                string cpu = threadCounts[k] == 1 ? $"; {cpuRates[k].Order().ElementAt(Slices / 2):F0} tokens/s of this thread's CPU time" : "";
                Console.WriteLine($"C {c}, L {l}, T {t}, B {b}, {threadCounts[k]} thread(s): {r[r.Count / 2]:F0} tokens/s (min {r[0]:F0}, max {r[^1]:F0}; {steps} steps a slice{cpu})");
            }
        }
        finally
        {
            trainers.ForEach(trainer => trainer.Dispose());
        }
    }
}

/// <summary>
/// One thread's CPU time per phase of a full-length step (`--profile C L T B`): forward,
/// backward, weight gradients, Adam, and attention's share of forward and backward (its
/// kernels run again alone on the same activations). CPU time, not wall time: the machine is
/// shared, and only this thread's own cycles say where its time goes.
/// </summary>
static class FullLengthProfile
{
    public static void Run(BenchCorpus corpus, int c, int l, int t, int b, int steps = 10)
    {
        var stream = corpus.Sentences.SelectMany(s => s.Skip(1)).ToArray();
        var config = new ModelConfig(corpus.Tokenizer.VocabSize, c, 4, l, t);
        var model = Model.Create(config, corpus.Tokenizer, 42);
        int rows = b * t;
        var activations = new Activations(config, rows);
        var gradients = new ActivationGradients(config, rows);
        var batch = new PackedBatch(rows, b);
        var jobs = WorkPlan.PlanWeightGradients(config);
        var workspace = MatMul.Packs(rows) ? new GemmWorkspace() : null;
        float[] grad = new float[model.Parameters.Length], m = new float[grad.Length], v = new float[grad.Length];
        var names = new[] { "forward", "backward", "weight gradients", "Adam", "attention forward", "attention backward" };
        var seconds = new double[names.Length];
        for (int s = -2; s < steps; s++)
        {
            batch.Clear();
            for (int i = 0; i < b; i++) batch.Add(stream.AsSpan(((s + 2) * b + i) * (t + 1), t + 1), t);
            batch.SetMeanWeights();
            var times = new double[names.Length + 1];
            times[0] = GemmBench.ThreadSeconds();
            Gpt.Forward(model, activations, batch, 0, rows, withLoss: true, gemm: workspace);
            times[1] = GemmBench.ThreadSeconds();
            Gpt.Backward(model, activations, gradients, batch, 0, rows, gemm: workspace);
            times[2] = GemmBench.ThreadSeconds();
            foreach (var job in jobs)
            {
                grad.AsSpan(job.Offset, job.Length).Clear();
                Gpt.WeightGradients(model, activations, gradients, batch, grad, job, workspace);
            }
            times[3] = GemmBench.ThreadSeconds();
            Adam.Update(model.Parameters, grad, m, v, Adam.StepConstants.For(1e-3, 0.9, 0.99, 1e-8, s + 2));
            times[4] = GemmBench.ThreadSeconds();
            for (int layer = 0; layer < l; layer++)
                Attention.Forward(activations.Rows(activations.AttOut, layer, c, 0, rows), activations.Rows(activations.Att, layer, 4 * t, 0, rows),
                    activations.Rows(activations.Qkv, layer, 3 * c, 0, rows), batch.Start, 0, rows, c, 4, t, workspace);
            times[5] = GemmBench.ThreadSeconds();
            for (int layer = 0; layer < l; layer++)
                Attention.Backward(activations.Rows(gradients.Qkv, layer, 3 * c, 0, rows), gradients.AttentionScratch.AsSpan(0, rows * t), activations.Rows(gradients.AttOut, 0, c, 0, rows),
                    activations.Rows(activations.Qkv, layer, 3 * c, 0, rows), activations.Rows(activations.Att, layer, 4 * t, 0, rows), batch.Start, 0, rows, c, 4, t, workspace);
            times[6] = GemmBench.ThreadSeconds();
            if (s >= 0)
                for (int i = 0; i < names.Length; i++) seconds[i] += times[i + 1] - times[i];
        }
        double total = seconds.Take(4).Sum();
        Console.WriteLine($"C {c}, L {l}, T {t}, B {b}, one thread, CPU time per step: {total / steps * 1e3:F1} ms ({rows * steps / total:F0} tokens/s of CPU time)");
        for (int i = 0; i < names.Length; i++)
            Console.WriteLine($"  {names[i],-20} {seconds[i] / steps * 1e3,8:F2} ms  {100 * seconds[i] / total,3:F0}%");
    }
}
