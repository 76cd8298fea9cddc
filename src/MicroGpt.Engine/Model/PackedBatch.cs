using System.Runtime.CompilerServices;

namespace MicroGpt;

/// <summary>
/// Sentences packed row after row, so that every kernel works on one (N, C) buffer for the whole
/// batch: row n holds token Tokens[n] at position Positions[n] of the sentence whose first row is
/// Start[n], and its target is the next token. Each sentence contributes n = min(T, tokens - 1)
/// rows; a row's loss weight 1 / (B n) makes the batch loss the mean of the sentences' mean losses.
/// </summary>
sealed class PackedBatch
{
    public PackedBatch(int maxRows, int maxSentences)
    {
        Tokens = new int[maxRows];
        Targets = new int[maxRows];
        Positions = new int[maxRows];
        Start = new int[maxRows];
        LossWeights = new float[maxRows];
        SentenceStart = new int[maxSentences + 1];
    }

    public int[] Tokens { get; }      // (N)
    public int[] Targets { get; }     // (N)
    public int[] Positions { get; }   // (N)
    public int[] Start { get; }       // (N) first row of the row's sentence
    public float[] LossWeights { get; } // (N)
    public int[] SentenceStart { get; } // (B + 1) first row of each sentence, then N

    /// <summary>N: rows in use.</summary>
    public int Rows { get; private set; }

    /// <summary>B: sentences in use.</summary>
    public int Sentences { get; private set; }

    /// <summary>The positions a sentence of this many tokens trains on: min(T, tokens - 1).</summary>
    public static int RowsOf(int tokenCount, int blockSize) => Math.Min(blockSize, tokenCount - 1);

    public void Clear()
    {
        Rows = 0;
        Sentences = 0;
    }

    /// <summary>Appends one encoded sentence [BOS, ..., BOS]; weights are set by <see cref="SetMeanWeights"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<int> tokens, int blockSize)
    {
        int rows = RowsOf(tokens.Length, blockSize);
        SentenceStart[Sentences++] = Rows;
        for (int t = 0; t < rows; t++)
        {
            int n = Rows + t;
            Tokens[n] = tokens[t];
            Targets[n] = tokens[t + 1];
            Positions[n] = t;
            Start[n] = Rows;
        }
        Rows += rows;
        SentenceStart[Sentences] = Rows;
    }

    /// <summary>Weights every row 1 / (B n), so the weighted loss sum is the mean over sentences of each sentence's mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetMeanWeights()
    {
        for (int b = 0; b < Sentences; b++)
        {
            int first = SentenceStart[b], rows = SentenceStart[b + 1] - first;
            float weight = 1f / (Sentences * rows);
            for (int n = first; n < first + rows; n++) LossWeights[n] = weight;
        }
    }

    /// <summary>The batch loss: the mean over sentences of each sentence's mean row loss, summed in row order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double MeanLoss(ReadOnlySpan<float> losses)
    {
        double total = 0;
        for (int b = 0; b < Sentences; b++)
        {
            int first = SentenceStart[b], rows = SentenceStart[b + 1] - first;
            double sentence = 0;
            for (int n = first; n < first + rows; n++) sentence += losses[n];
            total += sentence / rows;
        }
        return total / Sentences;
    }
}
