namespace MicroGpt;

/// <summary>
/// Everything needed to continue a training run bit for bit: Adam's moments, the next step and
/// the schedule's length, the options, and which corpus the run walks (its sentence count and a
/// fingerprint), so that resuming on another corpus is refused.
/// </summary>
public sealed class OptimizerState
{
    public OptimizerState(float[] m, float[] v) { M = m; V = v; }

    /// <summary>Adam's first moments, in parameter order.</summary>
    public float[] M { get; }
    /// <summary>Adam's second moments, in parameter order.</summary>
    public float[] V { get; }
    /// <summary>The 0-based index of the next step to take.</summary>
    public long NextStep { get; set; }
    /// <summary>The options the run was started with; Steps is the length of the schedule.</summary>
    public TrainingOptions Options { get; set; } = new();
    /// <summary>Sentences in the training corpus.</summary>
    public int CorpusSentences { get; set; }
    /// <summary>A hash of the encoded training corpus.</summary>
    public ulong CorpusFingerprint { get; set; }
    /// <summary>Where the training corpus came from, when the run said so (checkpoints written before this was kept do not).</summary>
    public CorpusOrigin? CorpusOrigin { get; set; }
    /// <summary>Predicted tokens trained on over the run so far.</summary>
    public long Tokens { get; set; }

    /// <summary>True when the schedule has no steps left.</summary>
    public bool Finished => NextStep >= Options.Steps;

    /// <summary>An independent copy (the moments copied too).</summary>
    public OptimizerState Copy() => new((float[])M.Clone(), (float[])V.Clone())
    {
        NextStep = NextStep,
        Options = Options,
        CorpusSentences = CorpusSentences,
        CorpusFingerprint = CorpusFingerprint,
        CorpusOrigin = CorpusOrigin,
        Tokens = Tokens,
    };

    /// <summary>Takes the values of <paramref name="other"/> (of the same size), moments included.</summary>
    internal void CopyFrom(OptimizerState other)
    {
        other.M.CopyTo(M, 0);
        other.V.CopyTo(V, 0);
        NextStep = other.NextStep;
        Options = other.Options;
        CorpusSentences = other.CorpusSentences;
        CorpusFingerprint = other.CorpusFingerprint;
        CorpusOrigin = other.CorpusOrigin;
        Tokens = other.Tokens;
    }

    /// <summary>
    /// The options that decide a run's numbers (<see cref="OnResume.KeepRuns"/>) and that
    /// <paramref name="requested"/> sets otherwise than this run did: (option, requested, this run's).
    /// Threads and validation are free to change.
    /// </summary>
    public IEnumerable<(TrainingOption Option, object Requested, object Saved)> Conflicts(TrainingOptions requested) =>
        TrainingOptions.All.Where(option => option.OnResume == OnResume.KeepRuns)
            .Select(option => (option, option.Get(requested), option.Get(Options)))
            .Where(conflict => !conflict.Item2.Equals(conflict.Item3));
}

/// <summary>Where a corpus came from.</summary>
public enum CorpusSource
{
    /// <summary>The default corpus that ships with the engine.</summary>
    Default,
    /// <summary>Sentences given as strings.</summary>
    Text,
    /// <summary>Files, one sentence per line.</summary>
    Files,
}

/// <summary>
/// Where a run's corpus came from (the files' full paths, for files), kept in its checkpoints so
/// that resuming with other sentences can say which ones to pass. A hint for messages only: the
/// corpus's size and fingerprint decide whether a resumed run has the same sentences.
/// </summary>
public sealed record CorpusOrigin(CorpusSource Source, IReadOnlyList<string> Files)
{
    public static CorpusOrigin Default { get; } = new(CorpusSource.Default, []);
    public static CorpusOrigin Text { get; } = new(CorpusSource.Text, []);
}
