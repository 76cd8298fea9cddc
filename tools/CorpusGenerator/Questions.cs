// The fine-tuning example's questions (module/data/questions.txt): 1,500 distinct grade-1
// questions. A word model fine-tuned on them cannot learn a new word, so every word must already
// be in the sentence corpus's vocabulary; Generate checks that before it returns. None of them is
// a line of the sentence corpus, so that they are held out from a model trained on it.
namespace MicroGpt.CorpusGenerator;

public static class Questions
{
    public const int Count = 1_500;

    const int Seed = 20_260_107;

    public static IReadOnlyList<string> Generate()
    {
        var sentences = Sentences.Generate();
        Speaker speaker = new(new Grammar(Seed));
        HashSet<string> seen = [.. sentences];
        List<string> lines = [];
        while (lines.Count < Count)
        {
            string question = speaker.Question();
            if (seen.Add(question)) lines.Add(question);
        }

        CorpusRules.RequireWellFormed(lines, Speaker.MinWords, Speaker.MaxWords);
        HashSet<string> vocabulary = [.. CorpusRules.WordCounts(sentences).Keys];
        string[] unknown = [.. lines.SelectMany(CorpusRules.Words).Where(w => !vocabulary.Contains(w)).Distinct()];
        CorpusRules.Require(unknown.Length == 0, $"These question words are not in sentences.txt: {string.Join(", ", unknown)}.");
        return lines;
    }
}
