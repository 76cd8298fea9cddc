using System.Globalization;
using System.Text;

namespace MicroGpt;

/// <summary>
/// Cuts text into the chunks that byte-pair merges stay within, as GPT-2's pattern does:
/// <code>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</code>
/// written out by hand over code points, so that it does not depend on a regex engine's view of
/// Unicode (.NET's Regex classifies UTF-16 units, and sees every character outside the Basic
/// Multilingual Plane as two surrogates). At each position the first rule that matches wins:
/// <list type="number">
/// <item>a contraction: an apostrophe (U+0027) and s, t, re, ve, m, ll or d (lower case, as GPT-2);</item>
/// <item>an optional space (U+0020), then a run of letters, or of digits, or of other characters;</item>
/// <item>a run of white space that is not followed by anything else, or followed by something else
/// once its last character is left out (which then joins the word after it, or stands alone);</item>
/// <item>a single white-space character.</item>
/// </list>
/// Classes, by a code point's Unicode category: letters are L* and also M* (combining marks stay
/// with their letter, as in o200k's pattern; GPT-2 cut them off), digits are N*, white space is
/// the White_Space property (<see cref="Rune.IsWhiteSpace"/>), and everything else (punctuation,
/// symbols, emoji, controls, unassigned code points) is "other". A lone surrogate is "other", as the
/// U+FFFD it is encoded as. A chunk longer than <see cref="MaxChunkRunes"/> code points is cut into
/// pieces of that many (the last one shorter), which bounds the work and memory that one chunk costs
/// on hostile input (a megabyte of digits or spaces is otherwise one chunk).
/// </summary>
public static class PreSplitter
{
    /// <summary>The most code points a chunk holds (at most 256 UTF-8 bytes).</summary>
    public const int MaxChunkRunes = 64;

    /// <summary>The most UTF-8 bytes a chunk holds: four per code point (a lone surrogate becomes the three bytes of U+FFFD).</summary>
    public const int MaxChunkBytes = 4 * MaxChunkRunes;

    internal enum CharClass : byte { Letter, Digit, Space, Other }

    // The classes of the ASCII characters, so that the common case costs one load.
    static readonly CharClass[] AsciiClasses = BuildAsciiClasses();

    /// <summary>The chunks of a text, in order; they concatenate to the text.</summary>
    public static IEnumerable<string> Split(string text)
    {
        var cursor = new ChunkCursor();
        while (cursor.Next(text, out int start, out int end)) yield return text[start..end];
    }

    /// <summary>
    /// Walks the chunks of a text, holding only positions, so that the trainer and the encoder
    /// cut text without allocating.
    /// </summary>
    internal struct ChunkCursor
    {
        int position;
        int matchEnd; // where the chunk found by the rules ends; slices of at most MaxChunkRunes are taken from it

        /// <summary>The next chunk's start and end (exclusive) in UTF-16 units; false at the end of the text.</summary>
        public bool Next(ReadOnlySpan<char> text, out int start, out int end)
        {
            start = position;
            if (position >= text.Length)
            {
                end = position;
                return false;
            }
            if (position >= matchEnd) matchEnd = MatchEnd(text, position);
            end = matchEnd - position <= MaxChunkRunes ? matchEnd : AdvanceRunes(text, position, matchEnd, MaxChunkRunes);
            position = end;
            return true;
        }
    }

    /// <summary>The end of the rule that matches at <paramref name="start"/> (before the length cap).</summary>
    internal static int MatchEnd(ReadOnlySpan<char> text, int start)
    {
        char first = text[start];
        if (first == '\'' && ContractionLength(text, start + 1) is > 0 and var suffix) return start + 1 + suffix;

        var cls = Classify(text, start, out int width);
        int runStart = start;
        if (first == ' ' && start + 1 < text.Length)
        {
            var next = Classify(text, start + 1, out int nextWidth);
            if (next != CharClass.Space)
            {
                cls = next;
                width = nextWidth;
                runStart = start + 1;
            }
        }
        if (cls != CharClass.Space) return RunEnd(text, runStart + width, cls);

        int spaceEnd = RunEnd(text, start + width, CharClass.Space);
        // "\s+(?!\S)": a run that something else follows gives up its last character (every
        // white-space code point is one UTF-16 unit), unless that leaves nothing, when "\s+" takes it.
        return spaceEnd == text.Length || spaceEnd - start == 1 ? spaceEnd : spaceEnd - 1;
    }

    /// <summary>The length of the contraction suffix after an apostrophe at <paramref name="at"/>, or 0.</summary>
    static int ContractionLength(ReadOnlySpan<char> text, int at)
    {
        if (at >= text.Length) return 0;
        char c = text[at];
        if (c is 's' or 't' or 'm' or 'd') return 1;
        if (at + 1 >= text.Length) return 0;
        char d = text[at + 1];
        return (c, d) is ('r', 'e') or ('v', 'e') or ('l', 'l') ? 2 : 0;
    }

    /// <summary>The end of the run of <paramref name="cls"/> that goes on at <paramref name="at"/>.</summary>
    static int RunEnd(ReadOnlySpan<char> text, int at, CharClass cls)
    {
        while (at < text.Length && Classify(text, at, out int width) == cls) at += width;
        return at;
    }

    /// <summary>The position <paramref name="count"/> code points after <paramref name="at"/> (a surrogate pair is one), within <paramref name="end"/>.</summary>
    static int AdvanceRunes(ReadOnlySpan<char> text, int at, int end, int count)
    {
        for (int n = 0; n < count && at < end; n++)
            at += char.IsHighSurrogate(text[at]) && at + 1 < end && char.IsLowSurrogate(text[at + 1]) ? 2 : 1;
        return at;
    }

    /// <summary>The class of the code point at <paramref name="at"/>, and how many UTF-16 units it takes.</summary>
    internal static CharClass Classify(ReadOnlySpan<char> text, int at, out int width)
    {
        char c = text[at];
        if (c < 128)
        {
            width = 1;
            return AsciiClasses[c];
        }
        // A lone surrogate decodes as U+FFFD (a symbol, so "other") and takes one unit.
        Rune.DecodeFromUtf16(text[at..], out var rune, out width);
        return ClassOf(rune);
    }

    internal static CharClass ClassOf(Rune rune)
    {
        if (Rune.IsWhiteSpace(rune)) return CharClass.Space;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Digit,
            _ => CharClass.Other,
        };
    }

    static CharClass[] BuildAsciiClasses()
    {
        var classes = new CharClass[128];
        for (int c = 0; c < 128; c++) classes[c] = ClassOf(new Rune(c));
        return classes;
    }
}
