using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// When the module is imported, runs the engine's <see cref="Warmup"/> on a background thread,
/// then reads the default corpus and makes its tokenizer (which the cmdlets keep), so that a session's
/// first training, sample or prediction does not wait for the runtime's compiler. A call that
/// comes before it finishes waits only for the methods still being compiled. Setting the
/// environment variable MICROGPT_NO_WARMUP to 1 skips it (the benchmark does, to measure both).
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    /// <summary>The environment variable that, set to 1 before the first import, skips the warm-up.</summary>
    public const string SkipVariable = "MICROGPT_NO_WARMUP";

    static readonly object Gate = new();

    /// <summary>
    /// The warm-up, started by the first import in the process (the runtime compiles once per
    /// process, so later imports, -Force or other runspaces, start none); null while skipped. A
    /// fault stays in the task, out of the host's way.
    /// </summary>
    public static Task? WarmingUp { get; private set; }

    public void OnImport()
    {
        if (Environment.GetEnvironmentVariable(SkipVariable) == "1") return;
        lock (Gate)
            WarmingUp ??= Task.Factory.StartNew(Warm, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    static void Warm()
    {
        Warmup.Run();
        // then the default corpus's tokenizer, which every cmdlet given no model and no corpus uses (read once per process)
        CorpusInput.Default(TokenizerKind.Word).Encode(CorpusInput.DefaultTokenizer);
    }
}
