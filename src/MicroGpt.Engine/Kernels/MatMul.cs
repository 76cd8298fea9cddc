using System.Runtime.CompilerServices;
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
/// <para>
/// Two kinds of kernels: packed, cache-blocked products (<see cref="Gemm"/>) for batches of many
/// rows, and the small-shape kernels below, which win at a few rows (a sentence of the tutorial:
/// packing costs as much as the product there). A caller that gives a <see cref="GemmWorkspace"/>
/// asks for the packed products. The two kinds round differently, so the choice never depends on
/// a thread's share of the rows: the forward is packed whenever a workspace is given (a trainer
/// gives one from the size of its batches, and Gpt passes it on), dinp too from 128 channels,
/// and dW, whose rows are always the whole batch's, from 256 rows.
/// </para>
/// </summary>
static class MatMul
{
    const int Block = 4; // rows of y per register block in AddProducts

    /// <summary>
    /// Whether the packed products pay for batches of up to <paramref name="maxRows"/> rows: a
    /// trainer then gives each thread a workspace, and its forward products are all packed (from
    /// 48 rows on they beat the small-shape forward at every embedding size measured, 32 to 512).
    /// </summary>
    public static bool Packs(int maxRows) => Simd.Enabled && maxRows >= 64;

    // Where the packed backward products beat the small-shape ones (bench --gemm): dinp when a
    // row has 128 channels or more (below that the small kernel's 32-column blocks run at full
    // speed), dW from 256 rows (the sum's length; the small kernel re-reads inp for every four
    // output rows, which stays in L1 only for short sums).
    const int PackedInputChannels = 128, PackedWeightRows = 256;

    /// <summary>out (N, OC) = inp (N, C) · weight (OC, C)^T; packed when given a workspace.</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight, int N, int C, int OC, GemmWorkspace? workspace)
    {
        if (!Simd.Enabled) ForwardNaive(output, inp, weight, N, C, OC);
        else if (workspace is not null) Gemm.Multiply(output, OC, inp, C, 1, weight, 1, C, N, OC, C, accumulate: false, workspace, Gemm.Best);
        else ForwardSmall(output, inp, weight, N, C, OC);
    }

    /// <summary>dinp (N, C) += dout (N, OC) · weight (OC, C).</summary>
    public static void BackwardInput(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> weight, int N, int C, int OC, GemmWorkspace? workspace)
    {
        if (!Simd.Enabled) BackwardInputNaive(dinp, dout, weight, N, C, OC);
        else if (workspace is not null && C >= PackedInputChannels) Gemm.Multiply(dinp, C, dout, OC, 1, weight, C, 1, N, C, OC, accumulate: true, workspace, Gemm.Best);
        else BackwardInputSmall(dinp, dout, weight, N, C, OC);
    }

    /// <summary>dweight (OC, C) += dout (N, OC)^T · inp (N, C), summing rows in order; rows [o0, o1) only.</summary>
    public static void BackwardWeight(Span<float> dweight, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, int N, int C, int OC, int o0, int o1, GemmWorkspace? workspace)
    {
        if (!Simd.Enabled) BackwardWeightNaive(dweight, dout, inp, N, C, OC, o0, o1);
        else if (workspace is not null && N >= PackedWeightRows)
            Gemm.Multiply(dweight[(o0 * C)..(o1 * C)], C, dout[o0..], 1, OC, inp, C, 1, o1 - o0, C, N, accumulate: true, workspace, Gemm.Best);
        else BackwardWeightSmall(dweight, dout, inp, N, C, OC, o0, o1);
    }

    /// <summary>The small-shape forward: out (N, OC) = inp (N, C) · weight (OC, C)^T, each output a sum of eight lanes' chains.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardSmall(Span<float> output, ReadOnlySpan<float> inp, ReadOnlySpan<float> weight, int N, int C, int OC)
    {
        if (C < Simd.Width) { ForwardNaive(output, inp, weight, N, C, OC); return; }
        ref float w = ref MemoryMarshal.GetReference(weight);
        ref float x = ref MemoryMarshal.GetReference(inp);
        ref float y = ref MemoryMarshal.GetReference(output);
        int vectorC = C - C % Simd.Width;
        // Two rows by eight outputs at a time: each chunk of the eight weight rows is loaded once
        // for two rows, each input chunk once for eight outputs, and one transposing reduction
        // turns eight accumulators into eight outputs, stored as one vector. A last partial block
        // repeats its last row or weight row (rather than branch in the loop) and stores only
        // its real outputs.
        for (int o = 0; o < OC; o += 8)
        {
            int last = OC - 1;
            nuint w0 = (nuint)(o * C), w1 = (nuint)(Math.Min(o + 1, last) * C), w2 = (nuint)(Math.Min(o + 2, last) * C), w3 = (nuint)(Math.Min(o + 3, last) * C),
                  w4 = (nuint)(Math.Min(o + 4, last) * C), w5 = (nuint)(Math.Min(o + 5, last) * C), w6 = (nuint)(Math.Min(o + 6, last) * C), w7 = (nuint)(Math.Min(o + 7, last) * C);
            for (int n = 0; n < N; n += 2)
            {
                nuint x0 = (nuint)(n * C), x1 = (nuint)(Math.Min(n + 1, N - 1) * C);
                var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0; var a5 = a0; var a6 = a0; var a7 = a0;
                var b0 = a0; var b1 = a0; var b2 = a0; var b3 = a0; var b4 = a0; var b5 = a0; var b6 = a0; var b7 = a0;
                for (nuint c = 0; c < (nuint)vectorC; c += Simd.Width)
                {
                    var xa = Vector256.LoadUnsafe(ref x, x0 + c);
                    var xb = Vector256.LoadUnsafe(ref x, x1 + c);
                    var wc = Vector256.LoadUnsafe(ref w, w0 + c); a0 = Simd.MulAdd(wc, xa, a0); b0 = Simd.MulAdd(wc, xb, b0);
                    wc = Vector256.LoadUnsafe(ref w, w1 + c); a1 = Simd.MulAdd(wc, xa, a1); b1 = Simd.MulAdd(wc, xb, b1);
                    wc = Vector256.LoadUnsafe(ref w, w2 + c); a2 = Simd.MulAdd(wc, xa, a2); b2 = Simd.MulAdd(wc, xb, b2);
                    wc = Vector256.LoadUnsafe(ref w, w3 + c); a3 = Simd.MulAdd(wc, xa, a3); b3 = Simd.MulAdd(wc, xb, b3);
                    wc = Vector256.LoadUnsafe(ref w, w4 + c); a4 = Simd.MulAdd(wc, xa, a4); b4 = Simd.MulAdd(wc, xb, b4);
                    wc = Vector256.LoadUnsafe(ref w, w5 + c); a5 = Simd.MulAdd(wc, xa, a5); b5 = Simd.MulAdd(wc, xb, b5);
                    wc = Vector256.LoadUnsafe(ref w, w6 + c); a6 = Simd.MulAdd(wc, xa, a6); b6 = Simd.MulAdd(wc, xb, b6);
                    wc = Vector256.LoadUnsafe(ref w, w7 + c); a7 = Simd.MulAdd(wc, xa, a7); b7 = Simd.MulAdd(wc, xb, b7);
                }
                var sa = Simd.Sum8(a0, a1, a2, a3, a4, a5, a6, a7);
                var sb = Simd.Sum8(b0, b1, b2, b3, b4, b5, b6, b7);
                for (nuint c = (nuint)vectorC; c < (nuint)C; c++)
                {
                    var wc = Vector256.Create(Unsafe.Add(ref w, w0 + c), Unsafe.Add(ref w, w1 + c), Unsafe.Add(ref w, w2 + c), Unsafe.Add(ref w, w3 + c),
                                              Unsafe.Add(ref w, w4 + c), Unsafe.Add(ref w, w5 + c), Unsafe.Add(ref w, w6 + c), Unsafe.Add(ref w, w7 + c));
                    sa += wc * Unsafe.Add(ref x, x0 + c);
                    sb += wc * Unsafe.Add(ref x, x1 + c);
                }
                Store(output, sa, n, o, OC);
                if (n + 1 < N) Store(output, sb, n + 1, o, OC);
            }
        }
    }

    /// <summary>out[n][o .. o + 8) = sums, or as many of them as there are outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Span<float> output, Vector256<float> sums, int n, int o, int OC)
    {
        if (o + 8 <= OC)
            sums.StoreUnsafe(ref MemoryMarshal.GetReference(output), (nuint)(n * OC + o));
        else
            for (int i = 0; o + i < OC; i++) output[n * OC + o + i] = sums[i];
    }

    /// <summary>The small-shape dinp (N, C) += dout (N, OC) · weight (OC, C).</summary>
    public static void BackwardInputSmall(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> weight, int N, int C, int OC) =>
        AddProducts(dinp, dout, OC, 1, weight, N, OC, C);

    /// <summary>The small-shape dweight (OC, C) += dout (N, OC)^T · inp (N, C), rows [o0, o1) only.</summary>
    public static void BackwardWeightSmall(Span<float> dweight, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, int N, int C, int OC, int o0, int o1) =>
        AddProducts(dweight[(o0 * C)..(o1 * C)], dout[o0..], 1, OC, inp, o1 - o0, N, C);

    /// <summary>
    /// y (R, C) += A (R, K) · b (K, C), where A[r][k] = a[r * rowStride + k * kStride]: both
    /// backward kernels are this product. The columns in whole vectors are each one chain of fused
    /// multiply-adds over k in order that starts from y's value, as in <see cref="Gemm"/> (the
    /// same bits as adding a chain from zero to y, as this kernel did before, whenever y is zero,
    /// as a trainer's dinp and dW always are); the last C mod 8 columns add a plain sum to y.
    /// Four rows by 32 columns of y
    /// stay in 16 registers for the whole sum, so each chunk of b is loaded once per four rows and
    /// each element of y is read and written once. A last partial block skips its missing rows
    /// with branches that are the same for the whole block, so they cost next to nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddProducts(Span<float> y, ReadOnlySpan<float> a, int rowStride, int kStride, ReadOnlySpan<float> b, int R, int K, int C)
    {
        ref float a00 = ref MemoryMarshal.GetReference(a);
        ref float b00 = ref MemoryMarshal.GetReference(b);
        for (int r = 0; r < R; r += Block)
        {
            int real = Math.Min(Block, R - r);
            // The inner loops walk a and b by reference, with every step and offset a byte count
            // computed here: that keeps them all in registers (indexes are re-scaled every use).
            nint a1 = rowStride * sizeof(float), a2 = 2 * a1, a3 = 3 * a1;
            nint aStep = kStride * sizeof(float), bStep = C * sizeof(float);
            ref float yRow = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), r * C);
            int c = 0;
            for (; c + 4 * Simd.Width <= C; c += 4 * Simd.Width)
            {
                ref float y0 = ref Unsafe.Add(ref yRow, c);
                var (s00, s01, s02, s03) = Load4(ref y0);
                var (s10, s11, s12, s13) = real > 1 ? Load4(ref Unsafe.Add(ref y0, C)) : default;
                var (s20, s21, s22, s23) = real > 2 ? Load4(ref Unsafe.Add(ref y0, 2 * C)) : default;
                var (s30, s31, s32, s33) = real > 3 ? Load4(ref Unsafe.Add(ref y0, 3 * C)) : default;
                ref float ak = ref Unsafe.Add(ref a00, r * rowStride);
                ref float bk = ref Unsafe.Add(ref b00, c);
                for (int k = 0; k < K; k++, ak = ref Unsafe.AddByteOffset(ref ak, aStep), bk = ref Unsafe.AddByteOffset(ref bk, bStep))
                {
                    var b0 = Vector256.LoadUnsafe(ref bk);
                    var b1 = Vector256.LoadUnsafe(ref bk, Simd.Width);
                    var b2 = Vector256.LoadUnsafe(ref bk, 2 * Simd.Width);
                    var b3 = Vector256.LoadUnsafe(ref bk, 3 * Simd.Width);
                    var x = Vector256.Create(ak);
                    s00 = Simd.MulAdd(x, b0, s00); s01 = Simd.MulAdd(x, b1, s01); s02 = Simd.MulAdd(x, b2, s02); s03 = Simd.MulAdd(x, b3, s03);
                    if (real > 1)
                    {
                        x = Vector256.Create(Unsafe.AddByteOffset(ref ak, a1));
                        s10 = Simd.MulAdd(x, b0, s10); s11 = Simd.MulAdd(x, b1, s11); s12 = Simd.MulAdd(x, b2, s12); s13 = Simd.MulAdd(x, b3, s13);
                    }
                    if (real > 2)
                    {
                        x = Vector256.Create(Unsafe.AddByteOffset(ref ak, a2));
                        s20 = Simd.MulAdd(x, b0, s20); s21 = Simd.MulAdd(x, b1, s21); s22 = Simd.MulAdd(x, b2, s22); s23 = Simd.MulAdd(x, b3, s23);
                    }
                    if (real > 3)
                    {
                        x = Vector256.Create(Unsafe.AddByteOffset(ref ak, a3));
                        s30 = Simd.MulAdd(x, b0, s30); s31 = Simd.MulAdd(x, b1, s31); s32 = Simd.MulAdd(x, b2, s32); s33 = Simd.MulAdd(x, b3, s33);
                    }
                }
                Store4(ref y0, s00, s01, s02, s03);
                if (real > 1) Store4(ref Unsafe.Add(ref y0, C), s10, s11, s12, s13);
                if (real > 2) Store4(ref Unsafe.Add(ref y0, 2 * C), s20, s21, s22, s23);
                if (real > 3) Store4(ref Unsafe.Add(ref y0, 3 * C), s30, s31, s32, s33);
            }
            for (; c + Simd.Width <= C; c += Simd.Width)
            {
                ref float y0 = ref Unsafe.Add(ref yRow, c);
                var s0 = Vector256.LoadUnsafe(ref y0);
                var s1 = real > 1 ? Vector256.LoadUnsafe(ref y0, (nuint)C) : default;
                var s2 = real > 2 ? Vector256.LoadUnsafe(ref y0, (nuint)(2 * C)) : default;
                var s3 = real > 3 ? Vector256.LoadUnsafe(ref y0, (nuint)(3 * C)) : default;
                ref float ak = ref Unsafe.Add(ref a00, r * rowStride);
                ref float bk = ref Unsafe.Add(ref b00, c);
                for (int k = 0; k < K; k++, ak = ref Unsafe.AddByteOffset(ref ak, aStep), bk = ref Unsafe.AddByteOffset(ref bk, bStep))
                {
                    var bc = Vector256.LoadUnsafe(ref bk);
                    s0 = Simd.MulAdd(Vector256.Create(ak), bc, s0);
                    if (real > 1) s1 = Simd.MulAdd(Vector256.Create(Unsafe.AddByteOffset(ref ak, a1)), bc, s1);
                    if (real > 2) s2 = Simd.MulAdd(Vector256.Create(Unsafe.AddByteOffset(ref ak, a2)), bc, s2);
                    if (real > 3) s3 = Simd.MulAdd(Vector256.Create(Unsafe.AddByteOffset(ref ak, a3)), bc, s3);
                }
                s0.StoreUnsafe(ref y0);
                if (real > 1) s1.StoreUnsafe(ref y0, (nuint)C);
                if (real > 2) s2.StoreUnsafe(ref y0, (nuint)(2 * C));
                if (real > 3) s3.StoreUnsafe(ref y0, (nuint)(3 * C));
            }
            for (int i = 0; i < real; i++)
                for (int cc = c; cc < C; cc++)
                {
                    float sum = 0;
                    for (int k = 0; k < K; k++) sum += a[(r + i) * rowStride + k * kStride] * b[k * C + cc];
                    y[(r + i) * C + cc] += sum;
                }
        }
    }

    /// <summary>y[0 .. 32) as four vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float>, Vector256<float>, Vector256<float>, Vector256<float>) Load4(ref float y) =>
        (Vector256.LoadUnsafe(ref y), Vector256.LoadUnsafe(ref y, Simd.Width), Vector256.LoadUnsafe(ref y, 2 * Simd.Width), Vector256.LoadUnsafe(ref y, 3 * Simd.Width));

    /// <summary>y[0 .. 32) = s0 | s1 | s2 | s3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store4(ref float y, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        s0.StoreUnsafe(ref y);
        s1.StoreUnsafe(ref y, Simd.Width);
        s2.StoreUnsafe(ref y, 2 * Simd.Width);
        s3.StoreUnsafe(ref y, 3 * Simd.Width);
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
