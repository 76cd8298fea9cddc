using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using MicroGpt;
using MicroGpt.Tests.Engine;

// File handling, which the scalar kernels do not change: outside MicroGpt.Tests.Engine, so CI runs it once.
namespace MicroGpt.Tests.Files;

/// <summary>
/// Model files damaged at random, and changed at random against each rule of reading: every one is
/// refused with a named problem, or (for a damage that changes no value, such as a space) loads as
/// the very same model; never another exception, never a different model, and never more memory
/// than a few times the file's size, whatever sizes it claims.
/// </summary>
public sealed class ModelFileFuzzTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    /// <summary>Bytes a load of a file of a few kilobytes may allocate: its text, its parse, a model of a few hundred weights, with room to spare. A size claim believed would take gigabytes.</summary>
    const long MaxAllocatedBytes = 16 << 20;

    /// <summary>Files per file kind and test; MICROGPT_FUZZ_SCALE multiplies them for a longer campaign.</summary>
    static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("MICROGPT_FUZZ_SCALE"), out int scale) ? scale : 1;
    static readonly int DamagesPerFile = 1000 * Scale, RuleMutantsPerFile = 500 * Scale;

    readonly string folder = Directory.CreateTempSubdirectory("microgpt-fuzz-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    /// <summary>A trained model (a summary, and optimizer state for checkpoints) of a few hundred weights.</summary>
    static Model TrainedModel()
    {
        var model = TestData.RandomModel(new ModelConfig(6, 4, 2, 1, 3));
        using (var trainer = new Trainer(model, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions { Steps = 2 })) trainer.Run(_ => { });
        return model;
    }

    public static TheoryData<string, bool, bool> Files => new()
    {
        // file, with optimizer state, with the configuration file beside it (safetensors: ignored unless the file's own description is damaged)
        { "m.json", false, false },
        { "ck.json", true, false },
        { "m.safetensors", false, false },
        { "m.safetensors", false, true },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void DamagedFilesAreRefusedWithANamedProblemOrLoadUnchanged(string name, bool withOptimizer, bool withConfigBeside)
    {
        var model = TrainedModel();
        var (original, target) = Prepare(model, name, withOptimizer, withConfigBeside);
        var rng = new Random(12345);
        int refused = 0, identical = 0;
        for (int trial = 0; trial < DamagesPerFile; trial++)
        {
            File.WriteAllBytes(target, Damage(original, rng));
            if (TryLoad(target, model) is { } loaded)
            {
                CheckSame(model, loaded, withOptimizer);
                identical++;
            }
            else refused++;
        }
        output.WriteLine($"{name}{(withConfigBeside ? " (configuration beside it)" : "")}: {DamagesPerFile} damaged files, {refused} refused with a named problem, {identical} loaded unchanged, 0 other exceptions");
        Assert.True(refused > DamagesPerFile * 8 / 10, $"only {refused} of {DamagesPerFile} refused");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void FilesChangedAgainstEachRuleAreAllRefused(string name, bool withOptimizer, bool withConfigBeside)
    {
        var model = TrainedModel();
        var (original, target) = Prepare(model, name, withOptimizer, withConfigBeside);
        var rng = new Random(54321);
        var families = new SortedDictionary<string, int>();
        for (int trial = 0; trial < RuleMutantsPerFile; trial++)
        {
            var (family, mutated) = Safetensors.IsSafetensorsPath(name) ? SafetensorsRuleMutant(original, rng) : JsonRuleMutant(original, rng);
            File.WriteAllBytes(target, mutated);
            Model? loaded;
            try { loaded = TryLoad(target, model); }
            catch (Xunit.Sdk.XunitException ex) { throw new Xunit.Sdk.XunitException($"a {family} mutant of {name}: {ex.Message}"); }
            Assert.True(loaded is null, $"a {family} mutant of {name} was loaded");
            families[family] = families.GetValueOrDefault(family) + 1;
        }
        output.WriteLine($"{name}{(withConfigBeside ? " (configuration beside it)" : "")}: {RuleMutantsPerFile} rule mutants, all refused: {string.Join(", ", families.Select(f => $"{f.Key} {f.Value}"))}");
    }

    (byte[] Original, string Target) Prepare(Model model, string name, bool withOptimizer, bool withConfigBeside)
    {
        ModelFile.Save(model, PathOf(name), withOptimizer);
        string target = PathOf("fuzz" + Path.GetExtension(name));
        if (withConfigBeside) File.Copy(Safetensors.ConfigPathFor(PathOf(name)), Safetensors.ConfigPathFor(target));
        return (File.ReadAllBytes(PathOf(name)), target);
    }

    /// <summary>The model, or null when it was refused with a named problem; either way within the memory bound.</summary>
    static Model? TryLoad(string path, Model model)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            return ModelFile.Load(path, model.Tokenizer);
        }
        catch (ModelFileException ex)
        {
            Assert.True(ex.Message.Contains(path) || ex.Message.Contains(Safetensors.ConfigPathFor(path)), ex.Message);
            Assert.False(string.IsNullOrWhiteSpace(ex.Problem));
            return null;
        }
        finally
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < MaxAllocatedBytes, $"loading '{path}' allocated {allocated:N0} bytes");
        }
    }

    static void CheckSame(Model model, Model loaded, bool withOptimizer)
    {
        Assert.Equal(model.Config, loaded.Config);
        Assert.Equal(model.Tokenizer.Vocabulary, loaded.Tokenizer.Vocabulary);
        Assert.Equal(model.Parameters.Select(BitConverter.SingleToInt32Bits), loaded.Parameters.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal((model.Summary.Seed, model.Summary.Steps, model.Summary.Tokens, model.Summary.LastLoss), (loaded.Summary.Seed, loaded.Summary.Steps, loaded.Summary.Tokens, loaded.Summary.LastLoss));
        if (withOptimizer) Assert.Equal(model.Optimizer!.M, loaded.Optimizer!.M);
    }

    /// <summary>One random damage: truncation, a flipped bit, a deleted or duplicated span, or a byte replaced by a JSON character.</summary>
    static byte[] Damage(byte[] original, Random rng)
    {
        var bytes = original.ToList();
        switch (rng.Next(5))
        {
            case 0: return original[..rng.Next(original.Length)];
            case 1: bytes[rng.Next(bytes.Count)] ^= (byte)(1 << rng.Next(8)); break;
            case 2: { int at = rng.Next(bytes.Count); bytes.RemoveRange(at, Math.Min(bytes.Count - at, rng.Next(1, 40))); break; }
            case 3: { int at = rng.Next(bytes.Count); bytes.InsertRange(at, bytes.Skip(at).Take(rng.Next(1, 40)).ToList()); break; }
            default: bytes[rng.Next(bytes.Count)] = (byte)"0123456789-.eE,]}\"N"[rng.Next(19)]; break;
        }
        return bytes.ToArray();
    }

    /// <summary>A large number to claim as a size: up to 2^31 - 1 for sizes, up to 2^63 - 1 for byte counts.</summary>
    static long Huge(Random rng, bool int32) => int32 ? rng.Next(1 << 12, int.MaxValue) : rng.NextInt64(1L << 32, long.MaxValue);

    /// <summary>A safetensors file changed against one rule: overlapping or misplaced tensors, a key twice, metadata that disagrees, or sizes it does not hold.</summary>
    static (string Family, byte[] Bytes) SafetensorsRuleMutant(byte[] original, Random rng)
    {
        var file = new SafetensorsBytes(original);
        var tensors = file.Header.Where(p => p.Key != "__metadata__").Select(p => p.Value!.AsObject()).ToList();
        var tensor = tensors[rng.Next(tensors.Count)];
        var offsets = tensor["data_offsets"]!.AsArray();
        long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>(), size = end - begin;
        switch (rng.Next(6))
        {
            case 0: // a tensor moved onto the bytes of others (the sizes still add up)
            {
                long moved;
                do moved = 4L * rng.Next((int)((file.Data.Length - size) / 4) + 1); while (moved == begin);
                tensor["data_offsets"] = new JsonArray(moved, moved + size);
                return ("overlap or hole", file.ToBytes());
            }
            case 1: // a tensor shifted by some floats, leaving a hole or running into the next
            {
                long shift = 4L * rng.Next(1, 4) * (rng.Next(2) == 0 ? 1 : -1);
                if (begin + shift < 0) shift = -shift;
                tensor["data_offsets"] = new JsonArray(begin + shift, end + shift);
                if (rng.Next(2) == 0) file.Data = [.. file.Data, .. new byte[Math.Abs(shift)]];
                return ("overlap or hole", file.ToBytes());
            }
            case 2:
                return rng.Next(2) == 0
                    ? ("duplicate key", file.ToBytes(SafetensorsBytes.WithDuplicateKey(file.Header, rng)))
                    : ("duplicate key", WithDescription(file, SafetensorsBytes.WithDuplicateKey(file.Description, rng)));
            case 3: // the flat metadata contradicts the description
            {
                string[] keys = ["n_layer", "n_embd", "n_head", "block_size", "vocab_size"];
                string key = keys[rng.Next(keys.Length)];
                file.Metadata[key] = (int.Parse(file.Metadata[key]!.GetValue<string>()) + rng.Next(1, 100)).ToString();
                return ("metadata", file.ToBytes());
            }
            case 4: // the description says something else (each is in the checksum, or checked against the tensors)
            {
                var description = file.Description;
                switch (rng.Next(7))
                {
                    case 0: description["training"]!["steps"] = description["training"]!["steps"]!.GetValue<long>() + rng.Next(1, 1000); break;
                    case 1: description["training"]!["tokens"] = rng.Next(); break;
                    case 2: description["training"]!["lastLoss"] = rng.NextDouble(); break;
                    case 3: description["tokenizer"]!["vocabulary"]![rng.Next(5)] = "z" + rng.Next(); break;
                    case 4: description["format"] = "other"; break;
                    case 5: description["formatVersion"] = rng.Next(3, 100); break;
                    default: description["checksum"] = $"fnv1a64:{rng.NextInt64():x16}"; break;
                }
                return ("metadata", WithDescription(file, description.ToJsonString()));
            }
            default: // sizes the data does not hold
            {
                switch (rng.Next(4))
                {
                    case 0:
                        var bytes = file.ToBytes();
                        BinaryPrimitives.WriteUInt64LittleEndian(bytes, rng.Next(3) switch { 0 => 0, 1 => (ulong)(bytes.Length - 7), _ => (ulong)Huge(rng, int32: false) });
                        return ("huge claimed size", bytes);
                    case 1:
                        tensor["data_offsets"] = new JsonArray(begin, Huge(rng, int32: false));
                        return ("huge claimed size", file.ToBytes());
                    case 2:
                        tensor["shape"] = new JsonArray(Huge(rng, int32: true), tensor["shape"]![1]!.GetValue<long>());
                        return ("huge claimed size", file.ToBytes());
                    default: // the configuration claims a huge embedding, everywhere it is stated
                        int embedding = 4 * rng.Next(1 << 8, 1 << 12);
                        var description = file.Description;
                        description["config"]!["nEmbd"] = embedding;
                        description["config"]!["headDim"] = embedding / 2;
                        file.Metadata["n_embd"] = embedding.ToString();
                        return ("huge claimed size", WithDescription(file, description.ToJsonString()));
                }
            }
        }
    }

    static byte[] WithDescription(SafetensorsBytes file, string description)
    {
        file.SetDescription(description);
        return file.ToBytes();
    }

    /// <summary>A JSON model file changed against one rule: a key twice, our format or checksum changed, a value the checksum covers, or a size it does not hold.</summary>
    static (string Family, byte[] Bytes) JsonRuleMutant(byte[] original, Random rng)
    {
        var root = JsonNode.Parse(original)!.AsObject();
        switch (rng.Next(4))
        {
            case 0:
                return ("duplicate key", Encoding.UTF8.GetBytes(SafetensorsBytes.WithDuplicateKey(root, rng)));
            case 1:
                switch (rng.Next(3))
                {
                    case 0: root["format"] = "other"; break;
                    case 1: root["formatVersion"] = rng.Next(3, 100); break;
                    default: root.Remove("checksum"); break;
                }
                return ("format", Encoding.UTF8.GetBytes(root.ToJsonString()));
            case 2:
                switch (rng.Next(root.ContainsKey("optimizer") ? 5 : 3))
                {
                    case 0: root["training"]!["steps"] = root["training"]!["steps"]!.GetValue<long>() + rng.Next(1, 1000); break;
                    case 1: root["training"]!.AsObject().Remove("steps"); break;
                    case 2: root["tokenizer"]!["vocabulary"]![rng.Next(5)] = "z" + rng.Next(); break;
                    case 3: root["optimizer"]!["options"]!["checkpointInterval"] = rng.Next(1, 1000); break;
                    default: root["optimizer"]!["nextStep"] = 1; break;
                }
                return ("metadata", Encoding.UTF8.GetBytes(root.ToJsonString()));
            default:
                string[] sizes = ["nEmbd", "vocabSize", "blockSize", "nLayer"];
                string key = sizes[rng.Next(sizes.Length)];
                int claimed = key == "nEmbd" ? 4 * rng.Next(1 << 8, 1 << 12) : rng.Next(1 << 12, 1 << 16);
                root["config"]![key] = claimed;
                if (key == "nEmbd") root["config"]!["headDim"] = claimed / 2;
                return ("huge claimed size", Encoding.UTF8.GetBytes(root.ToJsonString()));
        }
    }
}
