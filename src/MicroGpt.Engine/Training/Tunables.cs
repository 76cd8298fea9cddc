using System.Diagnostics;

namespace MicroGpt;

/// <summary>
/// The numbers that size and share out the work of training and evaluation. None of them changes a
/// result (every split gives the same bits, see <see cref="StepRunner"/>): they trade speed against
/// memory and responsiveness. The measurements behind them are in bench/RESULTS.md, under
/// "Training's tunables".
/// </summary>
static class Tunables
{
    /// <summary>About how many weights one weight-gradient job sums: enough work to outweigh handing the job out, small enough to share out evenly.</summary>
    public const int GradientGrain = 1 << 13;

    /// <summary>
    /// The fewest output rows of a matrix's weight-gradient job: every job reads all of its input's
    /// rows (and the packed products copy them), so thin jobs of a wide matrix spend more on that than on the sum.
    /// </summary>
    public const int MinJobRows = 256;

    /// <summary>Parameters per optimizer job. Adam is elementwise, so any split gives the same numbers.</summary>
    public const int AdamChunk = 1 << 14;

    /// <summary>
    /// The most floats that all the per-thread weight copies together may take beyond the
    /// parameters (1 MB): a model within it keeps its weights in a core's own cache, where the copies
    /// save more than they cost; a larger one streams its weights, and copies only add traffic.
    /// </summary>
    public const long WeightCopiesBudget = 1 << 18;

    /// <summary>
    /// Steps between the trainer's backups of the weights and moments: a backup costs about a quarter
    /// of a step of the tutorial's model, and undoing a diverged update takes at most this many steps again.
    /// </summary>
    public const int BackupInterval = 256;

    /// <summary>Sentences per evaluation job, at most.</summary>
    public const int EvaluationChunk = 64;

    /// <summary>
    /// Positions per evaluation job, at most (a job holds the activations of this many rows): 64
    /// sentences of the tutorial's corpus are at most 576, and 12 windows of block size 64, a stream
    /// step of nanoGPT's quick start, are 768. Without this bound a job of 64 such windows held 4,096
    /// rows, about 156 MB of activations per thread at embedding 128.
    /// </summary>
    public const int EvaluationChunkRows = 768;

    /// <summary>Evaluation jobs per thread between two progress reports, which are also where a cancellation is seen.</summary>
    public const int EvaluationSliceChunksPerThread = 8;

    /// <summary>How long an idle worker spins for the next phase (100 us) before it sleeps: the next phase of a step usually follows within microseconds.</summary>
    public static readonly long WorkerSpinTicks = Stopwatch.Frequency / 10_000;
}
