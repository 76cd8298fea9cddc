// The default training corpus (module/data/sentences.txt): exactly 30,000 grade-1 sentences of
// 2 to 8 words, mostly statements with some questions, over a vocabulary of 500 to 700 words in
// which every word is used at least five times, so the model sees each word often enough to learn it.
// The lexicon is sized to give 596 words, as the tutorial's corpus had, so that the default model
// has its 597-token vocabulary (596 words and BOS) and its 63,296 parameters.
namespace MicroGpt.CorpusGenerator;

public static class Sentences
{
    public const int Count = 30_000;
    public const int MinUses = 5;
    public const int MinVocabulary = 500;
    public const int MaxVocabulary = 700;

    const int Seed = 20_260_106;
    const double QuestionShare = 0.07;

    public static IReadOnlyList<string> Generate()
    {
        Grammar grammar = new(Seed);
        Speaker speaker = new(grammar);
        List<string> lines = [];
        while (lines.Count < Count) lines.Add(speaker.Sentence(QuestionShare));
        Cover(lines, grammar, speaker);

        CorpusRules.RequireWellFormed(lines, Speaker.MinWords, Speaker.MaxWords);
        CorpusRules.Require(lines.Count == Count, $"The corpus has {lines.Count} lines, not {Count}.");
        Dictionary<string, int> uses = CorpusRules.WordCounts(lines);
        CorpusRules.Require(uses.Count is >= MinVocabulary and <= MaxVocabulary,
            $"The vocabulary has {uses.Count} words, not {MinVocabulary} to {MaxVocabulary}.");
        string[] rare = [.. uses.Where(u => u.Value < MinUses).Select(u => u.Key)];
        CorpusRules.Require(rare.Length == 0, $"These words are used fewer than {MinUses} times: {string.Join(", ", rare)}.");
        return lines;
    }

    /// <summary>
    /// Gives every lexicon word, and every word already used, at least MinUses uses: for each short
    /// word a sentence that says it replaces a sentence whose words can all spare a use. The count
    /// of lines never changes, and a replaced sentence is never one placed here before.
    /// </summary>
    static void Cover(List<string> lines, Grammar grammar, Speaker speaker)
    {
        Dictionary<string, int> uses = CorpusRules.WordCounts(lines);
        HashSet<int> placed = [];
        string[] words = [.. Lexicon.Words.Union(uses.Keys).Order(StringComparer.Ordinal)];
        foreach (string word in words)
        {
            while (uses.GetValueOrDefault(word) < MinUses)
            {
                string line = speaker.SentenceWith(word, QuestionShare)
                    ?? throw new InvalidOperationException($"No sentence the grammar can make uses the lexicon word '{word}'.");
                int victim = Spare(lines, uses, placed, grammar.Index(lines.Count));
                foreach (string old in CorpusRules.Words(lines[victim])) uses[old]--;
                foreach (string added in CorpusRules.Words(line)) uses[added] = uses.GetValueOrDefault(added) + 1;
                lines[victim] = line;
                placed.Add(victim);
            }
        }
    }

    // The first line from start on (wrapping) that can go without taking any word below MinUses.
    static int Spare(List<string> lines, Dictionary<string, int> uses, HashSet<int> placed, int start)
    {
        for (int k = 0; k < lines.Count; k++)
        {
            int i = (start + k) % lines.Count;
            if (placed.Contains(i)) continue;
            bool canGo = CorpusRules.Words(lines[i]).CountBy(w => w).All(w => uses[w.Key] - w.Value >= MinUses);
            if (canGo) return i;
        }
        throw new InvalidOperationException("No sentence can be replaced without leaving a word too rare.");
    }
}
