// The generator's own seeded random numbers: Mulberry32 uniforms, kept here rather than borrowed
// from the engine, so that no change to the engine's Rng can change a line of module/data (the
// corpora and the golden losses computed on them stay fixed; a test pins the files by hash).
namespace MicroGpt.CorpusGenerator;

public sealed class GeneratorRandom(int seed)
{
    uint state = unchecked((uint)seed);

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

    /// <summary>A uniform integer in [0, exclusiveMax).</summary>
    public int NextInt(int exclusiveMax) => (int)Math.Floor(NextDouble() * exclusiveMax);
}
