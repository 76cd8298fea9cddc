using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MicroGpt.Kernels;

/// <summary><c>out = max(0, x)</c>, elementwise.</summary>
static class Relu
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<float> output, ReadOnlySpan<float> inp)
    {
        int i = 0;
        if (Simd.Enabled)
        {
            ref float x = ref MemoryMarshal.GetReference(inp);
            ref float y = ref MemoryMarshal.GetReference(output);
            // Avx.Max returns its second operand when either is NaN or both are zeros, so NaN and
            // -0 give +0 as the scalar comparison does.
            for (; i + Simd.Width <= inp.Length; i += Simd.Width)
                Avx.Max(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref y, (nuint)i);
        }
        for (; i < inp.Length; i++) output[i] = inp[i] > 0 ? inp[i] : 0;
    }

    /// <summary>dinp += dout where the forward output was positive (the tutorial's relu passes no gradient at 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> output)
    {
        int i = 0;
        if (Simd.Enabled)
        {
            ref float dx = ref MemoryMarshal.GetReference(dinp);
            ref float dy = ref MemoryMarshal.GetReference(dout);
            ref float y = ref MemoryMarshal.GetReference(output);
            for (; i + Simd.Width <= dout.Length; i += Simd.Width)
            {
                var positive = Vector256.GreaterThan(Vector256.LoadUnsafe(ref y, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref dx, (nuint)i) + (Vector256.LoadUnsafe(ref dy, (nuint)i) & positive)).StoreUnsafe(ref dx, (nuint)i);
            }
        }
        for (; i < dout.Length; i++)
            if (output[i] > 0) dinp[i] += dout[i];
    }

    // The scalar reference versions: the definition of each kernel, and the tests' yardstick.

    public static void ForwardNaive(Span<float> output, ReadOnlySpan<float> inp)
    {
        for (int i = 0; i < inp.Length; i++) output[i] = inp[i] > 0 ? inp[i] : 0;
    }

    public static void BackwardNaive(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> output)
    {
        for (int i = 0; i < dout.Length; i++)
            if (output[i] > 0) dinp[i] += dout[i];
    }
}
