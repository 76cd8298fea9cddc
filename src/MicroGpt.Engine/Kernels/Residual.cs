using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// The residual connection: <c>out = a + b</c>, elementwise; out may alias a or b. Its backward
/// pass hands the output's gradient unchanged to both inputs, which the model's backward does by
/// reusing that gradient buffer, so no kernel is needed for it.
/// </summary>
static class Residual
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward(Span<float> output, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int i = 0;
        if (Simd.Enabled)
        {
            ref float y = ref MemoryMarshal.GetReference(output);
            ref float ar = ref MemoryMarshal.GetReference(a);
            ref float br = ref MemoryMarshal.GetReference(b);
            for (; i + Simd.Width <= output.Length; i += Simd.Width)
                (Vector256.LoadUnsafe(ref ar, (nuint)i) + Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        for (; i < output.Length; i++) output[i] = a[i] + b[i];
    }

    // The scalar reference version: the definition of the kernel, and the tests' yardstick.

    public static void ForwardNaive(Span<float> output, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        for (int i = 0; i < output.Length; i++) output[i] = a[i] + b[i];
    }
}
