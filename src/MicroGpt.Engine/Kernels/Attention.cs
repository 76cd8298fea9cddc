using System.Runtime.CompilerServices;

namespace MicroGpt.Kernels;

/// <summary>
/// Causal multi-head self-attention over packed sentences. Row n belongs to the sentence that
/// starts at row start[n]; it attends to the rows start[n]..n of that sentence only.
/// Per head h (size HS = C / H): <c>att = softmax(q·k / sqrt(HS))</c>, <c>out = att · v</c>.
/// qkv (N, 3C) holds each row's query, key and value side by side; att (N, H, T) caches the
/// attention weights for backward (T = block size, so t &lt; T for every row).
/// The optimised and the naive versions are one loop nest: they differ only in the products
/// over a head (q·k, dy·v and the axpys), done eight lanes at a time (a head of 8, the
/// reference size, is exactly one vector) or one float at a time.
/// </summary>
static class Attention
{
    /// <summary>output (N, C) and att (N, H, T) of rows [n0, n1), from qkv (N, 3C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T) =>
        Forward(output, att, qkv, start, n0, n1, C, H, T, vector: true);

    /// <summary>
    /// dqkv += the gradient through attention for rows [n0, n1) (whole sentences, since a row's
    /// backward reaches the keys and values of the rows before it). datt is scratch of size T.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dqkv, Span<float> datt, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T) =>
        Backward(dqkv, datt, dout, qkv, att, start, n0, n1, C, H, T, vector: true);

    // The scalar reference versions: the definition of each kernel, and the tests' yardstick.

    public static void ForwardNaive(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T) =>
        Forward(output, att, qkv, start, n0, n1, C, H, T, vector: false);

    public static void BackwardNaive(Span<float> dqkv, Span<float> datt, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T) =>
        Backward(dqkv, datt, dout, qkv, att, start, n0, n1, C, H, T, vector: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into each caller, where vector is a constant
    static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T, bool vector)
    {
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0; n < n1; n++)
        {
            int s = start[n], t = n - s;
            for (int h = 0; h < H; h++)
            {
                var q = qkv.Slice(n * 3 * C + h * hs, hs);
                var w = att.Slice((n * H + h) * T, t + 1);
                for (int j = 0; j <= t; j++) w[j] = Dot(q, qkv.Slice((s + j) * 3 * C + C + h * hs, hs), vector) * scale;
                Softmax(w);

                var y = output.Slice(n * C + h * hs, hs);
                y.Clear();
                for (int j = 0; j <= t; j++) MulAdd(y, w[j], qkv.Slice((s + j) * 3 * C + 2 * C + h * hs, hs), vector);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Backward(Span<float> dqkv, Span<float> datt, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T, bool vector)
    {
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0; n < n1; n++)
        {
            int s = start[n], t = n - s;
            for (int h = 0; h < H; h++)
            {
                var w = att.Slice((n * H + h) * T, t + 1);
                var dy = dout.Slice(n * C + h * hs, hs);
                // forward was: y = sum_j w[j] v[j], so dw[j] = dy·v[j] and dv[j] += w[j] dy
                float weighted = 0;
                for (int j = 0; j <= t; j++)
                {
                    int vj = (s + j) * 3 * C + 2 * C + h * hs;
                    datt[j] = Dot(dy, qkv.Slice(vj, hs), vector);
                    MulAdd(dqkv.Slice(vj, hs), w[j], dy, vector);
                    weighted += w[j] * datt[j];
                }
                // forward was: w = softmax(score), so dscore[j] = w[j] (dw[j] - sum_i w[i] dw[i]);
                // and score[j] = scale q·k[j]
                var q = qkv.Slice(n * 3 * C + h * hs, hs);
                var dq = dqkv.Slice(n * 3 * C + h * hs, hs);
                for (int j = 0; j <= t; j++)
                {
                    float dscore = w[j] * (datt[j] - weighted) * scale;
                    int kj = (s + j) * 3 * C + C + h * hs;
                    MulAdd(dq, dscore, qkv.Slice(kj, hs), vector);
                    MulAdd(dqkv.Slice(kj, hs), dscore, q, vector);
                }
            }
        }
    }

    /// <summary>w = softmax(w), the maximum subtracted first; a handful of values, so scalar.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Softmax(Span<float> w)
    {
        float max = float.NegativeInfinity;
        foreach (float x in w) max = MathF.Max(max, x);
        float sum = 0;
        for (int j = 0; j < w.Length; j++)
        {
            w[j] = MathF.Exp(w[j] - max);
            sum += w[j];
        }
        float inverse = 1f / sum;
        for (int j = 0; j < w.Length; j++) w[j] *= inverse;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, bool vector)
    {
        if (vector) return Simd.Dot(a, b);
        float sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MulAdd(Span<float> y, float a, ReadOnlySpan<float> x, bool vector)
    {
        if (vector) Simd.MulAdd(y, a, x);
        else for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }
}
