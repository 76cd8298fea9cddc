namespace MicroGpt.Kernels;

/// <summary><c>out = max(0, x)</c>, elementwise.</summary>
static class Relu
{
    public static void Forward(Span<float> output, ReadOnlySpan<float> inp)
    {
        for (int i = 0; i < inp.Length; i++) output[i] = inp[i] > 0 ? inp[i] : 0;
    }

    /// <summary>dinp += dout where the forward output was positive (the tutorial's relu passes no gradient at 0).</summary>
    public static void Backward(Span<float> dinp, ReadOnlySpan<float> dout, ReadOnlySpan<float> output)
    {
        for (int i = 0; i < dout.Length; i++)
            if (output[i] > 0) dinp[i] += dout[i];
    }
}
