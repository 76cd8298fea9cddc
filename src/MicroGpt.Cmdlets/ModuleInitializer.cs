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
    public const string SkipVariable = "MICROGPT_NO_WARMUP";

    /// <summary>The warm-up of the last import (on its own thread; a fault stays in the task, out of the host's way); null when skipped.</summary>
    public static Task? WarmingUp { get; private set; }

    public void OnImport()
    {
        if (Environment.GetEnvironmentVariable(SkipVariable) == "1") return;
        WarmingUp = Task.Factory.StartNew(() =>
        {
            Warmup.Run();
            // then the default corpus's tokenizer, which every cmdlet given no model and no corpus uses (read once per process)
            CorpusInput.Default(TokenizerKind.Word).Encode(CorpusInput.DefaultTokenizer);
        }, TaskCreationOptions.LongRunning);
    }
}
