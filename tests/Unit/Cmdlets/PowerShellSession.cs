using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace MicroGpt.Tests.Cmdlets;

/// <summary>
/// A real PowerShell 7.6 engine (Microsoft.PowerShell.SDK) with the freshly built module imported
/// from out/MicroGpt, in a temporary folder that is the session's location: script text runs as a
/// user would type it, and the streams are kept for assertions. The engine finds the Utility and
/// Management modules that the SDK ships (Export-Csv, Select-Object, Sort-Object...) and the
/// ThreadJob module of the pwsh tool that `dotnet tool restore` brings (Start-ThreadJob).
/// </summary>
sealed class PowerShellSession : IDisposable
{
    readonly Runspace runspace;

    static PowerShellSession()
    {
        string platform = OperatingSystem.IsWindows() ? "win" : "unix";
        string sdkModules = Path.Combine(AppContext.BaseDirectory, "runtimes", platform, "lib", "net10.0", "Modules");
        string toolModules = Path.Combine(NuGetPackageRoot, "powershell", PwshVersion, "tools", "net10.0", "any", platform, "Modules");
        foreach (string folder in new[] { sdkModules, toolModules })
            if (!Directory.Exists(folder)) throw new InvalidOperationException($"The PowerShell modules folder '{folder}' is missing; run `dotnet tool restore` and build the tests.");
        Environment.SetEnvironmentVariable("PSModulePath", string.Join(Path.PathSeparator, sdkModules, toolModules));
    }

    public PowerShellSession()
    {
        Folder = Directory.CreateTempSubdirectory("microgpt-test-").FullName;
        runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(Folder);
        var import = Run($"Import-Module '{ModulePath}'");
        if (import.Error is { } error) throw new InvalidOperationException($"Import-Module failed: {error}");
    }

    /// <summary>The temporary folder the session starts in.</summary>
    public string Folder { get; }

    /// <summary>The NuGet packages folder the tests were restored from (it holds Pester and the pwsh tool).</summary>
    public static string NuGetPackageRoot { get; } = Metadata("NuGetPackageRoot");

    /// <summary>The PowerShell tool version pinned in .config/dotnet-tools.json.</summary>
    public static string PwshVersion { get; } = Metadata("PwshVersion");

    /// <summary>The pwsh.dll of the pinned PowerShell tool, to start real pwsh as `dotnet pwsh.dll`.</summary>
    public static string PwshDll { get; } = Path.Combine(NuGetPackageRoot, "powershell", PwshVersion, "tools", "net10.0", "any", OperatingSystem.IsWindows() ? "win" : "unix", "pwsh.dll");

    static string Metadata(string key) =>
        typeof(PowerShellSession).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>out/MicroGpt, as `dotnet build` assembles it.</summary>
    public static string ModulePath { get; } = Path.Combine(RepoRoot, "out", "MicroGpt");

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "global.json"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("No global.json above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Runs script text; a terminating error is captured in <see cref="Result.Exception"/>, not thrown.</summary>
    public Result Run(string script) => Run(script, stopWhen: _ => false);

    /// <summary>
    /// Runs script text and stops the pipeline, as Ctrl+C does, once it has written
    /// <paramref name="stopAfter"/> objects (0: never). A terminating error ends the script, as it
    /// ends `pwsh -File` under -ErrorAction Stop, and is kept apart from the non-terminating ones.
    /// </summary>
    public Result Run(string script, int stopAfter)
    {
        int written = 0;
        return Run(script, item => item is PSObject && ++written == stopAfter);
    }

    /// <summary>
    /// Runs script text, showing <paramref name="stopWhen"/> each output object (a PSObject) and
    /// each progress record (a ProgressRecord) as it comes, in order; the pipeline stops, as
    /// Ctrl+C stops it, the first time <paramref name="stopWhen"/> says true.
    /// </summary>
    public Result Run(string script, Func<object, bool> stopWhen)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript($"$global:TerminatingError = $null\ntry {{\n{script}\n}} catch {{ $global:TerminatingError = $_ }}");
        var output = new PSDataCollection<PSObject>();
        bool stopping = false;
        void Observe(object item)
        {
            if (!stopping && stopWhen(item))
            {
                stopping = true;
                ps.BeginStop(null, null);
            }
        }
        output.DataAdded += (_, e) => Observe(output[e.Index]);
        ps.Streams.Progress.DataAdded += (_, e) => Observe(ps.Streams.Progress[e.Index]);
        try { ps.Invoke(null, output); }
        catch (PipelineStoppedException) { }
        var terminating = Variable("TerminatingError") as ErrorRecord;
        return new Result(output.ToList(), ps.Streams.Error.ToList(), ps.Streams.Progress.ToList(),
            ps.Streams.Verbose.Select(v => v.Message).ToList(), ps.Streams.Warning.Select(w => w.Message).ToList(),
            terminating, ps.InvocationStateInfo.State == PSInvocationState.Stopped);
    }

    /// <summary>The base objects of the output, checked to be of one type.</summary>
    public List<T> Run<T>(string script)
    {
        var result = Run(script);
        result.ThrowIfFailed();
        return result.Output.Select(o => Assert.IsAssignableFrom<T>(o.BaseObject)).ToList();
    }

    /// <summary>A session variable's value.</summary>
    public object? Variable(string name) => runspace.SessionStateProxy.GetVariable(name) is PSObject o ? o.BaseObject : runspace.SessionStateProxy.GetVariable(name);

    public string PathOf(string relative) => Path.Combine(Folder, relative);

    public void Dispose()
    {
        runspace.Dispose();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    public sealed record Result(List<PSObject> Output, List<ErrorRecord> Errors, List<ProgressRecord> Progress, List<string> Verbose, List<string> Warnings, ErrorRecord? Terminating, bool Stopped)
    {
        /// <summary>The terminating error, or the first non-terminating one.</summary>
        public ErrorRecord? Error => Terminating ?? Errors.FirstOrDefault();

        public void ThrowIfFailed()
        {
            if (Terminating is not null) throw new Xunit.Sdk.XunitException("Script failed: " + Terminating + "\n" + Terminating.ScriptStackTrace);
            if (Stopped) throw new Xunit.Sdk.XunitException("The script was stopped.");
            if (Errors.Count > 0) throw new Xunit.Sdk.XunitException("Script wrote errors: " + string.Join("; ", Errors));
        }
    }
}
