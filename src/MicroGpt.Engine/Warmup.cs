namespace MicroGpt;

/// <summary>
/// Runs each of the engine's hot paths once, on a throw-away model, so that the runtime has
/// compiled them before a user's first call needs them. The kernels are marked
/// AggressiveOptimization (see <see cref="StepRunner"/>): the runtime compiles them fully on first
/// use and never ahead of time, which costs a session's first prediction, attention map or training
/// about 25 ms. The module runs this on a background thread when it is imported.
/// </summary>
/// <remarks>
/// Nothing here is visible outside: the tokenizer, model, trainers, sampler and map are its own,
/// and the engine keeps no state between calls. Compiling is per method, not per shape or
/// vocabulary, so a model of the tutorial's shape on eight sentences reaches the code the
/// tutorial's model runs (not the packed products that only larger matrices take).
/// </remarks>
public static class Warmup
{
    static readonly string[] Sentences =
    [
        "the cat eats a cake", "a dog sees the cat", "the bird sings", "a cat runs home",
        "the dog eats", "a bird sees a dog", "the cake is sweet", "the cat sleeps",
    ];

    /// <summary>Trains (sentences, a batch on two threads, a stream), evaluates, samples and inspects a model of the tutorial's shape on a few sentences of its own.</summary>
    public static void Run()
    {
        var lines = Sentences.Select((text, i) => new Sentence(text, i + 1)).ToList();
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, Sentences);
        var sentences = Corpus.Encode(tokenizer, lines);
        var model = Model.Create(new ModelConfig(tokenizer.VocabSize), tokenizer, seed: 1);
        // one sentence a step; a packed batch on two threads (the worker pool); a stream of windows
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 2, ThreadCount = 1 })) trainer.Run(_ => { });
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 2, BatchSize = Sentences.Length, ThreadCount = 2 })) trainer.Run(_ => { });
        int[] stream = sentences.SelectMany(ids => ids[1..^1]).ToArray(); // the words without BOS, as a stream
        using (var trainer = Trainer.ForStream(model, stream, new TrainingOptions { Steps = 2, BatchSize = 2, ThreadCount = 1 })) trainer.Run(_ => { });
        new Evaluator(model, sentences).MeanLoss();
        new Sampler(model, new SamplingOptions()).Generate();

        var inspector = new Inspector(model);
        inspector.Predictions(Sentences[0], top: 10);
        inspector.Surprises(Sentences[0]);
        AttentionMap.Render(inspector.Attention(Sentences[0]), new AttentionMapOptions());
        Inspector.SimilarTokens(model, "cat", count: 10);
    }
}
