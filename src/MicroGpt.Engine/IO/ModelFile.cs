using System.Globalization;
using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// The model file: JSON that the tutorial's own loader reads (<c>config</c> and <c>weights</c> in
/// the tutorial's parameter order), plus MicroGpt's keys: <c>format</c>, <c>formatVersion</c>,
/// <c>tokenizer</c> (its kind, and what the kind keeps: <see cref="Tokenizer.Write"/>), <c>training</c> (seed, steps, tokens, last loss),
/// <c>checksum</c> (of every value read back) and, for checkpoints, <c>optimizer</c> (Adam's
/// moments, the next step, the run's options and the corpus it walks). Writing is atomic
/// (<see cref="AtomicFile"/>) and takes a <see cref="Model.Snapshot"/>, so that a model another
/// thread is training is saved as one completed step left it. Reading is strict and bounded:
/// only regular files, no more bytes than the file's length, sizes checked against the memory this
/// process can get before anything is allocated, no key twice, and anything missing, malformed, of
/// the wrong length, not finite, of an unknown version or not matching the checksum is a
/// <see cref="ModelFileException"/> naming the file and the problem, never a model with wrong
/// numbers. Files ending in .safetensors (or that start like one) are read and written by
/// <see cref="Safetensors"/>.
/// </summary>
public static class ModelFile
{
    public const string FormatName = "microgpt";

    /// <summary>
    /// The newest version, which this MicroGpt reads (as it reads every older one). Version 3 added
    /// to the optimizer options the run's mode (stream or sentences), the weight decay, warm-up,
    /// schedule, minimum learning rate and gradient clipping; version 2 the run's checkpoint interval
    /// and the self-describing safetensors metadata. A file is written in the oldest version that
    /// holds its values (<see cref="VersionFor"/>).
    /// </summary>
    public const int FormatVersion = 3;

    const int OldestVersion = 1;

    /// <summary>The oldest version written: version 1 files are saved again as version 2.</summary>
    const int OldestWritten = 2;

    /// <summary>
    /// The version a file of this optimizer state (null for a model without one) is written in: the
    /// oldest that holds its options, which is version 2 unless the run sets an option a later
    /// version added. The files of runs that use no newer option stay as they were, byte for byte,
    /// and readable by the MicroGpt before.
    /// </summary>
    internal static int VersionFor(OptimizerState? optimizer)
    {
        if (optimizer is null) return OldestWritten;
        var defaults = new TrainingOptions();
        return TrainingOptions.All.Where(o => o.InCheckpoints && !o.Get(optimizer.Options).Equals(o.Get(defaults))).Select(o => o.Since).Append(OldestWritten).Max();
    }

    /// <summary>Bytes of memory that reading a JSON model file takes per byte of the file: the text, the parsed document's index of it, and the numbers.</summary>
    const int JsonBytesOfMemoryPerByte = 3;

    /// <summary>The keys that make a JSON file MicroGpt's rather than the tutorial's (which has config and weights only).</summary>
    static readonly string[] OwnKeys = ["format", "formatVersion", "tokenizer", "training", "optimizer", "checksum"];

    /// <summary>
    /// Writes the model (and, when asked, its optimizer state for resuming) as one completed step
    /// left it, even while another thread trains it. A model with a number that is not finite is
    /// refused (<see cref="ModelNotFiniteException"/>) and nothing is written.
    /// </summary>
    public static void Save(Model model, string path, bool includeOptimizer = false, Func<Stream, Stream>? decorate = null)
    {
        var snapshot = model.Snapshot(includeOptimizer);
        snapshot.CheckFinite(snapshot.Optimizer);
        if (Safetensors.IsSafetensorsPath(path)) { Safetensors.Save(snapshot, path, decorate); return; }
        var optimizer = snapshot.Optimizer;
        int version = VersionFor(optimizer);
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream);
            json.WriteStartObject();
            WriteDescription(json, snapshot, version);
            WriteFloats(json, "weights", snapshot.Parameters);
            if (optimizer is not null) WriteOptimizer(json, optimizer, version);
            json.WriteString("checksum", Checksum.Of(snapshot, optimizer, version));
            json.WriteEndObject();
        }, decorate);
    }

    /// <summary>
    /// Reads a model file. <paramref name="tokenizer"/> supplies the vocabulary of files that carry
    /// none (the tutorial's); a file's own vocabulary must agree with it when both are given.
    /// </summary>
    public static Model Load(string path, Tokenizer? tokenizer = null)
    {
        using var file = OpenForReading(path, out long length);
        Span<byte> start = stackalloc byte[9];
        int read;
        try
        {
            read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
            file.Position = 0;
        }
        catch (IOException ex) { throw new ModelFileException(path, ex.Message, ex); }
        if (Safetensors.IsSafetensorsPath(path) || Safetensors.LooksLikeSafetensors(start[..read], length))
            return Safetensors.Load(path, file, length, tokenizer);
        // A model file is a JSON object: anything else is refused before it is read whole.
        int first = start[..read].IndexOfAnyExcept(" \t\r\n"u8);
        if (first >= 0 && start[first] != (byte)'{')
            throw new ModelFileException(path, "it starts neither as a JSON object nor as safetensors: it is not a model file.");

        var bytes = ReadAll(path, file, length, JsonBytesOfMemoryPerByte, "a JSON model file");
        try
        {
            using var document = StrictJson.Parse(bytes, "it");
            return Read(document.RootElement, tokenizer);
        }
        catch (VocabularyProblem problem) { throw new VocabularyMismatchException(path, problem.Message); }
        catch (FormatProblem problem) { throw new ModelFileException(path, problem.Message); }
    }

    /// <summary>
    /// Opens a model file for reading: a regular file, not empty. A pipe or a device reports its
    /// length as 0 and is refused unopened (opening a pipe waits for a writer; a device may never end).
    /// </summary>
    internal static FileStream OpenForReading(string path, out long length)
    {
        if (Directory.Exists(path)) throw new ModelFileException(path, "it is a folder, not a file.");
        if (!File.Exists(path)) throw new ModelFileException(path, "the file does not exist.");
        try
        {
            length = CorpusFile.LengthOf(path);
            if (length == 0) throw new ModelFileException(path, "it is empty, or it is not a regular file (a pipe or a device), which MicroGpt does not read.");
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new ModelFileException(path, ex.Message, ex); }
    }

    /// <summary>
    /// The <paramref name="length"/> bytes of an open file, once the memory they take
    /// (<paramref name="bytesOfMemoryPerByte"/> times as many) is known to be available.
    /// </summary>
    internal static byte[] ReadAll(string path, Stream file, long length, int bytesOfMemoryPerByte, string what)
    {
        if (length > Array.MaxLength)
            throw new ModelFileException(path, $"it is {length:N0} bytes long, more than {what} may be ({Array.MaxLength:N0} bytes); save large models as safetensors.");
        long needed = length * bytesOfMemoryPerByte, available = MemoryBudget.Available();
        if (needed > available)
            throw new ModelFileException(path, $"it is {length:N0} bytes long; reading it as {what} needs about {MemoryBudget.Describe(needed)}, more than the {MemoryBudget.Describe(available)} this process can still get.");
        var bytes = new byte[length];
        try { file.ReadExactly(bytes); }
        catch (EndOfStreamException ex) { throw new ModelFileException(path, "it became shorter while it was read.", ex); }
        catch (IOException ex) { throw new ModelFileException(path, ex.Message, ex); }
        return bytes;
    }

    static Model Read(JsonElement root, Tokenizer? given)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem("its top level is not a JSON object: it is not a model file.");
        if (!root.TryGetProperty("weights", out _) && root.TryGetProperty("tensors", out _))
            throw new FormatProblem("it is the configuration file of a safetensors model; import the .safetensors file beside it.");
        if (!root.TryGetProperty("config", out _) || !root.TryGetProperty("weights", out _))
            throw new FormatProblem("it has no 'config' and 'weights': it is neither a MicroGpt model file nor a tutorial one.");
        StrictJson.CheckUniqueKeys(root, "it");
        bool ours = OwnKeys.Any(key => root.TryGetProperty(key, out _));
        int version = ours ? ReadVersion(root) : 0;
        var (config, tokenizer) = ReadConfigAndTokenizer(root, given);
        var weights = ReadFloats(Required(root, "weights", JsonValueKind.Array), "weights", checked((int)config.ParameterCount));
        var model = new Model(config, tokenizer, weights) { Summary = ReadSummary(root, strict: ours) };
        if (root.TryGetProperty("optimizer", out var optimizer))
            model.Optimizer = ReadOptimizer(optimizer, weights.Length, version);
        // The tutorial's files have no checksum; ours must match what was read, value for value.
        if (ours) CheckChecksum("checksum", Required(root, "checksum", JsonValueKind.String).GetString()!, Checksum.Of(model, model.Optimizer, version));
        return model;
    }

    /// <summary>The version of a file with MicroGpt's keys: its format must be ours, its version one this MicroGpt reads.</summary>
    internal static int ReadVersion(JsonElement root)
    {
        var format = Required(root, "format", JsonValueKind.String);
        if (format.GetString() != FormatName) throw new FormatProblem($"its format is {StrictJson.Quote(format)}, not \"{FormatName}\".");
        var version = Required(root, "formatVersion", JsonValueKind.Number);
        if (!version.TryGetInt32(out int v) || v < OldestVersion || v > FormatVersion)
            throw new FormatProblem($"formatVersion {StrictJson.Quote(version)} is not supported; this MicroGpt reads versions {OldestVersion} to {FormatVersion}.");
        return v;
    }

    /// <summary>Refuses a file whose stored checksum differs from the one of the values read.</summary>
    internal static void CheckChecksum(string what, string stored, string expected)
    {
        if (stored != expected)
            throw new FormatProblem($"its {what} \"{StrictJson.Cut(stored)}\" does not match its content: the file was changed or damaged after it was written.");
    }

    /// <summary>
    /// What a file says about a model besides its numbers: format, version, config, tokenizer and
    /// training summary (a JSON model file's first keys, and a safetensors file's description).
    /// </summary>
    internal static void WriteDescription(Utf8JsonWriter json, Model model, int version)
    {
        json.WriteString("format", FormatName);
        json.WriteNumber("formatVersion", version);
        WriteConfig(json, model.Config);
        model.Tokenizer.Write(json);
        WriteSummary(json, model.Summary);
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
        var tokenizer = Tokenizer.Read(element);
        if (tokenizer.VocabSize != config.VocabSize)
            throw new FormatProblem($"its vocabulary has {tokenizer.VocabSize - 1} pieces plus BOS, but config.vocabSize is {config.VocabSize}.");
        if (given is not null && !given.SameAs(tokenizer))
            throw new VocabularyProblem($"its vocabulary ({tokenizer.VocabSize} {tokenizer.Info.FileName} tokens) differs from the tokenizer supplied ({given.VocabSize} {given.Info.FileName} tokens).");
        return tokenizer;
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

    /// <summary>
    /// The training summary. <paramref name="strict"/> (a file with MicroGpt's keys): steps and tokens
    /// must be there, and no other key than seed, steps, tokens and lastLoss.
    /// </summary>
    internal static TrainingSummary ReadSummary(JsonElement root, bool strict)
    {
        var summary = new TrainingSummary();
        if (!root.TryGetProperty("training", out var training))
            return strict ? throw new FormatProblem("it has no 'training'.") : summary;
        if (training.ValueKind != JsonValueKind.Object) throw new FormatProblem("training is not a JSON object.");
        if (strict)
        {
            var unknown = training.EnumerateObject().FirstOrDefault(p => p.Name is not ("seed" or "steps" or "tokens" or "lastLoss"));
            if (unknown.Value.ValueKind != JsonValueKind.Undefined) throw new FormatProblem($"training has a key '{unknown.Name}' that MicroGpt does not write.");
        }
        if (training.TryGetProperty("seed", out _)) summary.Seed = RequiredInt(training, "seed", allowNegative: true);
        if (strict || training.TryGetProperty("steps", out _)) summary.Steps = RequiredLong(training, "steps");
        if (strict || training.TryGetProperty("tokens", out _)) summary.Tokens = RequiredLong(training, "tokens");
        if (training.TryGetProperty("lastLoss", out var loss))
            summary.LastLoss = loss.ValueKind == JsonValueKind.Number && loss.TryGetDouble(out double l) && double.IsFinite(l) ? l : throw new FormatProblem("training.lastLoss is not a finite number.");
        return summary;
    }

    static void WriteOptimizer(Utf8JsonWriter json, OptimizerState state, int version)
    {
        json.WriteStartObject("optimizer");
        json.WriteNumber("nextStep", state.NextStep);
        json.WriteNumber("tokens", state.Tokens);
        json.WriteNumber("corpusSentences", state.CorpusSentences);
        json.WriteString("corpusFingerprint", state.CorpusFingerprint.ToString("x16", CultureInfo.InvariantCulture));
        if (state.CorpusOrigin is { } origin) WriteCorpusOrigin(json, origin);
        json.WriteStartObject("options");
        foreach (var option in TrainingOptions.All)
            if (option.InCheckpoints && version >= option.Since) option.Write(json, state.Options);
        json.WriteEndObject();
        WriteFloats(json, "m", state.M);
        WriteFloats(json, "v", state.V);
        json.WriteEndObject();
    }

    static OptimizerState ReadOptimizer(JsonElement element, int parameters, int version)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new FormatProblem("optimizer is not a JSON object.");
        var o = Required(element, "options", JsonValueKind.Object);
        // Keys a file's version does not have yet keep their defaults.
        var options = new TrainingOptions();
        foreach (var option in TrainingOptions.All)
            if (option.InCheckpoints && version >= option.Since) options = option.Read(o, options);
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
                throw new FormatProblem($"{name}[{i}] is {StrictJson.Quote(item)}, not a finite 32-bit number.");
            values[i++] = value;
        }
        return values;
    }

    internal static JsonElement Required(JsonElement parent, string name, params JsonValueKind[] kinds)
    {
        if (!parent.TryGetProperty(name, out var element)) throw new FormatProblem($"it has no '{name}'.");
        if (!kinds.Contains(element.ValueKind)) throw new FormatProblem($"'{name}' is {Describe(element.ValueKind)}, not {string.Join(" or ", kinds.Select(Describe))}.");
        return element;
    }

    internal static int RequiredInt(JsonElement parent, string name, bool allowNegative = false)
    {
        var element = Required(parent, name, JsonValueKind.Number);
        if (!element.TryGetInt32(out int value) || (value <= 0 && !allowNegative))
            throw new FormatProblem($"'{name}' is {StrictJson.Quote(element)}, not a {(allowNegative ? "" : "positive ")}32-bit integer.");
        return value;
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    internal static long RequiredLong(JsonElement parent, string name, bool allowZero = true)
    {
        var element = Required(parent, name, JsonValueKind.Number);
        if (!element.TryGetInt64(out long value) || value < 0 || (value == 0 && !allowZero))
            throw new FormatProblem($"'{name}' is {StrictJson.Quote(element)}, not a non-negative integer.");
        return value;
    }

    internal static double RequiredDouble(JsonElement parent, string name)
    {
        var element = Required(parent, name, JsonValueKind.Number);
        if (!element.TryGetDouble(out double value) || !double.IsFinite(value))
            throw new FormatProblem($"'{name}' is {StrictJson.Quote(element)}, not a finite number.");
        return value;
    }
}
