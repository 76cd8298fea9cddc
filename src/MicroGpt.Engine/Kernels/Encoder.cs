namespace MicroGpt.Kernels;

/// <summary>The input embedding: <c>out[n] = wte[token[n]] + wpe[position[n]]</c>.</summary>
static class Encoder
{
    /// <summary>out (N, C) from wte (V, C) and wpe (T, C).</summary>
    public static void Forward(Span<float> output, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, ReadOnlySpan<float> wte, ReadOnlySpan<float> wpe, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var tok = wte.Slice(tokens[n] * C, C);
            var pos = wpe.Slice(positions[n] * C, C);
            var y = output.Slice(n * C, C);
            for (int c = 0; c < C; c++) y[c] = tok[c] + pos[c];
        }
    }

    /// <summary>dwte, dwpe += dout (N, C), scattered to each row's token and position, rows in order.</summary>
    public static void Backward(Span<float> dwte, Span<float> dwpe, ReadOnlySpan<float> dout, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var d = dout.Slice(n * C, C);
            var tok = dwte.Slice(tokens[n] * C, C);
            var pos = dwpe.Slice(positions[n] * C, C);
            for (int c = 0; c < C; c++)
            {
                tok[c] += d[c];
                pos[c] += d[c];
            }
        }
    }
}
