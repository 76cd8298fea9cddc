using System.Runtime.Intrinsics.X86;
using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// The packed products of <see cref="Gemm"/>: every path this CPU has, against the naive chain of
/// fused multiply-adds, in the three layouts of the linear layer, over sizes that leave every
/// remainder (rows of a micro-tile, columns of a panel, eight-by-eight transposes, blocks of
/// KC, MC and NC). The 256-bit path runs on any CPU with AVX2, so an AVX-512 machine tests both.
/// </summary>
public class GemmTests
{
    // The scalar path (CPUs without FMA) rounds each product and each sum: the recursive-summation
    // bound, (K + 1) unit roundoffs of the sum of the terms' magnitudes (Higham, 3.1), with the
    // FMA reference's own K roundings besides.
    const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>The paths this CPU runs, by name (Gemm.Path is internal to the engine).</summary>
    public static TheoryData<string> Paths()
    {
        var paths = new TheoryData<string> { nameof(Gemm.Path.Scalar) };
        if (Avx2.IsSupported && Fma.IsSupported) paths.Add(nameof(Gemm.Path.Avx2));
        if (Avx512F.IsSupported) paths.Add(nameof(Gemm.Path.Avx512));
        return paths;
    }

    /// <summary>The three products of a linear layer: forward (B = W^T), backward input (B = W), backward weight (A = dout^T).</summary>
    internal enum Layout { Forward, BackwardInput, BackwardWeight }

    [Theory]
    [MemberData(nameof(Paths))]
    public void EveryRowAndColumnRemainderMatchesTheNaiveProduct(string pathName)
    {
        var path = Enum.Parse<Gemm.Path>(pathName);
        foreach (var layout in Enum.GetValues<Layout>())
            for (int m = 1; m <= 17; m++)
                foreach (int n in new[] { 1, 2, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 40, 47, 48, 49, 64, 65 })
                    AssertMatchesNaiveProduct(path, layout, m, n, k: 19, accumulate: (m + n) % 2 == 0);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void EveryDepthMatchesTheNaiveProduct(string pathName)
    {
        var path = Enum.Parse<Gemm.Path>(pathName);
        foreach (var layout in Enum.GetValues<Layout>())
            foreach (int k in Enumerable.Range(0, 18).Concat([Gemm.KC - 1, Gemm.KC, Gemm.KC + 1, 2 * Gemm.KC + 9]))
                foreach (bool accumulate in new[] { false, true })
                    AssertMatchesNaiveProduct(path, layout, 13, 37, k, accumulate);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ProductsAcrossEveryBlockMatchTheNaiveProduct(string pathName)
    {
        var path = Enum.Parse<Gemm.Path>(pathName);
        foreach (var layout in Enum.GetValues<Layout>())
        {
            AssertMatchesNaiveProduct(path, layout, Gemm.MC + 5, Gemm.NC + 41, Gemm.KC + 3, accumulate: true);
            AssertMatchesNaiveProduct(path, layout, 2 * Gemm.MC, 64, 2 * Gemm.KC, accumulate: false);
        }
    }

    [Fact]
    public void ARowsResultDoesNotDependOnTheRowsComputedWithIt()
    {
        // Threads take disjoint runs of rows: cut anywhere, the products give the same bits, with
        // the packed kernels and without (MatMul picks a kind by the workspace and the channels,
        // never by the rows), for channels in whole vectors and not.
        foreach (int c in new[] { 136, 130 })
            CheckCuts(150, c, 72);
    }

    static void CheckCuts(int n, int c, int oc)
    {
        var inp = TestData.RandomFloats(n * c, 6); var w = TestData.RandomFloats(oc * c, 7); var dout = TestData.RandomFloats(n * oc, 8);
        foreach (var workspace in new[] { null, new GemmWorkspace() })
        {
            float[] whole = new float[n * oc], wholeDinp = new float[n * c];
            MatMul.Forward(whole, inp, w, n, c, oc, workspace);
            MatMul.BackwardInput(wholeDinp, dout, w, n, c, oc, workspace);
            foreach (int cut in new[] { 1, 6, 31, 32, 33, 100 })
            {
                float[] parts = new float[n * oc], partsDinp = new float[n * c];
                MatMul.Forward(parts.AsSpan(0, cut * oc), inp.AsSpan(0, cut * c), w, cut, c, oc, workspace);
                MatMul.Forward(parts.AsSpan(cut * oc), inp.AsSpan(cut * c), w, n - cut, c, oc, workspace);
                MatMul.BackwardInput(partsDinp.AsSpan(0, cut * c), dout.AsSpan(0, cut * oc), w, cut, c, oc, workspace);
                MatMul.BackwardInput(partsDinp.AsSpan(cut * c), dout.AsSpan(cut * oc), w, n - cut, c, oc, workspace);
                Assert.Equal(whole, parts);
                Assert.Equal(wholeDinp, partsDinp);
            }
        }
    }

    /// <summary>One product on the path against the naive chain: the same bits on a vector path, within the rounding bound on the scalar one.</summary>
    static void AssertMatchesNaiveProduct(Gemm.Path path, Layout layout, int m, int n, int k, bool accumulate)
    {
        // The operands as the linear layer stores them: A (m, k) row-major, or dout (k, m) read
        // transposed; B = W^T with W (n, k), or W (k, n), or inp (k, n).
        var (rsA, csA) = layout == Layout.BackwardWeight ? (1, m) : (k, 1);
        var (rsB, csB) = layout == Layout.Forward ? (1, k) : (n, 1);
        var a = TestData.RandomFloats(m * k, m * 1000 + k);
        var b = TestData.RandomFloats(k * n, n * 1000 + k + 1);
        int ldc = n + 3; // C's rows further apart than its width: the padding must stay untouched
        var c = TestData.RandomFloats(m * ldc, m + n + k);
        var initial = c.ToArray();
        var expected = c.ToArray();
        Gemm.MultiplyNaive(expected, ldc, a, rsA, csA, b, rsB, csB, m, n, k, accumulate);
        Gemm.Multiply(c, ldc, a, rsA, csA, b, rsB, csB, m, n, k, accumulate, new GemmWorkspace(), path);
        string shape = $"{path} {layout}: M {m}, N {n}, K {k}, accumulate {accumulate}";
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                int at = i * ldc + j;
                if (j >= n || path != Gemm.Path.Scalar)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(expected[at]) == BitConverter.SingleToInt32Bits(c[at]), $"{shape} [{i}][{j}]: {expected[at]} vs {c[at]}");
                    continue;
                }
                double magnitude = accumulate ? Math.Abs(initial[at]) : 0;
                for (int p = 0; p < k; p++) magnitude += Math.Abs((double)a[i * rsA + p * csA] * b[p * rsB + j * csB]);
                double bound = 2 * (k + 1) * UnitRoundoff * magnitude;
                Assert.True(Math.Abs(expected[at] - c[at]) <= bound, $"{shape} [{i}][{j}]: {expected[at]} vs {c[at]}, bound {bound}");
            }
    }
}
