using System.Text;
using System.Text.Json;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>The BPE tokenizer kind: learning from a corpus's text, the vocabulary size with BOS, files, sentence mode.</summary>
public sealed class BytePairTokenizerTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("microgpt-bpe-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Indented lines, as a script has them: runs of a newline and spaces are worth merging.</summary>
    static readonly string[] ScriptLines =
    [
        "function Get-Thing {",
        "    param($Name)",
        "    if ($Name) {",
        "        Write-Output $Name",
        "    }",
        "}",
        "",
        "function Set-Thing {",
        "    param($Name, $Value)",
        "    Write-Output \"$Name = $Value\"",
        "}",
    ];

    static TokenizerCorpus CorpusOf(IReadOnlyList<string> lines) =>
        new(Corpus.Normalize(TokenizerKind.Bpe, lines), lines, "the test");

    static Tokenizer Learn(IReadOnlyList<string> lines, int vocabSize) => Tokenizer.Build(TokenizerKind.Bpe, CorpusOf(lines), vocabSize);

    static BytePairTokenizer English { get; } = (BytePairTokenizer)Learn(Corpus.DefaultLines(), 600);

    [Fact]
    public void ItLearnsFromTheTextWithEachLineEndedByANewlineAsTheNaiveLoopDoes()
    {
        var tokenizer = (BytePairTokenizer)Learn(ScriptLines, 257 + 40);
        // The independent reference learns on the file's text: lines, each ended by "\n".
        string text = string.Concat(ScriptLines.Select(line => line + "\n"));
        Assert.Equal(NaiveBytePairEncoding.Train(text, 40), tokenizer.Merges.Select(m => (m.Left, m.Right)));
        // So a newline and the next line's indentation became one token, which learning on
        // trimmed sentences could never make.
        int indent = Enumerable.Range(0, tokenizer.Bos).Single(id => tokenizer.PieceOf(id) == "\\u000A   ");
        Assert.Contains(indent, tokenizer.Encode("{\n    param($x)\n"));
    }

    [Fact]
    public void VocabSizeCountsBosAndTheBytesComeFirst()
    {
        var tokenizer = Learn(ScriptLines, 300);
        Assert.Equal("Bpe", tokenizer.Kind);
        Assert.Equal(300, tokenizer.VocabSize);             // what was asked for: a model's tables
        Assert.Equal(299, tokenizer.Bos);                   // 256 bytes and 43 merges before it
        Assert.Equal(43, ((BytePairTokenizer)tokenizer).Merges.Count);
        Assert.Equal("a", tokenizer.PieceOf('a'));
        Assert.Equal("<BOS>", tokenizer.PieceOf(tokenizer.Bos));
        Assert.True(tokenizer.EncodesAnyText);

        var bytesOnly = Learn(["ab"], 257); // no merge: a byte-level tokenizer and BOS
        Assert.Equal(256, bytesOnly.Bos);
        Assert.Equal([(int)'a', 'b', '\n'], bytesOnly.Encode("ab\n"));
    }

    [Fact]
    public void AnyTextRoundTripsAndNothingIsUnknown()
    {
        // Emoji, accents, scripts and controls that the default corpus never has.
        foreach (string text in new[] { "the cat eats", "Zoë 🐈‍⬛ naïve — 你好！\tend\r\n", "", "   ", TextSamples.Mixed(new Random(3), 2000) })
        {
            int[] ids = English.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, English.Bos - 1));
            Assert.Equal(text, English.Decode(ids));
            // Sentence mode: BOS at both ends, which decoding leaves out.
            int[] sentence = English.EncodeSentence(text);
            Assert.Equal([English.Bos, .. ids, English.Bos], sentence);
            Assert.Equal(text, English.Decode(sentence));
        }
        // A sampled half of a character decodes as U+FFFD, as a file read as UTF-8 would.
        int[] cat = English.Encode("🐈");
        Assert.Equal("\uFFFD", English.Decode(cat[..1]));
    }

    [Fact]
    public void PiecesShowCutCharactersAsEscapedBytes()
    {
        // "é" is two bytes, C3 A9: each alone is half a character.
        var tokenizer = Learn(["é"], 257);
        Assert.Equal(["\\xC3", "\\xA9", "\\u000A"], tokenizer.Encode("é\n").Select(tokenizer.PieceOf));
        var tokens = tokenizer.Tokenize("é");
        Assert.Equal(["<BOS>", "\\xC3", "\\xA9", "<BOS>"], tokens.Tokens);
        Assert.Equal(tokenizer.Vocabulary.Count + 1, tokenizer.VocabSize);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Tokenizer.MaxVocabulary + 2)]
    [InlineData(int.MaxValue)]
    public void AVocabSizeOutOfRangeIsRefusedByName(int vocabSize)
    {
        var ex = Assert.Throws<InvalidConfigurationException>(() => Learn(ScriptLines, vocabSize));
        Assert.Equal(("VocabSize", vocabSize), (ex.Parameter, ex.Value));
        Assert.Contains($"VocabSize {vocabSize} must be between 257 (the 256 byte tokens and BOS) and 131,073", ex.Message);
    }

    [Fact]
    public void AVocabSizeAboveWhatTheTextAllowsNamesTheMostItAllows()
    {
        // "hello hello world\n" is the chunks "hello", " hello", " world" and "\n".
        int merges = NaiveBytePairEncoding.Train("hello hello world\n", int.MaxValue).Count;
        int most = 256 + merges + 1;
        Assert.Equal(most, Learn(["hello hello world"], most).VocabSize);
        var ex = Assert.Throws<InvalidConfigurationException>(() => Learn(["hello hello world"], most + 1));
        Assert.Equal(most + 1, ex.Value);
        Assert.Contains($"VocabSize {most + 1} is more than this text allows", ex.Message);
        Assert.Contains($"at most {most} tokens (the 256 byte tokens, {merges} merges and BOS)", ex.Message);
    }

    [Fact]
    public void BpeNeedsAVocabSizeAndTheOtherKindsRefuseOne()
    {
        var missing = Assert.Throws<InvalidConfigurationException>(() => Tokenizer.Build(TokenizerKind.Bpe, CorpusOf(ScriptLines)));
        Assert.Equal(("VocabSize", null), (missing.Parameter, missing.Value));
        Assert.Contains("A Bpe tokenizer needs a VocabSize", missing.Message);
        Assert.Throws<InvalidConfigurationException>(() => Tokenizer.Build(TokenizerKind.Bpe, ScriptLines)); // the sentences-only overload
        foreach (var kind in new[] { TokenizerKind.Word, TokenizerKind.Character })
        {
            var ex = Assert.Throws<InvalidConfigurationException>(() => Tokenizer.Build(kind, CorpusOf(ScriptLines), 300));
            Assert.Equal(300, ex.Value);
            Assert.Contains("VocabSize 300 is for the kinds that learn to a size (Bpe)", ex.Message);
        }
    }

    [Fact]
    public void ABlankCorpusIsRefusedAsForTheOtherKinds()
    {
        var ex = Assert.Throws<CorpusException>(() => Learn(["", "   "], 300));
        Assert.Contains("no sentences", ex.Message);
    }

    [Fact]
    public void LearningStopsWhenCancelled()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Tokenizer.Build(TokenizerKind.Bpe, CorpusOf(Corpus.DefaultLines()), 1000, cancel.Token));
    }

    [Fact]
    public void ItWritesItsMergesAndReadsBackTheSame()
    {
        // "ab\n" has one pair worth merging: a then b.
        var tokenizer = Learn(["ab"], 258);
        Assert.Equal("""{"tokenizer":{"kind":"bpe","merges":[[97,98]]}}""", Written(tokenizer));

        string json = Written(English);
        using var document = JsonDocument.Parse(json);
        var read = Tokenizer.Read(document.RootElement.GetProperty("tokenizer"));
        Assert.IsType<BytePairTokenizer>(read);
        Assert.True(read.SameAs(English));
        Assert.Equal(English.Vocabulary, read.Vocabulary);
        const string text = "the dog plays in the park 🐕";
        Assert.Equal(English.Encode(text), read.Encode(text));
    }

    static string Written(Tokenizer tokenizer)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            tokenizer.Write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Theory]
    [InlineData("""{"kind":"bpe"}""", "it has no 'merges'")]
    [InlineData("""{"kind":"bpe","merges":{}}""", "'merges' is")]
    [InlineData("""{"kind":"bpe","merges":[[97]]}""", "tokenizer.merges[0] is not a pair of token ids")]
    [InlineData("""{"kind":"bpe","merges":[[97,98],[97,"b"]]}""", "tokenizer.merges[1] is not a pair of token ids")]
    [InlineData("""{"kind":"bpe","merges":[[97,98.5]]}""", "tokenizer.merges[0] is not a pair of token ids")]
    [InlineData("""{"kind":"bpe","merges":[[97,257]]}""", "Merge 0 (97, 257) uses a token that is not made before it")]
    [InlineData("""{"kind":"bpe","merges":[[97,98],[97,98]]}""", "Merge 1 (97, 98) repeats merge 0")]
    [InlineData("""{"kind":"bpe","merges":[[-1,98]]}""", "Merge 0 (-1, 98) uses a token")]
    public void ABadMergeListInAFileIsAFormatProblem(string json, string problem)
    {
        using var document = JsonDocument.Parse(json);
        Assert.Contains(problem, Assert.ThrowsAny<FormatProblem>(() => Tokenizer.Read(document.RootElement)).Message);
    }

    [Fact]
    public void TokenizersWithOtherMergesAreNotTheSame()
    {
        // The same tokens ("ab", "bc", "abc") made by other merges encode differently: "abc" from
        // (ab, c) is one token; from (a, bc) it is "ab" and "c", since ab merges first.
        var abThenC = new BytePairTokenizer(new BytePairEncoding([new('a', 'b'), new('b', 'c'), new(256, 'c')]));
        var aThenBc = new BytePairTokenizer(new BytePairEncoding([new('a', 'b'), new('b', 'c'), new('a', 257)]));
        Assert.Equal(abThenC.Vocabulary, aThenBc.Vocabulary);
        Assert.False(abThenC.SameAs(aThenBc));
        Assert.Equal([258], abThenC.Encode("abc"));
        Assert.Equal([256, 'c'], aThenBc.Encode("abc"));
        Assert.True(abThenC.SameAs(new BytePairTokenizer(new BytePairEncoding([new('a', 'b'), new('b', 'c'), new(256, 'c')]))));
        Assert.False(new BytePairTokenizer(new BytePairEncoding([])).SameAs(new CharacterTokenizer(["a"])));
    }

    [Theory]
    [InlineData("m.json")]
    [InlineData("m.safetensors")]
    public void AModelFileKeepsTheMergesAndItsChecksumCoversThem(string name)
    {
        var model = Model.Create(new ModelConfig(English.VocabSize, 8, 2, 1, 8), English, seed: 5);
        string path = Path.Combine(folder, name);
        ModelFile.Save(model, path);
        var loaded = ModelFile.Load(path);
        Assert.True(loaded.Tokenizer.SameAs(English));
        Assert.Equal(model.Parameters.Select(BitConverter.SingleToInt32Bits), loaded.Parameters.Select(BitConverter.SingleToInt32Bits));

        // Two merges swapped (both still possible: neither uses the other's token) make another
        // tokenizer of the same size: the checksum refuses it.
        int k = Enumerable.Range(0, English.Merges.Count - 1).First(k => Math.Max(English.Merges[k + 1].Left, English.Merges[k + 1].Right) < 256 + k);
        var (first, second) = (English.Merges[k], English.Merges[k + 1]);
        string merges = $"[{first.Left},{first.Right}],[{second.Left},{second.Right}]", swapped = $"[{second.Left},{second.Right}],[{first.Left},{first.Right}]";
        byte[] bytes = File.ReadAllBytes(path);
        string text = Encoding.Latin1.GetString(bytes);
        Assert.Contains(merges, text);
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text.Replace(merges, swapped)));
        Assert.Contains("checksum", Assert.Throws<ModelFileException>(() => ModelFile.Load(path)).Problem);
    }

    [Fact]
    public void SentenceModeTrainsOnBpeSentencesWrappedInBos()
    {
        var sentences = Corpus.Encode(English, Corpus.Normalize(TokenizerKind.Bpe, Corpus.DefaultLines().Take(200)));
        Assert.All(sentences, s => Assert.Equal((English.Bos, English.Bos), (s[0], s[^1])));
        var model = Model.Create(new ModelConfig(English.VocabSize, 16, 2, 1, 16), English, seed: 1);
        var losses = new List<double>();
        using (var trainer = new Trainer(model, sentences, new TrainingOptions { Steps = 60, BatchSize = 4 }))
            trainer.Run(step => losses.Add(step.Loss));
        // From about ln(600) = 6.4, uniform over the vocabulary; 60 steps of Adam at 0.01 learn the commonest tokens.
        Assert.InRange(losses.Take(5).Average(), 5.9, 7.0);
        Assert.True(losses.TakeLast(5).Average() < losses.Take(5).Average() - 1, $"the loss went from {losses.Take(5).Average():F3} to {losses.TakeLast(5).Average():F3}");
    }
}
