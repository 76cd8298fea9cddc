// The MicroGpt benchmark. For the tutorial's reference configuration (597-word default corpus,
// C 32, H 4, L 2, T 16, one sentence a step, 5,000 steps) it measures wall time, steps/s and
// tokens/s with one thread and with all cores, each in fresh child processes that also report
// their peak memory and garbage collections; then a per-phase stopwatch breakdown; then a scaling
// table over embedding size, layers, block size and batch size, on short sentences and on
// full-length lines of exactly T positions; and, when /usr/bin/python3 has torch, the same
// training step in PyTorch (tools/torch/microgpt_torch.py, on OpenBLAS) at the full-length shapes
// (with --torch: it takes a few minutes more); then stream mode's quick start as whole runs in
// fresh processes, with their peak memory (StreamRun; `--stream-child THREADS STEPS` runs one alone);
// then the byte-level BPE tokenizer's learning and encoding (BpeBench; `--bpe` prints those rows alone).
// FLOP counts are analytic (see Flops); "% of peak" is against one core's FMA rate, probed with the
// widest vectors the CPU has. See bench/README.md for the options and where OpenBLAS comes from.
using System.Globalization;
using System.Text;
using MicroGpt;
using MicroGpt.Bench;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (args.Length >= 2 && args[0] == "--reference-child")
    return ReferenceChild.Run(int.Parse(args[1]));

if (args.Length == 3 && args[0] == "--stream-child")
    return StreamRun.Run(int.Parse(args[1]), int.Parse(args[2]));

if (args.Contains("--gemm"))
{
    // --gemm [N C OC ...]: the products at the given shapes, or at those of full-length training.
    var numbers = args.Where(a => a != "--gemm").Select(int.Parse).ToArray();
    GemmBench.Run(numbers.Length == 0 ? null : numbers.Chunk(3).Select(s => (s[0], s[1], s[2])).ToList());
    return 0;
}

if (args.Length >= 6 && args[0] == "--full")
{
    var shape = args[1..].Select(int.Parse).ToArray();
    FullLength.Run(BenchCorpus.Load(), shape[0], shape[1], shape[2], shape[3], shape[4..]);
    return 0;
}

if (args.Length == 5 && args[0] == "--profile")
{
    var shape = args[1..].Select(int.Parse).ToArray();
    FullLengthProfile.Run(BenchCorpus.Load(), shape[0], shape[1], shape[2], shape[3]);
    return 0;
}

if (args.Contains("--breakdown"))
{
    Console.WriteLine(Breakdown.Run(BenchCorpus.Load()));
    return 0;
}

if (args.Contains("--inspect"))
{
    Console.WriteLine(InspectionBench.Run(BenchCorpus.Load()));
    return 0;
}

if (args.Length == 3 && args[0] == "--bpe-child")
    return BpeBench.Child.Run(args[1], int.Parse(args[2]));

if (args.Contains("--bpe"))
{
    Console.WriteLine(BpeBench.Run());
    return 0;
}

if (args.Contains("--stream-runs"))
{
    Console.WriteLine(StreamRun.Section([1, Environment.ProcessorCount]));
    return 0;
}

if (args.Contains("--peak"))
{
    Console.WriteLine(Machine.Describe());
    Console.WriteLine(Machine.Peak.Describe());
    return 0;
}

bool write = args.Contains("--write");
bool quick = args.Contains("--quick");
string peerMissing = "it runs with --torch (a few minutes more)";
var peer = args.Contains("--torch") ? TorchPeer.Find(out peerMissing) : null;
string scratch = Path.Combine(Path.GetTempPath(), $"microgpt-bench-{Environment.ProcessId}");
try
{
    if (args.Length >= 6 && args[0] == "--row")
    {
        var numbers = args[1..6].Select(int.Parse).ToArray();
        var shape = new Shape(args.Contains("full") ? Sequences.FullLength : args.Contains("stream") ? Sequences.Stream : Sequences.Sentences, numbers[0], numbers[1], numbers[2], numbers[3]);
        Console.WriteLine(ScalingRow.Header);
        var corpus = BenchCorpus.Load();
        var rowPeer = shape.Kind == Sequences.FullLength ? peer : null;
        var comparison = Comparison.Measure(corpus, shape, [1, numbers[4]], rowPeer, scratch, Console.Error);
        Console.WriteLine(rowPeer is null ? comparison : comparison.WithNetlibCheck(corpus, rowPeer, scratch));
        if (shape.Kind == Sequences.Stream) Console.WriteLine(StreamRun.Ceiling(shape, comparison.Config, "This word model", [1, numbers[4]]));
        return 0;
    }
    return Report();
}
finally
{
    if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
}

int Report()
{
    const int ReferenceRuns = 5;
    var corpus = BenchCorpus.Load();
    var report = new StringBuilder();
    report.AppendLine("# Benchmark results");
    report.AppendLine();
    report.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd} by `dotnet run -c Release --project bench -- {string.Join(' ', args)}` on: {Machine.Describe()}.");
    report.AppendLine($"Peak: {Machine.Peak.Describe()}; the best of five loops of 12 independent FMA chains, each 0.2 s of one thread's CPU time (so that other work on the machine does not lower it). Every \"% of peak\" below is against this figure times the threads.");
    report.AppendLine($"What this VM gave at the time (its host is shared): {Environment.ProcessorCount} threads spinning together did {Machine.Capacity():F2}x the work of one (dedicated cores: {Environment.ProcessorCount:F2}x).");
    report.AppendLine();

    // 1. The reference configuration, each run in a fresh process: cold start, peak memory, collections.
    report.AppendLine("## Reference configuration: 5,000 steps, one sentence a step");
    report.AppendLine();
    report.AppendLine($"Each row is the median of {ReferenceRuns} runs, each in a fresh process (after a 300-step warm-up in that process), one thread and all cores taking turns; min and max are the fastest and slowest of the {ReferenceRuns}. ");
    report.AppendLine("With one sentence a step the trainer runs on one thread whatever -ThreadCount allows (threads share out the sentences of a batch, and a");
    report.AppendLine("sentence of about six positions is too little work to split), so the all-cores row measures that allowing more threads costs nothing.");
    report.AppendLine();
    report.AppendLine("| threads | wall (s): median (min - max) | steps/s | tokens/s | us/step | GFLOP/s | % of one core's peak | peak memory (MB) | GC collections | loss: first 200 -> last 200 |");
    report.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    int[] threadCounts = [1, Environment.ProcessorCount];
    var children = threadCounts.ToDictionary(threads => threads, _ => new List<ReferenceChild.Result>());
    for (int run = 0; run < ReferenceRuns; run++) // taking turns, so that a slow spell of the host hits both
        foreach (int threads in threadCounts) children[threads].Add(ReferenceChild.Spawn(threads));
    foreach (int threads in threadCounts)
    {
        var runs = children[threads].OrderBy(r => r.Seconds).ToList();
        var r = runs[runs.Count / 2];
        double gflops = r.Flops / r.Seconds / 1e9;
        report.AppendLine($"| {threads} | {r.Seconds:F3} ({runs[0].Seconds:F3} - {runs[^1].Seconds:F3}) | {r.Steps / r.Seconds:F0} | {r.Tokens / r.Seconds:F0} | {r.Seconds / r.Steps * 1e6:F1} | {gflops:F2} | {100 * gflops / Machine.Peak.Gflops:F1}% | {r.PeakMegabytes:F0} | {r.Collections} | {r.FirstLoss:F3} -> {r.LastLoss:F3} |");
    }
    report.AppendLine();
    foreach (int threads in threadCounts)
        report.AppendLine($"All runs, {threads} thread(s): {string.Join(", ", children[threads].Select(x => x.Seconds.ToString("F3")))} s.  ");
    report.AppendLine();

    // 2. Where a step's time goes.
    report.AppendLine("## Where the time goes (reference configuration, one thread, 5,000 steps)");
    report.AppendLine();
    report.AppendLine(Breakdown.Run(corpus));

    // 3. Scaling, and the PyTorch peer at the full-length shapes.
    report.AppendLine("## Scaling");
    report.AppendLine();
    report.AppendLine("One training per shape, from seed-42 weights. Rows of **short sentences** train on the default corpus (2 to 8 words, so at most 9");
    report.AppendLine("positions each whatever T is: a larger block size changes the parameter count, not the sequence length; a batch of 1 runs on one thread");
    report.AppendLine("whatever the threads column allows). Rows of **full length** train on lines of exactly T positions: the default corpus's words run together");
    report.AppendLine($"and cut every T words, taken in order, from weights of N(0, {Scaling.FullLengthInitStd:G}) at learning rate {Scaling.FullLengthLearningRate:G} (short sentences: the tutorial's");
    report.AppendLine("N(0, 0.08) and 0.01). Every row has 4 heads. The one-thread and all-core trainings of a shape take turns in one process,");
    report.AppendLine($"{Scaling.Rounds} slices of about {Scaling.SliceSeconds} s each (at least one step; each after a tenth of a slice untimed, since the other training ran");
    report.AppendLine("meanwhile); a row gives the median slice's us/step, GFLOP/s and % of peak, and the median, slowest and fastest slices' tokens/s.");
    report.AppendLine();
    report.AppendLine(ScalingRow.Header);
    var speedups = new List<string>();
    var ceilings = new List<string>();
    var comparisons = new List<Comparison>();
    foreach (var shape in Scaling.Configurations(quick))
    {
        // A batched row compares one core with all of them, which means little while the host lends
        // this VM less than all of them: such a row is measured again, up to three times in all, and
        // the table keeps the attempt after which the host gave the most.
        var shapePeer = shape.Kind == Sequences.FullLength ? peer : null;
        var comparison = Comparison.Measure(corpus, shape, threadCounts, shapePeer, scratch, Console.Error);
        for (int tries = 1; shape.B > 1 && tries < Scaling.Attempts && comparison.Host < Scaling.FullCapacity * Environment.ProcessorCount; tries++)
        {
            var again = Comparison.Measure(corpus, shape, threadCounts, shapePeer, scratch, Console.Error);
            if (again.Host > comparison.Host) comparison = again;
        }
        if (shapePeer is not null) comparison = comparison.WithNetlibCheck(corpus, shapePeer, scratch);
        foreach (var row in comparison.Rows)
        {
            report.AppendLine(row.ToString());
            Console.Error.WriteLine(row);
        }
        if (shape.B > 1) speedups.Add($"{shape.KindName}, {shape.Describe()}: {comparison.Rows[1].MedianTokensPerSecond / comparison.Rows[0].MedianTokensPerSecond:F2}x (host {comparison.Host:F2}x)");
        if (comparison.Peer.Count > 0) comparisons.Add(comparison);
        if (shape.Kind == Sequences.Stream) ceilings.Add($"Stream mode, {shape.Describe()}: {StreamRun.Ceiling(shape, comparison.Config, "the stream row's word model", threadCounts)}");
    }
    report.AppendLine();
    report.AppendLine($"Median tokens/s with {Environment.ProcessorCount} threads over one thread, for the batched rows, and in brackets what the host gave right after the row");
    report.AppendLine($"({Environment.ProcessorCount} threads spinning for 0.1 s as a multiple of one; a row after which the host gave less than {Scaling.FullCapacity * Environment.ProcessorCount:F2}x was measured again, up to {Scaling.Attempts} times in all):");
    report.AppendLine($"{string.Join("; ", speedups)}.");
    report.AppendLine();
    foreach (string ceiling in ceilings)
    {
        report.AppendLine(ceiling);
        report.AppendLine();
    }

    report.Append(Comparison.Section(comparisons, peer, peerMissing));

    // 4. Stream mode's quick start, whole runs in fresh processes.
    report.Append(StreamRun.Section(threadCounts));

    // 5. The byte-level BPE tokenizer.
    report.Append(BpeBench.Run());

    Console.WriteLine(report);
    if (write)
    {
        string path = Path.Combine(BenchCorpus.RepoRoot(), "bench", "RESULTS.md");
        string existing = File.Exists(path) ? File.ReadAllText(path) : "";
        const string notes = "## Notes";
        int at = existing.IndexOf(notes, StringComparison.Ordinal);
        File.WriteAllText(path, report + (at >= 0 ? existing[at..] : ""));
        Console.Error.WriteLine($"wrote {path}");
    }
    return 0;
}
