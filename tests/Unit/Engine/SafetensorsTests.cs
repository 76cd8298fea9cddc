using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// Safetensors files that describe themselves, files of version 1 beside their configuration, and
/// the format's rules: no overlaps, no holes, sizes checked against the file before anything is
/// allocated, and errors that say what is wrong without quoting what is not ours.
/// </summary>
public sealed class SafetensorsTests : IDisposable
{
    /// <summary>Bytes a load of a small file may allocate (see MicroGpt.Tests.Files.ModelFileFuzzTests).</summary>
    const long MaxAllocatedBytes = 16 << 20;

    readonly string folder = Directory.CreateTempSubdirectory("microgpt-safetensors-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    static Model TrainedModel(int seed = 1, int words = 5)
    {
        var model = Model.Create(new ModelConfig(words + 1, 4, 2, 1, 3), TestData.Words(words), seed);
        using (var trainer = new Trainer(model, TestData.RandomSentences(words + 1, 3, 3, seed), new TrainingOptions { Steps = 3 })) trainer.Run(_ => { });
        return model;
    }

    static void AssertSameModel(Model expected, Model actual)
    {
        Assert.Equal(expected.Config, actual.Config);
        Assert.Equal(expected.Tokenizer.Vocabulary, actual.Tokenizer.Vocabulary);
        Assert.Equal(expected.Parameters.Select(BitConverter.SingleToInt32Bits), actual.Parameters.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal((expected.Summary.Seed, expected.Summary.Steps, expected.Summary.Tokens, expected.Summary.LastLoss), (actual.Summary.Seed, actual.Summary.Steps, actual.Summary.Tokens, actual.Summary.LastLoss));
    }

    string Problem(string path, Tokenizer? tokenizer = null) => Assert.ThrowsAny<ModelFileException>(() => ModelFile.Load(path, tokenizer)).Problem;

    [Fact]
    public void AFileLoadsOnItsOwnAndItsMetadataDescribesIt()
    {
        var model = TrainedModel();
        string path = PathOf("m.safetensors");
        ModelFile.Save(model, path);
        var description = JsonNode.Parse(File.ReadAllText(Safetensors.ConfigPathFor(path)))!;
        File.Delete(Safetensors.ConfigPathFor(path));
        AssertSameModel(model, ModelFile.Load(path));

        var file = new SafetensorsBytes(File.ReadAllBytes(path));
        Assert.All(file.Metadata, p => Assert.Equal(System.Text.Json.JsonValueKind.String, p.Value!.GetValueKind())); // the format's rule
        Assert.Equal("pt", file.Metadata["format"]!.GetValue<string>());
        Assert.Equal(("1", "4", "2", "3", "6"), (file.Metadata["n_layer"]!.GetValue<string>(), file.Metadata["n_embd"]!.GetValue<string>(), file.Metadata["n_head"]!.GetValue<string>(), file.Metadata["block_size"]!.GetValue<string>(), file.Metadata["vocab_size"]!.GetValue<string>()));
        Assert.True(JsonNode.DeepEquals(description, file.Description), "the configuration file beside it is the file's own description");
        Assert.Equal(["format", "formatVersion", "config", "tokenizer", "training", "tensors", "checksum"], file.Description.Select(p => p.Key));
        Assert.Equal(model.Summary.Steps, file.Description["training"]!["steps"]!.GetValue<long>());
    }

    [Fact]
    public void ItsOwnDescriptionWinsOverAConfigurationBesideItThatDisagrees()
    {
        // A save killed between its two renames: the new file, and the configuration of the old one.
        var old = TrainedModel(seed: 1, words: 7);
        var saved = TrainedModel(seed: 2, words: 5);
        ModelFile.Save(old, PathOf("old.safetensors"));
        ModelFile.Save(saved, PathOf("m.safetensors"));
        File.Copy(Safetensors.ConfigPathFor(PathOf("old.safetensors")), Safetensors.ConfigPathFor(PathOf("m.safetensors")), overwrite: true);
        AssertSameModel(saved, ModelFile.Load(PathOf("m.safetensors")));
    }

    /// <summary>A pair as MicroGpt wrote it before version 2: flat metadata only, the description (with a weights-only checksum) beside it.</summary>
    (string Path, string Config) WriteVersion1Pair(Model model, string name = "v1.safetensors")
    {
        string path = PathOf(name);
        ModelFile.Save(model, path);
        var file = new SafetensorsBytes(File.ReadAllBytes(path));
        var description = file.Description;
        file.Metadata.Remove(Safetensors.DescriptionKey);
        File.WriteAllBytes(path, file.ToBytes());
        description["formatVersion"] = 1;
        description.Remove("checksum");
        description["weightsChecksum"] = Checksum.Of(new Model(model.Config, model.Tokenizer, model.Parameters), null, version: 1);
        File.WriteAllText(Safetensors.ConfigPathFor(path), description.ToJsonString());
        return (path, Safetensors.ConfigPathFor(path));
    }

    [Fact]
    public void PairsOfVersion1StillLoadAndTheirMetadataAndSummaryAreChecked()
    {
        var model = TrainedModel();
        var (path, config) = WriteVersion1Pair(model);
        AssertSameModel(model, ModelFile.Load(path));

        // The header's metadata contradicting the configuration beside it was ignored; it is refused.
        var file = new SafetensorsBytes(File.ReadAllBytes(path));
        file.Metadata["n_embd"] = "8";
        File.WriteAllBytes(PathOf("contradicts.safetensors"), file.ToBytes());
        File.Copy(config, Safetensors.ConfigPathFor(PathOf("contradicts.safetensors")));
        Assert.Contains("n_embd \"8\" contradicts the model's configuration (4)", Problem(PathOf("contradicts.safetensors")));

        // Version 1's checksum left the summary out: a damaged summary key loaded as 0 steps; it is refused.
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"steps\"", "\"stepz\""));
        Assert.Contains("training has a key 'stepz'", Problem(path));
    }

    [Fact]
    public void TheChecksumCoversTheTrainingSummary()
    {
        var model = TrainedModel();
        ModelFile.Save(model, PathOf("m.safetensors"));
        var file = new SafetensorsBytes(File.ReadAllBytes(PathOf("m.safetensors")));
        var description = file.Description;
        description["training"]!["steps"] = 0;
        file.SetDescription(description.ToJsonString());
        File.WriteAllBytes(PathOf("m.safetensors"), file.ToBytes());
        Assert.Contains("does not match its content", Problem(PathOf("m.safetensors")));
    }

    [Fact]
    public void OverlappingTensorsAreRefusedWithoutTheConfigurationFileToo()
    {
        var model = TrainedModel();
        ModelFile.Save(model, PathOf("m.safetensors"));
        File.Delete(Safetensors.ConfigPathFor(PathOf("m.safetensors")));
        var file = new SafetensorsBytes(File.ReadAllBytes(PathOf("m.safetensors")));
        file.Header["lm_head"]!["data_offsets"] = file.Header["wte"]!["data_offsets"]!.DeepClone(); // both [V, C]: lm_head would read wte's bytes
        File.WriteAllBytes(PathOf("m.safetensors"), file.ToBytes());
        Assert.Contains("tensor 'lm_head' (bytes 0 to 96) overlaps tensor 'wte'", Problem(PathOf("m.safetensors")));
    }

    [Fact]
    public void HolesAndBytesAfterTheLastTensorAreRefused()
    {
        var model = TrainedModel();
        ModelFile.Save(model, PathOf("m.safetensors"));
        var original = File.ReadAllBytes(PathOf("m.safetensors"));

        var hole = new SafetensorsBytes(original);
        foreach (var (name, tensor) in hole.Header.Where(p => p.Key is not ("__metadata__" or "wte")).ToList())
        {
            var offsets = tensor!["data_offsets"]!.AsArray();
            tensor["data_offsets"] = new JsonArray(offsets[0]!.GetValue<long>() + 4, offsets[1]!.GetValue<long>() + 4);
        }
        hole.Data = [.. hole.Data, 0, 0, 0, 0];
        File.WriteAllBytes(PathOf("hole.safetensors"), hole.ToBytes());
        Assert.Contains("4 bytes between tensor 'wte' and tensor 'wpe' belong to no tensor", Problem(PathOf("hole.safetensors")));

        var trailing = new SafetensorsBytes(original);
        trailing.Data = [.. trailing.Data, 1, 2, 3, 4, 5, 6, 7, 8];
        File.WriteAllBytes(PathOf("trailing.safetensors"), trailing.ToBytes());
        Assert.Contains("8 bytes after the last tensor belong to no tensor", Problem(PathOf("trailing.safetensors")));
    }

    [Fact]
    public void AKeyGivenTwiceIsRefusedInTheHeaderAndInTheDescription()
    {
        var model = TrainedModel();
        ModelFile.Save(model, PathOf("m.safetensors"));
        var file = new SafetensorsBytes(File.ReadAllBytes(PathOf("m.safetensors")));
        string header = file.Header.ToJsonString();
        string wte = $"\"wte\":{file.Header["wte"]!.ToJsonString()}";
        File.WriteAllBytes(PathOf("header.safetensors"), file.ToBytes(header.Replace(wte, wte + "," + wte)));
        Assert.Contains("its header has the key 'wte' twice", Problem(PathOf("header.safetensors")));

        string description = file.Description.ToJsonString();
        file.SetDescription(description.Replace("\"training\":{", "\"training\":{\"steps\":0,"));
        File.WriteAllBytes(PathOf("description.safetensors"), file.ToBytes());
        Assert.Contains("'training' has the key 'steps' twice", Problem(PathOf("description.safetensors")));
    }

    [Theory]
    [InlineData(0UL, "its header length is 0")]
    [InlineData(1UL << 63, "its header length is 9,223,372,036,854,775,808 bytes, more than the 104,857,600 the format allows")]
    [InlineData(5000UL, "its header length is 5,000 bytes, but only")]
    public void HeaderLengthsThatCannotBeAreNamedAsSuch(ulong headerLength, string problem)
    {
        ModelFile.Save(TrainedModel(), PathOf("m.safetensors"));
        var bytes = File.ReadAllBytes(PathOf("m.safetensors"));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        File.WriteAllBytes(PathOf("m.safetensors"), bytes);
        Assert.Contains(problem, Problem(PathOf("m.safetensors")));
    }

    [Theory]
    [InlineData("shape", "[\"6\", 4]")]
    [InlineData("shape", "[6.5, 4]")]
    [InlineData("data_offsets", "[0, \"96\"]")]
    [InlineData("data_offsets", "{\"begin\": 0}")]
    public void ShapesAndOffsetsThatAreNotIntegersAreNamedAsSuch(string key, string value)
    {
        ModelFile.Save(TrainedModel(), PathOf("m.safetensors"));
        var file = new SafetensorsBytes(File.ReadAllBytes(PathOf("m.safetensors")));
        file.Header["wte"]![key] = JsonNode.Parse(value);
        File.WriteAllBytes(PathOf("m.safetensors"), file.ToBytes());
        string problem = Problem(PathOf("m.safetensors"));
        Assert.Contains(value.StartsWith('{') ? $"'{key}' is an object, not a list" : $"tensor 'wte' has a {key} that is not a list of integers", problem);
        Assert.DoesNotContain("UTF-8", problem);
    }

    [Fact]
    public void ClaimedSizesAreCheckedAgainstTheFileBeforeAnythingIsAllocated()
    {
        // The 654-byte pair of the report: a configuration beside a tiny file claiming an embedding of 4704.
        var model = TrainedModel();
        var (path, config) = WriteVersion1Pair(model);
        var description = JsonNode.Parse(File.ReadAllText(config))!;
        description["config"]!["nEmbd"] = 4704;
        description["config"]!["headDim"] = 2352;
        File.WriteAllText(config, description.ToJsonString());
        var file = new SafetensorsBytes(File.ReadAllBytes(path));
        file.Metadata["n_embd"] = "4704";
        File.WriteAllBytes(path, file.ToBytes());
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("tensor 'wte' has shape [6, 4]; the configuration needs [6, 4704]", Problem(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MaxAllocatedBytes);
    }

    [Fact]
    public void TheTextOfAFileThatIsNotOursIsNeverQuoted()
    {
        if (OperatingSystem.IsWindows()) return; // symbolic links need privileges there
        string secret = PathOf("secret.txt");
        File.WriteAllText(secret, "xyzzy:x:0:0:the secret:/root:/bin/sh\n");
        var (path, config) = WriteVersion1Pair(TrainedModel());
        File.Delete(config);
        File.CreateSymbolicLink(config, secret);
        string problem = Problem(path);
        Assert.Contains("not valid JSON (line 1, byte 1)", problem);
        Assert.DoesNotContain("xyzzy", problem);
        Assert.DoesNotContain("'x'", problem);

        File.CreateSymbolicLink(PathOf("m.json"), secret);
        Assert.DoesNotContain("xyzzy", Problem(PathOf("m.json")));
        File.WriteAllText(PathOf("other.json"), "{\"secret\": \"xyzzy\", \"list\": [\"xyzzy\"]}");
        Assert.DoesNotContain("xyzzy", Problem(PathOf("other.json")));
    }
}
