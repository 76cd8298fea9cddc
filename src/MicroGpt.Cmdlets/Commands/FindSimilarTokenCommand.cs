using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Finds the tokens whose embeddings are nearest to a token's, by cosine similarity.</para>
/// </summary>
[Cmdlet(VerbsCommon.Find, "SimilarToken")]
[OutputType(typeof(SimilarToken))]
public sealed class FindSimilarTokenCommand : MicroGptCmdlet
{
    #region Parameters

    /// <summary>The tokens to find neighbours of: each one piece of the vocabulary.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[] Token { get; set; } = [];

    /// <summary>The model whose token embeddings are compared; accepts pipeline input.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public Model Model { get; set; } = null!;

    /// <summary>How many neighbours to write for each token, nearest first.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 10;

    #endregion

    protected override void ProcessRecord()
    {
        foreach (string token in Token)
            foreach (var neighbour in Guard(() => Inspector.SimilarTokens(Model, token, Count), token))
                WriteObject(neighbour);
    }
}
