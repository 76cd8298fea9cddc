using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// The engine's analytic gradients (float32, packed rows, vector kernels) against central finite
/// differences of the independent double-precision reference model, for every parameter tensor.
/// </summary>
public class GradientCheckTests
{
    // The reference is double precision, so central differences with h = 1e-6 are accurate to
    // ~1e-9; what remains is the engine's float32 rounding over a few thousand operations:
    // relative 1e-3, absolute 2e-5. A ReLU input within h of 0 bends the loss under the
    // difference; such a parameter is measured again with h = 1e-8 before it counts as a failure.
    const double Relative = 1e-3, Absolute = 2e-5;
    const int MaxChecked = 1500; // parameters per configuration; the double reference is slow

    public static TheoryData<int, int, int, int, int, int> Configurations => new()
    {
        // vocab, embedding, heads, layers, block, batch
        { 7, 8, 2, 1, 6, 1 },
        { 11, 16, 4, 2, 5, 3 },   // sentences longer than the block: truncated to T positions
        { 5, 12, 3, 3, 8, 2 },    // head size 4, three layers
        { 9, 24, 1, 2, 9, 4 },    // one head, C not a multiple of 16
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void EveryParameterMatchesFiniteDifferences(int vocab, int embedding, int heads, int layers, int block, int batch)
    {
        var config = new ModelConfig(vocab, embedding, heads, layers, block);
        var model = TestData.RandomModel(config, seed: vocab + embedding);
        var sentences = TestData.RandomSentences(vocab, batch, maxWords: block + 2, seed: layers);

        var (loss, gradient) = TestData.Gradient(model, sentences);
        var reference = new ReferenceGpt(config);
        var p = TestData.ToDouble(model.Parameters);
        Assert.Equal(reference.BatchLoss(p, sentences), loss, 1e-5);

        // Every parameter of small models; for larger ones a fixed sample that covers every tensor.
        var indices = p.Length <= MaxChecked
            ? Enumerable.Range(0, p.Length).ToArray()
            : Enumerable.Range(0, p.Length).Where(i => i % (p.Length / MaxChecked + 1) == 0 || i < 50).ToArray();
        var numerical = reference.NumericalGradient(p, sentences, indices, h: 1e-6);
        bool Close(double engine, double numeric) => Math.Abs(engine - numeric) <= Absolute + Relative * Math.Abs(numeric);
        var suspects = Enumerable.Range(0, indices.Length).Where(k => !Close(gradient[indices[k]], numerical[k])).ToArray();
        var again = reference.NumericalGradient(p, sentences, suspects.Select(k => indices[k]).ToArray(), h: 1e-8);
        var failures = suspects.Where((k, j) => !Close(gradient[indices[k]], again[j]))
            .Select(k => $"{TensorOf(config, indices[k])}[{indices[k]}]: engine {gradient[indices[k]]:G6}, numerical {numerical[k]:G6}")
            .Take(10).ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(suspects.Length <= indices.Length / 100, $"{suspects.Length} parameters needed a second look");
        Assert.Contains(numerical, g => Math.Abs(g) > 1e-3); // the check is not vacuous
        foreach (var (name, offset, rows, columns) in ParameterLayout.Tensors(config))
            Assert.Contains(indices, i => i >= offset && i < offset + rows * columns);
    }

    [Fact]
    public void EveryTensorReceivesGradient()
    {
        var config = new ModelConfig(9, 8, 2, 2, 6);
        var model = TestData.RandomModel(config);
        var (_, gradient) = TestData.Gradient(model, TestData.RandomSentences(9, 3, 5, seed: 3));
        foreach (var (name, offset, rows, columns) in ParameterLayout.Tensors(config))
            Assert.True(gradient.AsSpan(offset, rows * columns).ToArray().Any(g => g != 0), $"{name} got no gradient");
    }

    static string TensorOf(ModelConfig config, int index) =>
        ParameterLayout.Tensors(config).Last(t => t.Offset <= index).Name;
}
