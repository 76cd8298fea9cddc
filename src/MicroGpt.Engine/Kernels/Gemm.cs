using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MicroGpt.Kernels;

/// <summary>
/// The matrix product under <see cref="MatMul"/> for large shapes:
/// <c>C (M, N) = C0 + A (M, K) · B (K, N)</c>, where C0 is C itself (accumulate) or zero, and
/// <c>A[i][k] = a[i * rsA + k * csA]</c>, <c>B[k][j] = b[k * rsB + j * csB]</c>, so that one
/// routine serves the linear layer's three products (B = W^T, B = W, A = dout^T).
/// <para>
/// What it promises: every element is one chain of fused multiply-adds over k in order,
/// <c>c = fma(A[i][K-1], B[K-1][j], ... fma(A[i][0], B[0][j], C0[i][j]))</c>, exactly as
/// <see cref="MultiplyNaive"/> computes it. The blocking below changes where the operands come
/// from, never that order, so the 256-bit and the 512-bit paths give the same bits as the naive
/// loop for any shape, and no result depends on how a caller splits rows between threads.
/// (The scalar path, for CPUs without FMA, rounds each product and sum apart: see MatMul.)
/// </para>
/// <para>
/// How, in the manner of BLIS and OpenBLAS: B is copied a block at a time (KC rows by up to NC
/// columns) into panels NR columns wide, k-major, and A a block at a time (MC rows by KC) into
/// panels MR rows high, k-major; a micro-kernel keeps an MR x NR tile of C in registers for KC
/// steps, each step one row of a B panel (NR / lanes vector loads) times MR broadcast values of
/// an A panel. An A panel (MR x KC, 8 KB) stays in L1 while the B panels of a block (KC x NC,
/// 512 KB, in L2) pass it (the other order, a B panel in L1, was slower: a 32 KB B panel fills a
/// 32 KB L1; the figures are in bench/RESULTS.md). A tile is loaded from C at the start of every KC
/// block and stored at its end, which keeps the chain whole. Edge tiles run on a full tile in
/// the workspace (zero-padded panels), and only their real elements are copied back.
/// </para>
/// </summary>
static class Gemm
{
    /// <summary>The instruction sets the product has a path for.</summary>
    public enum Path { Scalar, Avx2, Avx512 }

    /// <summary>The widest path this CPU runs.</summary>
    public static Path Best => Avx512F.IsSupported ? Path.Avx512 : Simd.Enabled ? Path.Avx2 : Path.Scalar;

    // Blocking, the same for every path, shape and thread count (see the class remarks).
    public const int KC = 256; // the depth of a block (128 and 384 measured slower, 512 no faster)
    public const int MC = 96;  // rows of an A block (MC x KC floats = 96 KB)
    public const int NC = 512; // columns of a B block (KC x NC floats = 512 KB, in L2)

    // Micro-tiles: MR rows by NR columns of C held in registers.
    const int MR512 = 8, NR512 = 32;  // 16 zmm accumulators of the 32 registers
    const int MR256 = 6, NR256 = 16;  // 12 ymm accumulators: AVX2 CPUs have 16 registers

    /// <summary>Floats of packing space one call needs (see <see cref="GemmWorkspace"/>).</summary>
    public const int WorkspaceFloats = MC * KC + KC * NC + MR512 * NR512;

    /// <summary>
    /// C (M, N) = (accumulate ? C : 0) + A (M, K) · B (K, N) on the given path; C's rows are
    /// <paramref name="ldc"/> apart. A and B must not overlap C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(Span<float> c, int ldc, ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int rsB, int csB,
                                int M, int N, int K, bool accumulate, GemmWorkspace workspace, Path path)
    {
        if (M == 0 || N == 0) return;
        if (path == Path.Scalar) { MultiplyScalar(c, ldc, a, rsA, csA, b, rsB, csB, M, N, K, accumulate); return; }
        if (K == 0)
        {
            if (!accumulate) for (int i = 0; i < M; i++) c.Slice(i * ldc, N).Clear();
            return;
        }
        int mr = path == Path.Avx512 ? MR512 : MR256, nr = path == Path.Avx512 ? NR512 : NR256;
        Span<float> packA = workspace.PackA, packB = workspace.PackB, tile = workspace.Tile;
        for (int jc = 0; jc < N; jc += NC)
        {
            int nc = Math.Min(NC, N - jc);
            for (int pc = 0; pc < K; pc += KC)
            {
                int kc = Math.Min(KC, K - pc);
                bool load = accumulate || pc > 0;
                PackB(packB, b, rsB, csB, pc, jc, kc, nc, nr);
                for (int ic = 0; ic < M; ic += MC)
                {
                    int mc = Math.Min(MC, M - ic);
                    PackA(packA, a, rsA, csA, ic, pc, mc, kc, mr);
                    for (int ir = 0; ir < mc; ir += mr)
                    {
                        int rows = Math.Min(mr, mc - ir);
                        ref float aPanel = ref packA[ir * kc];
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int cols = Math.Min(nr, nc - jr);
                            ref float bPanel = ref packB[jr * kc];
                            var target = c[((ic + ir) * ldc + jc + jr)..];
                            if (rows == mr && cols == nr)
                                Kernel(path, kc, ref aPanel, ref bPanel, ref MemoryMarshal.GetReference(target), ldc, load);
                            else
                            {
                                // An edge: the full tile runs in the workspace, on panels padded with zeros.
                                for (int i = 0; i < mr; i++)
                                    for (int j = 0; j < nr; j++)
                                        tile[i * nr + j] = load && i < rows && j < cols ? target[i * ldc + j] : 0;
                                Kernel(path, kc, ref aPanel, ref bPanel, ref MemoryMarshal.GetReference(tile), nr, load);
                                for (int i = 0; i < rows; i++) tile.Slice(i * nr, cols).CopyTo(target[(i * ldc)..]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The 512-bit micro-kernel alone on one pair of panels already in L1, with an 8 x 32 C: the benchmark's yardstick for the blocking around it.</summary>
    public static void KernelOnly(float[] a, float[] b, float[] c) => Kernel512(KC, ref a[0], ref b[0], ref c[0], NR512, load: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Kernel(Path path, int kc, ref float a, ref float b, ref float c, int ldc, bool load)
    {
        if (path == Path.Avx512) Kernel512(kc, ref a, ref b, ref c, ldc, load);
        else Kernel256(kc, ref a, ref b, ref c, ldc, load);
    }

    /// <summary>
    /// Rows [pc, pc + kc) and columns [jc, jc + nc) of B into panels of nr columns:
    /// panel q holds B[pc + k][jc + q nr + j] at (q kc + k) nr + j, zero past column N.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackB(Span<float> packed, ReadOnlySpan<float> b, int rsB, int csB, int pc, int jc, int kc, int nc, int nr)
    {
        for (int q = 0; q * nr < nc; q++)
        {
            int cols = Math.Min(nr, nc - q * nr);
            var panel = packed.Slice(q * kc * nr, kc * nr);
            var origin = b[(pc * rsB + (jc + q * nr) * csB)..];
            if (csB == 1) // rows of B are contiguous: copy runs
                CopyRuns(panel, nr, origin, rsB, cols, kc);
            else // B = W^T: the panel is a transpose of cols rows of W
                Transpose(panel, nr, origin, csB, cols, kc);
            if (cols < nr)
                for (int k = 0; k < kc; k++) panel.Slice(k * nr + cols, nr - cols).Clear();
        }
    }

    /// <summary>
    /// Rows [ic, ic + mc) and columns [pc, pc + kc) of A into panels of mr rows:
    /// panel p holds A[ic + p mr + i][pc + k] at (p kc + k) mr + i, zero past row M.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void PackA(Span<float> packed, ReadOnlySpan<float> a, int rsA, int csA, int ic, int pc, int mc, int kc, int mr)
    {
        for (int p = 0; p * mr < mc; p++)
        {
            int rows = Math.Min(mr, mc - p * mr);
            var panel = packed.Slice(p * kc * mr, kc * mr);
            var origin = a[((ic + p * mr) * rsA + pc * csA)..];
            if (rsA == 1) // A = dout^T: each k is a contiguous run of rows
                CopyRuns(panel, mr, origin, csA, rows, kc);
            else // rows of A are contiguous: the panel is their transpose
                Transpose(panel, mr, origin, rsA, rows, kc);
            if (rows < mr)
                for (int k = 0; k < kc; k++) panel.Slice(k * mr + rows, mr - rows).Clear();
        }
    }

    /// <summary>dst[k * dstStride + i] = src[k * srcStride + i] for i &lt; width, k &lt; count: eight floats at a time, the rest one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void CopyRuns(Span<float> dst, int dstStride, ReadOnlySpan<float> src, int srcStride, int width, int count)
    {
        if (width == 0 || count == 0) return;
        _ = dst[(count - 1) * dstStride + width - 1]; // the bounds, checked once for the unchecked loops
        _ = src[(count - 1) * srcStride + width - 1];
        ref float d = ref MemoryMarshal.GetReference(dst);
        ref float s = ref MemoryMarshal.GetReference(src);
        int vectors = width - width % 8;
        for (int k = 0; k < count; k++, d = ref Unsafe.Add(ref d, dstStride), s = ref Unsafe.Add(ref s, srcStride))
        {
            for (int i = 0; i < vectors; i += 8) Vector256.LoadUnsafe(ref s, (nuint)i).StoreUnsafe(ref d, (nuint)i);
            for (int i = vectors; i < width; i++) Unsafe.Add(ref d, i) = Unsafe.Add(ref s, i);
        }
    }

    /// <summary>
    /// dst[k * dstStride + r] = src[r * srcStride + k] for r &lt; rows, k &lt; length: eight rows by
    /// eight columns at a time with 256-bit shuffles, the rest one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Transpose(Span<float> dst, int dstStride, ReadOnlySpan<float> src, int srcStride, int rows, int length)
    {
        if (rows == 0 || length == 0) return;
        _ = dst[(length - 1) * dstStride + rows - 1]; // the bounds, checked once for the unchecked loops
        _ = src[(rows - 1) * srcStride + length - 1];
        ref float d = ref MemoryMarshal.GetReference(dst);
        ref float s = ref MemoryMarshal.GetReference(src);
        int r = 0;
        for (; r + 8 <= rows; r += 8)
        {
            int k = 0;
            for (; k + 8 <= length; k += 8)
                Transpose8x8(ref Unsafe.Add(ref d, k * dstStride + r), dstStride, ref Unsafe.Add(ref s, r * srcStride + k), srcStride);
            for (; k < length; k++)
                for (int i = r; i < r + 8; i++) Unsafe.Add(ref d, k * dstStride + i) = Unsafe.Add(ref s, i * srcStride + k);
        }
        for (; r < rows; r++)
            for (int k = 0; k < length; k++) Unsafe.Add(ref d, k * dstStride + r) = Unsafe.Add(ref s, r * srcStride + k);
    }

    /// <summary>d[k * dstStride + r] = s[r * srcStride + k] for r, k &lt; 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose8x8(ref float d, int dstStride, ref float s, int srcStride)
    {
        nuint ss = (nuint)srcStride, ds = (nuint)dstStride;
        var r0 = Vector256.LoadUnsafe(ref s); var r1 = Vector256.LoadUnsafe(ref s, ss);
        var r2 = Vector256.LoadUnsafe(ref s, 2 * ss); var r3 = Vector256.LoadUnsafe(ref s, 3 * ss);
        var r4 = Vector256.LoadUnsafe(ref s, 4 * ss); var r5 = Vector256.LoadUnsafe(ref s, 5 * ss);
        var r6 = Vector256.LoadUnsafe(ref s, 6 * ss); var r7 = Vector256.LoadUnsafe(ref s, 7 * ss);
        // Pairs of rows interleaved, then pairs of pairs: u0 holds columns 0 and 4 of rows 0-3, and so on.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref d);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref d, ds);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref d, 2 * ds);
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref d, 3 * ds);
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref d, 4 * ds);
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref d, 5 * ds);
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref d, 6 * ds);
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref d, 7 * ds);
    }

    /// <summary>An 8 x 32 tile of C += an A panel (kc x 8) times a B panel (kc x 32), with 512-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel512(int kc, ref float a, ref float b, ref float c, int ldc, bool load)
    {
        nuint ld = (nuint)ldc;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (load)
        {
            c00 = Vector512.LoadUnsafe(ref c); c01 = Vector512.LoadUnsafe(ref c, 16);
            c10 = Vector512.LoadUnsafe(ref c, ld); c11 = Vector512.LoadUnsafe(ref c, ld + 16);
            c20 = Vector512.LoadUnsafe(ref c, 2 * ld); c21 = Vector512.LoadUnsafe(ref c, 2 * ld + 16);
            c30 = Vector512.LoadUnsafe(ref c, 3 * ld); c31 = Vector512.LoadUnsafe(ref c, 3 * ld + 16);
            c40 = Vector512.LoadUnsafe(ref c, 4 * ld); c41 = Vector512.LoadUnsafe(ref c, 4 * ld + 16);
            c50 = Vector512.LoadUnsafe(ref c, 5 * ld); c51 = Vector512.LoadUnsafe(ref c, 5 * ld + 16);
            c60 = Vector512.LoadUnsafe(ref c, 6 * ld); c61 = Vector512.LoadUnsafe(ref c, 6 * ld + 16);
            c70 = Vector512.LoadUnsafe(ref c, 7 * ld); c71 = Vector512.LoadUnsafe(ref c, 7 * ld + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<float>.Zero;
        }
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.LoadUnsafe(ref b);
            var b1 = Vector512.LoadUnsafe(ref b, 16);
            var x = Vector512.Create(a);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(Unsafe.Add(ref a, 1));
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(Unsafe.Add(ref a, 2));
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(Unsafe.Add(ref a, 3));
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(Unsafe.Add(ref a, 4));
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(Unsafe.Add(ref a, 5));
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(Unsafe.Add(ref a, 6));
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(Unsafe.Add(ref a, 7));
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            a = ref Unsafe.Add(ref a, MR512);
            b = ref Unsafe.Add(ref b, NR512);
        }
        c00.StoreUnsafe(ref c); c01.StoreUnsafe(ref c, 16);
        c10.StoreUnsafe(ref c, ld); c11.StoreUnsafe(ref c, ld + 16);
        c20.StoreUnsafe(ref c, 2 * ld); c21.StoreUnsafe(ref c, 2 * ld + 16);
        c30.StoreUnsafe(ref c, 3 * ld); c31.StoreUnsafe(ref c, 3 * ld + 16);
        c40.StoreUnsafe(ref c, 4 * ld); c41.StoreUnsafe(ref c, 4 * ld + 16);
        c50.StoreUnsafe(ref c, 5 * ld); c51.StoreUnsafe(ref c, 5 * ld + 16);
        c60.StoreUnsafe(ref c, 6 * ld); c61.StoreUnsafe(ref c, 6 * ld + 16);
        c70.StoreUnsafe(ref c, 7 * ld); c71.StoreUnsafe(ref c, 7 * ld + 16);
    }

    /// <summary>A 6 x 16 tile of C += an A panel (kc x 6) times a B panel (kc x 16), with 256-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel256(int kc, ref float a, ref float b, ref float c, int ldc, bool load)
    {
        nuint ld = (nuint)ldc;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Vector256.LoadUnsafe(ref c); c01 = Vector256.LoadUnsafe(ref c, 8);
            c10 = Vector256.LoadUnsafe(ref c, ld); c11 = Vector256.LoadUnsafe(ref c, ld + 8);
            c20 = Vector256.LoadUnsafe(ref c, 2 * ld); c21 = Vector256.LoadUnsafe(ref c, 2 * ld + 8);
            c30 = Vector256.LoadUnsafe(ref c, 3 * ld); c31 = Vector256.LoadUnsafe(ref c, 3 * ld + 8);
            c40 = Vector256.LoadUnsafe(ref c, 4 * ld); c41 = Vector256.LoadUnsafe(ref c, 4 * ld + 8);
            c50 = Vector256.LoadUnsafe(ref c, 5 * ld); c51 = Vector256.LoadUnsafe(ref c, 5 * ld + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.LoadUnsafe(ref b);
            var b1 = Vector256.LoadUnsafe(ref b, 8);
            var x = Vector256.Create(a);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(Unsafe.Add(ref a, 1));
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(Unsafe.Add(ref a, 2));
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(Unsafe.Add(ref a, 3));
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(Unsafe.Add(ref a, 4));
            c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(Unsafe.Add(ref a, 5));
            c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            a = ref Unsafe.Add(ref a, MR256);
            b = ref Unsafe.Add(ref b, NR256);
        }
        c00.StoreUnsafe(ref c); c01.StoreUnsafe(ref c, 8);
        c10.StoreUnsafe(ref c, ld); c11.StoreUnsafe(ref c, ld + 8);
        c20.StoreUnsafe(ref c, 2 * ld); c21.StoreUnsafe(ref c, 2 * ld + 8);
        c30.StoreUnsafe(ref c, 3 * ld); c31.StoreUnsafe(ref c, 3 * ld + 8);
        c40.StoreUnsafe(ref c, 4 * ld); c41.StoreUnsafe(ref c, 4 * ld + 8);
        c50.StoreUnsafe(ref c, 5 * ld); c51.StoreUnsafe(ref c, 5 * ld + 8);
    }

    /// <summary>The path for CPUs without FMA: the same loops, each product and sum rounded apart.</summary>
    static void MultiplyScalar(Span<float> c, int ldc, ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int rsB, int csB, int M, int N, int K, bool accumulate)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                float sum = accumulate ? c[i * ldc + j] : 0;
                for (int k = 0; k < K; k++) sum += a[i * rsA + k * csA] * b[k * rsB + j * csB];
                c[i * ldc + j] = sum;
            }
    }

    /// <summary>The definition: each element one chain of fused multiply-adds over k in order.</summary>
    public static void MultiplyNaive(Span<float> c, int ldc, ReadOnlySpan<float> a, int rsA, int csA, ReadOnlySpan<float> b, int rsB, int csB, int M, int N, int K, bool accumulate)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                float sum = accumulate ? c[i * ldc + j] : 0;
                for (int k = 0; k < K; k++) sum = MathF.FusedMultiplyAdd(a[i * rsA + k * csA], b[k * rsB + j * csB], sum);
                c[i * ldc + j] = sum;
            }
    }
}

/// <summary>
/// The packing space of one thread's products (<see cref="Gemm.WorkspaceFloats"/> floats, 0.6 MB):
/// the kernels are static, so whoever runs them owns one per thread and allocates it once.
/// </summary>
sealed class GemmWorkspace
{
    readonly float[] buffer = new float[Gemm.WorkspaceFloats];

    public Span<float> PackA => buffer.AsSpan(0, Gemm.MC * Gemm.KC);
    public Span<float> PackB => buffer.AsSpan(Gemm.MC * Gemm.KC, Gemm.KC * Gemm.NC);
    public Span<float> Tile => buffer.AsSpan(Gemm.MC * Gemm.KC + Gemm.KC * Gemm.NC);
}

/// <summary>
/// One <see cref="GemmWorkspace"/> for each thread of a trainer, lent to a job while it runs: any
/// thread may run any job, and at most one job runs on each thread at a time.
/// </summary>
sealed class GemmWorkspaces(int threads)
{
    readonly GemmWorkspace?[] free = Enumerable.Range(0, threads).Select(_ => new GemmWorkspace()).ToArray();

    public GemmWorkspace Rent()
    {
        for (int i = 0; i < free.Length; i++)
            if (Interlocked.Exchange(ref free[i], null) is { } workspace) return workspace;
        throw new InvalidOperationException("More jobs run at once than there are workspaces.");
    }

    public void Return(GemmWorkspace workspace)
    {
        for (int i = 0; i < free.Length; i++)
            if (Interlocked.CompareExchange(ref free[i], workspace, null) is null) return;
    }
}
