using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// Export to the safetensors layout that PyTorch and Hugging Face tools load: an 8-byte
/// little-endian header length N, N bytes of JSON mapping each tensor name to its dtype, shape
/// and [begin, end) byte offsets into the data that follows (padded with spaces so the data
/// starts 8-byte aligned), then the raw little-endian float32 data, tensor after tensor.
/// Tensors are named wte, wpe, lm_head, h.{layer}.attn.{q,k,v,o}, h.{layer}.mlp.{fc,proj}, each
/// [out, in] row-major as in the model. <c>__metadata__</c> carries the configuration (strings,
/// as the format requires, and format "pt"); a small JSON file beside it
/// (<c>name.config.json</c>) carries the configuration, tokenizer, training summary and a checksum
/// of the weights, which Import-Model reads back (a safetensors file without it needs a tokenizer,
/// and its weights cannot be verified).
/// </summary>
public static class Safetensors
{
    const long MaxHeader = 100 << 20; // the reference implementation refuses larger headers too

    public static bool IsSafetensorsPath(string path) => path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    /// <summary>The JSON file beside a safetensors file: model.safetensors -> model.config.json.</summary>
    public static string ConfigPathFor(string path) => Path.ChangeExtension(path, ".config.json");

    public static void Save(Model model, string path, Func<Stream, Stream>? decorate = null)
    {
        var tensors = ParameterLayout.Tensors(model.Config).ToList();
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteString("n_layer", model.Config.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("n_embd", model.Config.EmbeddingSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("n_head", model.Config.Heads.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("block_size", model.Config.BlockSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("vocab_size", model.Config.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
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
        }), (ConfigPathFor(path), stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartObject();
            json.WriteString("format", ModelFile.FormatName);
            json.WriteNumber("formatVersion", ModelFile.FormatVersion);
            ModelFile.WriteConfig(json, model.Config);
            ModelFile.WriteTokenizer(json, model.Tokenizer);
            ModelFile.WriteSummary(json, model.Summary);
            json.WriteStartArray("tensors");
            foreach (var t in tensors) json.WriteStringValue(t.Name);
            json.WriteEndArray();
            json.WriteString("weightsChecksum", Checksum.Of(WeightsOnly(model), null));
            json.WriteEndObject();
        })], decorate);
    }

    /// <summary>True when the bytes start with a plausible safetensors header length followed by '{'.</summary>
    public static bool LooksLikeSafetensors(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 9) return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return n > 0 && n <= (ulong)(bytes.Length - 8) && bytes[8] == (byte)'{';
    }

    internal static Model Load(string path, byte[] bytes, Tokenizer? given)
    {
        try { return Read(path, bytes, given); }
        catch (VocabularyProblem problem) { throw new VocabularyMismatchException(path, problem.Message); }
        catch (FormatProblem problem) { throw new ModelFileException(path, problem.Message); }
        catch (JsonException ex) { throw new ModelFileException(path, $"its header is not valid JSON: {ex.Message}", ex); }
        catch (InvalidOperationException ex) { throw new ModelFileException(path, "its header holds text that is not valid UTF-8.", ex); }
    }

    static Model Read(string path, byte[] bytes, Tokenizer? given)
    {
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeader) throw new FormatProblem($"its header claims {headerLength} bytes, more than the {MaxHeader} allowed.");
        int dataStart = 8 + (int)headerLength;
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var root = header.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatProblem("its header is not a JSON object.");

        var (config, tokenizer, expectedChecksum, summary) = ReadConfigAndTokenizer(path, root, given);
        var tensors = ParameterLayout.Tensors(config).ToList();
        var names = root.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToHashSet();
        var unexpected = names.Except(tensors.Select(t => t.Name)).FirstOrDefault();
        if (unexpected is not null) throw new FormatProblem($"it has a tensor '{unexpected}' that this configuration does not.");

        var parameters = new float[config.ParameterCount];
        long dataLength = bytes.Length - dataStart, covered = 0;
        foreach (var (name, offset, rows, columns) in tensors)
        {
            var tensor = ModelFile.Required(root, name, JsonValueKind.Object);
            string dtype = ModelFile.Required(tensor, "dtype", JsonValueKind.String).GetString()!;
            if (dtype != "F32") throw new FormatProblem($"tensor '{name}' has dtype {dtype}; MicroGpt reads F32.");
            var shape = ModelFile.Required(tensor, "shape", JsonValueKind.Array).EnumerateArray().Select(d => d.TryGetInt64(out long v) ? v : -1).ToArray();
            if (shape.Length != 2 || shape[0] != rows || shape[1] != columns)
                throw new FormatProblem($"tensor '{name}' has shape [{string.Join(", ", shape)}]; the configuration needs [{rows}, {columns}].");
            var range = ModelFile.Required(tensor, "data_offsets", JsonValueKind.Array).EnumerateArray().Select(d => d.TryGetInt64(out long v) ? v : -1).ToArray();
            long size = (long)rows * columns * sizeof(float);
            if (range.Length != 2 || range[0] < 0 || range[1] - range[0] != size || range[1] > dataLength)
                throw new FormatProblem($"tensor '{name}' has data_offsets [{string.Join(", ", range)}], which do not hold {size} bytes inside the {dataLength} bytes of data.");
            for (int i = 0; i < rows * columns; i++)
            {
                float value = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (int)range[0] + i * sizeof(float)));
                if (!float.IsFinite(value)) throw new FormatProblem($"tensor '{name}'[{i}] is {value}, not a finite number.");
                parameters[offset + i] = value;
            }
            covered += size;
        }
        if (covered != dataLength) throw new FormatProblem($"its data has {dataLength} bytes but its tensors cover {covered}.");
        var model = new Model(config, tokenizer, parameters) { Summary = summary };
        if (expectedChecksum is not null && expectedChecksum != Checksum.Of(WeightsOnly(model), null))
            throw new FormatProblem($"its weights do not match the checksum {expectedChecksum} in '{ConfigPathFor(path)}': the file was changed or damaged after it was written.");
        return model;
    }

    /// <summary>The model with an empty training summary: the safetensors checksum covers configuration, vocabulary and weights.</summary>
    static Model WeightsOnly(Model model) => new(model.Config, model.Tokenizer, model.Parameters);

    /// <summary>The configuration and vocabulary from the config file beside it, else from the header's metadata and the tokenizer given.</summary>
    static (ModelConfig, Tokenizer, string? Checksum, TrainingSummary Summary) ReadConfigAndTokenizer(string path, JsonElement header, Tokenizer? given)
    {
        string configPath = ConfigPathFor(path);
        if (File.Exists(configPath))
        {
            try
            {
                using var side = JsonDocument.Parse(File.ReadAllBytes(configPath));
                var (sideConfig, sideTokenizer) = ModelFile.ReadConfigAndTokenizer(side.RootElement, given);
                string? checksum = side.RootElement.TryGetProperty("weightsChecksum", out var c) ? c.GetString() : null;
                return (sideConfig, sideTokenizer, checksum, ModelFile.ReadSummary(side.RootElement));
            }
            catch (Exception ex) when (ex is FormatProblem or JsonException or IOException or InvalidOperationException)
            {
                throw new ModelFileException(configPath, ex.Message, ex);
            }
        }
        var metadata = ModelFile.Required(header, "__metadata__", JsonValueKind.Object);
        int Number(string key)
        {
            string? text = ModelFile.Required(metadata, key, JsonValueKind.String).GetString();
            return int.TryParse(text, out int value) && value > 0 ? value : throw new FormatProblem($"__metadata__.{key} '{text}' is not a positive integer.");
        }
        var config = new ModelConfig(Number("vocab_size"), Number("n_embd"), Number("n_head"), Number("n_layer"), Number("block_size"));
        try { config.Validate(); }
        catch (InvalidConfigurationException ex) { throw new FormatProblem($"its metadata describes an invalid model: {ex.Message}"); }
        if (given is null) throw new FormatProblem($"its vocabulary file '{configPath}' is missing; supply the tokenizer built from the corpus it was trained on.");
        if (given.VocabSize != config.VocabSize)
            throw new VocabularyProblem($"the model has a vocabulary of {config.VocabSize} tokens but the tokenizer supplied has {given.VocabSize}.");
        return (config, given, null, new TrainingSummary());
    }
}
