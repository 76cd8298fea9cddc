namespace MicroGpt;

/// <summary>
/// Writes a file so that a crash or an error never leaves it half-written: the content goes to a
/// temporary file in the same folder, is flushed to disk, and is then renamed over the target.
/// On failure the temporary file is deleted and the previous file, if any, is untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>; <paramref name="decorate"/> wraps the stream (tests inject failures with it).</summary>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? decorate = null)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new IOException($"'{path}' has no folder.");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The folder '{folder}' does not exist.");
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var stream = decorate?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
