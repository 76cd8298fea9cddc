using System.Globalization;
using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// The model file: JSON that the tutorial's own loader reads (<c>config</c> and <c>weights</c> in
/// the tutorial's parameter order), plus MicroGpt's keys: <c>format</c>, <c>formatVersion</c>,
/// <c>tokenizer</c> (kind and vocabulary), <c>training</c> (seed, steps, tokens, last loss) and,
/// for checkpoints, <c>optimizer</c> (Adam's moments, the next step, the run's options and the
/// corpus it walks). Writing is atomic (<see cref="AtomicFile"/>). Reading is strict: anything
/// missing, malformed, of the wrong length, not finite, or of an unknown version is a
/// <see cref="ModelFileException"/> naming the file and the problem, never a model with wrong numbers.
/// Files ending in .safetensors are read and written by <see cref="Safetensors"/>.
/// </summary>
public static class ModelFile
{
    public const string FormatName = "microgpt";
    public const int FormatVersion = 1;

    /// <summary>Writes the model (and, when asked, its optimizer state for resuming).</summary>
    public static void Save(Model model, string path, bool includeOptimizer = false, Func<Stream, Stream>? decorate = null)
    {
        if (Safetensors.IsSafetensorsPath(path)) { Safetensors.Save(model, path, decorate); return; }
        CheckFinite(model.Parameters, "weights");
        var optimizer = includeOptimizer ? model.Optimizer : null;
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartObject();
            json.WriteString("format", FormatName);
            json.WriteNumber("formatVersion", FormatVersion);
            WriteConfig(json, model.Config);
            WriteTokenizer(json, model.Tokenizer);
            WriteSummary(json, model.Summary);
            WriteFloats(json, "weights", model.Parameters);
            if (optimizer is not null) WriteOptimizer(json, optimizer);
            json.WriteString("checksum", Checksum.Of(model, optimizer));
            json.WriteEndObject();
        }, decorate);
    }

    /// <summary>
    /// Reads a model file. <paramref name="tokenizer"/> supplies the vocabulary of files that carry
    /// none (the tutorial's); a file's own vocabulary must agree with it when both are given.
    /// </summary>
    public static Model Load(string path, Tokenizer? tokenizer = null)
    {
        if (!File.Exists(path)) throw new ModelFileException(path, "the file does not exist.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new ModelFileException(path, ex.Message, ex); }
        if (Safetensors.LooksLikeSafetensors(bytes)) return Safetensors.Load(path, bytes, tokenizer);

        JsonDocument document;
        try { document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 }); }
        catch (JsonException ex)
        {
            string where = ex.BytePositionInLine is long b ? $" (line {ex.LineNumber + 1}, byte {b + 1})" : "";
            throw new ModelFileException(path, bytes.Length == 0 ? "the file is empty." : $"it is not valid JSON{where}; the file may be truncated or not a model file.", ex);
        }
        using (document)
        {
            try { return Read(document.RootElement, tokenizer); }
            catch (VocabularyProblem problem) { throw new VocabularyMismatchException(path, problem.Message); }
            catch (FormatProblem problem) { throw new ModelFileException(path, problem.Message); }
            catch (InvalidOperationException ex) { throw new ModelFileException(path, "it holds text that is not valid UTF-8.", ex); } // JsonDocument checks strings only when read
        }
    }

    static Model Read(JsonElement root, Tokenizer? given)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem("the top level is not a JSON object.");
        if (root.TryGetProperty("formatVersion", out var version))
        {
            if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v) || v != FormatVersion)
                throw new FormatProblem($"formatVersion {version.GetRawText()} is not supported; this MicroGpt reads version {FormatVersion}.");
        }
        if (!root.TryGetProperty("weights", out _) && root.TryGetProperty("tensors", out _))
            throw new FormatProblem("it is the configuration file of a safetensors model; import the .safetensors file beside it.");
        var (config, tokenizer) = ReadConfigAndTokenizer(root, given);
        var weights = ReadFloats(Required(root, "weights", JsonValueKind.Array), "weights", checked((int)config.ParameterCount));
        var model = new Model(config, tokenizer, weights) { Summary = ReadSummary(root) };
        if (root.TryGetProperty("optimizer", out var optimizer))
            model.Optimizer = ReadOptimizer(optimizer, weights.Length);
        // The tutorial's files have no checksum; ours must match what was read, value for value.
        if (root.TryGetProperty("checksum", out var checksum) && (checksum.ValueKind != JsonValueKind.String || checksum.GetString() != Checksum.Of(model, model.Optimizer)))
            throw new FormatProblem($"its checksum {checksum.GetRawText()} does not match its content: the file was changed or damaged after it was written.");
        return model;
    }

    /// <summary>The config, and the file's vocabulary or the tokenizer given (checked against each other).</summary>
    internal static (ModelConfig, Tokenizer) ReadConfigAndTokenizer(JsonElement root, Tokenizer? given)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem("the top level is not a JSON object.");
        var config = ReadConfig(Required(root, "config", JsonValueKind.Object));
        return (config, ReadTokenizer(root, config, given));
    }

    static ModelConfig ReadConfig(JsonElement config)
    {
        int layers = RequiredInt(config, "nLayer"), embedding = RequiredInt(config, "nEmbd"), block = RequiredInt(config, "blockSize");
        int heads = RequiredInt(config, "nHead"), vocab = RequiredInt(config, "vocabSize");
        var result = new ModelConfig(vocab, embedding, heads, layers, block);
        try { result.Validate(); }
        catch (InvalidConfigurationException ex) { throw new FormatProblem($"its config is invalid: {ex.Message}"); }
        if (config.TryGetProperty("headDim", out _) && RequiredInt(config, "headDim") != result.HeadSize)
            throw new FormatProblem($"config.headDim {RequiredInt(config, "headDim")} is not nEmbd / nHead = {result.HeadSize}.");
        return result;
    }

    static Tokenizer ReadTokenizer(JsonElement root, ModelConfig config, Tokenizer? given)
    {
        if (!root.TryGetProperty("tokenizer", out var element))
        {
            if (given is null)
                throw new FormatProblem("it has no vocabulary (a file from the tutorial's saveModel?); supply the tokenizer built from the corpus it was trained on.");
            if (given.VocabSize != config.VocabSize)
                throw new VocabularyProblem($"the model has a vocabulary of {config.VocabSize} tokens but the tokenizer supplied has {given.VocabSize}; build it from the corpus the model was trained on.");
            return given;
        }
        if (element.ValueKind != JsonValueKind.Object) throw new FormatProblem("tokenizer is not a JSON object.");
        string kindText = Required(element, "kind", JsonValueKind.String).GetString()!;
        var kind = kindText switch
        {
            "word" => TokenizerKind.Word,
            "character" => TokenizerKind.Character,
            _ => throw new FormatProblem($"tokenizer.kind '{kindText}' is neither 'word' nor 'character'."),
        };
        var vocabulary = Required(element, "vocabulary", JsonValueKind.Array).EnumerateArray().Select((piece, i) =>
            piece.ValueKind == JsonValueKind.String ? piece.GetString()! : throw new FormatProblem($"tokenizer.vocabulary[{i}] is not a string.")).ToList();
        if (vocabulary.Count + 1 != config.VocabSize)
            throw new FormatProblem($"its vocabulary has {vocabulary.Count} pieces plus BOS, but config.vocabSize is {config.VocabSize}.");
        Tokenizer tokenizer;
        try { tokenizer = Tokenizer.FromVocabulary(kind, vocabulary); }
        catch (ArgumentException ex) { throw new FormatProblem($"its vocabulary is invalid: {ex.Message}"); }
        if (given is not null && (given.TokenKind != tokenizer.TokenKind || !given.Vocabulary.SequenceEqual(tokenizer.Vocabulary)))
            throw new VocabularyProblem($"its vocabulary ({tokenizer.VocabSize} {tokenizer.TokenKind.ToString().ToLowerInvariant()} tokens) differs from the tokenizer supplied ({given.VocabSize} {given.TokenKind.ToString().ToLowerInvariant()} tokens).");
        return tokenizer;
    }

    internal static void WriteTokenizer(Utf8JsonWriter json, Tokenizer tokenizer)
    {
        json.WriteStartObject("tokenizer");
        json.WriteString("kind", tokenizer.TokenKind == TokenizerKind.Word ? "word" : "character");
        json.WriteStartArray("vocabulary");
        foreach (string piece in tokenizer.Vocabulary) json.WriteStringValue(piece);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    internal static void WriteSummary(Utf8JsonWriter json, TrainingSummary summary)
    {
        json.WriteStartObject("training");
        if (summary.Seed is int seed) json.WriteNumber("seed", seed);
        json.WriteNumber("steps", summary.Steps);
        json.WriteNumber("tokens", summary.Tokens);
        if (summary.LastLoss is double loss) json.WriteNumber("lastLoss", loss);
        json.WriteEndObject();
    }

    internal static TrainingSummary ReadSummary(JsonElement root)
    {
        var summary = new TrainingSummary();
        if (!root.TryGetProperty("training", out var training)) return summary;
        if (training.ValueKind != JsonValueKind.Object) throw new FormatProblem("training is not a JSON object.");
        if (training.TryGetProperty("seed", out _)) summary.Seed = RequiredInt(training, "seed", allowNegative: true);
        if (training.TryGetProperty("steps", out _)) summary.Steps = RequiredLong(training, "steps");
        if (training.TryGetProperty("tokens", out _)) summary.Tokens = RequiredLong(training, "tokens");
        if (training.TryGetProperty("lastLoss", out var loss))
            summary.LastLoss = loss.ValueKind == JsonValueKind.Number && loss.TryGetDouble(out double l) && double.IsFinite(l) ? l : throw new FormatProblem("training.lastLoss is not a finite number.");
        return summary;
    }

    static void WriteOptimizer(Utf8JsonWriter json, OptimizerState state)
    {
        json.WriteStartObject("optimizer");
        json.WriteNumber("nextStep", state.NextStep);
        json.WriteNumber("tokens", state.Tokens);
        json.WriteNumber("corpusSentences", state.CorpusSentences);
        json.WriteString("corpusFingerprint", state.CorpusFingerprint.ToString("x16", CultureInfo.InvariantCulture));
        if (state.CorpusOrigin is { } origin) WriteCorpusOrigin(json, origin);
        var o = state.Options;
        json.WriteStartObject("options");
        json.WriteNumber("steps", o.Steps);
        json.WriteNumber("learningRate", o.LearningRate);
        json.WriteNumber("beta1", o.Beta1);
        json.WriteNumber("beta2", o.Beta2);
        json.WriteNumber("epsilon", o.Epsilon);
        json.WriteNumber("batchSize", o.BatchSize);
        json.WriteNumber("seed", o.Seed);
        json.WriteBoolean("shuffle", o.Shuffle);
        json.WriteNumber("validationInterval", o.ValidationInterval);
        json.WriteEndObject();
        CheckFinite(state.M, "optimizer.m");
        CheckFinite(state.V, "optimizer.v");
        WriteFloats(json, "m", state.M);
        WriteFloats(json, "v", state.V);
        json.WriteEndObject();
    }

    static OptimizerState ReadOptimizer(JsonElement element, int parameters)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new FormatProblem("optimizer is not a JSON object.");
        var o = Required(element, "options", JsonValueKind.Object);
        var options = new TrainingOptions
        {
            Steps = RequiredInt(o, "steps"),
            LearningRate = RequiredDouble(o, "learningRate"),
            Beta1 = RequiredDouble(o, "beta1"),
            Beta2 = RequiredDouble(o, "beta2"),
            Epsilon = RequiredDouble(o, "epsilon"),
            BatchSize = RequiredInt(o, "batchSize"),
            Seed = RequiredInt(o, "seed", allowNegative: true),
            Shuffle = Required(o, "shuffle", JsonValueKind.True, JsonValueKind.False).GetBoolean(),
            ValidationInterval = RequiredInt(o, "validationInterval", allowZero: true),
        };
        try { options.Validate(); }
        catch (InvalidConfigurationException ex) { throw new FormatProblem($"optimizer.options is invalid: {ex.Message}"); }
        string fingerprint = Required(element, "corpusFingerprint", JsonValueKind.String).GetString()!;
        if (!ulong.TryParse(fingerprint, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hash))
            throw new FormatProblem($"optimizer.corpusFingerprint '{fingerprint}' is not a hexadecimal number.");
        var state = new OptimizerState(ReadFloats(Required(element, "m", JsonValueKind.Array), "optimizer.m", parameters),
                                       ReadFloats(Required(element, "v", JsonValueKind.Array), "optimizer.v", parameters))
        {
            Options = options,
            NextStep = RequiredLong(element, "nextStep", allowZero: true),
            Tokens = RequiredLong(element, "tokens", allowZero: true),
            CorpusSentences = RequiredInt(element, "corpusSentences"),
            CorpusFingerprint = hash,
            CorpusOrigin = element.TryGetProperty("corpusOrigin", out var origin) ? ReadCorpusOrigin(origin) : null, // older checkpoints have none
        };
        if (state.NextStep > options.Steps)
            throw new FormatProblem($"optimizer.nextStep {state.NextStep} is beyond the run's {options.Steps} steps.");
        int negative = Array.FindIndex(state.V, x => x < 0);
        if (negative >= 0) throw new FormatProblem($"optimizer.v[{negative}] is negative ({state.V[negative]}); second moments cannot be.");
        return state;
    }

    static readonly (CorpusSource Source, string Name)[] CorpusSourceNames = [(CorpusSource.Default, "default"), (CorpusSource.Text, "text"), (CorpusSource.Files, "files")];

    static void WriteCorpusOrigin(Utf8JsonWriter json, CorpusOrigin origin)
    {
        json.WriteStartObject("corpusOrigin");
        json.WriteString("source", CorpusSourceNames.Single(s => s.Source == origin.Source).Name);
        json.WriteStartArray("files");
        foreach (string file in origin.Files) json.WriteStringValue(file);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    static CorpusOrigin ReadCorpusOrigin(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new FormatProblem("optimizer.corpusOrigin is not a JSON object.");
        string name = Required(element, "source", JsonValueKind.String).GetString()!;
        var known = CorpusSourceNames.Where(s => s.Name == name).ToList();
        if (known.Count == 0) throw new FormatProblem($"optimizer.corpusOrigin.source '{name}' is none of {string.Join(", ", CorpusSourceNames.Select(s => $"'{s.Name}'"))}.");
        var files = Required(element, "files", JsonValueKind.Array).EnumerateArray().Select((file, i) =>
            file.ValueKind == JsonValueKind.String ? file.GetString()! : throw new FormatProblem($"optimizer.corpusOrigin.files[{i}] is not a string.")).ToList();
        return new CorpusOrigin(known[0].Source, files);
    }

    internal static void WriteConfig(Utf8JsonWriter json, ModelConfig config)
    {
        json.WriteStartObject("config");
        json.WriteNumber("nLayer", config.Layers);
        json.WriteNumber("nEmbd", config.EmbeddingSize);
        json.WriteNumber("blockSize", config.BlockSize);
        json.WriteNumber("nHead", config.Heads);
        json.WriteNumber("headDim", config.HeadSize);
        json.WriteNumber("vocabSize", config.VocabSize);
        json.WriteEndObject();
    }

    static void WriteFloats(Utf8JsonWriter json, string name, float[] values)
    {
        json.WriteStartArray(name);
        foreach (float value in values) json.WriteNumberValue(value); // shortest text that reads back to the same float
        json.WriteEndArray();
    }

    static float[] ReadFloats(JsonElement array, string name, int expected)
    {
        int count = array.GetArrayLength();
        if (count != expected) throw new FormatProblem($"{name} has {count} numbers; the config needs {expected}.");
        var values = new float[count];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out float value) || !float.IsFinite(value))
                throw new FormatProblem($"{name}[{i}] is {item.GetRawText()}, not a finite 32-bit number.");
            values[i++] = value;
        }
        return values;
    }

    static void CheckFinite(float[] values, string name)
    {
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0) throw new InvalidConfigurationException(name, values[bad], $"{name}[{bad}] is {values[bad]}; a model with non-finite numbers cannot be saved.");
    }

    internal static JsonElement Required(JsonElement parent, string name, params JsonValueKind[] kinds)
    {
        if (!parent.TryGetProperty(name, out var element)) throw new FormatProblem($"it has no '{name}'.");
        if (!kinds.Contains(element.ValueKind)) throw new FormatProblem($"'{name}' is {element.ValueKind.ToString().ToLowerInvariant()}, not {string.Join(" or ", kinds.Select(k => k.ToString().ToLowerInvariant()))}.");
        return element;
    }

    internal static int RequiredInt(JsonElement parent, string name, bool allowZero = false, bool allowNegative = false)
    {
        var element = Required(parent, name, JsonValueKind.Number);
        if (!element.TryGetInt32(out int value) || (value < 0 && !allowNegative) || (value == 0 && !allowZero && !allowNegative))
            throw new FormatProblem($"'{name}' is {element.GetRawText()}, not a {(allowNegative ? "" : allowZero ? "non-negative " : "positive ")}32-bit integer.");
        return value;
    }

    static long RequiredLong(JsonElement parent, string name, bool allowZero = true)
    {
        var element = Required(parent, name, JsonValueKind.Number);
        if (!element.TryGetInt64(out long value) || value < 0 || (value == 0 && !allowZero))
            throw new FormatProblem($"'{name}' is {element.GetRawText()}, not a non-negative integer.");
        return value;
    }

    static double RequiredDouble(JsonElement parent, string name)
    {
        var element = Required(parent, name, JsonValueKind.Number);
        if (!element.TryGetDouble(out double value) || !double.IsFinite(value))
            throw new FormatProblem($"'{name}' is {element.GetRawText()}, not a finite number.");
        return value;
    }
}

/// <summary>A problem with a file's content, turned into a <see cref="ModelFileException"/> naming the file.</summary>
class FormatProblem(string message) : Exception(message);

/// <summary>A vocabulary that does not fit the file, turned into a <see cref="VocabularyMismatchException"/>.</summary>
sealed class VocabularyProblem(string message) : FormatProblem(message);
