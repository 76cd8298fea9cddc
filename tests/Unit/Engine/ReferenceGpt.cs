using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// An independent, deliberately naive implementation of the tutorial's model in double precision,
/// written the way the tutorial's TypeScript computes it: one position at a time, appending each
/// position's key and value to a cache, softmax with the maximum subtracted. The engine's packed,
/// vectorised float32 kernels are checked against it (losses, and gradients by finite differences).
/// </summary>
sealed class ReferenceGpt
{
    readonly ModelConfig config;
    readonly ParameterLayout layout;

    public ReferenceGpt(ModelConfig config)
    {
        this.config = config;
        layout = new ParameterLayout(config);
    }

    /// <summary>The tutorial's sentence loss: the mean over n = min(T, tokens - 1) positions of -log p(next).</summary>
    public double Loss(double[] p, int[] tokens)
    {
        int n = Math.Min(config.BlockSize, tokens.Length - 1);
        var keys = new List<double[]>[config.Layers];
        var values = new List<double[]>[config.Layers];
        for (int l = 0; l < config.Layers; l++) { keys[l] = []; values[l] = []; }
        double total = 0;
        for (int pos = 0; pos < n; pos++)
        {
            var probs = Softmax(Logits(p, tokens[pos], pos, keys, values));
            total += -Math.Log(probs[tokens[pos + 1]]);
        }
        return total / n;
    }

    /// <summary>The mean over sentences of <see cref="Loss"/>: the loss of one batch.</summary>
    public double BatchLoss(double[] p, IEnumerable<int[]> sentences) => sentences.Average(s => Loss(p, s));

    /// <summary>One position of the tutorial's gpt(): logits for the next token; <paramref name="attention"/> hears each (layer, head)'s weights over positions 0..pos.</summary>
    public double[] Logits(double[] p, int token, int pos, List<double[]>[] keys, List<double[]>[] values, Action<int, int, double[]>? attention = null)
    {
        int c = config.EmbeddingSize, hs = config.HeadSize;
        var x = new double[c];
        for (int i = 0; i < c; i++) x[i] = p[layout.Wte + token * c + i] + p[layout.Wpe + pos * c + i];
        x = RmsNorm(x);
        for (int l = 0; l < config.Layers; l++)
        {
            var w = layout.Layers[l];
            var residual = x;
            x = RmsNorm(x);
            var q = Linear(p, w.Wq, c, c, x);
            keys[l].Add(Linear(p, w.Wk, c, c, x));
            values[l].Add(Linear(p, w.Wv, c, c, x));
            var attended = new double[c];
            for (int h = 0; h < config.Heads; h++)
            {
                var scores = new double[keys[l].Count];
                for (int t = 0; t < scores.Length; t++)
                {
                    double dot = 0;
                    for (int j = 0; j < hs; j++) dot += q[h * hs + j] * keys[l][t][h * hs + j];
                    scores[t] = dot / Math.Sqrt(hs);
                }
                var weights = Softmax(scores);
                attention?.Invoke(l, h, weights);
                for (int j = 0; j < hs; j++)
                    for (int t = 0; t < weights.Length; t++) attended[h * hs + j] += weights[t] * values[l][t][h * hs + j];
            }
            x = Add(Linear(p, w.Wo, c, c, attended), residual);
            residual = x;
            var hidden = Linear(p, w.Fc1, 4 * c, c, RmsNorm(x)).Select(v => Math.Max(0, v)).ToArray();
            x = Add(Linear(p, w.Fc2, c, 4 * c, hidden), residual);
        }
        return Linear(p, layout.LmHead, config.VocabSize, c, x);
    }

    /// <summary>Central finite differences of the batch loss for the given parameter indices.</summary>
    public double[] NumericalGradient(double[] p, IReadOnlyList<int[]> sentences, IReadOnlyList<int> indices, double h = 1e-5)
    {
        var gradient = new double[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            int i = indices[k];
            double saved = p[i];
            p[i] = saved + h;
            double plus = BatchLoss(p, sentences);
            p[i] = saved - h;
            double minus = BatchLoss(p, sentences);
            p[i] = saved;
            gradient[k] = (plus - minus) / (2 * h);
        }
        return gradient;
    }

    static double[] Linear(double[] p, int offset, int outC, int inC, double[] x)
    {
        var y = new double[outC];
        for (int o = 0; o < outC; o++)
        {
            double sum = 0;
            for (int i = 0; i < inC; i++) sum += p[offset + o * inC + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    public static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var exps = logits.Select(v => Math.Exp(v - max)).ToArray();
        double total = exps.Sum();
        return exps.Select(e => e / total).ToArray();
    }

    public static double[] RmsNorm(double[] x)
    {
        double scale = Math.Pow(x.Sum(v => v * v) / x.Length + 1e-5, -0.5);
        return x.Select(v => v * scale).ToArray();
    }

    static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
