using System.Text;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

public class BytePairEncodingTests
{
    /// <summary>A tokenizer learned on English-like prose only, shared (it is immutable).</summary>
    static readonly BytePairEncoding English = BytePairEncoding.Train(TextSamples.Prose(new Random(1), 20_000), 700);

    static List<(int, int)> AsTuples(IEnumerable<TokenPair> merges) => merges.Select(m => (m.Left, m.Right)).ToList();

    [Theory]
    [InlineData("prose", 400)]
    [InlineData("mixed", 300)]
    [InlineData("long runs", 200)]
    public void LearnedMergesAndEncodingsEqualTheNaiveLoop(string kind, int merges)
    {
        var rng = new Random(kind.Length);
        string text = kind switch
        {
            "prose" => TextSamples.Prose(rng, 2500),
            "mixed" => TextSamples.Mixed(rng, 2500),
            _ => string.Concat(Enumerable.Range(0, 40).Select(i => new string("ab. 7"[i % 5], rng.Next(1, 150)) + TextSamples.Mixed(rng, 5))),
        };
        var expected = NaiveBytePairEncoding.Train(text, merges);
        Assert.Equal(merges, expected.Count);
        var bpe = BytePairEncoding.Train(text, 256 + merges);
        Assert.Equal(expected, AsTuples(bpe.Merges));

        // Encodings of the training text and of texts it never saw.
        foreach (string other in new[] { text, TextSamples.Prose(rng, 500), TextSamples.Mixed(rng, 500), new string('a', 300) + " " + new string(' ', 90) + "b" })
            Assert.Equal(NaiveBytePairEncoding.Encode(other, expected), bpe.Encode(other));
    }

    [Fact]
    public void OverlappingPairsMergeFromTheLeftAsTheNaiveLoopDoes()
    {
        // Small alphabets make runs like "aaaaa" (where pairs overlap) and many ties; each text is
        // learned until no pair is left, and one more token is refused.
        var rng = new Random(3);
        for (int trial = 0; trial < 60; trial++)
        {
            string alphabet = trial % 3 == 0 ? "a" : trial % 3 == 1 ? "ab" : "aab ";
            string text = string.Concat(Enumerable.Range(0, rng.Next(1, 120)).Select(_ => alphabet[rng.Next(alphabet.Length)]));
            var expected = NaiveBytePairEncoding.Train(text, int.MaxValue);
            var bpe = BytePairEncoding.Train(text, 256 + expected.Count);
            Assert.Equal(expected, AsTuples(bpe.Merges));
            Assert.Equal(NaiveBytePairEncoding.Encode(text, expected), bpe.Encode(text));
            var ex = Assert.Throws<InvalidConfigurationException>(() => BytePairEncoding.Train(text, 257 + expected.Count));
            Assert.Equal("VocabSize", ex.Parameter);
            Assert.Contains($"at most {256 + expected.Count:N0} tokens", ex.Message);
        }
    }

    [Fact]
    public void AnOddRunMergesFromTheLeft()
    {
        // "aaaaa" becomes "aa aa a"; then (aa, aa) and (aa, a) occur once each, and "a" (97) is the smaller right id.
        var bpe = BytePairEncoding.Train("aaaaa", 258);
        Assert.Equal([new TokenPair('a', 'a'), new TokenPair(256, 'a')], bpe.Merges);
        Assert.Equal([256, 257], bpe.Encode("aaaaa"));
        Assert.Equal([257], bpe.Encode("aaa"));
        Assert.Equal([256, 256], bpe.Encode("aaaa"));
    }

    [Fact]
    public void TiesGoToTheSmallestLeftIdThenTheSmallestRightId()
    {
        // "ab cd" is the chunks "ab" and " cd": three pairs, each once.
        var bpe = BytePairEncoding.Train("ab cd", 259);
        Assert.Equal([new TokenPair(' ', 'c'), new TokenPair('a', 'b'), new TokenPair(256, 'd')], bpe.Merges);
        Assert.Equal([new TokenPair('a', 'b'), new TokenPair('a', 'c')], BytePairEncoding.Train("ab,ac", 258).Merges);
        // A higher count wins over smaller ids.
        Assert.Equal(new TokenPair('x', 'y'), BytePairEncoding.Train("xyxy ab", 257).Merges[0]);
    }

    [Fact]
    public void LearningIsDeterministicAndIgnoresTheOrderOfTexts()
    {
        var rng = new Random(8);
        var texts = Enumerable.Range(0, 30).Select(_ => TextSamples.Prose(rng, 200)).ToList();
        var merges = BytePairEncoding.Train(texts, 600).Merges;
        Assert.Equal(merges, BytePairEncoding.Train(texts, 600).Merges);
        texts.Reverse();
        Assert.Equal(merges, BytePairEncoding.Train(texts, 600).Merges);
        // A smaller vocabulary is the start of a larger one.
        Assert.Equal(merges.Take(100), BytePairEncoding.Train(texts, 356).Merges);
    }

    [Fact]
    public void AnyTextRoundTripsIncludingCharactersNeverSeen()
    {
        var rng = new Random(21);
        var texts = new List<string>
        {
            "",
            "The café's naïve straße.",
            "东京は日本の首都です。你好，世界！한국어 텍스트",
            "e\u0301\u0301a\u0308\u0323 Z\u0351\u0352\u0353alg\u0489o",    // stacked combining marks
            "👨‍👩‍👧‍👦 🇫🇷🇯🇵 👍🏽 🏳️‍🌈 \u263a\ufe0f",                    // joiners, flags, skin tones, variation selectors
            "\0\u0001\u0002\u001b[31m\u007f\u0080\u009f\r\n\t\v\f",  // NUL, controls, an escape sequence
            "\ufeff\u200b\u2028\u2029\u00a0\u3000\ufffd\uffff\U0010FFFF",
            new string('\0', 300),
            new string('9', 1000) + new string(' ', 1000) + string.Concat(Enumerable.Repeat("😀", 500)),
        };
        for (int i = 0; i < 100; i++) texts.Add(i % 2 == 0 ? TextSamples.AnyScalars(rng, rng.Next(1, 400)) : TextSamples.Mixed(rng, rng.Next(1, 400)));
        foreach (string text in texts)
        {
            var tokens = English.Encode(text);
            Assert.All(tokens, t => Assert.InRange(t, 0, English.VocabSize - 1));
            Assert.Equal(text, English.Decode(tokens));
            Assert.Equal(Encoding.UTF8.GetByteCount(text), tokens.Sum(t => English.BytesOf(t).Length));
        }
        Assert.Empty(English.Encode(""));
        Assert.Equal("", English.Decode([]));
    }

    [Fact]
    public void ALoneSurrogateEncodesAsTheReplacementCharacter()
    {
        Assert.Equal("a\ufffdb \ufffd\ufffd", English.Decode(English.Encode("a\ud800b \udc00\ud800")));
        var rng = new Random(4);
        for (int i = 0; i < 100; i++)
        {
            string text = TextSamples.WithLoneSurrogates(TextSamples.Mixed(rng, rng.Next(1, 200)), rng);
            string replaced = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)); // what a file written from it holds
            Assert.Equal(English.Encode(replaced), English.Encode(text));
            Assert.Equal(replaced, English.Decode(English.Encode(text)));
        }
    }

    [Theory]
    [InlineData(new[] { 0xFF }, "\ufffd")]
    [InlineData(new[] { 0xE2, 0x82 }, "\ufffd")]                  // a cut three-byte sequence is one replacement
    [InlineData(new[] { 0xE2, 0x82, 'A' }, "\ufffdA")]
    [InlineData(new[] { 0xF0, 0x80, 0x80 }, "\ufffd\ufffd\ufffd")] // F0 80 is no prefix of any character: each byte is replaced
    [InlineData(new[] { 0xED, 0xA0, 0x80 }, "\ufffd\ufffd\ufffd")] // an encoded surrogate is not UTF-8
    [InlineData(new[] { 0xC3, 0xA9 }, "é")]                        // a character split across two tokens decodes whole
    [InlineData(new[] { 'a', 0x80, 'b' }, "a\ufffdb")]
    public void BytesThatAreNotUtf8DecodeAsReplacementCharacters(int[] tokens, string expected) =>
        Assert.Equal(expected, English.Decode(tokens));

    [Fact]
    public void ATokenOutsideTheVocabularyIsAnError()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => English.Decode([1, English.VocabSize]));
        Assert.Contains($"{English.VocabSize}", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => English.Decode([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => English.PieceOf(English.VocabSize));
    }

    [Theory]
    [InlineData(255)]
    [InlineData(0)]
    [InlineData(-4)]
    [InlineData(BytePairEncoding.MaxVocabSize + 1)]
    [InlineData(int.MaxValue)]
    public void AVocabularySizeOutOfRangeIsRefusedByName(int vocabSize)
    {
        var ex = Assert.Throws<InvalidConfigurationException>(() => BytePairEncoding.Train("some text", vocabSize));
        Assert.Equal("VocabSize", ex.Parameter);
        Assert.Equal(vocabSize, ex.Value);
        Assert.Contains($"VocabSize {vocabSize} ", ex.Message);
    }

    [Fact]
    public void AVocabularyLargerThanTheTextAllowsIsRefusedWithWhatItAllows()
    {
        // "hello hello world" is the chunks "hello", " hello" and " world": merges run out once each is one token.
        var allowed = NaiveBytePairEncoding.Train("hello hello world", int.MaxValue).Count;
        Assert.Equal(256 + allowed, BytePairEncoding.Train("hello hello world", 256 + allowed).VocabSize);
        var ex = Assert.Throws<InvalidConfigurationException>(() => BytePairEncoding.Train("hello hello world", 4096));
        Assert.Equal(4096, ex.Value);
        Assert.Contains("VocabSize 4096 is more than this text allows", ex.Message);
        Assert.Contains($"at most {256 + allowed} tokens", ex.Message);
        Assert.Contains("3 distinct chunks", ex.Message);
        Assert.Throws<InvalidConfigurationException>(() => BytePairEncoding.Train("", 257));
    }

    [Fact]
    public void TheByteVocabularyEncodesUtf8Bytes()
    {
        var bytes = BytePairEncoding.Train("", 256);
        Assert.Equal(256, bytes.VocabSize);
        Assert.Empty(bytes.Merges);
        Assert.Equal([104, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80], bytes.Encode("hé😀"));
    }

    [Fact]
    public void TheMergeListIsTheWholeState()
    {
        var copy = new BytePairEncoding(English.Merges);
        Assert.Equal(English.VocabSize, copy.VocabSize);
        string text = TextSamples.Prose(new Random(2), 3000) + TextSamples.AnyScalars(new Random(2), 500);
        Assert.Equal(English.Encode(text), copy.Encode(text));
        for (int t = 0; t < English.VocabSize; t++) Assert.True(English.BytesOf(t).SequenceEqual(copy.BytesOf(t)));
        Assert.Equal(English.Merges.Take(10), new BytePairEncoding(English.Merges.Take(10)).Merges);
    }

    [Fact]
    public void AMergeListThatLearningCannotMakeIsRefused()
    {
        Assert.Contains("Merge 0 (256, 97)", Assert.Throws<ArgumentException>(() => new BytePairEncoding([new(256, 97)])).Message);
        Assert.Contains("Merge 1 (97, 257)", Assert.Throws<ArgumentException>(() => new BytePairEncoding([new(97, 98), new(97, 257)])).Message);
        Assert.Contains("Merge 0 (-1, 3)", Assert.Throws<ArgumentException>(() => new BytePairEncoding([new(-1, 3)])).Message);
        Assert.Contains("repeats merge 0", Assert.Throws<ArgumentException>(() => new BytePairEncoding([new(97, 98), new(99, 99), new(97, 98)])).Message);
        // Doubling "a" eight times makes 256 bytes, a chunk's most; a ninth would make 512.
        var doubling = Enumerable.Range(0, 9).Select(k => k == 0 ? new TokenPair('a', 'a') : new TokenPair(255 + k, 255 + k)).ToList();
        Assert.Equal(256, new BytePairEncoding(doubling.Take(8)).BytesOf(263).Length);
        Assert.Contains("512 bytes", Assert.Throws<ArgumentException>(() => new BytePairEncoding(doubling)).Message);
    }

    [Fact]
    public void PiecesShowTextControlsAndInvalidBytes()
    {
        var the = English.Encode(" the");
        Assert.Single(the);
        Assert.Equal(" the", English.PieceOf(the[0]));
        Assert.Equal("a", English.PieceOf('a'));
        Assert.Equal("\\u000A", English.PieceOf('\n'));
        Assert.Equal("\\u0000", English.PieceOf(0));
        Assert.Equal("\\xE2", English.PieceOf(0xE2));
        var bytes = new BytePairEncoding([new(0xC3, 0xA9), new('x', 0xE2), new(257, 0x82)]);
        Assert.Equal("é", bytes.PieceOf(256));
        Assert.Equal("x\\xE2", bytes.PieceOf(257));
        Assert.Equal("x\\xE2\\x82", bytes.PieceOf(258));
        Assert.Equal([(byte)'x', (byte)0xE2, (byte)0x82], bytes.BytesOf(258).ToArray());
    }

    [Fact]
    public void LongRunsEncodeAndDecode()
    {
        foreach (string text in new[] { new string('a', 100_000), new string('7', 100_000), new string(' ', 100_000) + "x", string.Concat(Enumerable.Repeat("ab", 50_000)) })
            Assert.Equal(text, English.Decode(English.Encode(text)));
    }

    [Fact]
    public void ThreadsEncodingAtOnceGetWhatOneThreadGets()
    {
        var rng = new Random(6);
        var texts = Enumerable.Range(0, 64).Select(i => i % 2 == 0 ? TextSamples.Prose(rng, 400) : TextSamples.AnyScalars(rng, 300)).ToArray();
        var expected = texts.Select(English.Encode).ToArray();
        var actual = new int[texts.Length][];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => actual[i] = English.Encode(texts[i]));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void LearningRefusesTextsWhoseDistinctChunksTakeTooMuchMemory()
    {
        // "ab", " ac", " ad" take 8 bytes; repeats of a chunk are counted, never stored again.
        var (chunks, counts) = BytePairLearner.CountChunks(["ab ac ad ac ad"], default, maxDistinctBytes: 8);
        Assert.Equal(8, chunks.KeyBytes);
        Assert.Equal([1, 2, 2], counts.Take(chunks.Count));
        var ex = Assert.Throws<CorpusException>(() => BytePairLearner.CountChunks(["ab ac", " ad"], default, maxDistinctBytes: 7));
        Assert.Contains("more than 7 bytes together", ex.Message);
        Assert.Contains("Learn the tokenizer on a part of the text", ex.Message);
    }
}
