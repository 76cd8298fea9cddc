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
        var (code, _, error) = Execute(python, ["-c", "import torch"], []);
        if (code != 0)
        {
            missing = $"{python} cannot import torch (on Debian: apt-get install python3-torch): {error.Trim().Split('\n')[^1]}";
            return null;
        }
        var (openBlas, note) = LocateOpenBlas();
        return new TorchPeer(python, script, openBlas, note);
    }

    /// <summary>One run of the peer: its BLAS, its first losses and the tokens/s of its timed slices.</summary>
    public sealed record Result(string TorchVersion, string Blas, int TorchThreads, int BlasThreads, double[] Losses, double[] TokensPerSecond)
    {
        public double Median => TokensPerSecond.Order().ElementAt(TokensPerSecond.Length / 2);

        /// <summary>What the host gave right after the run (all threads spinning, as a multiple of one).</summary>
        public double Host { get; init; }
        public string Layout => $"torch {TorchThreads}, BLAS {BlasThreads}";
    }

    /// <summary>
    /// Trains <paramref name="shape"/> on the lines in <paramref name="linesPath"/> from the weights in
    /// <paramref name="weightsPath"/>: <paramref name="slices"/> timed slices (none: only the checked
    /// steps), on OpenBLAS unless <paramref name="netlib"/>.
    /// </summary>
    public Result Run(Shape shape, int vocabSize, string linesPath, string weightsPath, int torchThreads, int blasThreads, int slices, bool netlib = false)
    {
        var environment = new Dictionary<string, string>
        {
            ["OMP_NUM_THREADS"] = torchThreads.ToString(CultureInfo.InvariantCulture),
            ["OPENBLAS_NUM_THREADS"] = blasThreads.ToString(CultureInfo.InvariantCulture),
        };
        if (OpenBlas is not null && !netlib)
        {
            environment["LD_LIBRARY_PATH"] = OpenBlas;
            // OpenBLAS 0.3.21 takes this CPU for a Cooperlake; its SkylakeX kernels are the AVX-512 ones to use.
            if (Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported) environment["OPENBLAS_CORETYPE"] = "SkylakeX";
        }
        string[] arguments =
        [
            script, "speed", "--vocab", I(vocabSize), "--embd", I(shape.C), "--heads", I(shape.H), "--layers", I(shape.L),
            "--block", I(shape.T), "--batch", I(shape.B), "--lines", linesPath, "--weights", weightsPath,
            "--threads", I(torchThreads), "--lr", Scaling.FullLengthLearningRate.ToString(CultureInfo.InvariantCulture), "--checked-steps", I(Scaling.CheckedSteps), "--slices", I(slices),
            "--slice-seconds", Scaling.SliceSeconds.ToString(CultureInfo.InvariantCulture), "--warmup-seconds", slices == 0 ? "0" : "1",
        ];
        var (code, output, error) = Execute(python, arguments, environment);
        if (code != 0) throw new InvalidOperationException($"the PyTorch peer failed (exit {code}): {error.Trim()}");
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        return new Result(
            root.GetProperty("torch").GetString()!,
            DescribeBlas(root.GetProperty("blas")),
            root.GetProperty("torch_threads").GetInt32(),
            blasThreads,
            root.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble()).ToArray(),
            root.GetProperty("slices").EnumerateArray().Select(x => x.GetProperty("tokens_per_second").GetDouble()).ToArray());

        static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
    }

    static string DescribeBlas(JsonElement blas)
    {
        string name = blas.GetProperty("name").GetString()!;
        string version = blas.GetProperty("version").GetString()!;
        return blas.TryGetProperty("core", out var core) ? $"{name} {version} ({core.GetString()} kernels)" : $"{name} {version}";
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
            var (download, _, downloadError) = Execute("apt-get", ["download", OpenBlasPackage], [], cache);
            var package = Directory.GetFiles(cache, OpenBlasPackage + "_*.deb").Order().LastOrDefault();
            if (download != 0 || package is null) return (null, $"apt-get download {OpenBlasPackage} failed: {downloadError.Trim()}");
            var (unpack, _, unpackError) = Execute("dpkg-deb", ["-x", package, cache], []);
            if (unpack != 0) return (null, $"dpkg-deb -x {package} failed: {unpackError.Trim()}");
        }
        var deb = Directory.GetFiles(cache, OpenBlasPackage + "_*.deb").Order().LastOrDefault();
        string version = deb is null ? "unknown version" : Path.GetFileNameWithoutExtension(deb).Split('_')[1];
        return (folder, $"Debian's {OpenBlasPackage} {version}, unpacked in {cache}");
    }

    static (int Code, string Output, string Error) Execute(string file, string[] arguments, Dictionary<string, string> environment, string? directory = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory ?? Environment.CurrentDirectory,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
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
