using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;

namespace MicroGpt.Bench;

/// <summary>
/// The PyTorch peer: tools/torch/microgpt_torch.py (the same network as a torch.nn.Module) run by
/// /usr/bin/python3 (or MICROGPT_PYTHON) on the full-length lines, from the same initial weights.
/// Debian's python3-torch links the netlib reference BLAS, which is an order of magnitude slower
/// than OpenBLAS; so the peer runs on Debian's OpenBLAS (package libopenblas0-pthread), unpacked
/// beside it rather than installed: from MICROGPT_OPENBLAS (a folder holding OpenBLAS's
/// libblas.so.3) when set, else from a cache folder that the bench fills once with
/// `apt-get download libopenblas0-pthread` and `dpkg-deb -x`. LD_LIBRARY_PATH points torch at it.
/// </summary>
sealed class TorchPeer
{
    const string OpenBlasPackage = "libopenblas0-pthread";
    const string OpenBlasFolder = "usr/lib/x86_64-linux-gnu/openblas-pthread";

    readonly string python;
    readonly string script;

    TorchPeer(string python, string script, string? openBlas, string openBlasNote)
    {
        this.python = python;
        this.script = script;
        OpenBlas = openBlas;
        OpenBlasNote = openBlasNote;
    }

    /// <summary>The folder of OpenBLAS's libblas.so.3, or null when none could be had (the peer then runs on torch's own BLAS).</summary>
    public string? OpenBlas { get; }

    /// <summary>Where OpenBLAS came from (package and version), or why there is none.</summary>
    public string OpenBlasNote { get; }

    /// <summary>
    /// The thread layouts tried for "two threads", torch's own threads and OpenBLAS's; a row takes
    /// the fastest. Two of each (four threads on two cores) was the slowest at every shape in this
    /// branch's runs, 2 to 8 times slower than the best, and is not tried.
    /// </summary>
    public static readonly (int Torch, int Blas)[] TwoThreadLayouts = [(1, 2), (2, 1)];

    /// <summary>The peer, or null with the reason when python3 or torch is missing.</summary>
    public static TorchPeer? Find(out string missing)
    {
        string python = Environment.GetEnvironmentVariable("MICROGPT_PYTHON") ?? "/usr/bin/python3";
        string script = Path.Combine(BenchCorpus.RepoRoot(), "tools", "torch", "microgpt_torch.py");
        missing = "";
        if (!File.Exists(python))
        {
            missing = $"{python} not found (set MICROGPT_PYTHON to a python3 with torch)";
            return null;
        }
        var (code, _, error) = Execute(python, ["-c", "import torch"]);
        if (code != 0)
        {
            missing = $"{python} cannot import torch (on Debian: apt-get install python3-torch): {error.Trim().Split('\n')[^1]}";
            return null;
        }
        var (openBlas, note) = LocateOpenBlas();
        return new TorchPeer(python, script, openBlas, note);
    }

    /// <summary>
    /// Starts the peer on <paramref name="shape"/>: the lines in <paramref name="linesPath"/>, from the
    /// weights in <paramref name="weightsPath"/>, with <paramref name="torchThreads"/> threads of torch's
    /// own and <paramref name="blasThreads"/> of OpenBLAS (netlib's BLAS when <paramref name="netlib"/>).
    /// It returns once the peer has taken its checked steps and warmed up for <paramref name="warmupSeconds"/>.
    /// </summary>
    public PeerProcess Start(Shape shape, int vocabSize, string linesPath, string weightsPath, int torchThreads, int blasThreads, double warmupSeconds, bool netlib = false)
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["OMP_NUM_THREADS"] = I(torchThreads);
        start.Environment["OPENBLAS_NUM_THREADS"] = I(blasThreads);
        if (OpenBlas is not null && !netlib)
        {
            start.Environment["LD_LIBRARY_PATH"] = OpenBlas;
            // OpenBLAS 0.3.21 takes a Zen 4 for a Cooperlake and may not know later CPUs; SkylakeX names its AVX-512 kernels.
            if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported) start.Environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        }
        foreach (string argument in (string[])
        [
            script, "serve", "--vocab", I(vocabSize), "--embd", I(shape.C), "--heads", I(shape.H), "--layers", I(shape.L),
            "--block", I(shape.T), "--batch", I(shape.B), "--lines", linesPath, "--weights", weightsPath,
            "--threads", I(torchThreads), "--lr", Scaling.FullLengthLearningRate.ToString(CultureInfo.InvariantCulture),
            "--checked-steps", I(Scaling.CheckedSteps), "--warmup-seconds", warmupSeconds.ToString(CultureInfo.InvariantCulture),
        ])
            start.ArgumentList.Add(argument);
        return new PeerProcess(Process.Start(start)!, blasThreads);

        static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>MICROGPT_OPENBLAS, else the cache folder (filled on first use), else none and why.</summary>
    static (string? Folder, string Note) LocateOpenBlas()
    {
        string? given = Environment.GetEnvironmentVariable("MICROGPT_OPENBLAS");
        if (given is not null)
            return File.Exists(Path.Combine(given, "libblas.so.3")) ? (given, $"OpenBLAS from MICROGPT_OPENBLAS={given}") : (null, $"MICROGPT_OPENBLAS={given} holds no libblas.so.3");

        string cacheRoot = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string cache = Path.Combine(cacheRoot, "microgpt-bench", OpenBlasPackage);
        string folder = Path.Combine(cache, OpenBlasFolder);
        if (!File.Exists(Path.Combine(folder, "libblas.so.3")))
        {
            Directory.CreateDirectory(cache);
            Console.Error.WriteLine($"Fetching {OpenBlasPackage} into {cache} (apt-get download, dpkg-deb -x; nothing is installed)...");
            var (download, _, downloadError) = Execute("apt-get", ["download", OpenBlasPackage], cache);
            var package = Directory.GetFiles(cache, OpenBlasPackage + "_*.deb").Order().LastOrDefault();
            if (download != 0 || package is null) return (null, $"apt-get download {OpenBlasPackage} failed: {downloadError.Trim()}");
            var (unpack, _, unpackError) = Execute("dpkg-deb", ["-x", package, cache]);
            if (unpack != 0) return (null, $"dpkg-deb -x {package} failed: {unpackError.Trim()}");
        }
        var deb = Directory.GetFiles(cache, OpenBlasPackage + "_*.deb").Order().LastOrDefault();
        string version = deb is null ? "unknown version" : Path.GetFileNameWithoutExtension(deb).Split('_')[1];
        return (folder, $"Debian's {OpenBlasPackage} {version}, unpacked in {cache}");
    }

    static (int Code, string Output, string Error) Execute(string file, string[] arguments, string? directory = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory ?? Environment.CurrentDirectory,
        };
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, error.Result);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, "", $"{file}: {ex.Message}");
        }
    }
}

/// <summary>
/// The peer's process, trained slice by slice on command ('time N', 'run N' on its stdin, a JSON
/// line back for each), so that its slices can take turns with MicroGpt's.
/// </summary>
sealed class PeerProcess : ITimedTraining, IDisposable
{
    readonly Process process;
    readonly Task<string> errors;
    readonly int tokensPerStep;

    public PeerProcess(Process process, int blasThreads)
    {
        this.process = process;
        errors = process.StandardError.ReadToEndAsync();
        using var ready = JsonDocument.Parse(ReadLine());
        var root = ready.RootElement;
        TorchVersion = root.GetProperty("torch").GetString()!;
        var blas = root.GetProperty("blas");
        string name = blas.GetProperty("name").GetString()!, version = blas.GetProperty("version").GetString()!;
        Blas = blas.TryGetProperty("core", out var core) ? $"{name} {version} ({core.GetString()} kernels)" : $"{name} {version}";
        TorchThreads = root.GetProperty("torch_threads").GetInt32();
        BlasThreads = blasThreads;
        Losses = root.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        SecondsPerStep = root.GetProperty("seconds_per_step").GetDouble();
        tokensPerStep = root.GetProperty("tokens_per_step").GetInt32();
    }

    public string TorchVersion { get; }
    public string Blas { get; }
    public int TorchThreads { get; }
    public int BlasThreads { get; }
    public string Layout => $"torch {TorchThreads}, BLAS {BlasThreads}";

    /// <summary>The losses of the first steps, for comparison with MicroGpt's.</summary>
    public double[] Losses { get; }

    /// <summary>A step's time in the warm-up, to size the slices.</summary>
    public double SecondsPerStep { get; }

    public (double Seconds, long Tokens) Slice(int untimed, int timed)
    {
        if (untimed > 0) Command($"run {untimed}");
        using var answer = JsonDocument.Parse(Command($"time {timed}"));
        return (answer.RootElement.GetProperty("seconds").GetDouble(), (long)timed * tokensPerStep);
    }

    string Command(string line)
    {
        process.StandardInput.WriteLine(line);
        process.StandardInput.Flush();
        return ReadLine();
    }

    string ReadLine() => process.StandardOutput.ReadLine()
        ?? throw new InvalidOperationException($"the PyTorch peer stopped (exit {(process.WaitForExit(5000) ? process.ExitCode : -1)}): {errors.Result.Trim()}");

    public void Dispose()
    {
        process.StandardInput.Close(); // end of input ends the peer
        if (!process.WaitForExit(10_000)) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
