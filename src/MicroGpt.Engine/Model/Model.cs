namespace MicroGpt;

/// <summary>How <see cref="Model.Create"/> draws a new model's weights.</summary>
public enum Initialization
{
    /// <summary>The tutorial's: every weight from N(0, 0.08).</summary>
    Tutorial,
    /// <summary>GPT-2's: N(0, 0.02), and N(0, 0.02 / sqrt(2 L)) for each layer's two residual projections.</summary>
    Gpt2,
}

/// <summary>
/// A GPT: its configuration, its tokenizer and one flat float32 buffer of parameters in the
/// tutorial's order (see <see cref="ParameterLayout"/>). Training changes the parameters in
/// place; <see cref="Summary"/> records what training it has had. A model may be read by many
/// threads at once (sampling, evaluation) but trained by one run at a time. A trainer changes the
/// weights, summary and optimizer state under <see cref="StepGate"/>, so that <see cref="Snapshot"/>
/// (what a save writes) always takes them as one completed step left them.
/// PowerShell shows the public properties of this object (Select-Object *, Format-List *,
/// Export-Csv, ConvertTo-Json, Where-Object), so they are only what a user looks at: the shape,
/// the size and the training so far, as flat scalars. The engine's state (config, layout, weights,
/// summary, optimizer) is internal, for the engine, the cmdlets, the tests and the benchmark;
/// users reach the weights and the tokenizer through methods, which those views leave out.
/// </summary>
public sealed class Model
{
    /// <summary>The standard deviation of the tutorial's N(0, 0.08) initialization.</summary>
    public const double InitStd = 0.08;

    /// <summary>The standard deviation of GPT-2's N(0, 0.02) initialization; each layer's two residual projections take it over sqrt(2 L).</summary>
    public const double Gpt2InitStd = 0.02;

    int training; // 1 while a trainer holds the model
    readonly object stepGate = new();

    public Model(ModelConfig config, Tokenizer tokenizer, float[] parameters)
    {
        Config = config.Validate();
        if (tokenizer.VocabSize != config.VocabSize)
            throw new InvalidConfigurationException(nameof(tokenizer), tokenizer.VocabSize,
                $"The tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary size is {config.VocabSize}.");
        Layout = new ParameterLayout(config);
        if (parameters.Length != Layout.Count)
            throw new ArgumentException($"The model needs {Layout.Count} parameters, not {parameters.Length}.", nameof(parameters));
        Tokenizer = tokenizer;
        Parameters = parameters;
    }

    /// <summary>
    /// An untrained model: every parameter drawn in buffer order from a seeded generator, from
    /// N(0, 0.08) (the tutorial's), or for <see cref="Initialization.Gpt2"/> from N(0, 0.02) with
    /// each layer's attention output (Wo) and MLP output (Fc2) from N(0, 0.02 / sqrt(2 L)), as
    /// GPT-2 and nanoGPT scale the projections that add into the residual stream.
    /// </summary>
    public static Model Create(ModelConfig config, Tokenizer tokenizer, int seed, Initialization init = Initialization.Tutorial)
    {
        var layout = new ParameterLayout(config.Validate());
        var parameters = new float[layout.Count];
        var rng = new Rng(seed);
        double residualStd = Gpt2InitStd / Math.Sqrt(2.0 * config.Layers);
        foreach (var (_, offset, rows, columns) in ParameterLayout.Tensors(config))
        {
            bool residual = layout.Layers.Any(layer => layer.Wo == offset || layer.Fc2 == offset);
            double std = init == Initialization.Tutorial ? InitStd : residual ? residualStd : Gpt2InitStd;
            for (int i = offset; i < offset + rows * columns; i++) parameters[i] = (float)rng.NextGaussian(0, std);
        }
        return new Model(config, tokenizer, parameters) { Summary = new TrainingSummary { Seed = seed } };
    }

    /// <summary>Transformer layers (L).</summary>
    public int Layers => Config.Layers;
    /// <summary>Embedding size (C).</summary>
    public int EmbeddingSize => Config.EmbeddingSize;
    /// <summary>Attention heads (H).</summary>
    public int Heads => Config.Heads;
    /// <summary>The most positions the model sees at once (T).</summary>
    public int BlockSize => Config.BlockSize;
    /// <summary>Tokens in the vocabulary, BOS included (V).</summary>
    public int VocabSize => Config.VocabSize;
    /// <summary>The number of weights.</summary>
    public long ParameterCount => Config.ParameterCount;
    /// <summary>The seed the weights were initialized with, when known.</summary>
    public int? Seed => Summary.Seed;
    /// <summary>Optimizer steps trained, over all runs.</summary>
    public long Steps => Summary.Steps;
    /// <summary>Predicted tokens trained on, over all runs.</summary>
    public long Tokens => Summary.Tokens;
    /// <summary>The loss of the last training step; null before any training.</summary>
    public double? Loss => Summary.LastLoss;

    /// <summary>A copy of the weights, in the tutorial's order (<see cref="ParameterLayout.Tensors"/> names them).</summary>
    public float[] GetWeights() => (float[])Parameters.Clone();

    /// <summary>Replaces the weights with <paramref name="weights"/>, in the tutorial's order; refused while the model trains.</summary>
    public void SetWeights(float[] weights)
    {
        if (weights.Length != Parameters.Length)
            throw new ArgumentException($"The model has {Parameters.Length:N0} weights; {weights.Length:N0} were given.", nameof(weights));
        using (BeginTraining()) weights.CopyTo(Parameters, 0);
    }

    /// <summary>The tokenizer the model reads and writes text with.</summary>
    public Tokenizer GetTokenizer() => Tokenizer;

    internal ModelConfig Config { get; }
    internal ParameterLayout Layout { get; }
    internal Tokenizer Tokenizer { get; }

    /// <summary>The weights, in the tutorial's order. Trained in place.</summary>
    internal float[] Parameters { get; }

    /// <summary>What training this model has had (steps, tokens, last loss).</summary>
    internal TrainingSummary Summary { get; set; } = new();

    /// <summary>
    /// The optimizer state of the last training run, kept so that a checkpoint or a saved model
    /// can resume exactly; null for a model that has never been trained in this session or file.
    /// </summary>
    internal OptimizerState? Optimizer { get; set; }

    /// <summary>
    /// Held by a trainer while it changes the weights, summary and optimizer state (the update at the
    /// end of each step, a few microseconds), and by <see cref="Snapshot"/> while it copies them.
    /// </summary>
    internal object StepGate => stepGate;

    /// <summary>
    /// A detached copy of the model as one completed step left it: the weights, the summary and, when
    /// asked, the optimizer state, all of the same step, even while another thread trains the model
    /// (the trainer waits for the copy at its next update, and the copy for the update in progress).
    /// </summary>
    internal Model Snapshot(bool includeOptimizer)
    {
        lock (stepGate)
        {
            return new Model(this, (float[])Parameters.Clone())
            {
                Summary = Summary.Copy(),
                Optimizer = includeOptimizer ? Optimizer?.Copy() : null,
            };
        }
    }

    /// <summary>A model of the same (already validated) configuration and tokenizer over other weights.</summary>
    Model(Model shape, float[] parameters)
    {
        Config = shape.Config;
        Layout = shape.Layout;
        Tokenizer = shape.Tokenizer;
        Parameters = parameters;
    }

    /// <summary>Throws <see cref="ModelNotFiniteException"/> naming the first weight (or, when given, Adam moment) that is not finite.</summary>
    internal void CheckFinite(OptimizerState? optimizer = null)
    {
        CheckFinite(Parameters, "");
        if (optimizer is null) return;
        CheckFinite(optimizer.M, "optimizer.m of ");
        CheckFinite(optimizer.V, "optimizer.v of ");
    }

    void CheckFinite(float[] values, string what)
    {
        int bad = FirstNonFinite(values);
        if (bad >= 0) throw new ModelNotFiniteException(what + ParameterLayout.NameOf(Config, bad), values[bad]);
    }

    /// <summary>The index of the first value that is NaN or infinite, or -1.</summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>Marks the model as being trained until the lease is disposed; a second concurrent trainer is refused.</summary>
    internal IDisposable BeginTraining()
    {
        if (Interlocked.Exchange(ref training, 1) == 1)
            throw new ModelBusyException();
        return new Lease(this);
    }

    /// <summary>Refuses encoded sentences that are too short or hold ids outside the vocabulary.</summary>
    internal void CheckTokens(IReadOnlyList<int[]> sentences, string what)
    {
        foreach (var sentence in sentences)
        {
            if (sentence.Length < 2)
                throw new CorpusException($"A {what} sentence has {sentence.Length} tokens; it needs at least BOS and one more.");
            foreach (int token in sentence)
                if ((uint)token >= (uint)Config.VocabSize)
                    throw new CorpusException($"A {what} sentence has the token id {token}, outside the model's vocabulary of {Config.VocabSize}.");
        }
    }

    sealed class Lease(Model model) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref model.training, 0);
    }
}

/// <summary>The record of a model's training over its life (all runs), kept in its file.</summary>
public sealed class TrainingSummary
{
    /// <summary>The seed the weights were initialized with, when known.</summary>
    public int? Seed { get; set; }
    /// <summary>Optimizer steps taken.</summary>
    public long Steps { get; set; }
    /// <summary>Predicted tokens trained on.</summary>
    public long Tokens { get; set; }
    /// <summary>The loss of the last step, or null before any training.</summary>
    public double? LastLoss { get; set; }

    /// <summary>An independent copy.</summary>
    public TrainingSummary Copy()
    {
        var copy = new TrainingSummary();
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>Takes the values of <paramref name="other"/>.</summary>
    internal void CopyFrom(TrainingSummary other) => (Seed, Steps, Tokens, LastLoss) = (other.Seed, other.Steps, other.Tokens, other.LastLoss);
}
