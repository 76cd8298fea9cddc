namespace MicroGpt;

/// <summary>
/// Writes a file so that a crash, a kill or an error never leaves it half-written: the content goes
/// to a temporary file in the same folder, is flushed to disk, and is then renamed over the target.
/// On failure the temporary file is deleted and the previous file, if any, is untouched.
/// </summary>
/// <remarks>
/// A temporary file is named <c>.{target name}.{32 hex digits}.microgpt-tmp</c>, so that the next
/// write of the same target can tell the ones a killed write left behind from anything else, and
/// remove them (<see cref="RemoveStale"/>). A write holds its temporary file open, with a shared
/// lock, until it has been renamed: a file of that name that nobody holds open is stale.
/// </remarks>
public static class AtomicFile
{
    /// <summary>The end of every temporary file's name.</summary>
    public const string TemporarySuffix = ".microgpt-tmp";

    const int RandomDigits = 32; // a Guid in "N" form

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; <paramref name="decorate"/> wraps the stream (tests inject failures with it).</summary>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? decorate = null) => WriteAll([(path, write)], decorate);

    /// <summary>
    /// Writes files that belong together: every one to its temporary file first, and only when all
    /// are written are they renamed over their targets, in the order given, so that a failure in any
    /// write leaves every previous file as it was.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, Action<Stream> Write)> files, Func<Stream, Stream>? decorate = null)
    {
        var written = new List<(FileStream File, string Temporary, string Target)>();
        try
        {
            foreach (var (path, write) in files)
            {
                string full = Path.GetFullPath(path);
                RemoveStale(full);
                string temporary = TemporaryBeside(full);
                // FileShare.Delete: a shared lock on Unix (RemoveStale's exclusive one then fails),
                // and on Windows the right to rename the file while it is open.
                var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.Delete, 1 << 16);
                written.Add((file, temporary, full));
                var stream = decorate?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            // Renamed while still held, so that no other write takes them for stale.
            foreach (var (_, temporary, target) in written) File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            foreach (var (_, temporary, _) in written) TryDelete(temporary); // those already renamed are gone: nothing happens
            throw;
        }
        finally
        {
            foreach (var (file, _, _) in written) file.Dispose();
        }
    }

    /// <summary>
    /// Throws the error a later <see cref="Write"/> would meet (a missing folder, no permission) by
    /// creating and deleting a temporary file beside <paramref name="path"/>, so that a long run can
    /// refuse an unwritable checkpoint before it starts rather than at its first checkpoint. Removes
    /// the stale temporary files of <paramref name="path"/> too, as a resumed run starts with that.
    /// </summary>
    public static void CheckWritable(string path)
    {
        string full = Path.GetFullPath(path);
        RemoveStale(full);
        using var probe = new FileStream(TemporaryBeside(full), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
    }

    /// <summary>
    /// Removes the temporary files that killed writes of <paramref name="path"/> left beside it:
    /// named as this class names them for that target, and held open by no process. Nothing else
    /// is touched; a file that cannot be removed is left.
    /// </summary>
    public static void RemoveStale(string path)
    {
        string full = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(full);
        string name = Path.GetFileName(full);
        if (folder is null || !Directory.Exists(folder)) return;
        var options = new EnumerationOptions { AttributesToSkip = 0, MatchType = MatchType.Simple, IgnoreInaccessible = true };
        foreach (string candidate in Directory.EnumerateFiles(folder, "*" + TemporarySuffix, options))
        {
            if (!IsTemporaryOf(Path.GetFileName(candidate), name)) continue;
            try
            {
                // Opens only when no write holds it; deleted as it closes, while still locked.
                using var stale = new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) { }                 // a write in progress holds it, or it is gone
            catch (UnauthorizedAccessException) { } // not ours to remove
        }
    }

    /// <summary>True when <paramref name="fileName"/> is a name <see cref="Write"/> gives a temporary file of <paramref name="target"/>.</summary>
    public static bool IsTemporaryOf(string fileName, string target)
    {
        string prefix = "." + target + ".";
        if (fileName.Length != prefix.Length + RandomDigits + TemporarySuffix.Length) return false;
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(TemporarySuffix, StringComparison.Ordinal)) return false;
        return fileName.AsSpan(prefix.Length, RandomDigits).IndexOfAnyExcept("0123456789abcdef") < 0;
    }

    static string TemporaryBeside(string full)
    {
        string folder = Path.GetDirectoryName(full) ?? throw new IOException($"'{full}' has no folder.");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The folder '{folder}' does not exist.");
        return Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TemporarySuffix}");
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
