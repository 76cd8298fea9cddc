using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Creates an untrained GPT with weights drawn from N(0, 0.08), or as GPT-2 draws them.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "Model")]
[OutputType(typeof(Model))]
public sealed class NewModelCommand : MicroGptCmdlet
{
    #region Parameters

    /// <summary>The tokenizer whose vocabulary the model predicts. Default: the default corpus's word tokenizer.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    public Tokenizer? Tokenizer { get; set; }

    /// <summary>Transformer layers (the tutorial's: 2).</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int Layers { get; set; } = 2;

    /// <summary>Embedding size, C (the tutorial's: 32). Must be divisible by -Heads.</summary>
    [Parameter]
    [ValidateRange(1, 65536)]
    public int EmbeddingSize { get; set; } = 32;

    /// <summary>Attention heads (the tutorial's: 4).</summary>
    [Parameter]
    [ValidateRange(1, 4096)]
    public int Heads { get; set; } = 4;

    /// <summary>The most positions the model sees at once, T (the tutorial's: 16).</summary>
    [Parameter]
    [ValidateRange(1, 65536)]
    public int BlockSize { get; set; } = 16;

    /// <summary>Seeds the initial weights: the same seed, the same model.</summary>
    [Parameter]
    public int Seed { get; set; } = 42;

    /// <summary>How the weights are drawn: Tutorial (the default), N(0, 0.08); or Gpt2, N(0, 0.02) with each layer's two residual projections over sqrt(2 x layers).</summary>
    [Parameter]
    public Initialization Init { get; set; }

    #endregion

    protected override void ProcessRecord()
    {
        var tokenizer = Tokenizer ?? CorpusInput.DefaultTokenizer;
        var config = new ModelConfig(tokenizer.VocabSize, EmbeddingSize, Heads, Layers, BlockSize);
        var model = Guard(() => Model.Create(config, tokenizer, Seed, Init), config);
        WriteVerbose($"Vocabulary: {tokenizer.VocabSize:N0} tokens. Model: {Layers} layers, embedding {EmbeddingSize}, {Heads} heads, block {BlockSize}: {config.ParameterCount:N0} parameters, {Init} initialization.");
        WriteObject(model);
    }
}
