using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// The generator against values printed by the tutorial's algorithm (Mulberry32, Box-Muller,
/// Fisher-Yates) run in Node.js, so that a seed means the same numbers as in the tutorial.
/// </summary>
public class RngTests
{
    [Fact]
    public void UniformsMatchMulberry32()
    {
        var rng = new Rng(42);
        Assert.Equal(0.60110375192016363, rng.NextDouble());
        Assert.Equal(0.44829055899754167, rng.NextDouble());
        Assert.Equal(0.85246579349040985, rng.NextDouble());
        Assert.Equal(0.48384718922898173, new Rng(-5).NextDouble());
    }

    [Fact]
    public void GaussiansMatchBoxMuller()
    {
        var rng = new Rng(42);
        // Math.Log and Math.Cos may differ from V8's in the last bit; the float32 weights do not.
        Assert.Equal(-0.076492978350731919, rng.NextGaussian(0, 0.08), 1e-15);
        Assert.Equal(-0.021842088390608833, rng.NextGaussian(0, 0.08), 1e-15);
        Assert.Equal(-0.14733017478268776, rng.NextGaussian(0, 0.08), 1e-15);
    }

    [Fact]
    public void ShuffleMatchesFisherYatesFromTheEnd()
    {
        int[] items = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        new Rng(7).Shuffle(items.AsSpan());
        Assert.Equal([6, 5, 8, 1, 2, 3, 4, 7, 9, 0], items);
    }

    [Fact]
    public void WeightedChoiceNeverPicksAZeroWeight()
    {
        var rng = new Rng(1);
        float[] weights = [0, 0.5f, 0, 0.5f, 0];
        var picks = Enumerable.Range(0, 2000).Select(_ => rng.NextWeighted(weights)).ToArray();
        Assert.All(picks, p => Assert.True(p is 1 or 3));
        Assert.InRange(picks.Count(p => p == 1), 900, 1100);
        Assert.Throws<ArgumentException>(() => rng.NextWeighted([0f, 0f]));
    }
}
