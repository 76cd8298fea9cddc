using System.Runtime.CompilerServices;

namespace MicroGpt;

/// <summary>
/// A batch of examples packed row after row, so that every kernel works on one (N, C) buffer for
/// the whole batch. An example is a run of tokens (an encoded sentence [BOS, ..., BOS], or a window
/// of a token stream) whose first n = min(T, tokens - 1) positions each predict the next token:
/// row n holds token Tokens[n] at position Positions[n] of the example whose first row is
/// Start[n], and its target is the next token. A row's loss weight 1 / (B n) makes the batch loss
/// the mean of the examples' mean losses.
/// </summary>
sealed class PackedBatch
{
    public PackedBatch(int maxRows, int maxExamples)
    {
        Tokens = new int[maxRows];
        Targets = new int[maxRows];
        Positions = new int[maxRows];
        Start = new int[maxRows];
        LossWeights = new float[maxRows];
        ExampleStart = new int[maxExamples + 1];
    }

    public int[] Tokens { get; }      // (N)
    public int[] Targets { get; }     // (N)
    public int[] Positions { get; }   // (N)
    public int[] Start { get; }       // (N) first row of the row's example
    public float[] LossWeights { get; } // (N)
    public int[] ExampleStart { get; } // (B + 1) first row of each example, then N

    /// <summary>N: rows in use.</summary>
    public int Rows { get; private set; }

    /// <summary>B: examples in use.</summary>
    public int Examples { get; private set; }

    /// <summary>The positions an example of this many tokens trains on: min(T, tokens - 1).</summary>
    public static int RowsOf(int tokenCount, int blockSize) => Math.Min(blockSize, tokenCount - 1);

    public void Clear()
    {
        Rows = 0;
        Examples = 0;
    }

    /// <summary>Appends one example; weights are set by <see cref="SetMeanWeights"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<int> tokens, int blockSize)
    {
        int rows = RowsOf(tokens.Length, blockSize);
        ExampleStart[Examples++] = Rows;
        for (int t = 0; t < rows; t++)
        {
            int n = Rows + t;
            Tokens[n] = tokens[t];
            Targets[n] = tokens[t + 1];
            Positions[n] = t;
            Start[n] = Rows;
        }
        Rows += rows;
        ExampleStart[Examples] = Rows;
    }

    /// <summary>Weights every row 1 / (B n), so the weighted loss sum is the mean over examples of each example's mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetMeanWeights()
    {
        for (int b = 0; b < Examples; b++)
        {
            int first = ExampleStart[b], rows = ExampleStart[b + 1] - first;
            float weight = 1f / (Examples * rows);
            for (int n = first; n < first + rows; n++) LossWeights[n] = weight;
        }
    }

    /// <summary>The batch loss: the mean over examples of each example's mean row loss, summed in row order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double MeanLoss(ReadOnlySpan<float> losses)
    {
        double total = 0;
        for (int b = 0; b < Examples; b++)
        {
            int first = ExampleStart[b], rows = ExampleStart[b + 1] - first;
            double example = 0;
            for (int n = first; n < first + rows; n++) example += losses[n];
            total += example / rows;
        }
        return total / Examples;
    }
}
