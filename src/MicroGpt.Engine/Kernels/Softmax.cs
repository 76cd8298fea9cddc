using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// The softmax of attention, the cross-entropy and sampling:
/// <c>p[i] = e^(x[i] - max) / sum_j e^(x[j] - max)</c>, the maximum subtracted first, always.
/// <para>
/// One formula, rounded four ways. Each caller keeps the bits it has always had (the golden
/// trajectories pin training on both kernel paths, and the samples of a seed must not change), and
/// no one rounding serves them all: Simd.Exp and MathF.Exp differ in the last bit, summing in eight
/// lanes is another order than summing one by one, dividing by the sum rounds otherwise than
/// multiplying by its inverse, and a sampler works in double.
/// </para>
/// <list type="table">
/// <item><term><see cref="Forward"/></term><description>e^ by Simd.Exp over whole vectors and MathF.Exp
/// on the rest, the sum in eight lanes then the rest, times 1 / sum: the vocabulary's softmax (the
/// cross-entropy, <see cref="ModelReader"/>'s probabilities) and the rows of packed attention.</description></item>
/// <item><term><see cref="Row"/></term><description>MathF.Exp one by one, summed in order, times 1 / sum:
/// attention's rows on the vector path. <see cref="Forward"/> is this on a CPU without AVX2.</description></item>
/// <item><term><see cref="RowDivided"/></term><description>as <see cref="Row"/>, divided by the sum:
/// attention's rows on the scalar path.</description></item>
/// <item><term><see cref="Tempered"/>, <see cref="LogAt"/></term><description>in double, with a
/// temperature: the distribution a sampler draws from, and the log-probability it reports.</description></item>
/// </list>
/// </summary>
static class Softmax
{
    /// <summary>p = softmax(x), p may be x; returns the maximum and the sum of e^(x - max), from which -log p[i] = log(sum) - (x[i] - max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Max, float Sum) Forward(Span<float> p, ReadOnlySpan<float> x) => Normalize(p, x, Simd.Enabled);

    /// <summary>w = softmax(w), with MathF.Exp one by one: a row of attention weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(Span<float> w) => Normalize(w, w, vector: false);

    /// <summary>w = softmax(w) as <see cref="Row"/> computes it, but each e^ divided by the sum.</summary>
    public static void RowDivided(Span<float> w)
    {
        float sum = ExpShifted(w, w, Max(w, vector: false), vector: false);
        for (int j = 0; j < w.Length; j++) w[j] /= sum;
    }

    /// <summary>
    /// p = softmax(x / temperature) in double, rounded to float at the end: e^((x[i] - max) / temperature),
    /// each rounded to float and summed in double, then divided by the sum. temperature &gt; 0.
    /// </summary>
    public static void Tempered(Span<float> p, ReadOnlySpan<float> x, double temperature)
    {
        float max = Max(x, vector: false);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            p[i] = (float)Math.Exp((x[i] - max) / temperature);
            sum += p[i];
        }
        for (int i = 0; i < x.Length; i++) p[i] = (float)(p[i] / sum);
    }

    /// <summary>
    /// log softmax(x / temperature)[index] in double: (x[index] - max) / temperature - log(sum_j e^((x[j] - max) / temperature)).
    /// At temperature 1, dividing changes no bit.
    /// </summary>
    public static double LogAt(ReadOnlySpan<float> x, int index, double temperature = 1)
    {
        float max = Max(x, vector: false);
        double sum = 0;
        foreach (float l in x) sum += Math.Exp((l - max) / temperature);
        return (x[index] - max) / temperature - Math.Log(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (float Max, float Sum) Normalize(Span<float> p, ReadOnlySpan<float> x, bool vector)
    {
        float max = Max(x, vector);
        float sum = ExpShifted(p, x, max, vector);
        Simd.Scale(p, p, 1f / sum);
        return (max, sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Max(ReadOnlySpan<float> x, bool vector)
    {
        float max = float.NegativeInfinity;
        int i = 0;
        if (vector && x.Length >= Simd.Width)
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float ExpShifted(Span<float> p, ReadOnlySpan<float> x, float max, bool vector)
    {
        float sum = 0;
        int i = 0;
        if (vector && x.Length >= Simd.Width)
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
