using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt.Kernels;

/// <summary>
/// Causal multi-head self-attention over packed sentences. Row n belongs to the sentence that
/// starts at row start[n]; it attends to the rows start[n]..n of that sentence only.
/// Per head h (size HS = C / H): <c>att = softmax(q·k / sqrt(HS))</c> (the maximum subtracted
/// first), <c>out = att · v</c>. qkv (N, 3C) holds each row's query, key and value side by side;
/// att (N, H, T) caches the attention weights for backward (T = block size, so t &lt; T for
/// every row): row n's weights over positions 0..t, then zeros.
/// <para>
/// Given a workspace (a trainer's thread with batches for the packed products), a sentence of
/// <see cref="PackedRows"/> rows or more runs as matrix products of <see cref="Gemm"/>, per head:
/// scores = Q K^T and out = att V; backward datt = dY V^T, dV += att^T dY, and from the score
/// gradients dS: dQ += dS K, dK += dS^T Q. Zeros above the diagonal stand for the positions a
/// row does not see.
/// A sentence's rows are never split between threads, so which way a sentence goes depends on
/// its length and the batch, never on the thread count.
/// </para>
/// <para>
/// Row by row, the vector kernels take a row's products over the keys before it eight keys at a
/// time (eight dot products in flight) and keep the head's output (or dq, dk, dv) in registers
/// while they sum over the keys, in the order and with the roundings of the plain loop over
/// Simd.Dot and Simd.MulAdd that came before them, so that the tutorial's run keeps its bits.
/// The packed products round otherwise (their chains run over the channels one at a time, and
/// their softmax is <see cref="Softmax.Forward"/>, with a vector exp). The naive versions below
/// are the scalar path, one float at a time; the tests hold all three to a reference of their own.
/// </para>
/// </summary>
static class Attention
{
    /// <summary>The shortest sentence that runs as matrix products when a workspace is given.</summary>
    public const int PackedRows = 32;

    /// <summary>output (N, C) and att (N, H, T) of rows [n0, n1), from qkv (N, 3C); packed products for long sentences when given a workspace.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T, GemmWorkspace? workspace = null)
    {
        if (!Simd.Enabled) { ForwardNaive(output, att, qkv, start, n0, n1, C, H, T); return; }
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0, e; n < n1; n = e)
        {
            int s = start[n];
            for (e = n + 1; e < n1 && start[e] == s; e++) { } // rows [n, e) of the sentence that starts at s
            if (workspace is not null && n == s && e - s >= PackedRows)
            {
                for (int h = 0; h < H; h++) ForwardPacked(output, att, qkv, s, e, h, C, H, T, scale, workspace);
                continue;
            }
            for (int row = n; row < e; row++)
            {
                int t = row - s;
                for (int h = 0; h < H; h++)
                {
                    var w = att.Slice((row * H + h) * T, T);
                    // keys: rows s..row, at offset C + h hs; values at 2C + h hs
                    Dots(w[..(t + 1)], qkv.Slice(row * 3 * C + h * hs, hs), qkv[(s * 3 * C + C + h * hs)..], 3 * C, scale);
                    Softmax.Row(w[..(t + 1)]); // MathF.Exp, as the tutorial's runs have always rounded it
                    w[(t + 1)..].Clear();
                    WeightedSum(output.Slice(row * C + h * hs, hs), w[..(t + 1)], qkv[(s * 3 * C + 2 * C + h * hs)..], 3 * C);
                }
            }
        }
    }

    /// <summary>Head h of the sentence of rows [s, e): att = softmax(scale Q K^T) below the diagonal, out = att V.</summary>
    static void ForwardPacked(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, int s, int e, int h, int C, int H, int T, float scale, GemmWorkspace workspace)
    {
        int L = e - s, hs = C / H, rowStride = H * T;
        var scores = att[((s * H + h) * T)..];
        int queries = s * 3 * C + h * hs, keys = queries + C, values = keys + C;
        Gemm.Multiply(scores, rowStride, qkv[queries..], 3 * C, 1, qkv[keys..], 1, 3 * C, L, L, hs, accumulate: false, workspace, Gemm.Best);
        for (int t = 0; t < L; t++)
        {
            var w = scores.Slice(t * rowStride, T);
            Simd.Scale(w[..(t + 1)], w[..(t + 1)], scale);
            Softmax.Forward(w[..(t + 1)], w[..(t + 1)]);
            w[(t + 1)..].Clear();
        }
        Gemm.Multiply(output[(s * C + h * hs)..], C, scores, rowStride, 1, qkv[values..], 3 * C, 1, L, hs, L, accumulate: false, workspace, Gemm.Best);
    }

    /// <summary>
    /// dqkv += the gradient through attention for rows [n0, n1) (whole sentences, since a row's
    /// backward reaches the keys and values of the rows before it). scratch: (n1 - n0, T).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dqkv, Span<float> scratch, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T, GemmWorkspace? workspace = null)
    {
        if (!Simd.Enabled) { BackwardNaive(dqkv, scratch, dout, qkv, att, start, n0, n1, C, H, T); return; }
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int s = n0, e; s < n1; s = e)
        {
            for (e = s + 1; e < n1 && start[e] == s; e++) { } // the sentence: rows [s, e)
            if (workspace is not null && e - s >= PackedRows)
            {
                for (int h = 0; h < H; h++) BackwardPacked(dqkv, scratch[((s - n0) * T)..], dout, qkv, att, s, e, h, C, H, T, scale, workspace);
                continue;
            }
            for (int h = 0; h < H; h++)
            {
                int keys = s * 3 * C + C + h * hs, values = keys + C;
                // Row by row: the gradient of each row's scores, kept in scratch, and dq.
                for (int n = s; n < e; n++)
                {
                    int t = n - s;
                    var w = att.Slice((n * H + h) * T, t + 1);
                    var dscore = scratch.Slice((n - n0) * T, t + 1);
                    // forward was: y = sum_j w[j] v[j], so dw[j] = dy·v[j]
                    Dots(dscore, dout.Slice(n * C + h * hs, hs), qkv[values..], 3 * C, 1);
                    // forward was: w = softmax(score), so dscore[j] = w[j] (dw[j] - sum_i w[i] dw[i]);
                    // and score[j] = scale q·k[j], so dq += scale sum_j dscore[j] k[j]
                    float weighted = 0;
                    for (int j = 0; j <= t; j++) weighted += w[j] * dscore[j];
                    for (int j = 0; j <= t; j++) dscore[j] = w[j] * (dscore[j] - weighted) * scale;
                    AddWeightedSum(dqkv.Slice(n * 3 * C + h * hs, hs), dscore, 1, t + 1, qkv[keys..], 3 * C);
                }
                // Key by key, over the rows that saw it: dv[j] += sum_n w[n][j] dy[n], dk[j] += scale sum_n dscore[n][j] q[n].
                for (int j = s; j < e; j++)
                {
                    AddWeightedSum(dqkv.Slice(j * 3 * C + 2 * C + h * hs, hs), att[((j * H + h) * T + j - s)..], H * T, e - j, dout[(j * C + h * hs)..], C);
                    AddWeightedSum(dqkv.Slice(j * 3 * C + C + h * hs, hs), scratch[((j - n0) * T + j - s)..], T, e - j, qkv[(j * 3 * C + h * hs)..], 3 * C);
                }
            }
        }
    }

    /// <summary>Head h of the sentence of rows [s, e), dscore in scratch (L, T): as the row-by-row backward, as matrix products.</summary>
    static void BackwardPacked(Span<float> dqkv, Span<float> dscore, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, int s, int e, int h, int C, int H, int T, float scale, GemmWorkspace workspace)
    {
        int L = e - s, hs = C / H, rowStride = H * T;
        var w = att[((s * H + h) * T)..];
        var dy = dout[(s * C + h * hs)..];
        int queries = s * 3 * C + h * hs, keys = queries + C, values = keys + C;
        // forward was: y = att V, so datt = dY V^T and dV += att^T dY
        Gemm.Multiply(dscore, T, dy, C, 1, qkv[values..], 1, 3 * C, L, L, hs, accumulate: false, workspace, Gemm.Best);
        Gemm.Multiply(dqkv[values..], 3 * C, w, 1, rowStride, dy, C, 1, L, hs, L, accumulate: true, workspace, Gemm.Best);
        // forward was: att = softmax(score), so dscore[j] = att[j] (datt[j] - sum_i att[i] datt[i]);
        // and score = scale Q K^T, so dQ += scale dscore K and dK += scale dscore^T Q
        for (int t = 0; t < L; t++)
        {
            var d = dscore.Slice(t * T, L);
            var weights = w.Slice(t * rowStride, t + 1);
            float weighted = Simd.Dot(weights, d[..(t + 1)]);
            for (int j = 0; j <= t; j++) d[j] = weights[j] * (d[j] - weighted) * scale;
            d[(t + 1)..].Clear();
        }
        Gemm.Multiply(dqkv[queries..], 3 * C, dscore, T, 1, qkv[keys..], 3 * C, 1, L, hs, L, accumulate: true, workspace, Gemm.Best);
        Gemm.Multiply(dqkv[keys..], 3 * C, dscore, 1, T, qkv[queries..], 3 * C, 1, L, hs, L, accumulate: true, workspace, Gemm.Best);
    }

    /// <summary>
    /// d[j] = a · rows[j] * scale for j &lt; d.Length, row j at rows[j * stride ..]: eight rows at a
    /// time (eight chains in flight), each product summed exactly as <see cref="Simd.Dot"/> sums it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dots(Span<float> d, ReadOnlySpan<float> a, ReadOnlySpan<float> rows, int stride, float scale)
    {
        int hs = a.Length, vectors = hs < Simd.Width ? 0 : hs - hs % Simd.Width, j = 0;
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float r0 = ref MemoryMarshal.GetReference(rows);
        _ = rows[(d.Length - 1) * stride + hs - 1]; // the bounds, checked once for the unchecked loops
        for (; vectors > 0 && j + 8 <= d.Length; j += 8)
        {
            ref float rj = ref Unsafe.Add(ref r0, j * stride);
            var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0; var s4 = s0; var s5 = s0; var s6 = s0; var s7 = s0;
            nuint st = (nuint)stride;
            for (nuint c = 0; c < (nuint)vectors; c += Simd.Width)
            {
                var x = Vector256.LoadUnsafe(ref ar, c);
                s0 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, c), s0);
                s1 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, st + c), s1);
                s2 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 2 * st + c), s2);
                s3 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 3 * st + c), s3);
                s4 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 4 * st + c), s4);
                s5 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 5 * st + c), s5);
                s6 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 6 * st + c), s6);
                s7 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 7 * st + c), s7);
            }
            d[j] = Finish(s0, ref ar, ref rj, vectors, hs) * scale;
            d[j + 1] = Finish(s1, ref ar, ref Unsafe.Add(ref rj, stride), vectors, hs) * scale;
            d[j + 2] = Finish(s2, ref ar, ref Unsafe.Add(ref rj, 2 * stride), vectors, hs) * scale;
            d[j + 3] = Finish(s3, ref ar, ref Unsafe.Add(ref rj, 3 * stride), vectors, hs) * scale;
            d[j + 4] = Finish(s4, ref ar, ref Unsafe.Add(ref rj, 4 * stride), vectors, hs) * scale;
            d[j + 5] = Finish(s5, ref ar, ref Unsafe.Add(ref rj, 5 * stride), vectors, hs) * scale;
            d[j + 6] = Finish(s6, ref ar, ref Unsafe.Add(ref rj, 6 * stride), vectors, hs) * scale;
            d[j + 7] = Finish(s7, ref ar, ref Unsafe.Add(ref rj, 7 * stride), vectors, hs) * scale;
        }
        for (; j < d.Length; j++) d[j] = Simd.Dot(a, rows.Slice(j * stride, hs)) * scale;
    }

    /// <summary>The end of <see cref="Simd.Dot"/>: the lanes' sum, then the channels past the last whole vector one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Finish(Vector256<float> lanes, ref float a, ref float row, int from, int hs)
    {
        float sum = Simd.Sum(lanes);
        for (int c = from; c < hs; c++) sum += Unsafe.Add(ref a, c) * Unsafe.Add(ref row, c);
        return sum;
    }

    /// <summary>y = sum_j w[j] rows[j], row j at rows[j * stride ..], summed over j in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WeightedSum(Span<float> y, ReadOnlySpan<float> w, ReadOnlySpan<float> rows, int stride)
    {
        y.Clear();
        AddWeightedSum(y, w, 1, w.Length, rows, stride);
    }

    /// <summary>
    /// y += sum_j w[j * wStride] rows[j] for j &lt; count, row j at rows[j * stride ..], over j in
    /// order, exactly as count calls of <see cref="Simd.MulAdd(Span{float}, float, ReadOnlySpan{float})"/>
    /// would sum it: 32 channels of y stay in registers for the whole sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddWeightedSum(Span<float> y, ReadOnlySpan<float> w, int wStride, int count, ReadOnlySpan<float> rows, int stride)
    {
        int hs = y.Length, c = 0;
        _ = rows[(count - 1) * stride + hs - 1]; // the bounds, checked once for the unchecked loops
        _ = w[(count - 1) * wStride];
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref float r0 = ref MemoryMarshal.GetReference(rows);
        for (; c + 4 * Simd.Width <= hs; c += 4 * Simd.Width)
        {
            ref float yc = ref Unsafe.Add(ref yr, c);
            var a0 = Vector256.LoadUnsafe(ref yc); var a1 = Vector256.LoadUnsafe(ref yc, 8); var a2 = Vector256.LoadUnsafe(ref yc, 16); var a3 = Vector256.LoadUnsafe(ref yc, 24);
            ref float rj = ref Unsafe.Add(ref r0, c);
            ref float wj = ref w0;
            for (int j = 0; j < count; j++, rj = ref Unsafe.Add(ref rj, stride), wj = ref Unsafe.Add(ref wj, wStride))
            {
                var x = Vector256.Create(wj);
                a0 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj), a0);
                a1 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 8), a1);
                a2 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 16), a2);
                a3 = Simd.MulAdd(x, Vector256.LoadUnsafe(ref rj, 24), a3);
            }
            a0.StoreUnsafe(ref yc); a1.StoreUnsafe(ref yc, 8); a2.StoreUnsafe(ref yc, 16); a3.StoreUnsafe(ref yc, 24);
        }
        for (; c + Simd.Width <= hs; c += Simd.Width)
        {
            ref float yc = ref Unsafe.Add(ref yr, c);
            var a0 = Vector256.LoadUnsafe(ref yc);
            ref float rj = ref Unsafe.Add(ref r0, c);
            ref float wj = ref w0;
            for (int j = 0; j < count; j++, rj = ref Unsafe.Add(ref rj, stride), wj = ref Unsafe.Add(ref wj, wStride))
                a0 = Simd.MulAdd(Vector256.Create(wj), Vector256.LoadUnsafe(ref rj), a0);
            a0.StoreUnsafe(ref yc);
        }
        for (; c < hs; c++) // as Simd.MulAdd's last channels: each product rounded, then added
        {
            float sum = y[c];
            for (int j = 0; j < count; j++) sum += w[j * wStride] * rows[j * stride + c];
            y[c] = sum;
        }
    }

    // One float at a time: the path on CPUs without AVX2 (KernelTests holds it, and the paths above, to a reference written apart).

    public static void ForwardNaive(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T)
    {
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0; n < n1; n++)
            for (int h = 0; h < H; h++)
            {
                int s = start[n], t = n - s;
                var w = att.Slice((n * H + h) * T, t + 1);
                for (int j = 0; j <= t; j++)
                {
                    float score = 0;
                    for (int i = 0; i < hs; i++) score += qkv[n * 3 * C + h * hs + i] * qkv[(s + j) * 3 * C + C + h * hs + i];
                    w[j] = score * scale;
                }
                Softmax.RowDivided(w);
                att.Slice((n * H + h) * T + t + 1, T - t - 1).Clear();
                for (int i = 0; i < hs; i++)
                {
                    float y = 0;
                    for (int j = 0; j <= t; j++) y += w[j] * qkv[(s + j) * 3 * C + 2 * C + h * hs + i];
                    output[n * C + h * hs + i] = y;
                }
            }
    }

    public static void BackwardNaive(Span<float> dqkv, Span<float> scratch, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T)
    {
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0; n < n1; n++)
            for (int h = 0; h < H; h++)
            {
                int s = start[n], t = n - s, q = n * 3 * C + h * hs;
                var w = att.Slice((n * H + h) * T, t + 1);
                var datt = scratch.Slice((n - n0) * T, t + 1);
                float weighted = 0;
                for (int j = 0; j <= t; j++)
                {
                    int v = (s + j) * 3 * C + 2 * C + h * hs;
                    datt[j] = 0;
                    for (int i = 0; i < hs; i++)
                    {
                        datt[j] += dout[n * C + h * hs + i] * qkv[v + i];
                        dqkv[v + i] += w[j] * dout[n * C + h * hs + i];
                    }
                    weighted += w[j] * datt[j];
                }
                for (int j = 0; j <= t; j++)
                {
                    float dscore = w[j] * (datt[j] - weighted) * scale;
                    int k = (s + j) * 3 * C + C + h * hs;
                    for (int i = 0; i < hs; i++)
                    {
                        dqkv[q + i] += dscore * qkv[k + i];
                        dqkv[k + i] += dscore * qkv[q + i];
                    }
                }
            }
    }
}
