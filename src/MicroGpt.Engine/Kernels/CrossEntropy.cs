using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// Softmax over the vocabulary and the cross-entropy of the next token:
/// <c>probs = softmax(logits)</c>, <c>loss[n] = -log probs[n][target[n]]</c>. The maximum is
/// subtracted first, always.
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
            float max = Max(x);
            float target = x[targets[n]];
            float sum = ExpShifted(p, x, max);
            Simd.Scale(p, p, 1f / sum);
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

    /// <summary>x = softmax(x) in place, the maximum subtracted first (attention's weights use it too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(Span<float> x)
    {
        float sum = ExpShifted(x, x, Max(x));
        Simd.Scale(x, x, 1f / sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Max(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        int i = 0;
        if (Simd.Enabled && x.Length >= Simd.Width)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i + Simd.Width <= x.Length; i += Simd.Width) m = Vector256.Max(m, Vector256.LoadUnsafe(ref xr, (nuint)i));
            max = Simd.Max(m);
        }
        for (; i < x.Length; i++) max = MathF.Max(max, x[i]);
        return max;
    }

    /// <summary>p = e^(x - max); returns the sum of p. p may be x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float ExpShifted(Span<float> p, ReadOnlySpan<float> x, float max)
    {
        float sum = 0;
        int i = 0;
        if (Simd.Enabled && x.Length >= Simd.Width)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float pr = ref MemoryMarshal.GetReference(p);
            var shift = Vector256.Create(max);
            var s = Vector256<float>.Zero;
            for (; i + Simd.Width <= x.Length; i += Simd.Width)
            {
                var e = Simd.Exp(Vector256.LoadUnsafe(ref xr, (nuint)i) - shift);
                e.StoreUnsafe(ref pr, (nuint)i);
                s += e;
            }
            sum = Simd.Sum(s);
        }
        for (; i < x.Length; i++)
        {
            p[i] = MathF.Exp(x[i] - max);
            sum += p[i];
        }
        return sum;
    }
}
