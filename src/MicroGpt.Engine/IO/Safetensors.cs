using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// The safetensors layout that PyTorch and Hugging Face tools load: an 8-byte little-endian header
/// length N, N bytes of JSON mapping each tensor name to its dtype, shape and [begin, end) byte
/// offsets into the data that follows (padded with spaces so the data starts 8-byte aligned), then
/// the raw little-endian float32 data, tensor after tensor. Tensors are named wte, wpe, lm_head,
/// h.{layer}.attn.{q,k,v,o}, h.{layer}.mlp.{fc,proj}, each [out, in] row-major as in the model.
/// </summary>
/// <remarks>
/// The file describes itself: its <c>__metadata__</c> (string values, as the format requires) holds
/// <c>format</c> "pt", the configuration as <c>n_layer</c>, <c>n_embd</c>, <c>n_head</c>,
/// <c>block_size</c> and <c>vocab_size</c>, and under <c>microgpt</c> a JSON document with the
/// format, version, configuration, tokenizer, training summary, tensor names and a checksum of all of
/// it and the weights. The same document is written beside it as name.config.json, for people and
/// older MicroGpt; reading takes the file's own description and ignores that file, so that a save
/// killed between the two renames still leaves a file that loads, whole. Files written before
/// (version 1, described by name.config.json only) are read as they were, and their metadata must
/// agree with that file. Reading follows the format's rules: the tensors cover the data exactly,
/// without overlaps or holes, and every size is checked against the file's length before the
/// weights are allocated.
/// </remarks>
public static class Safetensors
{
    const long MaxHeader = 100 << 20; // the reference implementation refuses larger headers too

    /// <summary>The <c>__metadata__</c> key whose value describes the model (a JSON document, as a string).</summary>
    public const string DescriptionKey = "microgpt";

    public static bool IsSafetensorsPath(string path) => path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>The JSON file beside a safetensors file: model.safetensors -> model.config.json.</summary>
    public static string ConfigPathFor(string path) => Path.ChangeExtension(path, ".config.json");

    /// <summary>Writes a model that <see cref="ModelFile.Save"/> has taken a snapshot of and checked.</summary>
    internal static void Save(Model model, string path, Func<Stream, Stream>? decorate)
    {
        var tensors = ParameterLayout.Tensors(model.Config).ToList();
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            foreach (var (key, value) in FlatConfig(model.Config)) json.WriteString(key, value);
            json.WriteString(DescriptionKey, Encoding.UTF8.GetString(Describe(model, tensors, indented: false)));
            json.WriteEndObject();
            foreach (var (name, offset, rows, columns) in tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                json.WriteNumberValue(rows);
                json.WriteNumberValue(columns);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue((long)offset * sizeof(float));
                json.WriteNumberValue((long)(offset + rows * columns) * sizeof(float));
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        // The safetensors file is renamed first: whatever happens after, it loads on its own.
        AtomicFile.WriteAll([(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            var bytes = new byte[sizeof(float) * 4096];
            for (int i = 0; i < model.Parameters.Length; i += 4096)
            {
                int count = Math.Min(4096, model.Parameters.Length - i);
                for (int j = 0; j < count; j++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4), model.Parameters[i + j]);
                stream.Write(bytes, 0, count * sizeof(float));
            }
        }), (ConfigPathFor(path), stream => stream.Write(Describe(model, tensors, indented: true)))], decorate);
    }

    /// <summary>The description of the model: MicroGpt's JSON keys but the weights, the tensor names, and a checksum of all.</summary>
    static byte[] Describe(Model model, List<(string Name, int Offset, int Rows, int Columns)> tensors, bool indented)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            json.WriteStartObject();
            ModelFile.WriteDescription(json, model, ModelFile.VersionFor(null));
            json.WriteStartArray("tensors");
            foreach (var t in tensors) json.WriteStringValue(t.Name);
            json.WriteEndArray();
            json.WriteString("checksum", Checksum.Of(model, null, ModelFile.VersionFor(null)));
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The flat metadata keys of the configuration, as PyTorch code reads them.</summary>
    static readonly string[] FlatKeys = ["n_layer", "n_embd", "n_head", "block_size", "vocab_size"];

    static IEnumerable<(string Key, string Value)> FlatConfig(ModelConfig config) =>
        FlatKeys.Zip(new[] { config.Layers, config.EmbeddingSize, config.Heads, config.BlockSize, config.VocabSize }, (key, value) => (key, value.ToString(CultureInfo.InvariantCulture)));

    /// <summary>True when a file starts with a plausible safetensors header length followed by '{'.</summary>
    public static bool LooksLikeSafetensors(ReadOnlySpan<byte> start, long fileLength)
    {
        if (start.Length < 9) return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(start);
        return n > 0 && n <= (ulong)(fileLength - 8) && start[8] == (byte)'{';
    }

    internal static Model Load(string path, Stream file, long length, Tokenizer? given)
    {
        try { return Read(path, file, length, given); }
        catch (VocabularyProblem problem) { throw new VocabularyMismatchException(path, problem.Message); }
        catch (FormatProblem problem) { throw new ModelFileException(path, problem.Message); }
        catch (EndOfStreamException ex) { throw new ModelFileException(path, "it became shorter while it was read.", ex); }
        catch (IOException ex) { throw new ModelFileException(path, ex.Message, ex); }
    }

    static Model Read(string path, Stream file, long length, Tokenizer? given)
    {
        if (length < 8) throw new FormatProblem($"it is {length} bytes long; a safetensors file starts with an 8-byte header length.");
        Span<byte> prefix = stackalloc byte[8];
        file.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2) throw new FormatProblem($"its header length is {headerLength}; a safetensors header is a JSON object, 2 bytes at least.");
        if (headerLength > MaxHeader) throw new FormatProblem($"its header length is {headerLength:N0} bytes, more than the {MaxHeader:N0} the format allows.");
        if ((long)headerLength > length - 8) throw new FormatProblem($"its header length is {headerLength:N0} bytes, but only {length - 8:N0} bytes follow: the file is truncated, or not safetensors.");
        long dataLength = length - 8 - (long)headerLength;
        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);

        using var header = StrictJson.Parse(headerBytes, "its header");
        var root = header.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem("its header is not a JSON object.");
        StrictJson.CheckUniqueKeys(root, "its header");
        var metadata = ReadMetadata(root);
        var (config, tokenizer, summary, checksum) = metadata is not null && metadata.TryGetValue(DescriptionKey, out string? description)
            ? ReadDescription(description, given)
            : ReadConfigBeside(path, metadata, given);
        foreach (var (key, value) in FlatConfig(config))
            if (metadata is not null && metadata.TryGetValue(key, out string? stated) && stated != value)
                throw new FormatProblem($"its __metadata__ {key} \"{StrictJson.Cut(stated)}\" contradicts the model's configuration ({value}).");

        var table = ReadTensorTable(root, config, dataLength);
        // Every size the configuration claims is now known to be in the file: allocate and read.
        var parameters = new float[config.ParameterCount];
        foreach (var (_, offset, count) in table)
        {
            var values = parameters.AsSpan(offset, count);
            file.ReadExactly(MemoryMarshal.AsBytes(values));
            if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(values), MemoryMarshal.Cast<float, int>(values));
            int bad = Model.FirstNonFinite(values);
            if (bad >= 0) throw new FormatProblem($"{ParameterLayout.NameOf(config, offset + bad)} is {values[bad]}, not a finite number.");
        }
        var model = new Model(config, tokenizer, parameters) { Summary = summary };
        checksum(model);
        return model;
    }

    /// <summary>The <c>__metadata__</c> map (string to string, as the format requires), or null when there is none.</summary>
    static Dictionary<string, string>? ReadMetadata(JsonElement root)
    {
        if (!root.TryGetProperty("__metadata__", out var element)) return null;
        if (element.ValueKind != JsonValueKind.Object) throw new FormatProblem("its __metadata__ is not a JSON object.");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
            metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : throw new FormatProblem($"its __metadata__ value for '{StrictJson.Cut(property.Name)}' is not a string, as the format requires.");
        return metadata;
    }

    /// <summary>The model as the file's own description gives it, and the check of its checksum once the weights are read.</summary>
    static (ModelConfig, Tokenizer, TrainingSummary, Action<Model>) ReadDescription(string description, Tokenizer? given)
    {
        using var document = StrictJson.Parse(Encoding.UTF8.GetBytes(description), $"its __metadata__ {DescriptionKey}");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem($"its __metadata__ {DescriptionKey} is not a JSON object.");
        StrictJson.CheckUniqueKeys(root, $"its __metadata__ {DescriptionKey}");
        int version = ModelFile.ReadVersion(root);
        var (config, tokenizer) = ModelFile.ReadConfigAndTokenizer(root, given);
        var summary = ModelFile.ReadSummary(root, strict: true);
        var names = ModelFile.Required(root, "tensors", JsonValueKind.Array).EnumerateArray().Select(n => n.ValueKind == JsonValueKind.String ? n.GetString() : null);
        if (!names.SequenceEqual(ParameterLayout.Tensors(config).Select(t => t.Name)))
            throw new FormatProblem($"its __metadata__ {DescriptionKey} lists other tensors than its configuration has.");
        string stored = ModelFile.Required(root, "checksum", JsonValueKind.String).GetString()!;
        return (config, tokenizer, summary, model => ModelFile.CheckChecksum("checksum", stored, Checksum.Of(model, null, version)));
    }

    /// <summary>
    /// A file without a description (written by MicroGpt before version 2, or by another tool): the
    /// configuration and vocabulary from name.config.json beside it, whose checksum covers them and
    /// the weights; else from the flat metadata and the tokenizer given.
    /// </summary>
    static (ModelConfig, Tokenizer, TrainingSummary, Action<Model>) ReadConfigBeside(string path, Dictionary<string, string>? metadata, Tokenizer? given)
    {
        string configPath = ConfigPathFor(path);
        if (metadata is not null) CheckOnlyFlatKeys(metadata);
        if (File.Exists(configPath))
        {
            using var file = ModelFile.OpenForReading(configPath, out long length);
            var bytes = ModelFile.ReadAll(configPath, file, length, 2, "the configuration of a safetensors model");
            try
            {
                using var side = StrictJson.Parse(bytes, "it");
                var root = side.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem("its top level is not a JSON object: it is not the configuration of a safetensors model.");
                StrictJson.CheckUniqueKeys(root, "it");
                int version = ModelFile.ReadVersion(root);
                var (config, tokenizer) = ModelFile.ReadConfigAndTokenizer(root, given);
                var summary = ModelFile.ReadSummary(root, strict: true);
                string stored = ModelFile.Required(root, "weightsChecksum", JsonValueKind.String).GetString()!;
                // Version 1's checksum covers the configuration, vocabulary and weights, not the summary.
                return (config, tokenizer, summary, model => ModelFile.CheckChecksum($"weightsChecksum in '{configPath}'", stored, Checksum.Of(new Model(model.Config, model.Tokenizer, model.Parameters), null, version)));
            }
            catch (VocabularyProblem problem) { throw new VocabularyMismatchException(configPath, problem.Message); }
            catch (FormatProblem problem) { throw new ModelFileException(configPath, problem.Message); }
        }
        if (metadata is null) throw new FormatProblem($"it has no __metadata__ describing the model, and no '{configPath}' beside it.");
        int Number(string key)
        {
            if (!metadata.TryGetValue(key, out string? text)) throw new FormatProblem($"its __metadata__ has no {key}, and there is no '{configPath}' beside it.");
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : throw new FormatProblem($"its __metadata__ {key} \"{StrictJson.Cut(text)}\" is not a positive integer.");
        }
        var stated = new ModelConfig(Number("vocab_size"), Number("n_embd"), Number("n_head"), Number("n_layer"), Number("block_size"));
        try { stated.Validate(); }
        catch (InvalidConfigurationException ex) { throw new FormatProblem($"its metadata describes an invalid model: {ex.Message}"); }
        if (given is null) throw new FormatProblem($"its vocabulary file '{configPath}' is missing; supply the tokenizer built from the corpus it was trained on.");
        if (given.VocabSize != stated.VocabSize)
            throw new VocabularyProblem($"the model has a vocabulary of {stated.VocabSize} tokens but the tokenizer supplied has {given.VocabSize}.");
        return (stated, given, new TrainingSummary(), _ => { });
    }

    /// <summary>
    /// Refuses metadata with other keys than the flat configuration (and format) of a file without a
    /// description: a MicroGpt file whose description key was damaged would otherwise load unchecked.
    /// </summary>
    static void CheckOnlyFlatKeys(Dictionary<string, string> metadata)
    {
        string? other = metadata.Keys.FirstOrDefault(key => key != "format" && !FlatKeys.Contains(key));
        if (other is not null)
            throw new FormatProblem($"its __metadata__ has a key '{StrictJson.Cut(other)}' that neither MicroGpt nor the safetensors format writes (a damaged '{DescriptionKey}'?), and no description of the model.");
    }

    /// <summary>
    /// The tensors in the order of their data, each with its place in the parameters: every tensor
    /// of the configuration, F32, of its shape, and together covering the data from its first byte
    /// to its last without overlaps or holes (the format's rule, which also keeps a file from
    /// hiding other content between its tensors).
    /// </summary>
    static List<(string Name, int Offset, int Count)> ReadTensorTable(JsonElement root, ModelConfig config, long dataLength)
    {
        var layout = ParameterLayout.Tensors(config).ToDictionary(t => t.Name);
        var found = new List<(string Name, int Offset, int Count, long Begin, long End)>();
        foreach (var property in root.EnumerateObject())
        {
            string name = property.Name;
            if (name == "__metadata__") continue;
            if (!layout.TryGetValue(name, out var expected)) throw new FormatProblem($"it has a tensor '{StrictJson.Cut(name)}' that this configuration does not.");
            var tensor = property.Value;
            if (tensor.ValueKind != JsonValueKind.Object) throw new FormatProblem($"tensor '{name}' is not a JSON object.");
            var dtype = ModelFile.Required(tensor, "dtype", JsonValueKind.String);
            if (dtype.GetString() != "F32") throw new FormatProblem($"tensor '{name}' has dtype {StrictJson.Quote(dtype)}; MicroGpt reads F32.");
            var shape = Integers(tensor, "shape", name);
            if (shape.Length != 2 || shape[0] != expected.Rows || shape[1] != expected.Columns)
                throw new FormatProblem($"tensor '{name}' has shape [{string.Join(", ", shape)}]; the configuration needs [{expected.Rows}, {expected.Columns}].");
            var range = Integers(tensor, "data_offsets", name);
            long size = (long)expected.Rows * expected.Columns * sizeof(float);
            if (range.Length != 2 || range[0] < 0 || range[1] - range[0] != size)
                throw new FormatProblem($"tensor '{name}' has data_offsets [{string.Join(", ", range)}], which do not hold its {size:N0} bytes.");
            found.Add((name, expected.Offset, expected.Rows * expected.Columns, range[0], range[1]));
        }
        var missing = layout.Keys.FirstOrDefault(name => !found.Exists(t => t.Name == name));
        if (missing is not null) throw new FormatProblem($"it has no tensor '{missing}'.");

        found.Sort((a, b) => a.Begin.CompareTo(b.Begin));
        long end = 0;
        string previous = "the start of the data";
        foreach (var t in found)
        {
            if (t.Begin < end) throw new FormatProblem($"tensor '{t.Name}' (bytes {t.Begin:N0} to {t.End:N0}) overlaps {previous}, which ends at byte {end:N0}.");
            if (t.Begin > end) throw new FormatProblem($"{t.Begin - end:N0} bytes between {previous} and tensor '{t.Name}' belong to no tensor.");
            end = t.End;
            previous = $"tensor '{t.Name}'";
        }
        if (end != dataLength)
            throw new FormatProblem(end < dataLength
                ? $"{dataLength - end:N0} bytes after the last tensor belong to no tensor."
                : $"its tensors need {end:N0} bytes of data, but the file holds {dataLength:N0}: it is truncated.");
        return found.Select(t => (t.Name, t.Offset, t.Count)).ToList();
    }

    /// <summary>A list of integers (a shape, data offsets), or a problem naming the tensor and the key.</summary>
    static long[] Integers(JsonElement tensor, string key, string name)
    {
        var list = ModelFile.Required(tensor, key, JsonValueKind.Array);
        return list.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out long value)
            ? value
            : throw new FormatProblem($"tensor '{name}' has a {key} that is not a list of integers ({StrictJson.Quote(list)}).")).ToArray();
    }
}
