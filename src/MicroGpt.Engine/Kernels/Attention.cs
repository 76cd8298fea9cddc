namespace MicroGpt.Kernels;

/// <summary>
/// Causal multi-head self-attention over packed sentences. Row n belongs to the sentence that
/// starts at row start[n]; it attends to the rows start[n]..n of that sentence only.
/// Per head h (size HS = C / H): <c>att = softmax(q·k / sqrt(HS))</c>, <c>out = att · v</c>.
/// qkv (N, 3C) holds each row's query, key and value side by side; att (N, H, T) caches the
/// attention weights for backward (T = block size, so t &lt; T for every row).
/// </summary>
static class Attention
{
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> qkv, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T)
    {
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0; n < n1; n++)
        {
            int s = start[n], t = n - s;
            for (int h = 0; h < H; h++)
            {
                var q = qkv.Slice(n * 3 * C + h * hs, hs);
                var w = att.Slice((n * H + h) * T, t + 1);
                float max = float.NegativeInfinity;
                for (int j = 0; j <= t; j++)
                {
                    var k = qkv.Slice((s + j) * 3 * C + C + h * hs, hs);
                    float score = 0;
                    for (int i = 0; i < hs; i++) score += q[i] * k[i];
                    w[j] = score * scale;
                    max = MathF.Max(max, w[j]);
                }
                float sum = 0;
                for (int j = 0; j <= t; j++)
                {
                    w[j] = MathF.Exp(w[j] - max);
                    sum += w[j];
                }
                float inverse = 1f / sum;
                for (int j = 0; j <= t; j++) w[j] *= inverse;

                var y = output.Slice(n * C + h * hs, hs);
                y.Clear();
                for (int j = 0; j <= t; j++)
                {
                    var v = qkv.Slice((s + j) * 3 * C + 2 * C + h * hs, hs);
                    for (int i = 0; i < hs; i++) y[i] += w[j] * v[i];
                }
            }
        }
    }

    /// <summary>
    /// dqkv += the gradient through attention for rows [n0, n1) (whole sentences, since a row's
    /// backward reaches the keys and values of the rows before it). datt is scratch of size T.
    /// </summary>
    public static void Backward(Span<float> dqkv, Span<float> datt, ReadOnlySpan<float> dout, ReadOnlySpan<float> qkv, ReadOnlySpan<float> att, ReadOnlySpan<int> start, int n0, int n1, int C, int H, int T)
    {
        int hs = C / H;
        float scale = 1f / MathF.Sqrt(hs);
        for (int n = n0; n < n1; n++)
        {
            int s = start[n], t = n - s;
            for (int h = 0; h < H; h++)
            {
                var w = att.Slice((n * H + h) * T, t + 1);
                var dy = dout.Slice(n * C + h * hs, hs);
                // forward was: y = sum_j w[j] v[j], so dw[j] = dy·v[j] and dv[j] += w[j] dy
                float weighted = 0;
                for (int j = 0; j <= t; j++)
                {
                    int vj = (s + j) * 3 * C + 2 * C + h * hs;
                    var v = qkv.Slice(vj, hs);
                    var dv = dqkv.Slice(vj, hs);
                    float d = 0;
                    for (int i = 0; i < hs; i++)
                    {
                        d += dy[i] * v[i];
                        dv[i] += w[j] * dy[i];
                    }
                    datt[j] = d;
                    weighted += w[j] * d;
                }
                // forward was: w = softmax(score), so dscore[j] = w[j] (dw[j] - sum_i w[i] dw[i]);
                // and score[j] = scale q·k[j]
                var q = qkv.Slice(n * 3 * C + h * hs, hs);
                var dq = dqkv.Slice(n * 3 * C + h * hs, hs);
                for (int j = 0; j <= t; j++)
                {
                    float dscore = w[j] * (datt[j] - weighted) * scale;
                    int kj = (s + j) * 3 * C + C + h * hs;
                    var k = qkv.Slice(kj, hs);
                    var dk = dqkv.Slice(kj, hs);
                    for (int i = 0; i < hs; i++)
                    {
                        dq[i] += dscore * k[i];
                        dk[i] += dscore * q[i];
                    }
                }
            }
        }
    }
}
