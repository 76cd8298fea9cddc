using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MicroGpt.Kernels;

/// <summary>
/// The few vector helpers the kernels share. Kernels take their vector path when
/// <see cref="Enabled"/> (AVX2 and FMA on x64) and their scalar reference path otherwise,
/// so the engine is correct everywhere and fast where it matters.
/// </summary>
static class Simd
{
    public const int Width = 8; // floats in a Vector256

    /// <summary>True when the vector paths are both available and faster than the scalar ones.</summary>
    public static bool Enabled => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Computes <c>a * b + c</c> in one rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);

    /// <summary>Computes <c>sum_i a[i] * b[i]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        int i = 0;
        if (Enabled && a.Length >= Width)
        {
            ref float ar = ref MemoryMarshal.GetReference(a);
            ref float br = ref MemoryMarshal.GetReference(b);
            var s = Vector256<float>.Zero;
            for (; i + Width <= a.Length; i += Width) s = MulAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), s);
            sum = Sum(s);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Computes <c>y[i] += a * x[i]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MulAdd(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Enabled)
        {
            ref float yr = ref MemoryMarshal.GetReference(y);
            ref float xr = ref MemoryMarshal.GetReference(x);
            var av = Vector256.Create(a);
            for (; i + Width <= y.Length; i += Width)
                MulAdd(av, Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < y.Length; i++) y[i] += a * x[i];
    }

    /// <summary>Computes <c>y[i] = a * x[i]</c>; y may be x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(Span<float> y, ReadOnlySpan<float> x, float a)
    {
        int i = 0;
        if (Enabled)
        {
            ref float yr = ref MemoryMarshal.GetReference(y);
            ref float xr = ref MemoryMarshal.GetReference(x);
            var av = Vector256.Create(a);
            for (; i + Width <= y.Length; i += Width) (av * Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < y.Length; i++) y[i] = a * x[i];
    }

    /// <summary>The eight horizontal sums of eight vectors, as one vector [sum a0, ..., sum a7].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sum8(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
                                        Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
    {
        var s0123 = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3)); // low half: partial sums of a0-a3, high half: the rest
        var s4567 = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
        return Avx.Permute2x128(s0123, s4567, 0x20) + Avx.Permute2x128(s0123, s4567, 0x31);
    }

    /// <summary>The horizontal sum of one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> a)
    {
        var s = a.GetLower() + a.GetUpper();
        s += Sse.MoveHighToLow(s, s);
        s += Sse.Shuffle(s, s, 0b01);
        return s.ToScalar();
    }

    /// <summary>The horizontal maximum of one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Vector256<float> a)
    {
        var s = Sse.Max(a.GetLower(), a.GetUpper());
        s = Sse.Max(s, Sse.MoveHighToLow(s, s));
        s = Sse.Max(s, Sse.Shuffle(s, s, 0b01));
        return s.ToScalar();
    }

    /// <summary>
    /// e^x for every lane, within 2 ulp of the exact value for x in [-87, 88] (tested against
    /// Math.Exp). Range reduction x = n ln2 + r with |r| &lt;= ln2/2, then a degree-6
    /// polynomial for e^r and an exponent shift for 2^n. Lanes below -87 give 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var low = Vector256.Create(-87.33654f);
        x = Avx.Min(Avx.Max(x, low), Vector256.Create(88.37626f));
        var n = Avx.RoundToNearestInteger(x * Vector256.Create(1.44269504f));
        // r = x - n ln2, with ln2 split in two so that the product is exact.
        var r = Fma.MultiplyAddNegated(n, Vector256.Create(0.693359375f), x);
        r = Fma.MultiplyAddNegated(n, Vector256.Create(-2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Fma.MultiplyAdd(p, r * r, r + Vector256<float>.One);
        var pow2n = Avx2.ShiftLeftLogical(Avx.ConvertToVector256Int32(n) + Vector256.Create(127), 23).AsSingle();
        var result = p * pow2n;
        return Avx.AndNot(Avx.Compare(x, low, FloatComparisonMode.OrderedLessThanOrEqualNonSignaling), result);
    }
}
