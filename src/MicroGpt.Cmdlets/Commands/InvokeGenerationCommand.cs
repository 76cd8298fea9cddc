using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// <para type="synopsis">Generates sentences from a model, one token at a time.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "Generation")]
[OutputType(typeof(Sample))]
public sealed class InvokeGenerationCommand : MicroGptCmdlet
{
    readonly CancellationTokenSource stopping = new();

    #region Parameters

    /// <summary>The model to sample from; accepts pipeline input. Default: an untrained model on the default corpus.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull] // an explicit $null (say, from a failed Import-Model) must not mean "a new model"
    public Model? Model { get; set; }

    /// <summary>How many sentences to generate.</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int Count { get; set; } = 1;

    /// <summary>The start of the sentence to continue ("the cat"); its words must be in the vocabulary.</summary>
    [Parameter]
    [AllowEmptyString]
    public string Prompt { get; set; } = "";

    /// <summary>Below 1 more predictable, above 1 more surprising; 0 always picks the most likely token.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double Temperature { get; set; } = 0.8;

    /// <summary>Sample only from the k most likely tokens; 0 (default) keeps all.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int TopK { get; set; }

    /// <summary>Sample only from the most likely tokens whose probabilities add up to p (greater than 0, at most 1); 1 (default) keeps all.</summary>
    [Parameter]
    [ValidateInterval(0.0, 1.0, ExcludeMinimum = true)]
    public double TopP { get; set; } = 1.0;

    /// <summary>Seeds the sampling: the same seed, the same sentences. Default: a different seed each time.</summary>
    [Parameter]
    public int? Seed { get; set; }

    /// <summary>
    /// Continue the prompt's text for this many tokens instead of generating a sentence: the prompt is
    /// taken exactly as it is (not trimmed or lower-cased), BOS is never drawn, and once the text fills
    /// the block size each token is predicted from the last BlockSize tokens (a sliding window), as for
    /// a model trained with Invoke-Training -Stream. Without -Prompt, the text starts at a line end.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int MaxTokens { get; set; }

    /// <summary>
    /// Continue -Prompt as a stream model does (see -MaxTokens), for -MaxTokens tokens, or
    /// <see cref="DefaultStreamTokens"/> without it: the switch Invoke-Training, Measure-Model and
    /// the inspection cmdlets take for a stream model.
    /// </summary>
    [Parameter]
    public SwitchParameter Stream { get; set; }

    /// <summary>Write each distinct sentence once: keep sampling until -Count different ones (or 20 tries per sentence).</summary>
    [Parameter]
    public SwitchParameter Unique { get; set; }

    #endregion

    /// <summary>The tokens -Stream continues a prompt for when -MaxTokens is not given.</summary>
    public const int DefaultStreamTokens = 200;

    /// <summary>The tokens to continue the prompt for; 0 to generate sentences.</summary>
    int ContinuationTokens => MaxTokens > 0 ? MaxTokens : Stream ? DefaultStreamTokens : 0;

    protected override void StopProcessing() => stopping.Cancel();

    /// <summary>Samples one sentence at a time; Ctrl+C (StopProcessing) ends the loop at the next sentence, even one that -Unique would not write.</summary>
    protected override void ProcessRecord()
    {
        var model = Model ?? Guard(() => MicroGpt.Model.Create(new ModelConfig(CorpusInput.DefaultTokenizer.VocabSize), CorpusInput.DefaultTokenizer, 42), null);
        if (Model is null) WriteWarning("No -Model given: sampling from an untrained model, so the words are random. Train one with Invoke-Training -PassThru.");
        var options = new SamplingOptions { Temperature = Temperature, TopK = TopK, TopP = TopP, Seed = Seed ?? Random.Shared.Next() };
        var sampler = Guard(() => new Sampler(model, options), options);
        // The prompt is a sentence's start: trimmed, and lower-cased for a word tokenizer. A
        // continuation's is text as it is; without one, it starts where a stream's lines start.
        int continuation = ContinuationTokens;
        if (continuation == 0) WarnIfMadeForStream(model);
        int[]? prompt = continuation > 0
            ? Guard(() => model.Tokenizer.Encode(Prompt.Length > 0 ? Prompt : "\n"), Prompt.Length > 0 ? Prompt : "\n")
            : Guard(() => Corpus.Normalize(model.Tokenizer.TokenKind, [Prompt]).Select(s => model.Tokenizer.Encode(s.Text)).FirstOrDefault(), Prompt);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int written = 0, tries = 0, maxTries = Unique ? 20 * Count : Count;
        while (written < Count && tries++ < maxTries && !stopping.IsCancellationRequested)
        {
            var sample = Guard(() => continuation > 0 ? sampler.Continue(prompt!, continuation) : sampler.Generate(prompt), Prompt);
            if (Unique && !seen.Add(sample.Text)) continue;
            WriteObject(sample);
            written++;
        }
        if (written < Count && !stopping.IsCancellationRequested)
            WriteWarning($"Only {written} distinct sentences came out of {maxTries} samples; the model may know few sentences, or the temperature may be low.");
    }
}
