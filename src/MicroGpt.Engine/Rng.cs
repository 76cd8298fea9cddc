namespace MicroGpt;

/// <summary>
/// The engine's seeded random number generator: Mulberry32 for uniforms, Box-Muller for
/// Gaussians and Fisher-Yates for shuffles, exactly as the tutorial's rng.ts draws them.
/// A seed therefore means the same random numbers on every machine and every .NET version
/// (System.Random's sequence is not guaranteed to stay the same between versions).
/// An instance is not thread-safe; every training or sampling run owns its own.
/// </summary>
public sealed class Rng
{
    uint state;

    public Rng(int seed) => state = unchecked((uint)seed);

    /// <summary>A uniform double in [0, 1), with 32 bits of randomness.</summary>
    public double NextDouble()
    {
        unchecked
        {
            state += 0x6D2B79F5u;
            uint t = state;
            t = (t ^ (t >> 15)) * (t | 1u);
            t ^= t + (t ^ (t >> 7)) * (t | 61u);
            return (t ^ (t >> 14)) / 4294967296.0;
        }
    }

    /// <summary>A normal deviate by the Box-Muller transform (one of the pair; the other is dropped).</summary>
    public double NextGaussian(double mean, double std)
    {
        double u1 = NextDouble();
        while (u1 == 0) u1 = NextDouble();
        double u2 = NextDouble();
        return mean + std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A uniform integer in [0, exclusiveMax).</summary>
    public int NextInt(int exclusiveMax) => (int)Math.Floor(NextDouble() * exclusiveMax);

    /// <summary>Fisher-Yates shuffle in place, from the last element down.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// An index drawn with probability proportional to its weight (weights need not sum to 1).
    /// Walks the cumulative sum the way the tutorial does, so equal seeds pick equal tokens;
    /// when rounding leaves a remainder, the last index with a positive weight is chosen,
    /// never one whose weight is zero.
    /// </summary>
    public int NextWeighted(ReadOnlySpan<float> weights)
    {
        double total = 0;
        int lastPositive = -1;
        for (int i = 0; i < weights.Length; i++)
        {
            total += weights[i];
            if (weights[i] > 0) lastPositive = i;
        }
        if (lastPositive < 0) throw new ArgumentException("At least one weight must be positive.", nameof(weights));
        double r = NextDouble() * total;
        for (int i = 0; i <= lastPositive; i++)
        {
            r -= weights[i];
            if (r <= 0 && weights[i] > 0) return i;
        }
        return lastPositive;
    }
}
