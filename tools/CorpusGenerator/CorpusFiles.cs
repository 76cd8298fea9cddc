// Where the corpora live and the exact bytes they are written as, shared by the generator and the
// test that compares a fresh generation with the committed files.
using System.Text;

namespace MicroGpt.CorpusGenerator;

public static class CorpusFiles
{
    public const string SentencesFile = "sentences.txt";
    public const string QuestionsFile = "questions.txt";
    public const string NamesFile = "names.txt";

    /// <summary>The file's bytes: UTF-8 without a byte order mark, each line ended by "\n".</summary>
    public static byte[] Format(IEnumerable<string> lines) =>
        new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(string.Concat(lines.Select(line => line + "\n")));

    public static void Write(string path, IReadOnlyList<string> lines)
    {
        File.WriteAllBytes(path, Format(lines));
        Console.WriteLine($"{path}: {lines.Count} lines");
    }

    /// <summary>The repository root: the nearest folder at or above start that holds global.json.</summary>
    public static string RepoRoot(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "global.json"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No folder at or above '{start}' holds global.json.");
    }
}
