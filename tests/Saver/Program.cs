// Saves a model to one file of the folder given, again and again, until it is killed; after each
// save it prints the file's name and the save's number. Save n writes the model that
// KillTarget.Mark(model, n) makes, which the test can rebuild, so that after a kill it can tell
// which save the file holds, and that it holds all of it.
using MicroGpt;

string folder = args[0], file = args[2];
long save = long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
bool withOptimizer = KillTarget.Files.Single(f => f.File == file).WithOptimizer;
var model = KillTarget.BaseModel();
var stdout = Console.Out;
for (; ; save++)
{
    KillTarget.Mark(model, save);
    ModelFile.Save(model, Path.Combine(folder, file), withOptimizer);
    stdout.WriteLine($"{file} {save}");
    stdout.Flush();
}
