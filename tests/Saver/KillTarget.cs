namespace MicroGpt;

/// <summary>
/// The models the kill test's saver writes: one trained base model, marked with the number of the
/// save (in a weight, the training summary and an Adam moment), so that every file tells which save
/// wrote it and whether all its parts come from that save.
/// </summary>
public static class KillTarget
{
    /// <summary>The files a saver writes (one each): a model, a checkpoint (with optimizer state), safetensors.</summary>
    public static readonly (string File, bool WithOptimizer)[] Files = [("m.json", false), ("ck.json", true), ("m.safetensors", false)];

    /// <summary>
    /// About 45,000 parameters: a save takes milliseconds (writing, then a flush to disk), against
    /// microseconds between two saves, so that nearly every kill lands inside a save.
    /// </summary>
    public static Model BaseModel()
    {
        var tokenizer = new WordTokenizer(Enumerable.Range(0, 300).Select(i => $"w{i:D3}"));
        var model = Model.Create(new ModelConfig(tokenizer.VocabSize, EmbeddingSize: 32, Heads: 4, Layers: 2, BlockSize: 16), tokenizer, seed: 7);
        int[][] sentences = [[300, 1, 2, 3, 300], [300, 4, 5, 300]];
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 2 })) trainer.Run(_ => { });
        return model;
    }

    /// <summary>Marks the model as save <paramref name="save"/>: weight 0, the summary's steps and the first Adam moment.</summary>
    public static void Mark(Model model, long save)
    {
        model.Parameters[0] = save;
        model.Summary.Steps = save;
        model.Optimizer!.M[0] = save;
    }
}
