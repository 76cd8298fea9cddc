namespace MicroGpt;

/// <summary>
/// Writes a file so that a crash or an error never leaves it half-written: the content goes to a
/// temporary file in the same folder, is flushed to disk, and is then renamed over the target.
/// On failure the temporary file is deleted and the previous file, if any, is untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; <paramref name="decorate"/> wraps the stream (tests inject failures with it).</summary>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? decorate = null) => WriteAll([(path, write)], decorate);

    /// <summary>
    /// Writes files that belong together (a safetensors file and its configuration): every one to
    /// its temporary file first, and only when all are written are they renamed over their targets,
    /// so that a failure in any write leaves every previous file as it was.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, Action<Stream> Write)> files, Func<Stream, Stream>? decorate = null)
    {
        var temporaries = new List<(string Temporary, string Target)>();
        try
        {
            foreach (var (path, write) in files)
            {
                string full = Path.GetFullPath(path);
                string temporary = TemporaryBeside(full);
                temporaries.Add((temporary, full));
                using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                var stream = decorate?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
        }
        catch
        {
            foreach (var (temporary, _) in temporaries)
                try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        foreach (var (temporary, target) in temporaries) File.Move(temporary, target, overwrite: true);
    }

    /// <summary>
    /// Throws the error a later <see cref="Write"/> would meet (a missing folder, no permission) by
    /// creating and deleting a temporary file beside <paramref name="path"/>, so that a long run can
    /// refuse an unwritable checkpoint before it starts rather than at its first checkpoint.
    /// </summary>
    public static void CheckWritable(string path)
    {
        using var probe = new FileStream(TemporaryBeside(Path.GetFullPath(path)), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
    }

    static string TemporaryBeside(string full)
    {
        string folder = Path.GetDirectoryName(full) ?? throw new IOException($"'{full}' has no folder.");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The folder '{folder}' does not exist.");
        return Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
    }
}
