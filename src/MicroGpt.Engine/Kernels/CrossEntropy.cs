using System.Runtime.CompilerServices;

namespace MicroGpt.Kernels;

/// <summary>
/// The cross-entropy of the next token: <c>probs = softmax(logits)</c> (<see cref="Softmax.Forward"/>),
/// <c>loss[n] = -log probs[n][target[n]]</c>.
/// </summary>
static class CrossEntropy
{
    /// <summary>probs (N, V) and losses (N) from logits (N, V); probs may be the logits buffer itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<float> probs, Span<float> losses, ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int N, int V)
    {
        for (int n = 0; n < N; n++)
        {
            var x = logits.Slice(n * V, V);
            var p = probs.Slice(n * V, V);
            float target = x[targets[n]];
            var (max, sum) = Softmax.Forward(p, x);
            // -log(e^(x_t - max) / sum) = log(sum) - (x_t - max)
            losses[n] = MathF.Log(sum) - (target - max);
        }
    }

    /// <summary>dlogits (N, V) = weight[n] (probs - onehot(target)); written, not accumulated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dlogits, ReadOnlySpan<float> probs, ReadOnlySpan<int> targets, ReadOnlySpan<float> weights, int N, int V)
    {
        for (int n = 0; n < N; n++)
        {
            var p = probs.Slice(n * V, V);
            var d = dlogits.Slice(n * V, V);
            Simd.Scale(d, p, weights[n]);
            d[targets[n]] -= weights[n];
        }
    }
}
