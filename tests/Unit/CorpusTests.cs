// The committed corpora in module/data: each file is exactly what its generator writes today
// (so no one edits them by hand or forgets to regenerate), and each keeps the shape it promises.
// The shape checks read the committed files and use their own rules, not the generator's.
using System.Text;
using System.Text.RegularExpressions;
using MicroGpt.CorpusGenerator;

namespace MicroGpt.Tests;

public class CorpusTests
{
    const string Regenerate = "regenerate with: dotnet run --project tools/CorpusGenerator";

    static readonly Regex SentenceLine = new("^[a-z]+( [a-z]+){1,7}$");
    static readonly Regex NameLine = new("^[a-z]{3,10}$");

    static string DataFolder => Path.Combine(RepoRoot(), "module", "data");

    [Fact]
    public void SentencesFileIsWhatTheGeneratorWrites() => CheckCommitted("sentences.txt", Sentences.Generate());

    [Fact]
    public void QuestionsFileIsWhatTheGeneratorWrites() => CheckCommitted("questions.txt", Questions.Generate());

    [Fact]
    public void NamesFileIsWhatTheGeneratorWrites() => CheckCommitted("names.txt", Names.Generate());

    [Fact]
    public void SentencesAreThirtyThousandShortLowerCaseLines()
    {
        string[] lines = ReadLines("sentences.txt");

        Assert.Equal(30_000, lines.Length);
        Assert.All(lines, line => Assert.Matches(SentenceLine, line));
    }

    [Fact]
    public void SentenceVocabularyIsFiveToSevenHundredWordsEachUsedFiveTimes()
    {
        Dictionary<string, int> uses = WordCounts(ReadLines("sentences.txt"));

        Assert.InRange(uses.Count, 500, 700);
        Assert.Empty(uses.Where(u => u.Value < 5).Select(u => $"{u.Key} ({u.Value})"));
    }

    [Fact]
    public void SentencesAreMostlyUnique()
    {
        string[] lines = ReadLines("sentences.txt");

        Assert.True(lines.Distinct().Count() >= 0.7 * lines.Length, "fewer than 70% of the sentences are unique");
    }

    [Fact]
    public void QuestionsAreDistinctShortLinesInTheSentenceVocabulary()
    {
        string[] questions = ReadLines("questions.txt");
        HashSet<string> vocabulary = [.. WordCounts(ReadLines("sentences.txt")).Keys];

        Assert.InRange(questions.Length, 1_000, 2_000);
        Assert.Equal(questions.Length, questions.Distinct().Count());
        Assert.All(questions, line => Assert.Matches(SentenceLine, line));
        Assert.Empty(questions.SelectMany(q => q.Split(' ')).Where(w => !vocabulary.Contains(w)).Distinct());
        Assert.Empty(questions.Intersect(ReadLines("sentences.txt"))); // held out from the sentence corpus
    }

    [Fact]
    public void NamesAreThreeToFiveThousandDistinctWordsOfThreeToTenLetters()
    {
        string[] names = ReadLines("names.txt");

        Assert.InRange(names.Length, 3_000, 5_000);
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.All(names, name => Assert.Matches(NameLine, name));
    }

    /// <summary>
    /// The committed corpora, pinned by SHA-256: the golden losses (TutorialParityTests), the figures
    /// in README and bench/RESULTS.md, and every seed-based test were measured on exactly these bytes.
    /// A change here must be deliberate: regenerate, re-measure, then update the hashes.
    /// </summary>
    [Theory]
    [InlineData("sentences.txt", "7b87e650d722c5e7913cc1b620c0240f16fb375ca4061554c87581ba94a1f0ec")]
    [InlineData("questions.txt", "510d9be5da892a7dfbcea338379658071c832cfd1ce1bd912343205c69a8195f")]
    [InlineData("names.txt", "ef00ae252719f9a6ff02270e6205870c1a706757b32a4d8f09e749f0d09a4ba4")]
    public void CommittedCorpusHasItsPinnedHash(string file, string sha256)
    {
        byte[] committed = File.ReadAllBytes(Path.Combine(DataFolder, file));
        Assert.Equal(sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(committed)));
    }

    // Built here rather than by the generator's own writer, so that a change to the file format is caught too:
    // UTF-8 without a byte order mark, every line ended by "\n".
    static void CheckCommitted(string file, IReadOnlyList<string> generated)
    {
        byte[] expected = Encoding.UTF8.GetBytes(string.Concat(generated.Select(line => line + "\n")));
        byte[] committed = File.ReadAllBytes(Path.Combine(DataFolder, file));
        Assert.True(expected.AsSpan().SequenceEqual(committed), $"module/data/{file} differs from the generator's output; {Regenerate}");
    }

    static string[] ReadLines(string file)
    {
        string text = File.ReadAllText(Path.Combine(DataFolder, file));
        Assert.EndsWith("\n", text);
        return text[..^1].Split('\n');
    }

    static Dictionary<string, int> WordCounts(IEnumerable<string> lines) =>
        lines.SelectMany(line => line.Split(' ')).GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());

    static string RepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("No folder above the test binaries holds global.json.");
    }
}
