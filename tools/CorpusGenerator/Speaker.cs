// Turns the templates into finished lines: retries until a sentence fits (2 to 8 words), mixes
// statements with questions, and, for the coverage pass, says something with a given word in it.
namespace MicroGpt.CorpusGenerator;

public sealed class Speaker(Grammar grammar)
{
    public const int MinWords = 2;
    public const int MaxWords = 8;

    // Enough tries for the rarest word the grammar can say; a word still missing after this many
    // is one no template can reach, which is a bug in the lexicon, not bad luck.
    const int FocusAttempts = 20_000;

    readonly StatementTemplates statements = new(grammar);
    readonly QuestionTemplates questions = new(grammar);

    public string Statement() => Retry(statements.Next);

    public string Question() => Retry(questions.Next);

    public string Sentence(double questionShare) => grammar.Chance(questionShare) ? Question() : Statement();

    /// <summary>A sentence (statement or question) that uses the word, or null if none of many attempts did.</summary>
    public string? SentenceWith(string word, double questionShare)
    {
        grammar.Focus = word;
        try
        {
            for (int attempt = 0; attempt < FocusAttempts; attempt++)
            {
                List<string>? words = grammar.Chance(questionShare) ? questions.Next() : statements.Next();
                if (words is not null && Fits(words) && words.Contains(word)) return string.Join(' ', words);
            }
            return null;
        }
        finally
        {
            grammar.Focus = null;
        }
    }

    static string Retry(Func<List<string>?> next)
    {
        while (true)
        {
            List<string>? words = next();
            if (words is not null && Fits(words)) return string.Join(' ', words);
        }
    }

    static bool Fits(List<string> words) => words.Count is >= MinWords and <= MaxWords;
}
