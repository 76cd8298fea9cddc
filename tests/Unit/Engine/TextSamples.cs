using System.Text;

namespace MicroGpt.Tests.Engine;

/// <summary>Seeded random texts for the tokenizer tests.</summary>
static class TextSamples
{
    /// <summary>
    /// Characters that exercise every rule of the pre-split: ASCII of each class, the contraction
    /// letters, white space of several kinds, NUL and controls, accented and combining letters,
    /// other scripts, digits of other scripts, symbols, emoji and joiners. All in the Basic
    /// Multilingual Plane except the emoji (which are "other" for both splitters).
    /// </summary>
    static readonly string[] Pool =
    [
        "a", "b", "e", "s", "t", "r", "v", "l", "m", "d", "A", "Z", "0", "7", "'", "'", " ", " ", " ", " ",
        ".", ",", "!", "?", "-", "\"", "(", "\\", "\n", "\n", "\t", "\r", "\u00a0", "\u3000", "\u2028", "\u0085",
        "\0", "\u0001", "\u001f", "\u007f", "\u0080", "é", "ß", "Ω", "ж", "\u0301", "\u0308", "\u0903", "\u20dd",
        "你", "好", "の", "한", "ع", "\u0660", "\u00bd", "\u2167", "€", "©", "\u200d", "\ufeff", "😀", "👍", "🏽", "\ufffd",
    ];

    /// <summary><paramref name="count"/> pieces from the pool, uniformly.</summary>
    public static string Mixed(Random rng, int count)
    {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++) text.Append(Pool[rng.Next(Pool.Length)]);
        return text.ToString();
    }

    /// <summary><paramref name="count"/> Unicode scalar values drawn from all planes (no surrogates), many unassigned.</summary>
    public static string AnyScalars(Random rng, int count)
    {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            int value = rng.Next(4) switch
            {
                0 => rng.Next(0x80),
                1 => rng.Next(0x80, 0x800),
                2 => rng.Next(0x800, 0x10000),
                _ => rng.Next(0x10000, 0x110000),
            };
            if (value is >= 0xD800 and <= 0xDFFF) value -= 0x1000;
            text.Append(new Rune(value).ToString());
        }
        return text.ToString();
    }

    static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "was", "on", "are", "as", "with", "his", "they",
        "at", "be", "this", "from", "have", "or", "by", "one", "had", "not", "but", "what", "all", "were", "when", "we",
        "there", "can", "an", "your", "which", "their", "said", "if", "do", "will", "each", "about", "how", "up", "out",
        "them", "then", "she", "many", "some", "so", "these", "would", "other", "into", "has", "more", "her", "two",
        "like", "him", "see", "time", "could", "no", "make", "than", "first", "been", "its", "who", "now", "people",
        "café", "naïve", "straße", "東京", "données", "привет", "tokenizer", "banana", "aaaa", "mississippi",
    ];

    /// <summary>English-like prose: capitals, commas, full stops, contractions, numbers, a few non-ASCII words, newlines.</summary>
    public static string Prose(Random rng, int words)
    {
        var text = new StringBuilder();
        bool sentenceStart = true;
        for (int i = 0; i < words; i++)
        {
            // Zipf-like: small indices far more often.
            string word = Words[(int)(Words.Length * Math.Pow(rng.NextDouble(), 2.5))];
            if (rng.Next(25) == 0) word = rng.Next(2020).ToString();
            if (sentenceStart) word = char.ToUpperInvariant(word[0]) + word[1..];
            text.Append(word);
            if (rng.Next(30) == 0) text.Append(rng.Next(2) == 0 ? "'s" : "n't");
            sentenceStart = false;
            switch (rng.Next(16))
            {
                case 0: text.Append(". "); sentenceStart = true; break;
                case 1: text.Append(", "); break;
                case 2: text.Append(rng.Next(3) == 0 ? "?\n\n" : ".\n"); sentenceStart = true; break;
                case 3: text.Append("  "); break;
                default: text.Append(' '); break;
            }
        }
        return text.ToString();
    }

    /// <summary>The text with about one UTF-16 unit in 20 replaced by a surrogate (mostly lone ones; some cut a pair in half).</summary>
    public static string WithLoneSurrogates(string text, Random rng)
    {
        var units = text.ToCharArray();
        for (int i = 0; i < units.Length; i++)
            if (rng.Next(20) == 0) units[i] = (char)rng.Next(0xD800, 0xE000);
        return new string(units);
    }
}
