using System.Runtime.CompilerServices;

namespace MicroGpt.Kernels;

/// <summary>
/// The input embedding: <c>out[n] = wte[token[n]] + wpe[position[n]]</c>. Each row is one
/// elementwise sum, so both passes are <see cref="Residual.Forward"/> row by row.
/// </summary>
static class Encoder
{
    /// <summary>out (N, C) from wte (V, C) and wpe (T, C).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(Span<float> output, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, ReadOnlySpan<float> wte, ReadOnlySpan<float> wpe, int N, int C)
    {
        for (int n = 0; n < N; n++)
            Residual.Forward(output.Slice(n * C, C), wte.Slice(tokens[n] * C, C), wpe.Slice(positions[n] * C, C));
    }

    /// <summary>dwte, dwpe += dout (N, C), scattered to each row's token and position, rows in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dwte, Span<float> dwpe, ReadOnlySpan<float> dout, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, int N, int C)
    {
        for (int n = 0; n < N; n++)
        {
            var d = dout.Slice(n * C, C);
            var tok = dwte.Slice(tokens[n] * C, C);
            var pos = dwpe.Slice(positions[n] * C, C);
            Residual.Forward(tok, tok, d);
            Residual.Forward(pos, pos, d);
        }
    }
}
