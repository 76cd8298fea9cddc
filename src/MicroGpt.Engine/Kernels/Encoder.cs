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

    /// <summary>
    /// Rows [r0, r1) of the gradient of the table that stacks wte (V, C) over wpe (T, C):
    /// <paramref name="dtable"/> += dout (N, C), each row added to the row of its token and to row
    /// V + its position where those fall in the range, rows in order. Every element gets the same
    /// sum whatever ranges the table is cut into, so threads can share the table without sharing a row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(Span<float> dtable, int r0, int r1, ReadOnlySpan<float> dout, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, int N, int C, int V)
    {
        for (int n = 0; n < N; n++)
        {
            var d = dout.Slice(n * C, C);
            int token = tokens[n], position = V + positions[n];
            if (token >= r0 && token < r1) Add(dtable.Slice((token - r0) * C, C), d);
            if (position >= r0 && position < r1) Add(dtable.Slice((position - r0) * C, C), d);
        }

        static void Add(Span<float> row, ReadOnlySpan<float> d) => Residual.Forward(row, row, d);
    }
}
