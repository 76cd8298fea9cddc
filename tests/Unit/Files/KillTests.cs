using System.Diagnostics;
using MicroGpt;

// File handling, which the scalar kernels do not change: outside MicroGpt.Tests.Engine, so CI runs it once.
namespace MicroGpt.Tests.Files;

/// <summary>
/// Saves killed with SIGKILL (kill -9) at random moments leave every file loadable, whole, as the
/// model of the last save that finished or of the one in progress; and the next save removes the
/// temporary files they left, and nothing else. The saver is a process of its own (tests/Saver),
/// started here as `dotnet MicroGpt.Saver.dll`: the dotnet host runs the program inside the process
/// it starts (no launcher, no child), so the process killed is the one saving, which the test
/// checks on Linux by its command line and its lack of children.
/// </summary>
public sealed class KillTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    /// <summary>Kills per run of the test: at least 20, in turn in JSON, checkpoint and safetensors saves.</summary>
    static readonly int Kills = int.TryParse(Environment.GetEnvironmentVariable("MICROGPT_KILLS"), out int kills) ? kills : 24;

    readonly string folder = Directory.CreateTempSubdirectory("microgpt-kill-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void SavesKilledAtRandomMomentsLeaveTheOldOrTheNewModelWhole()
    {
        // Names like the saver's temporary files, which are not: no save may remove them.
        string[] decoys =
        [
            ".m.json.0123456789abcdef0123456789abcde.microgpt-tmp",     // 31 digits
            ".m.json.0123456789ABCDEF0123456789ABCDEF.microgpt-tmp",    // not lowercase
            ".m.json.0123456789abcdef0123456789abcdef.tmp",             // another suffix
            ".other.json.0123456789abcdef0123456789abcdef.microgpt-tmp", // another target
            "m.json.0123456789abcdef0123456789abcdef.microgpt-tmp",     // no leading dot
        ];
        foreach (string decoy in decoys) File.WriteAllText(Path.Combine(folder, decoy), "not MicroGpt's");

        var baseModel = KillTarget.BaseModel();
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        long next = 0;
        int old = 0, @new = 0, leftTemporary = 0;
        var kills = KillTarget.Files.ToDictionary(f => f.File, _ => 0);
        for (int kill = 0; kill < Kills; kill++)
        {
            var (file, withOptimizer) = KillTarget.Files[kill % KillTarget.Files.Length];
            var saves = RunAndKill(file, next, rng);
            kills[file]++;
            if (Directory.EnumerateFiles(folder).Any(f => AtomicFile.IsTemporaryOf(Path.GetFileName(f), file))) leftTemporary++;
            long complete = saves.Max(), inProgress = complete + 1;
            var loaded = ModelFile.Load(Path.Combine(folder, file));
            long save = (long)loaded.Parameters[0];
            Assert.True(save == complete || save == inProgress, $"kill {kill}: {file} holds save {save}, neither the last finished ({complete}) nor the one in progress ({inProgress}); seed {seed}");
            if (save == complete) old++; else @new++;
            CheckWhole(baseModel, loaded, save, withOptimizer, file);
            next = inProgress + 1;
        }
        output.WriteLine($"{Kills} kills ({string.Join(", ", kills.Select(k => $"{k.Value} in {k.Key} saves"))}; seed {seed}): {old} files held the last finished save, {@new} the save in progress; {leftTemporary} kills left a temporary file (killed mid-write)");

        // The next save of each target removes what the killed ones left, and nothing else.
        foreach (var (file, withOptimizer) in KillTarget.Files)
        {
            KillTarget.Mark(baseModel, next);
            ModelFile.Save(baseModel, Path.Combine(folder, file), withOptimizer);
        }
        Assert.DoesNotContain(Directory.EnumerateFiles(folder), f => f.EndsWith(AtomicFile.TemporarySuffix, StringComparison.Ordinal) && !decoys.Contains(Path.GetFileName(f)));
        foreach (string decoy in decoys) Assert.Equal("not MicroGpt's", File.ReadAllText(Path.Combine(folder, decoy)));
        Assert.True(leftTemporary > 0, "no kill landed inside a save: the test did not test what it should");
    }

    /// <summary>The loaded file is save <paramref name="save"/> of the base model in every part: weights, summary, optimizer state.</summary>
    static void CheckWhole(Model baseModel, Model loaded, long save, bool withOptimizer, string file)
    {
        KillTarget.Mark(baseModel, save);
        Assert.True(baseModel.Parameters.AsSpan().SequenceEqual(loaded.Parameters), $"{file}: the weights are not those of save {save}");
        Assert.Equal(save, loaded.Summary.Steps);
        if (withOptimizer)
        {
            Assert.True(baseModel.Optimizer!.M.AsSpan().SequenceEqual(loaded.Optimizer!.M), $"{file}: the moments are not those of save {save}");
            Assert.Equal(baseModel.Optimizer.V, loaded.Optimizer.V);
        }
    }

    /// <summary>
    /// Starts a saver of <paramref name="file"/> at save <paramref name="first"/> and kills it inside
    /// a random save: after it has reported 2 to 4 saves, at a random point of the time the last one
    /// took. Returns the numbers of the saves it reported.
    /// </summary>
    List<long> RunAndKill(string file, long first, Random rng)
    {
        string saver = Path.Combine(AppContext.BaseDirectory, "MicroGpt.Saver.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { saver, folder, first.ToString(System.Globalization.CultureInfo.InvariantCulture), file }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var reported = new List<double>(); // when each save was reported, in ms
        int reports = rng.Next(2, 5);
        var clock = Stopwatch.StartNew();
        while (lines.Count < reports)
        {
            string? line = process.StandardOutput.ReadLine();
            Assert.True(line is not null, "the saver ended by itself");
            lines.Add(line);
            reported.Add(clock.Elapsed.TotalMilliseconds);
        }
        Thread.Sleep(TimeSpan.FromMilliseconds(rng.NextDouble() * (reported[^1] - reported[^2])));
        CheckIsTheSaver(process, saver);
        process.Kill(); // SIGKILL on Unix, TerminateProcess on Windows: no handler runs
        process.WaitForExit();
        while (process.StandardOutput.ReadLine() is { } rest) lines.Add(rest);
        return lines.Select(l => long.Parse(l.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>On Linux: the process about to be killed runs the saver itself, and has no child that could go on saving.</summary>
    static void CheckIsTheSaver(Process process, string saver)
    {
        string proc = $"/proc/{process.Id}";
        if (!Directory.Exists(proc)) return;
        Assert.Contains(saver, File.ReadAllText($"{proc}/cmdline").Split('\0'));
        foreach (string thread in Directory.GetDirectories($"{proc}/task"))
        {
            try { Assert.Equal("", File.ReadAllText(Path.Combine(thread, "children")).Trim()); }
            catch (IOException) { } // the thread ended meanwhile
        }
    }
}
