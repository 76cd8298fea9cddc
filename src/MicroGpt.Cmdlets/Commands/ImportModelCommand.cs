using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Reads a model file: MicroGpt's JSON, the tutorial's JSON, or safetensors.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "Model", DefaultParameterSetName = PathSet)]
[OutputType(typeof(Model))]
public sealed class ImportModelCommand : MicroGptCmdlet
{
    const string PathSet = "Path";
    const string LiteralPathSet = "LiteralPath";

    #region Parameters

    /// <summary>Model files; wildcards are allowed. Accepts pipeline input, and files from Get-ChildItem.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Model files, taken literally (no wildcards); Get-ChildItem's output binds here by its PSPath.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>The vocabulary for files that carry none (the tutorial's): a tokenizer built from the corpus the model was trained on.</summary>
    [Parameter]
    public Tokenizer? Tokenizer { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        var inputs = ParameterSetName == LiteralPathSet ? LiteralPath : Path;
        foreach (string input in inputs)
        {
            IReadOnlyList<string> paths;
            try
            {
                paths = ParameterSetName == LiteralPathSet ? [GetUnresolvedProviderPathFromPSPath(input)] : ResolveInputPaths(input, ErrorIds.ModelFileNotFound);
            }
            catch (PipelineError missing)
            {
                WriteError(missing.Record); // one missing file does not stop the others
                continue;
            }
            foreach (string path in paths)
            {
                try
                {
                    var model = ModelFile.Load(path, Tokenizer);
                    WriteVerbose($"Read '{path}': {model.Parameters.Length:N0} parameters, vocabulary of {model.Config.VocabSize:N0}, {model.Summary.Steps:N0} steps trained.");
                    WriteObject(model);
                }
                catch (ModelFileException ex)
                {
                    WriteError(ToErrorRecord(ex, path)); // one bad file does not stop the others
                }
            }
        }
    }
}
