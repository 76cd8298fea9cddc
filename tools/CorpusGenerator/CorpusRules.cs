// The format every corpus line keeps (lower-case a-z words, single spaces) and the counts the
// generators check before they return, so that a bad corpus fails loudly instead of being written.
namespace MicroGpt.CorpusGenerator;

public static class CorpusRules
{
    public static string[] Words(string line) => line.Split(' ');

    public static Dictionary<string, int> WordCounts(IEnumerable<string> lines)
    {
        Dictionary<string, int> counts = new(StringComparer.Ordinal);
        foreach (string line in lines)
        {
            foreach (string word in Words(line)) counts[word] = counts.GetValueOrDefault(word) + 1;
        }
        return counts;
    }

    /// <summary>Throws unless every line is minWords..maxWords words of a-z separated by single spaces.</summary>
    public static void RequireWellFormed(IReadOnlyList<string> lines, int minWords, int maxWords)
    {
        for (int i = 0; i < lines.Count; i++)
        {
            string[] words = Words(lines[i]);
            if (words.Length < minWords || words.Length > maxWords)
                throw new InvalidOperationException($"Line {i + 1} '{lines[i]}' has {words.Length} words, not {minWords} to {maxWords}.");
            if (words.Any(w => w.Length == 0 || w.Any(c => c is < 'a' or > 'z')))
                throw new InvalidOperationException($"Line {i + 1} '{lines[i]}' is not lower-case a-z words separated by single spaces.");
        }
    }

    public static void Require(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
