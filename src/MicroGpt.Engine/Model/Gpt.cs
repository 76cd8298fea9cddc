using System.Runtime.CompilerServices;
using MicroGpt.Kernels;

namespace MicroGpt;

/// <summary>
/// The GPT of the tutorial as a list of kernel calls over packed rows (see <see cref="PackedBatch"/>):
/// <code>
/// x = rmsnorm(wte[token] + wpe[position])
/// per layer: x += Wo attention(rmsnorm(x));  x += Fc2 relu(Fc1 rmsnorm(x))
/// logits = LmHead x   (no final norm)
/// </code>
/// Forward and <see cref="Backward"/> work on rows [n0, n1), which must hold whole examples:
/// each row depends only on the rows of its own example, so threads may take disjoint ranges
/// and get the same numbers as one thread. <see cref="WeightGradients"/> then sums over all rows
/// in row order. Legend: N rows, C embedding, H heads, T block size, V vocabulary, L layers.
/// </summary>
static class Gpt
{
    /// <summary>
    /// Fills the activations of rows [n0, n1); with targets, also their probabilities and losses.
    /// <paramref name="weights"/>: the parameters to read, if not the model's own (a trainer's copy of them).
    /// <paramref name="gemm"/>: this thread's packing space, for the packed matrix products (see
    /// <see cref="MatMul"/>); whether to give one must not depend on the thread count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Model model, Activations a, PackedBatch batch, int n0, int n1, bool withLoss, float[]? weights = null, GemmWorkspace? gemm = null)
    {
        var (c, h, t, v) = (model.Config.EmbeddingSize, model.Config.Heads, model.Config.BlockSize, model.Config.VocabSize);
        int rows = n1 - n0;
        ReadOnlySpan<float> p = weights ?? model.Parameters;
        var layout = model.Layout;

        var encoded = a.Rows(a.Encoded, 0, c, n0, n1);
        Encoder.Forward(encoded, batch.Tokens.AsSpan(n0, rows), batch.Positions.AsSpan(n0, rows), p[layout.Wte..], p[layout.Wpe..], rows, c);
        RmsNorm.Forward(a.Rows(a.Residual, 0, c, n0, n1), a.EncodedRstd.AsSpan(n0, rows), encoded, rows, c);

        for (int l = 0; l < model.Config.Layers; l++)
        {
            var w = layout.Layers[l];
            var x = a.Rows(a.Residual, l, c, n0, n1);
            var ln1 = a.Rows(a.Ln1, l, c, n0, n1);
            var attOut = a.Rows(a.AttOut, l, c, n0, n1);
            var residual2 = a.Rows(a.Residual2, l, c, n0, n1);
            var ln2 = a.Rows(a.Ln2, l, c, n0, n1);
            var fc = a.Rows(a.Fc, l, 4 * c, n0, n1);
            var fcRelu = a.Rows(a.FcRelu, l, 4 * c, n0, n1);
            var next = a.Rows(a.Residual, l + 1, c, n0, n1);

            RmsNorm.Forward(ln1, a.Rows(a.Ln1Rstd, l, 1, n0, n1), x, rows, c);
            MatMul.Forward(a.Rows(a.Qkv, l, 3 * c, n0, n1), ln1, p.Slice(w.Wq, 3 * c * c), rows, c, 3 * c, gemm);
            Attention.Forward(a.Rows(a.AttOut, l, c, 0, a.MaxRows), a.Rows(a.Att, l, h * t, 0, a.MaxRows), a.Rows(a.Qkv, l, 3 * c, 0, a.MaxRows), batch.Start, n0, n1, c, h, t, gemm);
            MatMul.Forward(residual2, attOut, p.Slice(w.Wo, c * c), rows, c, c, gemm);
            Residual.Forward(residual2, x, residual2);

            RmsNorm.Forward(ln2, a.Rows(a.Ln2Rstd, l, 1, n0, n1), residual2, rows, c);
            MatMul.Forward(fc, ln2, p.Slice(w.Fc1, 4 * c * c), rows, c, 4 * c, gemm);
            Relu.Forward(fcRelu, fc);
            MatMul.Forward(next, fcRelu, p.Slice(w.Fc2, 4 * c * c), rows, 4 * c, c, gemm);
            Residual.Forward(next, residual2, next);
        }

        var logits = a.Rows(a.Logits, 0, v, n0, n1);
        MatMul.Forward(logits, a.Rows(a.Residual, model.Config.Layers, c, n0, n1), p.Slice(layout.LmHead, v * c), rows, c, v, gemm);
        if (withLoss)
            CrossEntropy.Forward(logits, a.Losses.AsSpan(n0, rows), logits, batch.Targets.AsSpan(n0, rows), rows, v);
    }

    /// <summary>
    /// The gradients of the activations of rows [n0, n1), from the loss back to the embeddings,
    /// after <see cref="Forward"/> with loss, reading the same <paramref name="weights"/>. Touches no parameter gradient.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Model model, Activations a, ActivationGradients d, PackedBatch batch, int n0, int n1, float[]? weights = null, GemmWorkspace? gemm = null)
    {
        var (c, h, t, v) = (model.Config.EmbeddingSize, model.Config.Heads, model.Config.BlockSize, model.Config.VocabSize);
        int rows = n1 - n0;
        ReadOnlySpan<float> p = weights ?? model.Parameters;
        var layout = model.Layout;
        int layers = model.Config.Layers;

        var dlogits = a.Rows(d.Logits, 0, v, n0, n1);
        CrossEntropy.Backward(dlogits, a.Rows(a.Logits, 0, v, n0, n1), batch.Targets.AsSpan(n0, rows), batch.LossWeights.AsSpan(n0, rows), rows, v);
        var dx = a.Rows(d.Residual, layers, c, n0, n1);
        dx.Clear();
        MatMul.BackwardInput(dx, dlogits, p.Slice(layout.LmHead, v * c), rows, c, v, gemm);

        var dln = a.Rows(d.Ln, 0, c, n0, n1);
        var dattOut = a.Rows(d.AttOut, 0, c, n0, n1);
        var dfcRelu = a.Rows(d.FcRelu, 0, 4 * c, n0, n1);
        for (int l = layers - 1; l >= 0; l--)
        {
            var w = layout.Layers[l];
            var dnext = a.Rows(d.Residual, l + 1, c, n0, n1);
            var dresidual2 = a.Rows(d.Residual2, l, c, n0, n1);
            var dfc = a.Rows(d.Fc, l, 4 * c, n0, n1);
            var dqkv = a.Rows(d.Qkv, l, 3 * c, n0, n1);
            var dresidual = a.Rows(d.Residual, l, c, n0, n1);

            // forward was: next = residual2 + Fc2 relu(fc), fc = Fc1 ln2, ln2 = rmsnorm(residual2)
            dfcRelu.Clear();
            MatMul.BackwardInput(dfcRelu, dnext, p.Slice(w.Fc2, 4 * c * c), rows, 4 * c, c, gemm);
            dfc.Clear();
            Relu.Backward(dfc, dfcRelu, a.Rows(a.FcRelu, l, 4 * c, n0, n1));
            dln.Clear();
            MatMul.BackwardInput(dln, dfc, p.Slice(w.Fc1, 4 * c * c), rows, c, 4 * c, gemm);
            dnext.CopyTo(dresidual2);
            RmsNorm.Backward(dresidual2, dln, a.Rows(a.Residual2, l, c, n0, n1), a.Rows(a.Ln2Rstd, l, 1, n0, n1), rows, c);

            // forward was: residual2 = x + Wo attention(qkv), qkv = Wqkv ln1, ln1 = rmsnorm(x)
            dattOut.Clear();
            MatMul.BackwardInput(dattOut, dresidual2, p.Slice(w.Wo, c * c), rows, c, c, gemm);
            dqkv.Clear();
            Attention.Backward(a.Rows(d.Qkv, l, 3 * c, 0, a.MaxRows), d.AttentionScratch.AsSpan(n0 * t, rows * t), a.Rows(d.AttOut, 0, c, 0, a.MaxRows),
                a.Rows(a.Qkv, l, 3 * c, 0, a.MaxRows), a.Rows(a.Att, l, h * t, 0, a.MaxRows), batch.Start, n0, n1, c, h, t, gemm);
            dln.Clear();
            MatMul.BackwardInput(dln, dqkv, p.Slice(w.Wq, 3 * c * c), rows, c, 3 * c, gemm);
            dresidual2.CopyTo(dresidual);
            RmsNorm.Backward(dresidual, dln, a.Rows(a.Residual, l, c, n0, n1), a.Rows(a.Ln1Rstd, l, 1, n0, n1), rows, c);
        }

        // forward was: residual[0] = rmsnorm(encoded)
        var dencoded = a.Rows(d.Encoded, 0, c, n0, n1);
        dencoded.Clear();
        RmsNorm.Backward(dencoded, a.Rows(d.Residual, 0, c, n0, n1), a.Rows(a.Encoded, 0, c, n0, n1), a.EncodedRstd.AsSpan(n0, rows), rows, c);
    }

    /// <summary>
    /// One piece of the weight gradients: grad += the part of <paramref name="job"/> for rows [0, N),
    /// each gradient element summed over the rows in order by exactly one job.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightGradients(Model model, Activations a, ActivationGradients d, PackedBatch batch, float[] grad, WeightGradientJob job, GemmWorkspace? gemm = null)
    {
        int rows = batch.Rows, c = model.Config.EmbeddingSize;
        var layout = model.Layout;
        if (job.Matrix == GradientMatrix.Embeddings) // wpe follows wte: one table of V + T rows
        {
            Encoder.Backward(grad.AsSpan(job.Offset, job.Length), job.O0, job.O1, d.Encoded.AsSpan(0, rows * c), batch.Tokens, batch.Positions, rows, c, model.Config.VocabSize);
            return;
        }
        int n = a.MaxRows, l = job.Layer, v = model.Config.VocabSize;
        var w = job.Matrix == GradientMatrix.LmHead ? default : layout.Layers[l];
        switch (job.Matrix)
        {
            case GradientMatrix.LmHead: Accumulate(layout.LmHead, d.Logits, a.Rows(a.Residual, model.Config.Layers, c, 0, n), c, v); break;
            case GradientMatrix.Qkv: Accumulate(w.Wq, a.Rows(d.Qkv, l, 3 * c, 0, n), a.Rows(a.Ln1, l, c, 0, n), c, 3 * c); break;
            case GradientMatrix.Wo: Accumulate(w.Wo, a.Rows(d.Residual2, l, c, 0, n), a.Rows(a.AttOut, l, c, 0, n), c, c); break;
            case GradientMatrix.Fc1: Accumulate(w.Fc1, a.Rows(d.Fc, l, 4 * c, 0, n), a.Rows(a.Ln2, l, c, 0, n), c, 4 * c); break;
            case GradientMatrix.Fc2: Accumulate(w.Fc2, a.Rows(d.Residual, l + 1, c, 0, n), a.Rows(a.FcRelu, l, 4 * c, 0, n), 4 * c, c); break;
        }

        // dW (OC, C) += dout^T inp, for this job's output rows
        void Accumulate(int offset, ReadOnlySpan<float> dout, ReadOnlySpan<float> inp, int inC, int outC) =>
            MatMul.BackwardWeight(grad.AsSpan(offset, outC * inC), dout[..(rows * outC)], inp[..(rows * inC)], rows, inC, outC, job.O0, job.O1, gemm);
    }
}

enum GradientMatrix { Embeddings, LmHead, Qkv, Wo, Fc1, Fc2 }

/// <summary>
/// Output rows [O0, O1) of one weight matrix's gradient (layer Layer), or rows [O0, O1) of the
/// embeddings' table (wte over wpe); either way the job writes the gradient elements
/// [Offset, Offset + Length) and no others.
/// </summary>
readonly record struct WeightGradientJob(GradientMatrix Matrix, int Layer, int O0, int O1, int Offset, int Length);
