using System.Globalization;
using System.Text;

namespace MicroGpt.Bench;

/// <summary>One thread layout of the peer at a shape: how it ran and its slices.</summary>
sealed record PeerLayout(int Threads, string Layout, string TorchVersion, string Blas, double[] Losses, SliceTimes Slices);

/// <summary>
/// A shape's MicroGpt rows and, for full-length shapes with the peer present, the PyTorch peer's
/// slices at the same thread counts, taken in the same rounds from the same weights on the same
/// lines, with the losses of the first steps of each (and of PyTorch on netlib's BLAS, at the
/// small shapes) to show that they compute the same thing.
/// </summary>
sealed record Comparison(Shape Shape, ModelConfig Config, List<ScalingRow> Rows, List<SliceTimes> Slices, double[] FirstLosses, List<PeerLayout> Peer)
{
    /// <summary>
    /// The first losses of MicroGpt and of PyTorch (either BLAS) may differ by this much, relative:
    /// float32 sums in another order, through three Adam steps whose first moves every weight by
    /// about the rate times the sign of its gradient (measured: up to 4e-6).
    /// </summary>
    public const double LossTolerance = 1e-4;

    /// <summary>Netlib's BLAS is about 15x slower than OpenBLAS: its losses are checked at the shapes with C up to this.</summary>
    const int NetlibCheckMaxEmbedding = 128;

    /// <summary>What the host gave right after the rows (all threads spinning, as a multiple of one); 0 when not measured.</summary>
    public double Host { get; init; }

    /// <summary>PyTorch's first losses on netlib's BLAS, when checked.</summary>
    public double[]? NetlibLosses { get; init; }

    /// <summary>
    /// The MicroGpt rows of a shape and, when <paramref name="peer"/> is given, the peer's slices in
    /// the same rounds (one process per thread layout, started first and kept waiting between its
    /// slices); for batches, what the host gave right after.
    /// </summary>
    public static Comparison Measure(BenchCorpus corpus, Shape shape, int[] threadCounts, TorchPeer? peer, string scratch, TextWriter log)
    {
        var config = new ModelConfig(corpus.Tokenizer.VocabSize, shape.C, shape.H, shape.L, shape.T);
        var processes = new List<(int Threads, PeerProcess Process)>();
        try
        {
            if (peer is not null)
            {
                var (lines, weights) = PeerInputs(corpus, shape, config, scratch);
                foreach (int threads in threadCounts)
                    foreach (var (torch, blas) in threads == 1 ? [(1, 1)] : TorchPeer.TwoThreadLayouts.Where(l => Math.Max(l.Torch, l.Blas) <= threads))
                        processes.Add((threads, peer.Start(shape, config.VocabSize, lines, weights, torch, blas, warmupSeconds: 1)));
            }
            var others = processes.Select(p => ((ITimedTraining)p.Process, Math.Max(1, (int)Math.Round(Scaling.SliceSeconds / p.Process.SecondsPerStep)))).ToList();
            var (rows, firstLosses, slices, peerSlices) = Scaling.Measure(corpus, shape, threadCounts, others);
            var layouts = processes.Select((p, k) => new PeerLayout(p.Threads, p.Process.Layout, p.Process.TorchVersion, p.Process.Blas, p.Process.Losses, peerSlices[k])).ToList();
            foreach (var layout in layouts)
                log.WriteLine($"PyTorch {shape.Describe()}, {layout.Layout}: {layout.Slices.Median:F0} tokens/s ({layout.Blas})");
            return new Comparison(shape, config, rows, slices, firstLosses, layouts) { Host = shape.B > 1 ? Machine.ParallelCapacity(100) : 0 };
        }
        finally
        {
            processes.ForEach(p => p.Process.Dispose());
        }
    }

    /// <summary>At the small shapes, the peer's first losses on netlib's BLAS too (no timing: it is about 15x slower).</summary>
    public Comparison WithNetlibCheck(BenchCorpus corpus, TorchPeer peer, string scratch)
    {
        if (Shape.C > NetlibCheckMaxEmbedding) return this;
        var (lines, weights) = PeerInputs(corpus, Shape, Config, scratch);
        using var netlib = peer.Start(Shape, Config.VocabSize, lines, weights, 1, 1, warmupSeconds: 0, netlib: true);
        return this with { NetlibLosses = netlib.Losses };
    }

    /// <summary>The lines (T + 1 token ids each) and initial weights the peer reads, written once per shape into <paramref name="scratch"/>.</summary>
    static (string Lines, string Weights) PeerInputs(BenchCorpus corpus, Shape shape, ModelConfig config, string scratch)
    {
        Directory.CreateDirectory(scratch);
        string lines = Path.Combine(scratch, $"lines-{shape.T}.txt");
        if (!File.Exists(lines))
            File.WriteAllLines(lines, corpus.FullLength(shape.T).Select(line => string.Join(' ', line.Take(shape.T + 1).Select(id => id.ToString(CultureInfo.InvariantCulture)))));
        string weights = Path.Combine(scratch, $"{shape.C}-{shape.L}-{shape.T}.safetensors");
        if (!File.Exists(weights)) ModelFile.Save(Scaling.InitialModel(config, corpus.Tokenizer, shape.Kind), weights);
        return (lines, weights);
    }

    /// <summary>The peer's fastest layout (by median) at a thread count.</summary>
    PeerLayout Best(int threads) => Peer.Where(p => p.Threads == threads).MaxBy(p => p.Slices.Median)!;

    /// <summary>MicroGpt's tokens/s over the peer's, round by round (the two took turns), for one of the rows.</summary>
    double[] Ratios(int row)
    {
        var peer = Best(Rows[row].Threads).Slices.TokensPerSecond;
        return Slices[row].TokensPerSecond.Zip(peer, (a, b) => a / b).Order().ToArray();
    }

    /// <summary>The largest relative difference between MicroGpt's first losses and any peer run's.</summary>
    double LargestLossDifference() =>
        Peer.Select(p => p.Losses).Concat(NetlibLosses is null ? [] : [NetlibLosses])
            .Max(losses => losses.Zip(FirstLosses, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max());

    /// <summary>The GFLOP/s of a full-length run of this shape at a given tokens/s.</summary>
    double Gflops(double tokensPerSecond) => tokensPerSecond / (Shape.B * Shape.T) * Flops.FullLengthStep(Config, Shape.B) / 1e9;

    /// <summary>The report's section on the peer: the ratio table, the loss check and every layout tried; or why there is none.</summary>
    public static string Section(List<Comparison> comparisons, TorchPeer? peer, string missing)
    {
        var text = new StringBuilder();
        text.AppendLine("## MicroGpt against PyTorch, full-length lines");
        text.AppendLine();
        if (peer is null || comparisons.Count == 0)
        {
            text.AppendLine($"The PyTorch peer was not run: {(peer is null ? missing : "no full-length shape was measured")}.");
            text.AppendLine();
            return text.ToString();
        }
        var first = comparisons[0].Peer[0];
        text.AppendLine($"PyTorch {first.TorchVersion} runs tools/torch/microgpt_torch.py: the same network, from the same weights (seed 42, N(0, {Scaling.FullLengthInitStd:G}), saved by");
        text.AppendLine("MicroGpt as safetensors), on the same lines in the same order, with the same step (forward, mean cross-entropy, backward, Adam with betas");
        text.AppendLine($"0.85 and 0.99, epsilon 1e-8, rate {Scaling.FullLengthLearningRate:G} decaying linearly). BLAS: {first.Blas}; {peer.OpenBlasNote}.");
        text.AppendLine($"Each thread layout of PyTorch runs in a process of its own, which takes its slices (about {Scaling.SliceSeconds} s, at least one step) in the same");
        text.AppendLine($"{Scaling.Rounds} rounds as MicroGpt's trainings, in turn with them; PyTorch's two threads are the fastest of the layouts listed below the table (torch's");
        text.AppendLine("own threads, and OpenBLAS's). The ratio is the median over the rounds of MicroGpt's tokens/s over PyTorch's in the same round, with the");
        text.AppendLine("lowest and highest; the last column is what the host gave right after the shape (two threads spinning, as a multiple of one).");
        text.AppendLine();
        text.AppendLine("| shape, full length | threads | MicroGpt tokens/s: median (min - max) | PyTorch tokens/s: median (min - max) | PyTorch threads | MicroGpt / PyTorch: median (min - max) | MicroGpt % of peak | PyTorch % of peak | host after |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var c in comparisons)
            for (int k = 0; k < c.Rows.Count; k++)
            {
                var (row, best, ratios) = (c.Rows[k], c.Best(c.Rows[k].Threads), c.Ratios(k));
                double peerPercent = 100 * c.Gflops(best.Slices.Median) / (Machine.Peak.Gflops * row.Threads);
                text.AppendLine($"| {c.Shape.Describe()} | {row.Threads} | {row.MedianTokensPerSecond:F0} ({row.MinTokensPerSecond:F0} - {row.MaxTokensPerSecond:F0}) | " +
                                $"{best.Slices.Median:F0} ({best.Slices.Min:F0} - {best.Slices.Max:F0}) | {best.Layout} | " +
                                $"**{ratios[ratios.Length / 2]:F2}** ({ratios[0]:F2} - {ratios[^1]:F2}) | {row.PercentOfPeak:F1}% | {peerPercent:F1}% | {c.Host:F2}x |");
            }
        text.AppendLine();
        text.AppendLine($"The same computation: the losses of the first {Scaling.CheckedSteps} steps (the first on the initial weights, then after one and two Adam steps),");
        text.AppendLine($"MicroGpt, then PyTorch on OpenBLAS (its one-thread run) and, at the shapes with C up to {NetlibCheckMaxEmbedding}, on netlib's reference BLAS; tolerance {LossTolerance:G} relative.");
        text.AppendLine();
        foreach (var c in comparisons)
        {
            double worst = c.LargestLossDifference();
            string netlib = c.NetlibLosses is null ? "" : $"; netlib {Losses(c.NetlibLosses)}";
            text.AppendLine($"- {c.Shape.Describe()}: MicroGpt {Losses(c.FirstLosses)}; OpenBLAS {Losses(c.Peer[0].Losses)}{netlib}; " +
                            $"largest difference over every peer run {worst:E1}{(worst <= LossTolerance ? "" : " **ABOVE THE TOLERANCE: the peer does not compute the same step**")}.");
        }
        text.AppendLine();
        text.AppendLine("Thread layouts tried for PyTorch's two threads (median tokens/s):");
        text.AppendLine();
        foreach (var c in comparisons)
            foreach (var group in c.Peer.GroupBy(p => p.Threads).Where(g => g.Count() > 1))
                text.AppendLine($"- {c.Shape.Describe()}: {string.Join("; ", group.Select(p => $"{p.Layout} {p.Slices.Median:F0}"))}.");
        text.AppendLine();
        return text.ToString();

        static string Losses(double[] losses) => string.Join(", ", losses.Select(x => x.ToString("F6", CultureInfo.InvariantCulture)));
    }

    public override string ToString() => string.Join(Environment.NewLine, Rows.Select(r => r.ToString())) +
        $"{Environment.NewLine}MicroGpt's first losses: {string.Join(", ", FirstLosses)}" +
        (NetlibLosses is null ? "" : $"{Environment.NewLine}PyTorch on netlib's BLAS, first losses: {string.Join(", ", NetlibLosses)}") +
        string.Concat(Peer.Select(p => $"{Environment.NewLine}PyTorch, {p.Layout}: {p.Slices.Median:F0} tokens/s ({p.Slices.Min:F0} - {p.Slices.Max:F0}), {p.Blas}, losses {string.Join(", ", p.Losses)}")) +
        string.Concat(Rows.Select((r, k) => Peer.Count == 0 ? "" : $"{Environment.NewLine}MicroGpt / PyTorch, {r.Threads} thread(s), each round's, sorted: {string.Join(", ", Ratios(k).Select(x => x.ToString("F2", CultureInfo.InvariantCulture)))}"));
}
