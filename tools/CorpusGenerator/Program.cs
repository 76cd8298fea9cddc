// Writes the committed corpora from their fixed seeds:
//     dotnet run --project tools/CorpusGenerator [-- <output folder>]
// The default folder is module/data under the repository root (the folder holding global.json).
// Each file is UTF-8 without a byte order mark, one line per entry, "\n" line endings and a final "\n".
using MicroGpt.CorpusGenerator;

string folder = args.Length > 0 ? args[0] : Path.Combine(CorpusFiles.RepoRoot(Environment.CurrentDirectory), "module", "data");
Directory.CreateDirectory(folder);
CorpusFiles.Write(Path.Combine(folder, CorpusFiles.SentencesFile), Sentences.Generate());
CorpusFiles.Write(Path.Combine(folder, CorpusFiles.QuestionsFile), Questions.Generate());
CorpusFiles.Write(Path.Combine(folder, CorpusFiles.NamesFile), Names.Generate());
