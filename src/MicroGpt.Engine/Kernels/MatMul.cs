using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// The linear layer without bias: <c>out[n][o] = sum_c inp[n][c] * weight[o][c]</c>, with the
/// weight row-major [out][in] as the tutorial stores it.
/// N = rows, C = input channels, OC = output channels.
/// The backward pass is two kernels: <see cref="BackwardInput"/> runs per row with the rest of
/// a sentence's backward pass, and <see cref="BackwardWeight"/> sums over all rows of a batch in
/// row order afterwards, so the gradient is bit-identical whatever the number of threads.
/// </summary>
static class MatMul
{
    /// <summary>out (N, OC) = inp (N, C) · weight (OC, C)^T.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        if (!Simd.Enabled || C < Simd.Width) { ForwardNaive(output, inp, weight, N, C, OC); return; }
        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float x = ref MemoryMarshal.GetReference(inp);
        ref float y = ref MemoryMarshal.GetReference(output);
        int vectorC = C - C % Simd.Width;
        int o = 0;
        for (; o + 4 <= OC; o += 4)
        {
            nuint w0 = (nuint)(o * C), w1 = w0 + (nuint)C, w2 = w1 + (nuint)C, w3 = w2 + (nuint)C;
            for (int n = 0; n < N; n++)
            {
                nuint xn = (nuint)(n * C);
                var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                for (nuint c = 0; c < (nuint)vectorC; c += Simd.Width)
                {
                    var xc = Vector256.LoadUnsafe(ref x, xn + c);
                    a0 = Simd.MulAdd(Vector256.LoadUnsafe(ref w, w0 + c), xc, a0);
                    a1 = Simd.MulAdd(Vector256.LoadUnsafe(ref w, w1 + c), xc, a1);
                    a2 = Simd.MulAdd(Vector256.LoadUnsafe(ref w, w2 + c), xc, a2);
                    a3 = Simd.MulAdd(Vector256.LoadUnsafe(ref w, w3 + c), xc, a3);
                }
                var sums = Simd.Sum4(a0, a1, a2, a3);
                for (int c = vectorC; c < C; c++)
                {
                    float xc = inp[n * C + c];
                    sums += Vector128.Create(weight[o * C + c], weight[(o + 1) * C + c], weight[(o + 2) * C + c], weight[(o + 3) * C + c]) * xc;
                }
                sums.StoreUnsafe(ref y, (nuint)(n * OC + o));
            }
        }
        for (; o < OC; o++)
            for (int n = 0; n < N; n++)
                output[n * OC + o] = Dot(inp.Slice(n * C, C), weight.Slice(o * C, C));
    }

    /// <summary>dinp (N, C) += dout (N, OC) · weight (OC, C).</summary>
    public static void BackwardInput(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        if (!Simd.Enabled) { BackwardInputNaive(dinp, dout, weight, N, C, OC); return; }
        // Each row of dinp is a sum of weight rows scaled by that row of dout.
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
                Axpy(dinp.Slice(n * C, C), dout[n * OC + o], weight.Slice(o * C, C));
    }

    /// <summary>dweight (OC, C) += dout (N, OC)^T · inp (N, C), summing rows in order; rows [o0, o1) only.</summary>
    public static void BackwardWeight(Span<float> dweight, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, int N, int C, int OC, int o0, int o1)
    {
        if (!Simd.Enabled) { BackwardWeightNaive(dweight, dout, inp, N, C, OC, o0, o1); return; }
        for (int o = o0; o < o1; o++)
        {
            var row = dweight.Slice(o * C, C);
            for (int n = 0; n < N; n++)
                Axpy(row, dout[n * OC + o], inp.Slice(n * C, C));
        }
    }

    /// <summary>y += a * x.</summary>
    static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float xr = ref MemoryMarshal.GetReference(x);
        var av = Vector256.Create(a);
        int i = 0;
        for (; i + Simd.Width <= y.Length; i += Simd.Width)
            Simd.MulAdd(av, Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        for (; i < y.Length; i++)
            y[i] += a * x[i];
    }

    static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    // The scalar reference versions: the definition of each kernel, and the path on CPUs without AVX2.

    public static void ForwardNaive(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
                output[n * OC + o] = Dot(inp.Slice(n * C, C), weight.Slice(o * C, C));
    }

    public static void BackwardInputNaive(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
            {
                float d = dout[n * OC + o];
                for (int c = 0; c < C; c++) dinp[n * C + c] += d * weight[o * C + c];
            }
    }

    public static void BackwardWeightNaive(Span<float> dweight, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, int N, int C, int OC, int o0, int o1)
    {
        for (int o = o0; o < o1; o++)
            for (int n = 0; n < N; n++)
            {
                float d = dout[n * OC + o];
                for (int c = 0; c < C; c++) dweight[o * C + c] += d * inp[n * C + c];
            }
    }
}
