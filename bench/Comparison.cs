using System.Globalization;
using System.Text;

namespace MicroGpt.Bench;

/// <summary>The peer's figure at one thread count: the fastest thread layout tried, and every layout tried.</summary>
sealed record PeerRow(int Threads, TorchPeer.Result Best, List<TorchPeer.Result> Tried);

/// <summary>
/// A shape's MicroGpt rows and, for full-length shapes with the peer present, the PyTorch peer's
/// runs at the same thread counts, from the same weights on the same lines, with the losses of
/// the first steps of each (and of PyTorch on netlib's BLAS, at the small shapes) to show that
/// they compute the same thing.
/// </summary>
sealed record Comparison(Shape Shape, ModelConfig Config, List<ScalingRow> Rows, double[] FirstLosses, List<PeerRow> Peer, double[]? NetlibLosses)
{
    /// <summary>What the host gave right after the rows (all threads spinning, as a multiple of one); 0 when not measured.</summary>
    public double Host { get; init; }

    /// <summary>
    /// The first losses of MicroGpt and of PyTorch (either BLAS) may differ by this much, relative:
    /// float32 sums in another order, through three Adam steps whose first moves every weight by
    /// about the rate times the sign of its gradient (measured: a few 1e-6).
    /// </summary>
    public const double LossTolerance = 1e-4;

    /// <summary>Netlib's BLAS is 10-15x slower than OpenBLAS: its losses are checked at the shapes with C up to this.</summary>
    const int NetlibCheckMaxEmbedding = 128;

    /// <summary>The MicroGpt rows of a shape, and for batches what the host gave right after them.</summary>
    public static Comparison Measure(BenchCorpus corpus, Shape shape, int[] threadCounts)
    {
        var (rows, firstLosses) = Scaling.Measure(corpus, shape, threadCounts);
        return new Comparison(shape, new ModelConfig(corpus.Tokenizer.VocabSize, shape.C, shape.H, shape.L, shape.T), rows, firstLosses, [], null)
        {
            Host = shape.B > 1 ? Machine.ParallelCapacity(100) : 0,
        };
    }

    /// <summary>The peer's runs of a full-length shape, at the thread counts of the MicroGpt rows, beside them.</summary>
    public Comparison WithPeer(BenchCorpus corpus, TorchPeer peer, string scratch, TextWriter log)
    {
        var (shape, config) = (Shape, Config);
        Directory.CreateDirectory(scratch);
        string lines = Path.Combine(scratch, $"lines-{shape.T}.txt");
        if (!File.Exists(lines))
            File.WriteAllLines(lines, corpus.FullLength(shape.T).Select(line => string.Join(' ', line.Take(shape.T + 1).Select(id => id.ToString(CultureInfo.InvariantCulture)))));
        string weights = Path.Combine(scratch, $"{shape.C}-{shape.L}-{shape.T}.safetensors");
        if (!File.Exists(weights)) Safetensors.Save(Scaling.InitialModel(config, corpus.Tokenizer, shape.Kind), weights);

        var peerRows = new List<PeerRow>();
        foreach (int threads in Rows.Select(r => r.Threads))
        {
            (int Torch, int Blas)[] layouts = threads == 1 ? [(1, 1)] : TorchPeer.TwoThreadLayouts.Where(l => Math.Max(l.Torch, l.Blas) <= threads).ToArray();
            var tried = layouts.Select(layout =>
            {
                // As MicroGpt's batched rows are: measured again while the host lends less than all cores.
                TorchPeer.Result? best = null;
                for (int attempt = 0; attempt < Scaling.Attempts && (best is null || (threads > 1 && best.Host < Scaling.FullCapacity * Environment.ProcessorCount)); attempt++)
                {
                    var result = peer.Run(shape, config.VocabSize, lines, weights, layout.Torch, layout.Blas, Scaling.Rounds) with { Host = Machine.ParallelCapacity(100) };
                    log.WriteLine($"PyTorch {shape.Describe()}, {result.Layout}: {result.Median:F0} tokens/s ({result.Blas}; host {result.Host:F2}x)");
                    if (best is null || result.Host > best.Host) best = result;
                }
                return best!;
            }).ToList();
            peerRows.Add(new PeerRow(threads, tried.MaxBy(r => r.Median)!, tried));
        }
        var netlib = shape.C <= NetlibCheckMaxEmbedding ? peer.Run(shape, config.VocabSize, lines, weights, 1, 1, slices: 0, netlib: true).Losses : null;
        return this with { Peer = peerRows, NetlibLosses = netlib };
    }

    /// <summary>The largest relative difference between MicroGpt's first losses and any peer run's.</summary>
    public double LargestLossDifference()
    {
        var runs = Peer.SelectMany(p => p.Tried).Select(r => r.Losses).ToList();
        if (NetlibLosses is not null) runs.Add(NetlibLosses);
        return runs.Max(losses => losses.Zip(FirstLosses, (a, b) => Math.Abs(a - b) / Math.Abs(b)).Max());
    }

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
        var first = comparisons[0].Peer[0].Best;
        text.AppendLine($"PyTorch {first.TorchVersion} runs tools/torch/microgpt_torch.py: the same network, from the same weights (seed 42, N(0, {Scaling.FullLengthInitStd:G}), saved by MicroGpt as safetensors),");
        text.AppendLine("on the same lines in the same order, with the same step (forward, mean cross-entropy, backward, Adam with betas 0.85 and 0.99, epsilon 1e-8,");
        text.AppendLine($"rate {Scaling.FullLengthLearningRate:G} decaying linearly). BLAS: {first.Blas}; {peer.OpenBlasNote}. Each PyTorch figure is the median of {Scaling.Rounds} slices of");
        text.AppendLine($"about {Scaling.SliceSeconds} s in one process (after 1 s of warm-up), right after the MicroGpt rows of the same shape; PyTorch's two threads are");
        text.AppendLine("the fastest of the thread layouts listed below the table (torch's own threads, and OpenBLAS's). The last column is what the host gave right");
        text.AppendLine($"after each ({Environment.ProcessorCount} threads spinning for 0.1 s, as a multiple of one); a two-thread run after which it gave less than {Scaling.FullCapacity * Environment.ProcessorCount:F2}x was measured again, up to {Scaling.Attempts} times.");
        text.AppendLine();
        text.AppendLine("| shape, full length | threads | MicroGpt tokens/s: median (min - max) | PyTorch tokens/s: median (min - max) | PyTorch threads | MicroGpt / PyTorch | MicroGpt % of peak | PyTorch % of peak | host after MicroGpt / PyTorch |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var c in comparisons)
            foreach (var (row, peerRow) in c.Rows.Zip(c.Peer))
            {
                var best = peerRow.Best;
                double peerPercent = 100 * c.Gflops(best.Median) / (Machine.Peak.Gflops * row.Threads);
                text.AppendLine($"| {c.Shape.Describe()} | {row.Threads} | {row.MedianTokensPerSecond:F0} ({row.MinTokensPerSecond:F0} - {row.MaxTokensPerSecond:F0}) | " +
                                $"{best.Median:F0} ({best.TokensPerSecond.Min():F0} - {best.TokensPerSecond.Max():F0}) | {best.Layout} | " +
                                $"**{row.MedianTokensPerSecond / best.Median:F2}** | {row.PercentOfPeak:F1}% | {peerPercent:F1}% | {c.Host:F2}x / {best.Host:F2}x |");
            }
        text.AppendLine();
        text.AppendLine($"The same computation: the losses of the first {Scaling.CheckedSteps} steps (the first on the initial weights, then after one and two Adam steps),");
        text.AppendLine($"MicroGpt, then PyTorch on OpenBLAS (its one-thread run) and, at the shapes with C up to {NetlibCheckMaxEmbedding}, on netlib's reference BLAS; tolerance {LossTolerance:G} relative.");
        text.AppendLine();
        foreach (var c in comparisons)
        {
            double worst = c.LargestLossDifference();
            string netlib = c.NetlibLosses is null ? "" : $"; netlib {Losses(c.NetlibLosses)}";
            text.AppendLine($"- {c.Shape.Describe()}: MicroGpt {Losses(c.FirstLosses)}; OpenBLAS {Losses(c.Peer[0].Best.Losses)}{netlib}; " +
                            $"largest difference over every peer run {worst:E1}{(worst <= LossTolerance ? "" : " **ABOVE THE TOLERANCE: the peer does not compute the same step**")}.");
        }
        text.AppendLine();
        text.AppendLine("Thread layouts tried for PyTorch's two threads (median tokens/s):");
        text.AppendLine();
        foreach (var c in comparisons)
            foreach (var peerRow in c.Peer.Where(p => p.Tried.Count > 1))
                text.AppendLine($"- {c.Shape.Describe()}: {string.Join("; ", peerRow.Tried.Select(r => $"{r.Layout} {r.Median:F0}"))}.");
        text.AppendLine();
        return text.ToString();

        static string Losses(double[] losses) => string.Join(", ", losses.Select(x => x.ToString("F6", CultureInfo.InvariantCulture)));
    }

    public override string ToString() => string.Join(Environment.NewLine, Rows.Select(r => r.ToString())) +
        $"{Environment.NewLine}MicroGpt's first losses: {string.Join(", ", FirstLosses)}" +
        (NetlibLosses is null ? "" : $"{Environment.NewLine}PyTorch on netlib's BLAS, first losses: {string.Join(", ", NetlibLosses)}") +
        string.Concat(Peer.SelectMany(p => p.Tried).Select(r => $"{Environment.NewLine}PyTorch, {r.Layout}: {r.Median:F0} tokens/s ({r.TokensPerSecond.Min():F0} - {r.TokensPerSecond.Max():F0}), {r.Blas}, losses {string.Join(", ", r.Losses)}"));
}
