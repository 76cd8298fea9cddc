using System.Runtime.CompilerServices;
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

    /// <summary>The four horizontal sums of four vectors, as one Vector128 [sum a, sum b, sum c, sum d].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var ab = Avx.HorizontalAdd(a, b);  // a01 a23 b01 b23 | a45 a67 b45 b67
        var cd = Avx.HorizontalAdd(c, d);
        var abcd = Avx.HorizontalAdd(ab, cd); // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
        return abcd.GetLower() + abcd.GetUpper();
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
