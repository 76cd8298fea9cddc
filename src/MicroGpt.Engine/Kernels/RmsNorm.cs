using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// RMS normalization without learned weights: <c>out = x / sqrt(mean(x^2) + 1e-5)</c> per row.
/// Forward caches the reciprocal root (rstd) that backward needs.
/// </summary>
static class RmsNorm
{
    public const float Epsilon = 1e-5f;

    /// <summary>out (N, C), rstd (N) from inp (N, C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<float> output, Span<float> rstd, ReadOnlySpan<float> inp, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var x = inp.Slice(n * C, C);
            float r = 1f / MathF.Sqrt(Simd.Dot(x, x) / C + Epsilon);
            rstd[n] = r;
            Simd.Scale(output.Slice(n * C, C), x, r);
        }
    }

    /// <summary>
    /// dinp (N, C) += the gradient through the normalization. With y = x r and
    /// r = (mean(x^2) + eps)^-1/2: dx = r dy - (r^3 / C) x sum(dy x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, ReadOnlySpan<float> rstd, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var x = inp.Slice(n * C, C);
            var dy = dout.Slice(n * C, C);
            var dx = dinp.Slice(n * C, C);
            float r = rstd[n];
            float k = r * r * r * Simd.Dot(dy, x) / C;
            int c = 0;
            if (Simd.Enabled)
            {
                ref float xr = ref MemoryMarshal.GetReference(x);
                ref float dyr = ref MemoryMarshal.GetReference(dy);
                ref float dxr = ref MemoryMarshal.GetReference(dx);
                var rv = Vector256.Create(r);
                var kv = Vector256.Create(k);
                for (; c + Simd.Width <= C; c += Simd.Width)
                {
                    nuint at = (nuint)c;
                    (Vector256.LoadUnsafe(ref dxr, at) + (rv * Vector256.LoadUnsafe(ref dyr, at) - kv * Vector256.LoadUnsafe(ref xr, at))).StoreUnsafe(ref dxr, at);
                }
            }
            for (; c < C; c++) dx[c] += r * dy[c] - k * x[c];
        }
    }

    // The scalar reference versions: the definition of each kernel, and the tests' yardstick.

    public static void ForwardNaive(Span<float> output, Span<float> rstd, ReadOnlySpan<float> inp, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var x = inp.Slice(n * C, C);
            float sumSquares = 0;
            foreach (float v in x) sumSquares += v * v;
            float r = 1f / MathF.Sqrt(sumSquares / C + Epsilon);
            rstd[n] = r;
            var y = output.Slice(n * C, C);
            for (int c = 0; c < C; c++) y[c] = x[c] * r;
        }
    }

    public static void BackwardNaive(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, ReadOnlySpan<float> rstd, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var x = inp.Slice(n * C, C);
            var dy = dout.Slice(n * C, C);
            var dx = dinp.Slice(n * C, C);
            float r = rstd[n];
            float dot = 0;
            for (int c = 0; c < C; c++) dot += dy[c] * x[c];
            float k = r * r * r * dot / C;
            for (int c = 0; c < C; c++) dx[c] += r * dy[c] - k * x[c];
        }
    }
}
