using MicroGpt;

namespace MicroGpt.Tests.Engine;

public class TokenizerTests
{
    [Fact]
    public void WordVocabularyIsTheDistinctWordsInOrdinalOrderWithBosLast()
    {
        var sentences = Corpus.Normalize(TokenizerKind.Word, ["  The cat eats  ", "", "a Cat runs", "   "]);
        Assert.Equal(["the cat eats", "a cat runs"], sentences.Select(s => s.Text));
        Assert.Equal([1, 3], sentences.Select(s => s.Line));

        var tokenizer = Tokenizer.Build(TokenizerKind.Word, sentences.Select(s => s.Text));
        Assert.Equal(["a", "cat", "eats", "runs", "the"], tokenizer.Vocabulary);
        Assert.Equal(5, tokenizer.Bos);
        Assert.Equal(6, tokenizer.VocabSize);
        Assert.Equal([5, 4, 1, 2, 5], tokenizer.EncodeSentence("the cat eats"));
        Assert.Equal("the cat eats", tokenizer.Decode([5, 4, 1, 2, 5]));
    }

    [Fact]
    public void EncodeTakesTextAsItIsAndEncodeSentenceWrapsItInBos()
    {
        var words = Tokenizer.Build(TokenizerKind.Word, ["the cat eats"]);
        Assert.Equal([2, 0, 1], words.Encode("the cat eats"));
        Assert.Equal([words.Bos, 2, 0, 1, words.Bos], words.EncodeSentence("the cat eats"));
        Assert.Empty(words.Encode(""));
        Assert.Equal([words.Bos, words.Bos], words.EncodeSentence(""));
        // Raw text is not lower-cased: that is sentence mode's rule (Corpus.Normalize), not the tokenizer's.
        Assert.Equal("The", Assert.Throws<UnknownTokenException>(() => words.Encode("The cat")).Piece);

        // Nothing is trimmed, and a newline is a character like any other.
        var characters = new CharacterTokenizer(["\n", " ", "a", "é", "😀"]);
        const string text = " a\n\né😀 ";
        Assert.Equal([1, 2, 0, 0, 3, 4, 1], characters.Encode(text));
        Assert.Equal(text, characters.Decode(characters.Encode(text)));
        Assert.Equal(text, characters.Decode(characters.EncodeSentence(text))); // BOS decodes to nothing
    }

    [Fact]
    public void WordAndCharacterTokenizersMayMeetPiecesTheyLack()
    {
        Assert.False(Tokenizer.Build(TokenizerKind.Word, ["a b"]).EncodesAnyText);
        var characters = Tokenizer.Build(TokenizerKind.Character, ["ab"]);
        Assert.False(characters.EncodesAnyText);
        var ex = Assert.Throws<UnknownTokenException>(() => characters.Encode("abc"));
        Assert.Equal(("c", "abc"), (ex.Piece, ex.Sentence));
        Assert.Contains("The character 'c' in \"abc\"", ex.Message);
    }

    [Fact]
    public void DecodeRefusesIdsOutsideTheVocabulary()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, ["a b"]);
        Assert.Equal("a b", tokenizer.Decode([0, 1, tokenizer.Bos]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([0, tokenizer.VocabSize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }

    [Fact]
    public void EveryKindIsRegisteredOnceAndFoundByItsNameInFiles()
    {
        Assert.Equal(Enum.GetValues<TokenizerKind>(), TokenizerKindInfo.All.Select(k => k.Kind));
        Assert.Equal(TokenizerKindInfo.All.Count, TokenizerKindInfo.All.Select(k => k.FileName).Distinct().Count());
        // The names files hold, and the numbers checksums hash: both are the file format.
        Assert.Equal([("word", 0), ("character", 1)], TokenizerKindInfo.All.Select(k => (k.FileName, (int)k.Kind)));
        foreach (var kind in TokenizerKindInfo.All)
        {
            Assert.Same(kind, TokenizerKindInfo.Named(kind.FileName));
            var tokenizer = Tokenizer.Build(kind.Kind, ["b a", "c"]);
            Assert.Same(kind, tokenizer.Info);
            Assert.Equal(kind.Kind.ToString(), tokenizer.Kind);
        }
        Assert.Null(TokenizerKindInfo.Named("Word")); // file names are exact
    }

    [Theory]
    [InlineData(TokenizerKind.Word, "the cat sat", """{"tokenizer":{"kind":"word","vocabulary":["cat","sat","the"]}}""")]
    [InlineData(TokenizerKind.Character, "bä\t", """{"tokenizer":{"kind":"character","vocabulary":["\t","b","\u00E4"]}}""")]
    public void ATokenizerWritesItselfAndReadsBackTheSame(TokenizerKind kind, string corpus, string json)
    {
        var tokenizer = Tokenizer.Build(kind, [corpus]);
        var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            tokenizer.Write(writer);
            writer.WriteEndObject();
        }
        Assert.Equal(json, System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        using var document = System.Text.Json.JsonDocument.Parse(buffer.ToArray());
        var read = Tokenizer.Read(document.RootElement.GetProperty("tokenizer"));
        Assert.Equal(tokenizer.GetType(), read.GetType());
        Assert.True(read.SameAs(tokenizer));
        Assert.Equal(tokenizer.Vocabulary, read.Vocabulary);
    }

    [Fact]
    public void TokenizersOfOtherKindsOrPiecesAreNotTheSame()
    {
        var words = new WordTokenizer(["a", "b"]);
        Assert.True(words.SameAs(new WordTokenizer(["a", "b"])));
        Assert.False(words.SameAs(new CharacterTokenizer(["a", "b"])));
        Assert.False(words.SameAs(new WordTokenizer(["a", "c"])));
    }

    [Theory]
    [InlineData("""{"kind":"bpe","vocabulary":[]}""", "tokenizer.kind \"bpe\" is none of the kinds this MicroGpt reads (\"word\", \"character\")")]
    [InlineData("""{"kind":"character","vocabulary":["ab"]}""", "'ab' at index 0 is not one character")]
    [InlineData("""{"kind":"word","vocabulary":["a b"]}""", "'a b' at index 0 contains white space")]
    [InlineData("""{"kind":"word","vocabulary":["a","a"]}""", "'a' at index 1 is empty or repeated")]
    [InlineData("""{"kind":"word","vocabulary":[1]}""", "tokenizer.vocabulary[0] is not a string")]
    [InlineData("""{"vocabulary":["a"]}""", "it has no 'kind'")]
    public void ABadTokenizerInAFileIsAFormatProblem(string json, string problem)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.Contains(problem, Assert.ThrowsAny<FormatProblem>(() => Tokenizer.Read(document.RootElement)).Message);
    }

    [Fact]
    public void WordsAreSplitAtAnyWhiteSpace()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, ["the\tcat  sat", "a\u00a0dog"]);
        Assert.Equal(["a", "cat", "dog", "sat", "the"], tokenizer.Vocabulary);
        Assert.Equal(3, tokenizer.Encode("the cat\tsat").Length);
    }

    [Fact]
    public void OrdinalOrderPutsDigitsAndCapitalsFirst()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Character, ["ba", "aB", "1"]);
        Assert.Equal(["1", "B", "a", "b"], tokenizer.Vocabulary); // characters keep their case
        Assert.Equal("aB", tokenizer.Decode(tokenizer.Encode("aB")));
    }

    [Fact]
    public void AnUnknownWordIsAnErrorNamingTheWordAndLine()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, ["the cat"]);
        var ex = Assert.Throws<UnknownTokenException>(() => Corpus.Encode(tokenizer, Corpus.Normalize(TokenizerKind.Word, ["the cat", "", "the dog"])));
        Assert.Equal("dog", ex.Piece);
        Assert.Equal(3, ex.Line);
        Assert.Contains("'dog'", ex.Message);
        Assert.Contains("Line 3", ex.Message);
    }

    [Fact]
    public void CharacterTokenizerTreatsSurrogatePairsAsOneCharacter()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Character, ["a😀b"]);
        Assert.Equal(4, tokenizer.VocabSize);
        Assert.Equal("a😀b", tokenizer.Decode(tokenizer.Encode("a😀b")));
    }

    [Fact]
    public void AnEmptyCorpusIsRefused()
    {
        var ex = Assert.Throws<CorpusException>(() => Tokenizer.Build(TokenizerKind.Word, []));
        Assert.Contains("no sentences", ex.Message);
    }

    [Fact]
    public void DefaultCorpusShipsInTheAssembly()
    {
        var lines = Corpus.DefaultLines();
        Assert.Equal(30000, lines.Count);
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, Corpus.Normalize(TokenizerKind.Word, lines).Select(s => s.Text));
        Assert.InRange(tokenizer.VocabSize, 501, 701);
    }

    [Fact]
    public void HoldOutSplitsASeededShareKeepingTheOrder()
    {
        var sentences = Enumerable.Range(0, 100).Select(i => new[] { 9, i, 9 }).ToArray();
        var (training, validation) = Corpus.HoldOut(sentences, 0.1, seed: 3);
        Assert.Equal(90, training.Length);
        Assert.Equal(10, validation.Length);
        var ids = training.Concat(validation).Select(s => s[1]).Order();
        Assert.Equal(Enumerable.Range(0, 100), ids);                               // disjoint and complete
        Assert.Equal(validation.Select(s => s[1]).Order(), validation.Select(s => s[1])); // in corpus order
        Assert.Equal(validation, Corpus.HoldOut(sentences, 0.1, seed: 3).Validation); // the same seed, the same split
        Assert.NotEqual(validation, Corpus.HoldOut(sentences, 0.1, seed: 4).Validation);
        Assert.Throws<InvalidConfigurationException>(() => Corpus.HoldOut(sentences, 0, seed: 3));
        Assert.Throws<InvalidConfigurationException>(() => Corpus.HoldOut(sentences[..1], 0.5, seed: 3));
    }
}
