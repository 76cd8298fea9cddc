using MicroGpt;

namespace MicroGpt.Tests.Engine;

public class PairTableTests
{
    [Fact]
    public void HoldsWhatADictionaryHoldsThroughGrowth()
    {
        // From the smallest table up through many doublings, with ids up to the largest vocabulary,
        // and with every pair asked for, present or not.
        var rng = new Random(4);
        var table = new PairTable(1);
        var expected = new Dictionary<(int, int), int>();
        for (int i = 0; i < 50_000; i++)
        {
            int left = rng.Next(i % 3 == 0 ? 300 : BytePairEncoding.MaxVocabSize), right = rng.Next(BytePairEncoding.MaxVocabSize);
            Assert.Equal(expected.TryAdd((left, right), i), table.TryAdd(left, right, i));
            Assert.Equal(expected.Count, table.Count);
        }
        foreach (var ((left, right), value) in expected)
        {
            Assert.True(table.TryGetValue(left, right, out int got));
            Assert.Equal(value, got);
        }
        for (int i = 0; i < 20_000; i++)
        {
            int left = rng.Next(BytePairEncoding.MaxVocabSize), right = rng.Next(BytePairEncoding.MaxVocabSize);
            Assert.Equal(expected.ContainsKey((left, right)), table.TryGetValue(left, right, out _));
        }
    }

    [Fact]
    public void PairsWithTheSameXorOfTheirIdsKeepTheirOwnValues()
    {
        // A long's own hash code is its halves XORed, which gives all these pairs one value (the
        // learner's Dictionary<long, int> slowed to a crawl on such pairs); here they hash apart,
        // and each keeps its own value.
        var table = new PairTable(16);
        for (int left = 0; left < 4096; left++) Assert.True(table.TryAdd(left, left ^ 1234, left));
        for (int left = 0; left < 4096; left++)
        {
            Assert.True(table.TryGetValue(left, left ^ 1234, out int value));
            Assert.Equal(left, value);
            Assert.False(table.TryGetValue(left, left ^ 1235, out _));
        }
        Assert.False(table.TryAdd(7, 7 ^ 1234, -1));
        Assert.Equal(4096, table.Count);
    }
}
