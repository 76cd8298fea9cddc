using MicroGpt.Kernels;

namespace MicroGpt.Tests.Engine;

/// <summary>Each kernel against hand-computed values, its naive reference, and finite differences.</summary>
public class KernelTests
{
    // Vector and scalar paths sum in different orders (and the vector path fuses multiply-adds):
    // float32 sums of up to a few hundred products agree to a few ulp of their magnitude.
    const float SumTolerance = 2e-5f;

    [Fact]
    public void RmsNormMatchesHandComputedValues()
    {
        float[] x = [1, 2, 3, 4], y = new float[4], rstd = new float[1];
        RmsNorm.Forward(y, rstd, x, 1, 4);
        // mean(x^2) = 30 / 4 = 7.5, so rstd = 1 / sqrt(7.50001) = 0.36514813...
        Assert.Equal(0.36514813f, rstd[0], 1e-7f);
        Assert.Equal([0.36514813f, 0.73029626f, 1.0954444f, 1.4605925f], y, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void SoftmaxAndCrossEntropyMatchHandComputedValues()
    {
        float[] logits = [1, 2, 3], probs = new float[3], loss = new float[1];
        CrossEntropy.Forward(probs, loss, logits, [2], 1, 3);
        // e^1, e^2, e^3 over their sum 30.19287...
        Assert.Equal([0.09003057f, 0.24472847f, 0.66524096f], probs, (a, b) => Math.Abs(a - b) < 1e-7f);
        Assert.Equal(0.40760596f, loss[0], 1e-6f); // -ln 0.66524096

        var dlogits = new float[3];
        CrossEntropy.Backward(dlogits, probs, [2], [0.5f], 1, 3);
        Assert.Equal([0.045015287f, 0.12236424f, -0.16737952f], dlogits, (a, b) => Math.Abs(a - b) < 1e-7f);
    }

    [Fact]
    public void SoftmaxIsStableForHugeLogits()
    {
        float[] logits = [1000, 1001, 999], probs = new float[3], loss = new float[1];
        CrossEntropy.Forward(probs, loss, logits, [0], 1, 3);
        Assert.All(probs, p => Assert.True(float.IsFinite(p)));
        Assert.Equal(1.4076059f, loss[0], 1e-5f);
    }

    [Fact]
    public void OneAdamStepMatchesHandComputedValues()
    {
        float[] p = [1f, -2f], g = [0.5f, -0.1f], m = new float[2], v = new float[2];
        Adam.Update(p, g, m, v, Adam.StepConstants.For(0.01, 0.85, 0.99, 1e-8, step: 0));
        // m = 0.15 g; v = 0.01 g^2; mhat = g; vhat = g^2; p -= 0.01 g / (|g| + 1e-8)
        Assert.Equal([0.075f, -0.015f], m, (a, b) => Math.Abs(a - b) < 1e-9f);   // to the last bit of float32
        Assert.Equal([0.0025f, 0.0001f], v, (a, b) => Math.Abs(a - b) < 1e-10f);
        Assert.Equal(0.99f, p[0], 1e-7f);
        Assert.Equal(-1.99f, p[1], 1e-7f);
        Assert.Equal([0.5f, -0.1f], g); // the gradient is only read: zeroing it is the next step's own call
    }

    [Fact]
    public void AdamSecondStepUsesBiasCorrectionOfStepTwo()
    {
        float[] p = [0f], g = [1f], m = [0.15f], v = [0.01f];
        Adam.Update(p, g, m, v, Adam.StepConstants.For(0.005, 0.85, 0.99, 1e-8, step: 1));
        // m = 0.85*0.15 + 0.15 = 0.2775, mhat = 0.2775 / (1 - 0.7225) = 1
        // v = 0.99*0.01 + 0.01 = 0.0199, vhat = 0.0199 / (1 - 0.9801) = 1
        Assert.Equal(0.2775f, m[0], 1e-7f);
        Assert.Equal(0.0199f, v[0], 1e-8f);
        Assert.Equal(-0.005f, p[0], 1e-8f);
    }

    [Fact]
    public void AdamVectorAndScalarPathsAgreeForEveryLength()
    {
        for (int length = 0; length <= 257; length++)
        {
            var p = TestData.RandomFloats(length, length); var g = TestData.RandomFloats(length, length + 1000);
            var m = TestData.RandomFloats(length, length + 2000, 0.1f); var v = TestData.RandomFloats(length, length + 3000, 0.1f).Select(Math.Abs).ToArray();
            var (p2, g2, m2, v2) = (p.ToArray(), g.ToArray(), m.ToArray(), v.ToArray());
            var k = Adam.StepConstants.For(0.01, 0.85, 0.99, 1e-8, step: 7);
            var copy = new float[length];
            Adam.Update(p, g, m, v, k, copy);
            for (int i = 0; i < length; i++) // the scalar path, one element at a time
                Adam.Update(p2.AsSpan(i, 1), g2.AsSpan(i, 1), m2.AsSpan(i, 1), v2.AsSpan(i, 1), k);
            Assert.Equal(p2, p);
            Assert.Equal(p, copy);
            Assert.Equal(m2, m);
            Assert.Equal(v2, v);
            Assert.Equal(g2, g);
        }
    }

    [Fact]
    public void AdamReportsAnyNewValueThatIsNotFiniteAtEveryPlaceAndLength()
    {
        var k = Adam.StepConstants.For(0.01, 0.85, 0.99, 1e-8, step: 7);
        for (int length = 0; length <= 70; length++)
        {
            Assert.True(Update(length, bad: -1, 0), $"length {length}: all finite");
            for (int bad = 0; bad < length; bad++)
            {
                // Finite inputs that overflow: a huge first moment over a zero second moment and a tiny epsilon; and an infinite gradient.
                Assert.False(Update(length, bad, kind: 0), $"length {length}, the parameter at {bad} overflows");
                Assert.False(Update(length, bad, kind: 1), $"length {length}, the gradient at {bad} is infinite");
            }
        }

        bool Update(int length, int bad, int kind)
        {
            var p = TestData.RandomFloats(length, 1); var g = TestData.RandomFloats(length, 2);
            var m = TestData.RandomFloats(length, 3, 0.1f); var v = TestData.RandomFloats(length, 4, 0.1f).Select(Math.Abs).ToArray();
            if (bad >= 0 && kind == 0) (m[bad], v[bad], g[bad]) = (float.MaxValue, 0, 0);
            if (bad >= 0 && kind == 1) g[bad] = float.PositiveInfinity;
            return Adam.Update(p, g, m, v, k);
        }
    }

    [Fact]
    public void VectorExpIsWithinTwoUlpOfExact()
    {
        // On a CPU without AVX2 and FMA (or under DOTNET_EnableAVX2=0) there is no vector exp to
        // test: the kernels then use MathF.Exp, which the cross-entropy tests cover.
        if (!Simd.Enabled)
        {
            Assert.False(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported);
            return;
        }
        var x = new float[8];
        double worst = 0;
        for (float start = -87f; start < 88f; start += 0.0173f * 8)
        {
            for (int i = 0; i < 8; i++) x[i] = start + i * 0.0173f;
            var e = Simd.Exp(System.Runtime.Intrinsics.Vector256.Create(x));
            for (int i = 0; i < 8; i++)
            {
                double exact = Math.Exp(x[i]);
                double ulp = MathF.BitIncrement((float)exact) - (float)exact;
                worst = Math.Max(worst, Math.Abs(e[i] - exact) / Math.Max(ulp, float.Epsilon));
            }
        }
        Assert.True(worst <= 2, $"worst error {worst:F2} ulp");
        Assert.Equal(0f, Simd.Exp(System.Runtime.Intrinsics.Vector256.Create(-200f))[0]);
    }

    // Sizes around every block edge of the vector kernels: C below, at and past the vector width
    // and the 32-column block, OC around the eight-output block, rows past the two- and four-row
    // blocks, so that every remainder path runs.
    static readonly int[] Rows = [1, 2, 3, 4, 5, 6, 7, 9, 33];
    static readonly int[] Channels = [1, 3, 7, 8, 9, 15, 16, 24, 31, 32, 33, 40, 64, 71, 130];
    static readonly int[] Outputs = [1, 3, 7, 8, 9, 13, 16, 17, 33];

    [Fact]
    public void MatMulKernelsMatchTheirNaiveVersionsForEverySize()
    {
        foreach (var workspace in new[] { null, new GemmWorkspace() }) // the small-shape kernels, then the packed ones where MatMul picks them
        foreach (int n in Rows)
            foreach (int c in Channels)
                foreach (int oc in Outputs)
                {
                    var inp = TestData.RandomFloats(n * c, 1); var w = TestData.RandomFloats(oc * c, 2); var dout = TestData.RandomFloats(n * oc, 3);
                    string shape = $"N {n}, C {c}, OC {oc}, {(workspace is null ? "small" : "packed")}";

                    float[] fast = new float[n * oc], naive = new float[n * oc];
                    MatMul.Forward(fast, inp, w, n, c, oc, workspace);
                    MatMul.ForwardNaive(naive, inp, w, n, c, oc);
                    CheckClose(naive, fast, shape);

                    float[] dinpFast = TestData.RandomFloats(n * c, 4), dinpNaive = dinpFast.ToArray(); // accumulates
                    MatMul.BackwardInput(dinpFast, dout, w, n, c, oc, workspace);
                    MatMul.BackwardInputNaive(dinpNaive, dout, w, n, c, oc);
                    CheckClose(dinpNaive, dinpFast, shape);

                    int o0 = oc / 3, o1 = oc - oc / 4; // a job's slice of the rows, as the trainer splits them
                    float[] dwFast = TestData.RandomFloats(oc * c, 5), dwNaive = dwFast.ToArray();
                    MatMul.BackwardWeight(dwFast, dout, inp, n, c, oc, o0, o1, workspace);
                    MatMul.BackwardWeightNaive(dwNaive, dout, inp, n, c, oc, o0, o1);
                    CheckClose(dwNaive, dwFast, shape);
                }
    }

    [Fact]
    public void MatMulAtTheReferenceShapesMatchesItsNaiveVersion()
    {
        foreach (var (c, oc) in new[] { (32, 96), (32, 32), (32, 128), (128, 32), (32, 597) })
        {
            int n = 6;
            var inp = TestData.RandomFloats(n * c, 1); var w = TestData.RandomFloats(oc * c, 2);
            float[] fast = new float[n * oc], naive = new float[n * oc];
            MatMul.Forward(fast, inp, w, n, c, oc, null);
            MatMul.ForwardNaive(naive, inp, w, n, c, oc);
            CheckClose(naive, fast, $"C {c}, OC {oc}");
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(300)] // enough rows for the packed product
    public void MatMulBackwardWeightOnlyTouchesItsRows(int n)
    {
        int c = 16, oc = 12;
        var dw = new float[oc * c];
        MatMul.BackwardWeight(dw, TestData.RandomFloats(n * oc, 1), TestData.RandomFloats(n * c, 2), n, c, oc, 3, 7, new GemmWorkspace());
        for (int o = 0; o < oc; o++)
            Assert.Equal(o is >= 3 and < 7, dw.AsSpan(o * c, c).ToArray().Any(x => x != 0));
    }

    // Float32 attention against the double reference: a score sums at most 40 products of numbers
    // below 1, a weight is a softmax of at most 41 scores, an output sums at most 41 weighted
    // values, so each is off by a few float32 ulp of 1 (6e-8). Measured on every path and shape
    // below: at most 1.0e-7 (outputs and weights) and 3.8e-7 (gradients), relative to 1 + |value|.
    const double AttentionTolerance = 2e-6;

    /// <summary>Sentence lengths packed into one batch, with the block size T that holds the longest.</summary>
    public static TheoryData<int, int, int[]> AttentionShapes()
    {
        // Rows before, at and past the eight keys the vector kernels take at a time, past two such
        // blocks, and sentences long enough for the packed products.
        int[] mixed = [1, 4, 6, 9, 17, 20, Attention.PackedRows, 41];
        int[] packed = [Attention.PackedRows + 1, 2, 7];
        var shapes = new TheoryData<int, int, int[]>();
        foreach (var (c, heads) in new[]
        {
            (4, 1),    // head size 4: below the vector width
            (8, 1),    // head size 8: exactly one vector
            (12, 3),   // head size 4, three heads
            (22, 2),   // head size 11: one vector and a remainder
            (32, 4),   // the tutorial's: four heads of 8
            (36, 4),   // head size 9: a vector and one more
            (48, 2),   // head size 24: three vectors
            (64, 2),   // head size 32: one block of four vectors
            (80, 2),   // head size 40: a block and a vector
            (132, 4),  // head size 33: a block of four vectors and a remainder
        })
        {
            shapes.Add(c, heads, mixed);
            shapes.Add(c, heads, packed);
        }
        return shapes;
    }

    [Theory]
    [MemberData(nameof(AttentionShapes))]
    public void AttentionMatchesAReferenceWrittenApartOnEveryPath(int c, int heads, int[] lengths)
    {
        int t = lengths.Max();
        int[] start = lengths.SelectMany((length, i) => Enumerable.Repeat(lengths.Take(i).Sum(), length)).ToArray();
        int rows = start.Length;
        var qkv = TestData.RandomFloats(rows * 3 * c, 41);
        var dout = TestData.RandomFloats(rows * c, 42);
        var dqkvBefore = TestData.RandomFloats(qkv.Length, 43); // backward accumulates

        // The reference, sentence by sentence: outputs, weights and gradients in the packed layout.
        double[] output = new double[rows * c], att = new double[rows * heads * t], dqkv = TestData.ToDouble(dqkvBefore);
        foreach (int s in start.Distinct())
        {
            int length = start.Count(x => x == s);
            double[] Slice(float[] buffer, int row, int offset, int width) => buffer.Skip(row * width + offset).Take(c).Select(x => (double)x).ToArray();
            var sentence = Enumerable.Range(s, length).Select(n => new ReferenceAttention.Position(Slice(qkv, n, 0, 3 * c), Slice(qkv, n, c, 3 * c), Slice(qkv, n, 2 * c, 3 * c))).ToList();
            var (y, w) = ReferenceAttention.Forward(sentence, heads);
            var grads = ReferenceAttention.Backward(sentence, Enumerable.Range(s, length).Select(n => Slice(dout, n, 0, c)).ToArray(), heads);
            for (int p = 0; p < length; p++)
            {
                int n = s + p;
                y[p].CopyTo(output, n * c);
                for (int h = 0; h < heads; h++) w[p][h].CopyTo(att, (n * heads + h) * t);
                for (int i = 0; i < c; i++)
                {
                    dqkv[n * 3 * c + i] += grads[p].Query[i];
                    dqkv[n * 3 * c + c + i] += grads[p].Key[i];
                    dqkv[n * 3 * c + 2 * c + i] += grads[p].Value[i];
                }
            }
        }

        foreach (var (path, workspace) in new (string, GemmWorkspace?)[] { ("rows", null), ("packed", new GemmWorkspace()), ("scalar", null) })
        {
            bool scalar = path == "scalar";
            float[] outputPath = new float[rows * c], attPath = TestData.RandomFloats(rows * heads * t, 44); // every weight is written, zeros too
            if (scalar) Attention.ForwardNaive(outputPath, attPath, qkv, start, 0, rows, c, heads, t);
            else Attention.Forward(outputPath, attPath, qkv, start, 0, rows, c, heads, t, workspace);
            CheckNear(output, outputPath, $"{path} output");
            CheckNear(att, attPath, $"{path} weights");

            var dqkvPath = dqkvBefore.ToArray();
            if (scalar) Attention.BackwardNaive(dqkvPath, new float[rows * t], dout, qkv, attPath, start, 0, rows, c, heads, t);
            else Attention.Backward(dqkvPath, new float[rows * t], dout, qkv, attPath, start, 0, rows, c, heads, t, workspace);
            CheckNear(dqkv, dqkvPath, $"{path} gradient");

            if (scalar) continue;
            // A group of whole sentences in the middle of the batch gives its rows the same values.
            var dGroup = dqkvBefore.ToArray();
            int n0 = start[lengths[0]], n1 = start[^1]; // from the second sentence to the last, which is left out
            Attention.Backward(dGroup, new float[(n1 - n0) * t], dout, qkv, attPath, start, n0, n1, c, heads, t, workspace);
            Assert.Equal(dqkvPath.AsSpan(n0 * 3 * c, (n1 - n0) * 3 * c).ToArray(), dGroup.AsSpan(n0 * 3 * c, (n1 - n0) * 3 * c).ToArray());
        }

        static void CheckNear(double[] expected, float[] actual, string what)
        {
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= AttentionTolerance * (1 + Math.Abs(expected[i])), $"{what} [{i}]: {actual[i]}, reference {expected[i]}");
        }
    }

    [Fact]
    public void RmsNormMatchesItsNaiveVersionForEveryWidth()
    {
        for (int c = 1; c <= 71; c++)
        {
            int n = 3;
            var x = TestData.RandomFloats(n * c, c);
            float[] y = new float[n * c], yNaive = new float[n * c], rstd = new float[n], rstdNaive = new float[n];
            RmsNorm.Forward(y, rstd, x, n, c);
            RmsNorm.ForwardNaive(yNaive, rstdNaive, x, n, c);
            CheckClose(yNaive, y, $"C {c}");
            CheckClose(rstdNaive, rstd, $"C {c}");

            var dy = TestData.RandomFloats(n * c, c + 100);
            float[] dx = TestData.RandomFloats(n * c, c + 200), dxNaive = dx.ToArray();
            RmsNorm.Backward(dx, dy, x, rstdNaive, n, c);
            RmsNorm.BackwardNaive(dxNaive, dy, x, rstdNaive, n, c);
            CheckClose(dxNaive, dx, $"C {c}");
        }
    }

    [Fact]
    public void ElementwiseKernelsMatchTheirNaiveVersionsForEveryLength()
    {
        for (int length = 0; length <= 257; length++)
        {
            var a = TestData.RandomFloats(length, length);
            var b = TestData.RandomFloats(length, length + 1000);
            if (length > 2) (a[0], a[1], a[2]) = (float.NaN, -0f, 0f); // relu: NaN and both zeros give +0

            float[] y = new float[length], yNaive = new float[length];
            Relu.Forward(y, a);
            Relu.ForwardNaive(yNaive, a);
            Assert.Equal(yNaive, y);
            float[] dx = b.ToArray(), dxNaive = b.ToArray();
            Relu.Backward(dx, b, yNaive);
            Relu.BackwardNaive(dxNaive, b, yNaive);
            Assert.Equal(dxNaive, dx);

            Residual.Forward(y, a, b);
            Residual.ForwardNaive(yNaive, a, b);
            Assert.Equal(yNaive, y);
        }
    }

    [Fact]
    public void VectorHelpersMatchScalarLoopsForEveryLength()
    {
        for (int length = 0; length <= 257; length++)
        {
            var a = TestData.RandomFloats(length, length);
            var b = TestData.RandomFloats(length, length + 1000);
            double dot = 0;
            for (int i = 0; i < length; i++) dot += (double)a[i] * b[i];
            Assert.Equal(dot, Simd.Dot(a, b), 1e-5 * (1 + Math.Abs(dot)));

            float[] y = b.ToArray(), expected = b.Select((v, i) => v + 0.5f * a[i]).ToArray();
            Simd.MulAdd(y, 0.5f, a);
            CheckClose(expected, y, $"length {length}");

            Simd.Scale(y, a, -3f);
            Assert.Equal(a.Select(v => -3f * v).ToArray(), y);

            double squares = GradientNorm.SumOfSquaresNaive(a);
            Assert.Equal(squares, GradientNorm.SumOfSquares(a), 1e-6 * squares); // partial sums of four squares in float
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void AttentionGradientMatchesFiniteDifferences(int heads)
    {
        // Two sentences of 3 and 4 rows packed together; the objective is sum(w * out).
        int c = 8, t = 4, rows = 7;
        int[] start = [0, 0, 0, 3, 3, 3, 3];
        var qkv = TestData.RandomFloats(rows * 3 * c, 11);
        var weights = TestData.RandomFloats(rows * c, 12);
        double Objective(float[] input)
        {
            var output = new float[rows * c];
            Attention.Forward(output, new float[rows * heads * t], input, start, 0, rows, c, heads, t);
            return output.Select((y, i) => (double)y * weights[i]).Sum();
        }
        var att = new float[rows * heads * t];
        Attention.Forward(new float[rows * c], att, qkv, start, 0, rows, c, heads, t);
        var dqkv = new float[qkv.Length];
        Attention.Backward(dqkv, new float[rows * t], weights, qkv, att, start, 0, rows, c, heads, t);
        CheckMatchesFiniteDifferences(Objective, qkv, dqkv);
    }

    [Fact]
    public void PackedAttentionGradientMatchesFiniteDifferences()
    {
        // One sentence long enough for the matrix products, and a short one after it.
        int c = 8, heads = 2, t = Attention.PackedRows + 1, rows = t + 3;
        int[] start = Enumerable.Repeat(0, t).Concat(Enumerable.Repeat(t, 3)).ToArray();
        var qkv = TestData.RandomFloats(rows * 3 * c, 13);
        var weights = TestData.RandomFloats(rows * c, 14);
        var workspace = new GemmWorkspace();
        double Objective(float[] input)
        {
            var output = new float[rows * c];
            Attention.Forward(output, new float[rows * heads * t], input, start, 0, rows, c, heads, t, workspace);
            return output.Select((y, i) => (double)y * weights[i]).Sum();
        }
        var att = new float[rows * heads * t];
        Attention.Forward(new float[rows * c], att, qkv, start, 0, rows, c, heads, t, workspace);
        var dqkv = new float[qkv.Length];
        Attention.Backward(dqkv, new float[rows * t], weights, qkv, att, start, 0, rows, c, heads, t, workspace);
        CheckMatchesFiniteDifferences(Objective, qkv, dqkv);
    }

    [Fact]
    public void AttentionRowsSeeOnlyTheirOwnSentence()
    {
        int c = 4, t = 3;
        int[] start = [0, 0, 2, 2];
        var qkv = TestData.RandomFloats(4 * 3 * c, 3);
        var before = new float[4 * c];
        Attention.Forward(before, new float[4 * t], qkv, start, 0, 4, c, 1, t);
        for (int i = 2 * 3 * c; i < qkv.Length; i++) qkv[i] += 1; // change the second sentence only
        var after = new float[4 * c];
        Attention.Forward(after, new float[4 * t], qkv, start, 0, 4, c, 1, t);
        Assert.Equal(before.AsSpan(0, 2 * c).ToArray(), after.AsSpan(0, 2 * c).ToArray());
        Assert.NotEqual(before.AsSpan(2 * c).ToArray(), after.AsSpan(2 * c).ToArray());
    }

    [Fact]
    public void RmsNormGradientMatchesFiniteDifferences()
    {
        int n = 3, c = 10;
        var x = TestData.RandomFloats(n * c, 21);
        var weights = TestData.RandomFloats(n * c, 22);
        double Objective(float[] input)
        {
            var y = new float[n * c];
            RmsNorm.Forward(y, new float[n], input, n, c);
            return y.Select((v, i) => (double)v * weights[i]).Sum();
        }
        var rstd = new float[n];
        RmsNorm.Forward(new float[n * c], rstd, x, n, c);
        var dx = new float[n * c];
        RmsNorm.Backward(dx, weights, x, rstd, n, c);
        CheckMatchesFiniteDifferences(Objective, x, dx);
    }

    [Fact]
    public void CrossEntropyGradientMatchesFiniteDifferences()
    {
        int n = 2, v = 11;
        var logits = TestData.RandomFloats(n * v, 31, 3);
        int[] targets = [4, 9];
        float[] rowWeights = [0.25f, 0.75f];
        double Objective(float[] input)
        {
            var losses = new float[n];
            CrossEntropy.Forward(new float[n * v], losses, input, targets, n, v);
            return losses[0] * rowWeights[0] + losses[1] * rowWeights[1];
        }
        var probs = new float[n * v];
        CrossEntropy.Forward(probs, new float[n], logits, targets, n, v);
        var dlogits = new float[n * v];
        CrossEntropy.Backward(dlogits, probs, targets, rowWeights, n, v);
        CheckMatchesFiniteDifferences(Objective, logits, dlogits);
    }

    [Fact]
    public void CrossEntropyVectorPathHandlesEveryVocabularyLength()
    {
        for (int v = 1; v <= 257; v++)
        {
            var logits = TestData.RandomFloats(v, v, 5);
            var probs = new float[v];
            var loss = new float[1];
            CrossEntropy.Forward(probs, loss, logits, [v - 1], 1, v);
            var exact = ReferenceGpt.Softmax(logits.Select(x => (double)x).ToArray());
            for (int i = 0; i < v; i++) Assert.Equal(exact[i], probs[i], 2e-6);
            Assert.Equal(-Math.Log(exact[v - 1]), loss[0], 1e-5);
        }
    }

    [Fact]
    public void EverySoftmaxVariantIsTheSoftmaxForEveryLength()
    {
        // Lengths 1..257: every remainder past the vectors of Forward. Probabilities are at most 1,
        // and each variant is within a few float32 ulp of 1 of the double softmax: a vector exp
        // within 2 ulp, a float sum of at most 257 terms.
        const double tolerance = 2e-6;
        for (int length = 1; length <= 257; length++)
        {
            var x = TestData.RandomFloats(length, length, 5);
            var exact = ReferenceGpt.Softmax(x.Select(v => (double)v).ToArray());
            var halved = ReferenceGpt.Softmax(x.Select(v => v / 0.5).ToArray());
            float[] forward = new float[length], row = x.ToArray(), divided = x.ToArray(), tempered = new float[length], cooled = new float[length];
            var (max, sum) = Softmax.Forward(forward, x);
            Softmax.Row(row);
            Softmax.RowDivided(divided);
            Softmax.Tempered(tempered, x, 1);
            Softmax.Tempered(cooled, x, 0.5);
            Assert.Equal(x.Max(), max);
            Assert.Equal(exact.Select(p => Math.Log(p)).ToArray(), x.Select(v => v - max - Math.Log(sum)).ToArray(), (a, b) => Math.Abs(a - b) < tolerance);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(exact[i], forward[i], tolerance);
                Assert.Equal(exact[i], row[i], tolerance);
                Assert.Equal(exact[i], divided[i], tolerance);
                Assert.Equal(exact[i], tempered[i], 1e-7); // computed in double: only the final rounding to float
                Assert.Equal(halved[i], cooled[i], 1e-7);
                Assert.Equal(Math.Log(exact[i]), Softmax.LogAt(x, i), 1e-6); // x - max is rounded to float: half an ulp of 10 at most
            }
            // Forward is Row where it takes no vector: below one vector's width, and on CPUs without AVX2.
            if (length < Simd.Width || !Simd.Enabled) Assert.Equal(row, forward);
        }
    }

    [Fact]
    public void EverySoftmaxVariantSubtractsTheMaximumFirst()
    {
        float[] huge = [1000, 1001, 999, 1000, 1001, 999, 1000, 1001, 999]; // e^1000 overflows float and double
        double[] expected = ReferenceGpt.Softmax([0, 1, -1, 0, 1, -1, 0, 1, -1]);
        float[] forward = new float[9], row = huge.ToArray(), divided = huge.ToArray(), tempered = new float[9];
        Softmax.Forward(forward, huge);
        Softmax.Row(row);
        Softmax.RowDivided(divided);
        Softmax.Tempered(tempered, huge, 1);
        foreach (var p in new[] { forward, row, divided, tempered })
            Assert.Equal(expected, p.Select(v => (double)v).ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(Math.Log(expected[1]), Softmax.LogAt(huge, 1), 1e-12);
    }

    [Fact]
    public void ReluPassesGradientOnlyWherePositive()
    {
        float[] x = [-1, 0, 2], y = new float[3], dx = [10, 10, 10];
        Relu.Forward(y, x);
        Relu.Backward(dx, [1, 1, 1], y);
        Assert.Equal([0f, 0f, 2f], y);
        Assert.Equal([10f, 10f, 11f], dx);
    }

    /// <summary>
    /// Central differences in float32 with h = 1e-2: truncation error ~h^2 = 1e-4 and rounding
    /// ~1e-7 / h = 1e-5 of the objective's magnitude, hence the 2e-3 tolerance.
    /// </summary>
    static void CheckMatchesFiniteDifferences(Func<float[], double> objective, float[] input, float[] analytic)
    {
        const float h = 1e-2f;
        for (int i = 0; i < input.Length; i++)
        {
            float saved = input[i];
            input[i] = saved + h; double plus = objective(input);
            input[i] = saved - h; double minus = objective(input);
            input[i] = saved;
            double numerical = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numerical - analytic[i]) <= 2e-3 + 2e-3 * Math.Abs(numerical),
                $"input {i}: analytic {analytic[i]}, numerical {numerical}");
        }
    }

    static void CheckClose(float[] expected, float[] actual, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= SumTolerance * (1 + Math.Abs(expected[i])), $"{what} [{i}] {expected[i]} vs {actual[i]}");
    }
}
