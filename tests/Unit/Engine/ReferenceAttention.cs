namespace MicroGpt.Tests.Engine;

/// <summary>
/// Causal self-attention written apart from the engine's kernels, in double precision and in the
/// tutorial's formulation: one sentence at a time, each position appending its key and value to
/// the sentence's cache, then per head the scores q·k / sqrt(head size) over the cache, their
/// softmax (the maximum subtracted first), and the weighted sum of the values. The backward pass
/// differentiates those same lines, one position and head at a time. Nothing is packed, strided
/// or shared with Attention.cs: the sentences come as lists of per-position vectors.
/// </summary>
static class ReferenceAttention
{
    /// <summary>A position's query, key and value (C each), and its gradients.</summary>
    public sealed record Position(double[] Query, double[] Key, double[] Value);

    /// <summary>The outputs (C per position) and weights (per head, over positions 0..t) of one sentence.</summary>
    public static (double[][] Output, double[][][] Weights) Forward(IReadOnlyList<Position> sentence, int heads)
    {
        int c = sentence[0].Query.Length, hs = c / heads;
        var keys = new List<double[]>();
        var values = new List<double[]>();
        var output = new double[sentence.Count][];
        var weights = new double[sentence.Count][][];
        for (int t = 0; t < sentence.Count; t++)
        {
            keys.Add(sentence[t].Key);
            values.Add(sentence[t].Value);
            output[t] = new double[c];
            weights[t] = new double[heads][];
            for (int h = 0; h < heads; h++)
            {
                var scores = new double[keys.Count];
                for (int j = 0; j < keys.Count; j++)
                {
                    double dot = 0;
                    for (int i = 0; i < hs; i++) dot += sentence[t].Query[h * hs + i] * keys[j][h * hs + i];
                    scores[j] = dot / Math.Sqrt(hs);
                }
                var w = ReferenceGpt.Softmax(scores);
                weights[t][h] = w;
                for (int i = 0; i < hs; i++)
                    for (int j = 0; j < w.Length; j++) output[t][h * hs + i] += w[j] * values[j][h * hs + i];
            }
        }
        return (output, weights);
    }

    /// <summary>The gradients of sum(dOutput · output) with respect to every query, key and value of the sentence.</summary>
    public static Position[] Backward(IReadOnlyList<Position> sentence, double[][] dOutput, int heads)
    {
        int c = sentence[0].Query.Length, hs = c / heads;
        var (_, weights) = Forward(sentence, heads);
        var grads = sentence.Select(_ => new Position(new double[c], new double[c], new double[c])).ToArray();
        for (int t = 0; t < sentence.Count; t++)
            for (int h = 0; h < heads; h++)
            {
                var w = weights[t][h];
                // out = sum_j w[j] v[j]: dw[j] = dout · v[j], dv[j] += w[j] dout
                var dw = new double[w.Length];
                for (int j = 0; j < w.Length; j++)
                    for (int i = 0; i < hs; i++)
                    {
                        dw[j] += dOutput[t][h * hs + i] * sentence[j].Value[h * hs + i];
                        grads[j].Value[h * hs + i] += w[j] * dOutput[t][h * hs + i];
                    }
                // w = softmax(s): ds[j] = w[j] (dw[j] - sum_k w[k] dw[k])
                double expected = w.Zip(dw, (a, b) => a * b).Sum();
                for (int j = 0; j < w.Length; j++)
                {
                    double ds = w[j] * (dw[j] - expected) / Math.Sqrt(hs);
                    // s[j] = q · k[j] / sqrt(hs)
                    for (int i = 0; i < hs; i++)
                    {
                        grads[t].Query[h * hs + i] += ds * sentence[j].Key[h * hs + i];
                        grads[j].Key[h * hs + i] += ds * sentence[t].Query[h * hs + i];
                    }
                }
            }
        return grads;
    }
}
