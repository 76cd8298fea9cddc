using System.Globalization;
using System.Reflection;
using System.Text;

namespace MicroGpt.Commands;

/// <summary>
/// The CSV file of Invoke-Training -LogPath: the TrainingStep columns in the invariant culture,
/// quoted as Export-Csv quotes them, one line per row, flushed as soon as it is written, so a
/// killed run keeps every finished step. A resumed run appends to the log of the run it resumes,
/// after dropping the rows of steps its checkpoint does not hold (a run killed between two
/// checkpoints logged steps that the resumed run takes again).
/// </summary>
sealed class TrainingLog : IDisposable
{
    /// <summary>TrainingStep's properties in the order they are declared, which is the order PowerShell (Export-Csv) shows them in.</summary>
    static readonly PropertyInfo[] Columns = typeof(TrainingStep).GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken).ToArray();
    static readonly string Header = string.Join(",", Columns.Select(c => $"\"{c.Name}\""));

    readonly StreamWriter writer;

    TrainingLog(StreamWriter writer) => this.writer = writer;

    /// <summary>
    /// Creates the file; or, resuming after step <paramref name="resumedAfter"/> and finding our
    /// header, keeps its rows up to that step and appends to them.
    /// </summary>
    public static TrainingLog Open(string path, long? resumedAfter)
    {
        bool continuing = resumedAfter is long last && File.Exists(path) && File.ReadLines(path).FirstOrDefault() == Header;
        if (continuing)
        {
            var lines = File.ReadAllLines(path);
            var kept = lines.Where((line, i) => i == 0 || StepOf(line) is not long step || step <= resumedAfter).ToArray();
            if (kept.Length < lines.Length)
                AtomicFile.Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(string.Concat(kept.Select(l => l + "\n")))));
        }
        var stream = new FileStream(path, continuing ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        var log = new TrainingLog(new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));
        if (!continuing) log.WriteLine(Header);
        return log;
    }

    public void Write(TrainingStep step) => WriteLine(string.Join(",", Columns.Select(column => $"\"{Format(column.GetValue(step))}\"")));

    public void Dispose() => writer.Dispose();

    void WriteLine(string line)
    {
        writer.Write(line);
        writer.Write('\n');
        writer.Flush();
    }

    static long? StepOf(string line) =>
        long.TryParse(line.Split(',')[0].Trim('"'), NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) ? step : null;

    static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
