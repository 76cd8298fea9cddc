using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>Model files: exact round trips, atomic writes under injected failures, strict reading, safetensors bytes.</summary>
public sealed class ModelFileTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("microgpt-files-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    public static TheoryData<TokenizerKind, int, int, int, int> Shapes => new()
    {
        // kind, embedding, heads, layers, block
        { TokenizerKind.Word, 32, 4, 2, 16 },
        { TokenizerKind.Word, 8, 2, 1, 4 },
        { TokenizerKind.Character, 16, 4, 3, 10 },
        { TokenizerKind.Character, 12, 3, 1, 7 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void JsonAndSafetensorsRoundTripEveryBit(TokenizerKind kind, int embedding, int heads, int layers, int block)
    {
        var tokenizer = kind == TokenizerKind.Word
            ? Tokenizer.Build(kind, Corpus.Normalize(kind, Corpus.DefaultLines()).Select(s => s.Text))
            : Tokenizer.Build(kind, ["anna", "bob", "cleo", "dörte", "émile"]);
        var model = Model.Create(new ModelConfig(tokenizer.VocabSize, embedding, heads, layers, block), tokenizer, seed: embedding);
        var sentences = Corpus.Encode(tokenizer, Corpus.Normalize(kind, kind == TokenizerKind.Word ? ["the cat is big", "we play in the park"] : ["anna", "bob"]));
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 5 })) trainer.Run(_ => { });
        // Values that need every digit: tiny, huge, negative zero, the smallest subnormal.
        model.Parameters[0] = float.Epsilon; model.Parameters[1] = -0f; model.Parameters[2] = 3.4028235e38f; model.Parameters[3] = 1.0000001f;

        foreach (string name in new[] { "m.json", "m.safetensors" })
        {
            ModelFile.Save(model, PathOf(name), includeOptimizer: true);
            var loaded = ModelFile.Load(PathOf(name));
            Assert.Equal(model.Config, loaded.Config);
            Assert.Equal(kind, loaded.Tokenizer.TokenKind);
            Assert.Equal(model.Tokenizer.Vocabulary, loaded.Tokenizer.Vocabulary);
            Assert.Equal(model.Parameters.Select(BitConverter.SingleToInt32Bits), loaded.Parameters.Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(model.Summary.Steps, loaded.Summary.Steps);
            Assert.Equal(model.Summary.LastLoss, loaded.Summary.LastLoss);
            if (name.EndsWith(".json"))
            {
                Assert.Equal(model.Optimizer!.M, loaded.Optimizer!.M);
                Assert.Equal(model.Optimizer.V, loaded.Optimizer.V);
                Assert.Equal(5, loaded.Optimizer.NextStep);
                Assert.Equal(model.Summary.LastLoss, loaded.Summary.LastLoss);
            }
        }
    }

    [Fact]
    public void ACheckpointNamesItsCorpusAndItsChecksumCoversTheName()
    {
        var model = TestData.RandomModel(new ModelConfig(6, 4, 2, 1, 3));
        var origin = new CorpusOrigin(CorpusSource.Files, ["/data/a.txt", "/data/it's [b].txt"]);
        using (var trainer = new Trainer(model, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions { Steps = 4 }, origin: origin)) trainer.Step();
        ModelFile.Save(model, PathOf("ck.json"), includeOptimizer: true);
        var loaded = ModelFile.Load(PathOf("ck.json")).Optimizer!.CorpusOrigin!;
        Assert.Equal(CorpusSource.Files, loaded.Source);
        Assert.Equal(origin.Files, loaded.Files);

        // Another name is another file: the checksum says so.
        string json = File.ReadAllText(PathOf("ck.json"));
        File.WriteAllText(PathOf("renamed.json"), json.Replace("/data/a.txt", "/data/c.txt"));
        Assert.Contains("checksum", Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("renamed.json"))).Problem);
        // A source that is none of the three is refused by name.
        File.WriteAllText(PathOf("unknown.json"), json.Replace("\"source\":\"files\"", "\"source\":\"web\""));
        Assert.Contains("'web'", Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("unknown.json"))).Problem);

        // A resumed run on the same sentences keeps the name it was given, or the checkpoint's.
        var resumed = ModelFile.Load(PathOf("ck.json"));
        using (var trainer = new Trainer(resumed, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions(), resume: resumed.Optimizer)) trainer.Step();
        Assert.Equal(origin.Files, resumed.Optimizer!.CorpusOrigin!.Files);
        using (var trainer = new Trainer(resumed, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions(), resume: resumed.Optimizer, origin: CorpusOrigin.Text)) trainer.Step();
        Assert.Equal(CorpusSource.Text, resumed.Optimizer!.CorpusOrigin!.Source);
    }

    [Fact]
    public void TheTutorialsLoaderFindsConfigAndWeightsInOrder()
    {
        var model = TestData.RandomModel(new ModelConfig(5, 4, 2, 1, 3));
        ModelFile.Save(model, PathOf("m.json"));
        using var json = JsonDocument.Parse(File.ReadAllBytes(PathOf("m.json")));
        var config = json.RootElement.GetProperty("config");
        Assert.Equal(1, config.GetProperty("nLayer").GetInt32());
        Assert.Equal(4, config.GetProperty("nEmbd").GetInt32());
        Assert.Equal(3, config.GetProperty("blockSize").GetInt32());
        Assert.Equal(2, config.GetProperty("nHead").GetInt32());
        Assert.Equal(2, config.GetProperty("headDim").GetInt32());
        Assert.Equal(5, config.GetProperty("vocabSize").GetInt32());
        Assert.Equal(model.Parameters, json.RootElement.GetProperty("weights").EnumerateArray().Select(w => w.GetSingle()));
    }

    [Fact]
    public void AFileWithoutVocabularyNeedsATokenizerOfTheRightSize()
    {
        var model = TestData.RandomModel(new ModelConfig(5, 4, 2, 1, 3));
        ModelFile.Save(model, PathOf("m.json"));
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(PathOf("m.json")))!.AsObject();
        File.WriteAllText(PathOf("tutorial.json"), new System.Text.Json.Nodes.JsonObject { ["config"] = node["config"]!.DeepClone(), ["weights"] = node["weights"]!.DeepClone() }.ToJsonString());

        Assert.Contains("no vocabulary", Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("tutorial.json"))).Message);
        Assert.Contains("supplied has 3", Assert.Throws<VocabularyMismatchException>(() => ModelFile.Load(PathOf("tutorial.json"), TestData.Words(2))).Message);
        Assert.Equal(model.Parameters, ModelFile.Load(PathOf("tutorial.json"), TestData.Words(4)).Parameters);
    }

    [Theory]
    [InlineData("m.json")]
    [InlineData("m.safetensors")]
    public void AFailureInTheMiddleOfAWriteLeavesThePreviousFileAndNoTemporaryFile(string name)
    {
        var old = TestData.RandomModel(new ModelConfig(9, 8, 2, 1, 4), seed: 1);
        var updated = TestData.RandomModel(new ModelConfig(9, 8, 2, 1, 4), seed: 2);
        ModelFile.Save(old, PathOf(name));
        byte[] before = File.ReadAllBytes(PathOf(name));
        var written = new List<string>();
        var ex = Assert.Throws<IOException>(() => ModelFile.Save(updated, PathOf(name), decorate: stream => new FailingStream(stream, failAfter: before.Length / 2)));
        Assert.Contains("injected", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(PathOf(name)));
        Assert.DoesNotContain(Directory.GetFiles(folder), f => f.EndsWith(AtomicFile.TemporarySuffix));
        Assert.Equal(old.Parameters, ModelFile.Load(PathOf(name)).Parameters);
    }

    [Fact]
    public void ASafetensorsFileAndItsConfigurationAreReplacedTogetherOrNotAtAll()
    {
        var old = TestData.RandomModel(new ModelConfig(9, 8, 2, 1, 4), seed: 1);
        var updated = TestData.RandomModel(new ModelConfig(9, 8, 2, 1, 4), seed: 2);
        string path = PathOf("m.safetensors"), config = Safetensors.ConfigPathFor(path);
        ModelFile.Save(old, path);
        byte[] weights = File.ReadAllBytes(path), configuration = File.ReadAllBytes(config);
        int streams = 0; // the weights are written first, then the configuration: fail the second
        Assert.Throws<IOException>(() => ModelFile.Save(updated, path, decorate: stream => ++streams == 2 ? new FailingStream(stream, failAfter: 10) : stream));
        Assert.Equal(weights, File.ReadAllBytes(path));
        Assert.Equal(configuration, File.ReadAllBytes(config));
        Assert.DoesNotContain(Directory.GetFiles(folder), f => f.EndsWith(AtomicFile.TemporarySuffix));
        Assert.Equal(old.Parameters, ModelFile.Load(path).Parameters);
    }

    [Fact]
    public void ANumberBeyondFloatRangeIsRefused()
    {
        var model = TestData.RandomModel(new ModelConfig(5, 4, 2, 1, 3));
        ModelFile.Save(model, PathOf("m.json"));
        string text = File.ReadAllText(PathOf("m.json"));
        var node = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
        var weights = node["weights"]!.AsArray();
        weights[3] = 1e39;
        node.Remove("checksum");
        File.WriteAllText(PathOf("big.json"), node.ToJsonString());
        var ex = Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("big.json")));
        Assert.Contains("weights[3] is 1E+39, not a finite 32-bit number", ex.Message);
    }

    [Fact]
    public void AModelWithNonFiniteWeightsIsNotSaved()
    {
        var model = TestData.RandomModel(new ModelConfig(5, 4, 2, 1, 3));
        model.Parameters[7] = float.NaN;
        var ex = Assert.Throws<ModelNotFiniteException>(() => ModelFile.Save(model, PathOf("m.json")));
        Assert.Contains("wte[1, 3] is NaN", ex.Message);
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public void SafetensorsBytesFollowTheSpecification()
    {
        var config = new ModelConfig(5, 4, 2, 2, 3);
        var model = TestData.RandomModel(config);
        ModelFile.Save(model, PathOf("m.safetensors"));
        byte[] bytes = File.ReadAllBytes(PathOf("m.safetensors"));

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + headerLength) % 8); // the data starts 8-byte aligned
        string header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.StartsWith("{", header);
        Assert.Equal(header.TrimEnd(' '), header.TrimEnd(' ').Trim()); // padded with spaces only
        using var json = JsonDocument.Parse(header);
        var metadata = json.RootElement.GetProperty("__metadata__");
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.All(metadata.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind)); // metadata is string to string

        long expectedBegin = 0;
        var tensors = ParameterLayout.Tensors(config).ToList();
        Assert.Equal(tensors.Select(t => t.Name).Append("__metadata__").Order(), json.RootElement.EnumerateObject().Select(p => p.Name).Order());
        foreach (var (name, offset, rows, columns) in tensors)
        {
            var tensor = json.RootElement.GetProperty(name);
            Assert.Equal("F32", tensor.GetProperty("dtype").GetString());
            Assert.Equal([rows, columns], tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            var range = tensor.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            Assert.Equal(expectedBegin, range[0]); // contiguous, in order, no gaps
            Assert.Equal(range[0] + rows * columns * 4, range[1]);
            for (int i = 0; i < rows * columns; i++)
                Assert.Equal(model.Parameters[offset + i], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)headerLength + (int)range[0] + 4 * i)));
            expectedBegin = range[1];
        }
        Assert.Equal(bytes.Length, 8 + (long)headerLength + expectedBegin);
        Assert.Contains("h.1.mlp.proj", header);
    }

    [Fact]
    public void JsonFilesOfVersion1StillLoadCheckpointsIncluded()
    {
        var model = TestData.RandomModel(new ModelConfig(6, 4, 2, 1, 3));
        using (var trainer = new Trainer(model, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions { Steps = 2 })) trainer.Run(_ => { });
        ModelFile.Save(model, PathOf("m.json"), includeOptimizer: true);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(PathOf("m.json")))!.AsObject();
        node["formatVersion"] = 1;
        node["optimizer"]!["options"]!.AsObject().Remove("checkpointInterval"); // version 2 added it
        node["checksum"] = Checksum.Of(model, model.Optimizer, version: 1);
        File.WriteAllText(PathOf("v1.json"), node.ToJsonString());
        var loaded = ModelFile.Load(PathOf("v1.json"));
        Assert.Equal(model.Parameters, loaded.Parameters);
        Assert.Equal(model.Optimizer!.V, loaded.Optimizer!.V);
        Assert.Equal(0, loaded.Optimizer.Options.CheckpointInterval);
    }

    [Theory]
    [InlineData("\"format\":\"microgpt\"", "\"format\":\"other\"", "its format is \"other\", not \"microgpt\"")]
    [InlineData(",\"checksum\":", ",\"checksun\":", "it has no 'checksum'")]
    [InlineData("\"training\":{", "\"training\":{\"steps\":0,", "'training' has the key 'steps' twice")]
    [InlineData("{\"format\"", "{\"weights\":[],\"format\"", "it has the key 'weights' twice")]
    [InlineData("\"steps\":2", "\"steps\":3", "checksum")]
    public void WhatAJsonFileOfOursSaysIsCheckedOrRefused(string find, string replace, string problem)
    {
        var model = TestData.RandomModel(new ModelConfig(6, 4, 2, 1, 3));
        using (var trainer = new Trainer(model, TestData.RandomSentences(6, 3, 3, seed: 1), new TrainingOptions { Steps = 2 })) trainer.Run(_ => { });
        ModelFile.Save(model, PathOf("m.json"));
        string text = File.ReadAllText(PathOf("m.json"));
        Assert.Contains(find, text);
        File.WriteAllText(PathOf("changed.json"), text.Replace(find, replace));
        Assert.Contains(problem, Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("changed.json"))).Problem);
    }

    [Fact]
    public void BytesThatAreNotUtf8AreNamedByTheirPlace()
    {
        var model = TestData.RandomModel(new ModelConfig(5, 4, 2, 1, 3));
        ModelFile.Save(model, PathOf("m.json"));
        var bytes = File.ReadAllBytes(PathOf("m.json"));
        int at = Encoding.UTF8.GetString(bytes).IndexOf("w001", StringComparison.Ordinal);
        bytes[at + 1] = 0xFF;
        File.WriteAllBytes(PathOf("m.json"), bytes);
        Assert.Contains($"it holds bytes that are not UTF-8 text (byte {at + 2:N0})", Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("m.json"))).Problem);
    }

    [Fact]
    public async Task PipesDevicesAndFoldersAreRefusedWithoutReadingThem()
    {
        Directory.CreateDirectory(PathOf("adir"));
        Assert.Contains("it is a folder", Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("adir"))).Problem);
        File.WriteAllBytes(PathOf("empty.json"), []);
        Assert.Contains("it is empty", Assert.Throws<ModelFileException>(() => ModelFile.Load(PathOf("empty.json"))).Problem);
        if (!OperatingSystem.IsLinux()) return;
        string fifo = PathOf("fifo.json");
        System.Diagnostics.Process.Start("mkfifo", fifo)!.WaitForExit();
        foreach (string path in new[] { fifo, "/dev/zero", "/dev/urandom" })
        {
            // Opening a pipe would wait for a writer, and a device never ends: a hang fails this test.
            var load = Task.Run(() => Assert.Throws<ModelFileException>(() => ModelFile.Load(path)));
            Assert.Same(load, await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(30))));
            Assert.Contains("not a regular file (a pipe or a device)", (await load).Problem);
        }
    }

    /// <summary>A stream that throws after a number of bytes, as a full disk or a killed process would stop a write.</summary>
    sealed class FailingStream(Stream inner, int failAfter) : Stream
    {
        int written;
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (written + buffer.Length > failAfter) throw new IOException("injected failure: the disk is full");
            written += buffer.Length;
            inner.Write(buffer);
        }
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
