using System.Diagnostics;
using System.Management.Automation;

namespace MicroGpt.Commands;

/// <summary>
/// A command's progress bar, kept sparse because on Unix the console host asks the terminal where
/// the cursor is each time it draws a bar, and waits for the answer: a Ctrl+C typed after the
/// terminal answered, but before pwsh read the answer, makes the terminal driver discard it with
/// the rest of the pending input, and the pipeline thread then waits forever (PowerShell issue
/// 12814). So a record goes out at most once per
/// <see cref="Interval"/>, none in a command's first <see cref="Interval"/>, and the Completed
/// record only if a bar is up and the pipeline is not stopping. Each command gets its own activity
/// id, so that parallel commands show apart. Records are written on the pipeline thread only.
/// </summary>
/// <remarks>
/// For the Ctrl+C that still lands while the host draws the bar (a record, or a row that a later
/// command prints under the bar, see <see cref="WriteRow"/>): if the pipeline thread is still in
/// that write <see cref="StuckAfter"/> after the stop, its question was lost, and the bar asks the
/// terminal for the cursor position once more, so that the host gets the answer it waits for and
/// the pipeline can stop. A later command that is still busy with a row that long after a stop
/// gets an answer it did not ask for, which the next prompt reads as keys; and when the Ctrl+C
/// landed in the middle of an answer, the part pwsh had read (an ESC) stays in its input and takes
/// the first key typed at the prompt with it. A stray key is a small price next to a session that
/// never comes back.
/// </remarks>
sealed class ProgressBar
{
    /// <summary>At most about five records a second.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>Drawing a bar takes a millisecond or so; this long after a stop, the host is waiting for an answer that will not come.</summary>
    static readonly TimeSpan StuckAfter = TimeSpan.FromMilliseconds(500);

    static ReadOnlySpan<byte> CursorPositionRequest => "\e[6n"u8;

    static int lastActivityId;

    readonly PSCmdlet cmdlet;
    readonly string activity;
    readonly CancellationToken stopping;
    readonly int activityId = Interlocked.Increment(ref lastActivityId);
    readonly Stopwatch sinceRecord = Stopwatch.StartNew();
    readonly bool inTerminal; // the console host on Unix, reading and writing a terminal
    int writing;              // 1 while a record, or a row under the bar, is with the host; read by the thread that stops the pipeline
    int writes;               // such writes so far, to tell one from the next

    public ProgressBar(PSCmdlet cmdlet, string activity, CancellationToken stopping)
    {
        this.cmdlet = cmdlet;
        this.activity = activity;
        this.stopping = stopping;
        inTerminal = !OperatingSystem.IsWindows() && cmdlet.Host.Name == "ConsoleHost" && !Console.IsInputRedirected && !Console.IsOutputRedirected;
        if (inTerminal) stopping.Register(WhenStopped);
    }

    /// <summary>True while a bar is up: a record went out, and no Completed one after it.</summary>
    public bool Showing { get; private set; }

    /// <summary>True when a record may go out: <see cref="Interval"/> has passed since the last one, and nothing is stopping.</summary>
    public bool Due => sinceRecord.Elapsed >= Interval && !stopping.IsCancellationRequested;

    /// <summary>Shows the bar (a new record each time: the host may keep the ones it has been given).</summary>
    public void Show(string status, int percentComplete, int secondsRemaining)
    {
        Write(new ProgressRecord(activityId, activity, status) { PercentComplete = percentComplete, SecondsRemaining = secondsRemaining });
        sinceRecord.Restart();
        Showing = true;
    }

    /// <summary>Takes the bar down, if it is up and the pipeline is not stopping (a stopping pipeline takes no records, and the host clears the bar itself).</summary>
    public void Hide()
    {
        if (!Showing || stopping.IsCancellationRequested) return;
        Write(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
        Showing = false;
    }

    /// <summary>
    /// Writes a row of the command's output. A later command may print it, and with the bar up the
    /// host then asks the terminal about the cursor around it: while the bar is up, the write is
    /// watched after a stop as a record is.
    /// </summary>
    public void WriteRow(object row)
    {
        if (Showing) Watched(() => cmdlet.WriteObject(row));
        else cmdlet.WriteObject(row);
    }

    /// <summary>The seconds left at the pace so far, when <paramref name="done"/> of <paramref name="total"/> took <paramref name="elapsed"/>.</summary>
    public static int SecondsRemaining(TimeSpan elapsed, double done, double total) =>
        done <= 0 ? -1 : (int)Math.Min(int.MaxValue, Math.Ceiling(elapsed.TotalSeconds / done * (total - done)));

    void Write(ProgressRecord record) => Watched(() => cmdlet.WriteProgress(record));

    void Watched(Action write)
    {
        Interlocked.Increment(ref writes);
        Volatile.Write(ref writing, 1);
        try { write(); }
        finally { Volatile.Write(ref writing, 0); }
    }

    /// <summary>On the thread that stops the pipeline: if a watched write is with the host, check on it a little later.</summary>
    void WhenStopped()
    {
        if (Volatile.Read(ref writing) == 0) return;
        int write = Volatile.Read(ref writes);
        _ = Task.Delay(StuckAfter).ContinueWith(_ =>
        {
            if (Volatile.Read(ref writing) == 1 && Volatile.Read(ref writes) == write) AskForCursorPosition();
        }, TaskScheduler.Default);
    }

    /// <summary>Writes the terminal's cursor position request straight to standard output: the host's own writers are busy with the stuck write.</summary>
    static void AskForCursorPosition()
    {
        try
        {
            using var output = Console.OpenStandardOutput();
            output.Write(CursorPositionRequest);
            output.Flush();
        }
        catch (IOException) { } // the terminal is gone, and the host with it
    }
}
