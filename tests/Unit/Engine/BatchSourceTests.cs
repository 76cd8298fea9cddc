namespace MicroGpt.Tests.Engine;

/// <summary>The tutorial's batches: which sentences each step takes, and how a run's corpus is recognised on resuming.</summary>
public class BatchSourceTests
{
    static readonly ModelConfig Config = new(13, 16, 2, 1, 6);

    /// <summary>Each example of the batch as its tokens: the rows' tokens, then the last row's target.</summary>
    static int[][] ExamplesOf(PackedBatch batch) =>
        Enumerable.Range(0, batch.Examples)
            .Select(b => batch.Tokens[batch.ExampleStart[b]..batch.ExampleStart[b + 1]].Append(batch.Targets[batch.ExampleStart[b + 1] - 1]).ToArray())
            .ToArray();

    [Fact]
    public void WithoutShufflingStepSTakesSentencesSBToSBPlusBMinusOneRoundTheCorpus()
    {
        var sentences = TestData.RandomSentences(13, 7, maxWords: 4, seed: 1); // at most 6 tokens: none cut by the block size
        var batches = new SentenceBatches(TestData.RandomModel(Config), sentences, new TrainingOptions { BatchSize = 3, Shuffle = false });
        var batch = new PackedBatch(batches.MaxRows, batches.MaxExamples);
        foreach (long step in new long[] { 0, 1, 2, 5, 1_000_000_007 })
        {
            batches.Fill(batch, step);
            var expected = Enumerable.Range(0, 3).Select(i => sentences[(int)((step * 3 + i) % 7)]).ToArray();
            Assert.Equal(expected, ExamplesOf(batch));
            for (int b = 0; b < 3; b++) // each row weighs 1 / (B n): the loss is the mean of the sentences' mean losses
                for (int n = batch.ExampleStart[b]; n < batch.ExampleStart[b + 1]; n++)
                    Assert.Equal(1f / (3 * (expected[b].Length - 1)), batch.LossWeights[n]);
        }
    }

    [Fact]
    public void ShuffledEveryEpochTakesEachSentenceOnceAndTheSeedDecidesTheOrder()
    {
        var sentences = Enumerable.Range(0, 12).Select(i => new[] { 12, i % 12, 12 }).ToArray(); // sentence i predicts word i
        List<int> Order(int seed)
        {
            var batches = new SentenceBatches(TestData.RandomModel(Config), sentences, new TrainingOptions { BatchSize = 4, Seed = seed });
            var batch = new PackedBatch(batches.MaxRows, batches.MaxExamples);
            var order = new List<int>();
            for (long step = 0; step < 6; step++) // two epochs of three steps
            {
                batches.Fill(batch, step);
                order.AddRange(ExamplesOf(batch).Select(example => example[1]));
            }
            return order;
        }
        var seeded = Order(1);
        Assert.Equal(Enumerable.Range(0, 12), seeded.Take(12).Order());
        Assert.Equal(seeded.Take(12), seeded.Skip(12)); // shuffled once, not every epoch
        Assert.NotEqual(Enumerable.Range(0, 12), seeded.Take(12));
        Assert.Equal(seeded, Order(1));
        Assert.NotEqual(seeded, Order(2));
    }

    [Fact]
    public void AStepsBatchDependsOnlyOnTheStepNotOnTheStepsBefore()
    {
        // So that a resumed run needs no saved random state: step 9 filled first, or after others, is the same.
        var sentences = TestData.RandomSentences(13, 20, maxWords: 8, seed: 2);
        var batches = new SentenceBatches(TestData.RandomModel(Config), sentences, new TrainingOptions { BatchSize = 6, Seed = 3 });
        var batch = new PackedBatch(batches.MaxRows, batches.MaxExamples);
        batches.Fill(batch, 9);
        var first = Rows(batch);
        for (long step = 0; step < 9; step++) batches.Fill(batch, step);
        batches.Fill(batch, 9);
        Assert.Equal(first, Rows(batch));

        // Every row of a batch: token, target, position, example start, loss weight.
        static List<(int, int, int, int, float)> Rows(PackedBatch batch) =>
            Enumerable.Range(0, batch.Rows).Select(n => (batch.Tokens[n], batch.Targets[n], batch.Positions[n], batch.Start[n], batch.LossWeights[n])).ToList();
    }

    [Fact]
    public void TheCorpusSizeAndFingerprintAreThoseOfCheckpointsWrittenBeforeTheBatchSource()
    {
        // tests/Unit/Data/checkpoint-without-corpus-origin.json: a run on 'the cat sat', 'the dog ran',
        // 'a cat ran' with the vocabulary a, cat, dog, ran, sat, the (BOS 6) kept corpusSentences 3 and
        // corpusFingerprint 0cdec0408bf222ba, so that a resumed run is refused any other corpus.
        int[][] sentences = [[6, 5, 1, 4, 6], [6, 5, 2, 3, 6], [6, 0, 1, 3, 6]];
        var model = Model.Create(new ModelConfig(7, 4, 2, 1, 4), new WordTokenizer(["a", "cat", "dog", "ran", "sat", "the"]), 7);
        var batches = new SentenceBatches(model, sentences, new TrainingOptions());
        Assert.Equal(("sentences", 3, 0x0cdec0408bf222baUL), (batches.Unit, batches.Size, batches.Fingerprint));
    }

    [Fact]
    public void TheLargestBatchHasRoomForTheLongestSentencesCutToTheBlockSize()
    {
        var sentences = TestData.RandomSentences(13, 30, maxWords: 20, seed: 4);
        var batches = new SentenceBatches(TestData.RandomModel(Config), sentences, new TrainingOptions { BatchSize = 5 });
        Assert.Equal((5, 5 * Config.BlockSize), (batches.MaxExamples, batches.MaxRows)); // some sentence is longer than T + 1 tokens
        var batch = new PackedBatch(batches.MaxRows, batches.MaxExamples);
        for (long step = 0; step < 12; step++)
        {
            batches.Fill(batch, step);
            Assert.Equal(5, batch.Examples);
            Assert.InRange(batch.Rows, 5, batches.MaxRows);
        }
    }
}
