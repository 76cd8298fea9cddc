using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>Small models and corpora for the engine tests.</summary>
static class TestData
{
    /// <summary>A word tokenizer over "w0".."w(n-1)", so a model of vocabulary n + 1.</summary>
    public static Tokenizer Words(int count) =>
        new WordTokenizer(Enumerable.Range(0, count).Select(i => $"w{i:D3}"));

    public static Model RandomModel(ModelConfig config, int seed = 1) => Model.Create(config, Words(config.VocabSize - 1), seed);

    /// <summary>Random encoded sentences [BOS, 1..maxWords ids, BOS].</summary>
    public static int[][] RandomSentences(int vocabSize, int count, int maxWords, int seed)
    {
        var rng = new Random(seed);
        int bos = vocabSize - 1;
        return Enumerable.Range(0, count)
            .Select(_ => new[] { bos }.Concat(Enumerable.Range(0, rng.Next(1, maxWords + 1)).Select(_ => rng.Next(bos))).Append(bos).ToArray())
            .ToArray();
    }

    public static double[] ToDouble(float[] values) => values.Select(v => (double)v).ToArray();

    public static float[] RandomFloats(int count, int seed, float scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>The engine's gradient and loss of one batch of all the sentences, in order, without an optimizer step.</summary>
    public static (double Loss, float[] Gradient) Gradient(Model model, int[][] sentences, int threads = 1)
    {
        var batches = new SentenceBatches(model, sentences, new TrainingOptions { BatchSize = sentences.Length, Shuffle = false });
        using var pool = threads > 1 ? new WorkerPool(threads - 1) : null;
        var runner = new StepRunner(model, batches.MaxRows, batches.MaxExamples, threads, pool);
        batches.Fill(runner.Batch, step: 0);
        double loss = runner.Compute();
        return (loss, runner.Gradients);
    }
}
