using System.Text;
using System.Text.RegularExpressions;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// The algorithmic reference for <see cref="BytePairEncoding"/>, written from the rules and not
/// from the engine's code: chunks by .NET's Regex with GPT-2's pattern (marks counted as letters,
/// long chunks cut every 64 code points), and minbpe's naive loops over every chunk of the text,
/// none deduplicated: count every pair, merge the best one everywhere, count again.
/// </summary>
static class NaiveBytePairEncoding
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?!\S)|\s+";
    public const int ChunkRunes = 64;

    /// <summary>
    /// The chunks of a text as the regex cuts them. .NET's Regex sees UTF-16 units, so a letter or
    /// digit outside the Basic Multilingual Plane counts as "other" here: use it on text without them.
    /// </summary>
    public static List<string> Split(string text)
    {
        var chunks = new List<string>();
        foreach (Match match in Regex.Matches(text, Gpt2Pattern))
        {
            var runes = match.Value.EnumerateRunes().ToList();
            for (int i = 0; i < runes.Count; i += ChunkRunes)
                chunks.Add(string.Concat(runes.Skip(i).Take(ChunkRunes).Select(r => r.ToString())));
        }
        return chunks;
    }

    /// <summary>minbpe's training loop; ties go to the smallest left id, then right id.</summary>
    public static List<(int Left, int Right)> Train(string text, int merges)
    {
        var chunks = Split(text).Select(c => Encoding.UTF8.GetBytes(c).Select(b => (int)b).ToList()).ToList();
        var learned = new List<(int, int)>();
        for (int k = 0; k < merges; k++)
        {
            var stats = new Dictionary<(int, int), long>();
            foreach (var ids in chunks)
                for (int i = 0; i + 1 < ids.Count; i++)
                    stats[(ids[i], ids[i + 1])] = stats.GetValueOrDefault((ids[i], ids[i + 1])) + 1;
            if (stats.Count == 0) break;
            var best = stats.OrderByDescending(s => s.Value).ThenBy(s => s.Key.Item1).ThenBy(s => s.Key.Item2).First().Key;
            foreach (var ids in chunks) Merge(ids, best, 256 + k);
            learned.Add(best);
        }
        return learned;
    }

    /// <summary>minbpe's encode: per chunk, merge the pair with the lowest merge index everywhere, until none has one.</summary>
    public static List<int> Encode(string text, List<(int Left, int Right)> merges)
    {
        var rank = merges.Select((m, k) => (m, k)).ToDictionary(x => x.m, x => x.k);
        var tokens = new List<int>();
        foreach (string chunk in Split(text))
        {
            var ids = Encoding.UTF8.GetBytes(chunk).Select(b => (int)b).ToList();
            while (ids.Count >= 2)
            {
                var pairs = Enumerable.Range(0, ids.Count - 1).Select(i => (ids[i], ids[i + 1]));
                var pair = pairs.MinBy(p => rank.GetValueOrDefault(p, int.MaxValue));
                if (!rank.TryGetValue(pair, out int k)) break;
                Merge(ids, pair, 256 + k);
            }
            tokens.AddRange(ids);
        }
        return tokens;
    }

    /// <summary>The bytes of every token, joined, read as UTF-8 (with replacement).</summary>
    public static string Decode(IEnumerable<int> tokens, List<(int Left, int Right)> merges)
    {
        var vocabulary = Enumerable.Range(0, 256).Select(b => new[] { (byte)b }).ToList();
        foreach (var (left, right) in merges) vocabulary.Add([.. vocabulary[left], .. vocabulary[right]]);
        return Encoding.UTF8.GetString(tokens.SelectMany(t => vocabulary[t]).ToArray());
    }

    /// <summary>minbpe's merge: every occurrence of the pair, scanning from left to right.</summary>
    static void Merge(List<int> ids, (int Left, int Right) pair, int token)
    {
        var merged = new List<int>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            if (i + 1 < ids.Count && ids[i] == pair.Left && ids[i + 1] == pair.Right)
            {
                merged.Add(token);
                i++;
            }
            else merged.Add(ids[i]);
        }
        ids.Clear();
        ids.AddRange(merged);
    }
}
