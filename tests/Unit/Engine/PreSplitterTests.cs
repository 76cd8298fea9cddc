using System.Text;
using System.Text.RegularExpressions;
using MicroGpt;
using static MicroGpt.PreSplitter;

namespace MicroGpt.Tests.Engine;

public class PreSplitterTests
{
    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("Hello, world!", new[] { "Hello", ",", " world", "!" })]
    [InlineData("don't we'll I'm you're they've he'd it's", new[] { "don", "'t", " we", "'ll", " I", "'m", " you", "'re", " they", "'ve", " he", "'d", " it", "'s" })]
    [InlineData("IT'S 'sa", new[] { "IT", "'", "S", " '", "sa" })] // contractions are lower case only; one opens a chunk only at its start
    [InlineData("x = 3.14159;", new[] { "x", " =", " 3", ".", "14159", ";" })]
    [InlineData("abc123def", new[] { "abc", "123", "def" })]
    [InlineData("a  b", new[] { "a", " ", " b" })] // a run of spaces leaves its last one to the word after it
    [InlineData("a   \n\n  b", new[] { "a", "   \n\n ", " b" })]
    [InlineData("a\n\nb", new[] { "a", "\n", "\n", "b" })] // GPT-2's quirk: "\s+(?!\S)" then "\s+"
    [InlineData("a\tb", new[] { "a", "\t", "b" })]
    [InlineData("end.  ", new[] { "end", ".", "  " })] // white space at the end stays whole
    [InlineData(" ", new[] { " " })]
    [InlineData("", new string[0])]
    [InlineData("...!?", new[] { "...!?" })]
    [InlineData(" $$ 100", new[] { " $$", " 100" })]
    [InlineData("e\u0301te\u0301", new[] { "e\u0301te\u0301" })] // combining marks stay with their letters
    [InlineData("你好，世界", new[] { "你好", "，", "世界" })]
    [InlineData(" 😀😀 ok👍🏽", new[] { " 😀😀", " ok", "👍🏽" })]
    [InlineData("x\0y\u0001", new[] { "x", "\0", "y", "\u0001" })]
    [InlineData("a\u00a0b", new[] { "a", "\u00a0", "b" })] // a no-break space is white space, but only U+0020 joins a word
    [InlineData("Ⅷ½٠", new[] { "Ⅷ½٠" })] // letter numbers, fractions and Arabic-Indic digits are digits
    public void ChunksArePinnedOnExamples(string text, string[] expected) => Assert.Equal(expected, Split(text));

    [Fact]
    public void LettersAndDigitsOutsideTheBasicPlaneAreLettersAndDigits()
    {
        // U+1D400 MATHEMATICAL BOLD CAPITAL A (Lu), U+20000 a CJK ideograph (Lo), U+1D7CF MATHEMATICAL BOLD DIGIT ONE (Nd).
        Assert.Equal([" 𝐀𝐀𠀀", "𝟏𝟏", "!"], Split(" 𝐀𝐀𠀀𝟏𝟏!"));
    }

    [Fact]
    public void LoneSurrogatesAreOtherCharactersOfOneUnit()
    {
        Assert.Equal(["a", "\ud83d\ude00\ud800", "b", " \udfff"], Split("a\ud83d\ude00\ud800b \udfff")); // an emoji's pair, then a lone one
        Assert.Equal(["x", "\ud83d", " y"], Split("x\ud83d y")); // a high surrogate cut off at a chunk's end
        Assert.Equal(["\ud83d"], Split("\ud83d"));
    }

    [Fact]
    public void LongRunsAreCutEvery64CodePoints()
    {
        Assert.Equal([new string('a', 64), new string('a', 36)], Split(new string('a', 100)));
        Assert.Equal([" " + new string('7', 63), new string('7', 64), "7"], Split(" " + new string('7', 128)));
        // 100 spaces before a word: 99 in the white-space run, cut 64 + 35, and the last joins the word.
        Assert.Equal([new string(' ', 64), new string(' ', 35), " x"], Split(new string(' ', 100) + "x"));
        // Code points, not UTF-16 units: 70 emoji are 64 and 6, and a pair is never cut.
        string emoji = string.Concat(Enumerable.Repeat("😀", 70));
        Assert.Equal([emoji[..128], emoji[128..]], Split(emoji));
        // A cut piece is not matched again: the apostrophe after 64 others stays apart from the "s".
        Assert.Equal([new string('.', 64), "'", "s"], Split(new string('.', 64) + "'s"));
    }

    [Fact]
    public void ChunksAlwaysJoinToTheText()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            string text = trial % 2 == 0 ? TextSamples.Mixed(rng, rng.Next(0, 300)) : TextSamples.AnyScalars(rng, rng.Next(0, 300));
            if (trial % 3 == 0) text = TextSamples.WithLoneSurrogates(text, rng);
            var chunks = Split(text).ToList();
            Assert.Equal(text, string.Concat(chunks));
            Assert.All(chunks, c => Assert.InRange(c.EnumerateRunes().Count(), 1, MaxChunkRunes));
        }
    }

    [Fact]
    public void ChunksEqualGpt2sRegexWithMarksAsLetters()
    {
        // Seeded random text over characters of every class (none a letter or digit outside the
        // Basic Multilingual Plane, which .NET's Regex cannot classify), with runs long enough to be cut.
        var rng = new Random(5);
        for (int trial = 0; trial < 500; trial++)
        {
            string text = trial % 10 == 0 ? TextSamples.Mixed(rng, 50) + new string(rng.Next(2) == 0 ? ' ' : 'x', rng.Next(60, 200)) + TextSamples.Mixed(rng, 50)
                : TextSamples.Mixed(rng, rng.Next(0, 400));
            Assert.Equal(NaiveBytePairEncoding.Split(text), Split(text));
        }
    }

    [Fact]
    public void ClassesEqualTheRegexClassesForEveryCharacterOfTheBasicPlane()
    {
        var letter = new Regex(@"\A[\p{L}\p{M}]\z");
        var digit = new Regex(@"\A\p{N}\z");
        var space = new Regex(@"\A\s\z");
        for (int c = 0; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            string s = ((char)c).ToString();
            var expected = letter.IsMatch(s) ? CharClass.Letter : digit.IsMatch(s) ? CharClass.Digit : space.IsMatch(s) ? CharClass.Space : CharClass.Other;
            Assert.True(expected == Classify(s, 0, out int width), $"U+{c:X4}: {Classify(s, 0, out _)}, the regex says {expected}");
            Assert.Equal(1, width);
        }
    }
}
