namespace MicroGpt;

/// <summary>
/// The engine's errors, one type per kind of bad input, so that the cmdlets can give each
/// its own error id and category without parsing messages.
/// </summary>
public class MicroGptException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A corpus that cannot be trained on: empty, not text, too large, or with a vocabulary too large.</summary>
public sealed class CorpusException(string message) : MicroGptException(message);

/// <summary>
/// A resumed run given other sentences than the ones its checkpoint's run trained on (another
/// count, or another fingerprint): continuing would not be the run that was started.
/// </summary>
public sealed class CheckpointMismatchException(string message) : MicroGptException(message);

/// <summary>A piece of text that the tokenizer's vocabulary lacks; <paramref name="pieceName"/> says what a piece is ("word").</summary>
public sealed class UnknownTokenException(string piece, string sentence, string pieceName)
    : MicroGptException($"The {pieceName} '{piece}' in \"{sentence}\" is not in the vocabulary.")
{
    public string Piece { get; } = piece;
    public string Sentence { get; } = sentence;
    /// <summary>What a piece of the tokenizer is: "word", "character".</summary>
    public string PieceName { get; } = pieceName;
    /// <summary>The 1-based line of the corpus, when the sentence came from one; 0 otherwise.</summary>
    public int Line { get; init; }

    /// <summary>Where the corpus came from ("'words.txt'", "the default corpus"), when known.</summary>
    public string? Origin { get; init; }

    /// <summary>The same error, said of line <paramref name="line"/> of <paramref name="origin"/>.</summary>
    public UnknownTokenException At(int line, string? origin) => new(Piece, Sentence, PieceName) { Line = line, Origin = origin };

    public override string Message => (Line, Origin) switch
    {
        ( > 0, not null) => $"Line {Line} of {Origin}: {base.Message}",
        ( > 0, null) => $"Line {Line}: {base.Message}",
        _ => base.Message,
    };
}

/// <summary>
/// A text that the model cannot read whole: with the BOS that opens it, <paramref name="pieces"/>
/// pieces take one position more than the block size has. Read as a stream (no BOS), at most
/// <paramref name="streamFit"/> pieces fit: the block size, or one more when the last is only predicted.
/// </summary>
public sealed class TextTooLongException(string text, int count, int blockSize, string pieces, int? streamFit = null)
    : MicroGptException(streamFit is int fit
        ? $"\"{text}\" is {count} {pieces}; read as a stream, more than the model's block size of {blockSize} lets it read. At most {fit} {pieces} fit."
        : $"\"{text}\" is {count} {pieces}; with the BOS that opens it, that is {count + 1} positions, more than the model's block size of {blockSize}. At most {blockSize - 1} {pieces} fit.")
{
    public string Text { get; } = text;
    /// <summary>How many pieces the text is.</summary>
    public int Count { get; } = count;
    public int BlockSize { get; } = blockSize;
}

/// <summary>A model configuration or option that the engine refuses (sizes, rates, betas).</summary>
public sealed class InvalidConfigurationException(string parameter, object? value, string message)
    : MicroGptException(message)
{
    /// <summary>The name of the offending setting, as the public API spells it.</summary>
    public string Parameter { get; } = parameter;
    public object? Value { get; } = value;
}

/// <summary>
/// A training step whose loss or gradient was not finite, or whose update would have made a weight
/// non-finite (or whose gradient norm was too large for float32); the model keeps the weights (and
/// optimizer state) of the step before.
/// </summary>
public sealed class TrainingDivergedException(long step, string cause)
    : MicroGptException($"Training diverged at step {step}: {cause}. The model keeps the weights of step {step - 1}; try a lower learning rate.")
{
    /// <summary>The step that diverged (1-based, counted as TrainingStep.Step counts).</summary>
    public long Step { get; } = step;

    /// <summary>The last good step, whose weights the model keeps.</summary>
    public long KeptStep => Step - 1;
}

/// <summary>
/// A model that holds a number that is not finite (a weight, or an Adam moment of its optimizer
/// state), set from outside: it cannot be trained, measured, sampled or saved.
/// </summary>
public sealed class ModelNotFiniteException(string where, float value)
    : MicroGptException($"The model's {where} is {value}, not a finite number: a model with such weights cannot be trained, measured, sampled or saved. Load or train it again.")
{
    /// <summary>The tensor and element ("lm_head[3, 5]"), or the moment ("optimizer.m of lm_head[3, 5]").</summary>
    public string Where { get; } = where;
}

/// <summary>A model file that is missing, truncated, malformed or of an unknown version.</summary>
public class ModelFileException(string path, string problem, Exception? inner = null)
    : MicroGptException($"The model file '{path}' cannot be read: {problem}", inner)
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}

/// <summary>A model file and a tokenizer that do not fit each other: another size, or other pieces.</summary>
public sealed class VocabularyMismatchException(string path, string problem) : ModelFileException(path, problem);

/// <summary>A model that another run is training: a model trains in one run at a time.</summary>
public sealed class ModelBusyException() : MicroGptException("This model is already being trained by another run; train a copy instead (Save-Model and Import-Model make one).");
