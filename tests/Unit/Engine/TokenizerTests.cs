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
        Assert.Equal([5, 4, 1, 2, 5], tokenizer.Encode("the cat eats"));
        Assert.Equal("the cat eats", tokenizer.Decode([5, 4, 1, 2, 5]));
    }

    [Fact]
    public void WordsAreSplitAtAnyWhiteSpace()
    {
        var tokenizer = Tokenizer.Build(TokenizerKind.Word, ["the\tcat  sat", "a\u00a0dog"]);
        Assert.Equal(["a", "cat", "dog", "sat", "the"], tokenizer.Vocabulary);
        Assert.Equal(5, tokenizer.Encode("the cat\tsat").Length);
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
