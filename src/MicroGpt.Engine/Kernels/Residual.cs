namespace MicroGpt.Kernels;

/// <summary>
/// The residual connection: <c>out = a + b</c>, elementwise; out may alias a or b. Its backward
/// pass hands the output's gradient unchanged to both inputs, which the model's backward does by
/// reusing that gradient buffer, so no kernel is needed for it.
/// </summary>
static class Residual
{
    public static void Forward(Span<float> output, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        for (int i = 0; i < output.Length; i++) output[i] = a[i] + b[i];
    }
}
