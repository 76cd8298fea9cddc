using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MicroGpt.Kernels;

/// <summary>
/// The squared L2 norm of a gradient, <c>sum_i x[i]^2</c>, accumulated in double: the trainer
/// reports the norm and stops on a non-finite one.
/// </summary>
static class GradientNorm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        if (!Simd.Enabled) return SumOfSquaresNaive(x);
        ref float xr = ref MemoryMarshal.GetReference(x);
        // Widening every square to double would make the conversions the bottleneck, so each
        // lane first sums the squares of four floats in float (relative error below 3e-7: the
        // terms are positive), and only that partial sum is widened and added in double.
        var s0 = Vector256<double>.Zero; var s1 = s0;
        int i = 0;
        for (; i + 4 * Simd.Width <= x.Length; i += 4 * Simd.Width)
        {
            var a = Vector256.LoadUnsafe(ref xr, (nuint)i);
            var b = Vector256.LoadUnsafe(ref xr, (nuint)i + Simd.Width);
            var c = Vector256.LoadUnsafe(ref xr, (nuint)i + 2 * Simd.Width);
            var d = Vector256.LoadUnsafe(ref xr, (nuint)i + 3 * Simd.Width);
            var squares = Simd.MulAdd(a, a, Simd.MulAdd(b, b, Simd.MulAdd(c, c, d * d)));
            s0 += Avx.ConvertToVector256Double(squares.GetLower());
            s1 += Avx.ConvertToVector256Double(squares.GetUpper());
        }
        var s = s0 + s1;
        double sum = s[0] + s[1] + s[2] + s[3];
        for (; i < x.Length; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    public static double SumOfSquaresNaive(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x) sum += (double)v * v;
        return sum;
    }
}
