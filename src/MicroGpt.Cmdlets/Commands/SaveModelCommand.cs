using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>The formats Save-Model writes.</summary>
public enum ModelFileFormat
{
    /// <summary>MicroGpt's JSON, which the tutorial's loader also reads.</summary>
    Json,
    /// <summary>Safetensors (named float32 tensors) plus a .config.json file beside it.</summary>
    Safetensors,
}

/// <summary>
/// <para type="synopsis">Writes a model to a file, atomically: a crash never leaves a truncated model.</para>
/// </summary>
[Cmdlet(VerbsData.Save, "Model", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class SaveModelCommand : MicroGptCmdlet
{
    #region Parameters

    /// <summary>The model to save; accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Model Model { get; set; } = null!;

    /// <summary>The file to write. Relative paths are resolved against the current PowerShell location.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Json (default; the tutorial's loader reads it) or Safetensors. Default: from the extension (.safetensors).</summary>
    [Parameter]
    public ModelFileFormat? Format { get; set; }

    /// <summary>Also save Adam's state, so that Invoke-Training -Resume can continue the run exactly.</summary>
    [Parameter]
    public SwitchParameter IncludeOptimizerState { get; set; }

    /// <summary>Refuse to overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>Write the saved file's FileInfo to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        string path = ResolveOutputPath(Path);
        var format = Format ?? (Safetensors.IsSafetensorsPath(path) ? ModelFileFormat.Safetensors : ModelFileFormat.Json);
        if (format == ModelFileFormat.Safetensors && !Safetensors.IsSafetensorsPath(path)) path += ".safetensors";
        if (format == ModelFileFormat.Json && Safetensors.IsSafetensorsPath(path))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"The path '{path}' ends in .safetensors but -Format is Json."), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, path));
        if (format == ModelFileFormat.Safetensors && IncludeOptimizerState)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Safetensors files hold weights only; save the optimizer state in a .json file."), ErrorIds.InvalidConfiguration, ErrorCategory.InvalidArgument, path));
        string? existing = new[] { path, format == ModelFileFormat.Safetensors ? Safetensors.ConfigPathFor(path) : null }.FirstOrDefault(File.Exists);
        if (NoClobber && existing is not null)
            ThrowTerminatingError(new ErrorRecord(new IOException($"The file '{existing}' already exists and -NoClobber was given."), ErrorIds.ModelFileExists, ErrorCategory.ResourceExists, existing));
        if (IncludeOptimizerState && Model.Optimizer is null)
            WriteWarning("The model has no optimizer state to include (it has not been trained in this session); saving the weights only.");

        if (!ShouldProcess(path, $"Save {format} model ({Model.Parameters.Length:N0} parameters)")) return;
        Guard(() => ModelFile.Save(Model, path, IncludeOptimizerState), path); // the extension picks the format
        WriteVerbose($"Wrote '{path}' ({new FileInfo(path).Length:N0} bytes).");
        if (PassThru) WriteObject(InvokeProvider.Item.Get(path), enumerateCollection: true); // a FileInfo with PSPath, as Get-Item gives
    }
}
