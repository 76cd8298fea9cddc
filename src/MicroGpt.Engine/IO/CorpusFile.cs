using System.Buffers;
using System.Text;

namespace MicroGpt;

/// <summary>
/// Reads corpus files as lines, strictly and within bounds. A corpus is text: UTF-8 (with or
/// without a byte-order mark), or UTF-16 or UTF-32 with one; no control characters but tab (and
/// the CR and LF that end lines); no line longer than <see cref="MaxLineBytes"/>; no more bytes
/// than a file had when it was opened; and no more in all than the memory this process can get
/// holds. Anything else is a <see cref="CorpusException"/> naming the file, the line and the byte,
/// before the corpus grows past what was checked. Lines end at LF, CR or CR LF, as
/// <see cref="TextReader.ReadLine"/> ends them. A pipe or a device reports a length of 0, and is
/// taken as empty, unopened (opening a pipe waits for a writer; a device may never end).
/// </summary>
public static class CorpusFile
{
    /// <summary>The longest line: a corpus holds a sentence (or a paragraph) a line.</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>
    /// Bytes of memory that reading and encoding a corpus takes per byte of its files, at most: the
    /// lines (UTF-16, twice a byte of ASCII), their normalized copies, and the token ids.
    /// </summary>
    const int BytesOfMemoryPerByte = 8;

    static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0xA0).Where(c => char.IsControl((char)c) && c != '\t').Select(c => (char)c)));

    /// <summary>The lines of the files, in order, without their line ends.</summary>
    public static List<string> ReadLines(IReadOnlyList<string> paths)
    {
        var lengths = paths.Select(LengthOf).ToList();
        long total = lengths.Sum(), available = MemoryBudget.Available();
        if (total * BytesOfMemoryPerByte > available)
            throw new CorpusException($"{Describe(paths)} {(paths.Count == 1 ? "is" : "are")} {total:N0} bytes; as a corpus {(paths.Count == 1 ? "it needs" : "they need")} about {MemoryBudget.Describe(total * BytesOfMemoryPerByte)} of memory, more than the {MemoryBudget.Describe(available)} this process can still get.");
        if (total == 0)
            throw new CorpusException(paths.Count == 1
                ? $"'{paths[0]}' is empty, or not a regular file (a pipe or a device, which MicroGpt does not read)."
                : $"{Describe(paths)} are empty, or not regular files (pipes or devices, which MicroGpt does not read).");
        var lines = new List<string>();
        for (int i = 0; i < paths.Count; i++)
        {
            if (lengths[i] == 0) continue;
            using var file = new FileStream(paths[i], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Read(paths[i], file, lengths[i], lines);
        }
        return lines;
    }

    /// <summary>
    /// The text of the files exactly as it is, joined in order: every line end kept as it was (LF,
    /// CR LF or CR), nothing trimmed, no line end added between files; only a byte-order mark is
    /// left out. Stream mode reads a corpus this way. The same checks as <see cref="ReadLines"/>
    /// hold, but for the line length: a stream has no lines to bound.
    /// </summary>
    public static string ReadText(IReadOnlyList<string> paths)
    {
        var lengths = paths.Select(LengthOf).ToList();
        long total = lengths.Sum(), available = MemoryBudget.Available();
        if (total * BytesOfMemoryPerByte > available || total > int.MaxValue / 2)
            throw new CorpusException($"{Describe(paths)} {(paths.Count == 1 ? "is" : "are")} {total:N0} bytes; as a stream {(paths.Count == 1 ? "it needs" : "they need")} about {MemoryBudget.Describe(total * BytesOfMemoryPerByte)} of memory, more than the {MemoryBudget.Describe(Math.Min(available, int.MaxValue / 2 * (long)BytesOfMemoryPerByte))} a stream can take.");
        if (total == 0)
            throw new CorpusException(paths.Count == 1
                ? $"'{paths[0]}' is empty, or not a regular file (a pipe or a device, which MicroGpt does not read)."
                : $"{Describe(paths)} are empty, or not regular files (pipes or devices, which MicroGpt does not read).");
        var text = new StringBuilder();
        for (int i = 0; i < paths.Count; i++)
        {
            if (lengths[i] == 0) continue;
            var bytes = new byte[lengths[i]];
            using (var file = new FileStream(paths[i], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
                bytes = bytes[..file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false)]; // no more than it had when measured
            text.Append(DecodeExactly(paths[i], bytes));
        }
        return text.ToString();
    }

    /// <summary>A file's bytes as text, strictly: the encoding its byte-order mark names (else UTF-8), and no control character but tab, CR and LF.</summary>
    static string DecodeExactly(string path, byte[] bytes)
    {
        var (encoding, bom) = EncodingOf(bytes.AsSpan(0, Math.Min(4, bytes.Length)));
        var body = bytes.AsSpan(bom);
        string text;
        if (encoding is null)
        {
            int invalid = StrictJson.FirstInvalidUtf8(body);
            if (invalid >= 0)
            {
                string before = Encoding.UTF8.GetString(body[..invalid]);
                var (line, start) = LineAt(before, before.Length);
                throw new CorpusException($"'{path}' line {line}, byte {invalid - Encoding.UTF8.GetByteCount(before.AsSpan(0, start)) + 1:N0}: bytes that are not UTF-8 text. MicroGpt reads corpora as UTF-8, or as UTF-16 with a byte-order mark; is it a text file?");
            }
            text = Encoding.UTF8.GetString(body);
        }
        else
        {
            try { text = encoding.GetString(body); }
            catch (DecoderFallbackException) { throw new CorpusException($"'{path}': text that is not valid {encoding.WebName.ToUpperInvariant()}, which its byte-order mark says it is."); }
        }
        int control = text.AsSpan().IndexOfAny(StreamControlCharacters);
        if (control >= 0)
        {
            var (line, start) = LineAt(text, control);
            // Where in its line, as the sentence reader says it: bytes of UTF-8, characters of UTF-16 and UTF-32.
            string where = encoding is null ? $"byte {Encoding.UTF8.GetByteCount(text.AsSpan(start, control - start)) + 1:N0}" : $"character {control - start + 1:N0}";
            string hint = text[control] != '\0' ? "Only tab, CR and LF may appear in a corpus." : encoding is null && LooksLikeUtf16(bytes)
                ? "The file looks like UTF-16 text without a byte-order mark: save it as UTF-8 (or as UTF-16 with a byte-order mark)."
                : "A NUL byte does not appear in text: is it a binary file?";
            throw new CorpusException($"'{path}' line {line}, {where}: the control character U+{(int)text[control]:X4}. {hint}");
        }
        return text;
    }

    /// <summary>The 1-based line of the character at <paramref name="index"/> (or of the end, when past it), and the index where that line starts: lines end at LF, CR or CR LF.</summary>
    static (int Line, int Start) LineAt(string text, int index)
    {
        int line = 1, start = 0;
        for (int i = 0; i < Math.Min(index, text.Length); i++)
            if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
                (line, start) = (line + 1, i + 1);
        return (line, start);
    }

    static readonly SearchValues<char> StreamControlCharacters = SearchValues.Create(
        string.Concat(Enumerable.Range(0, 0xA0).Where(c => char.IsControl((char)c) && c is not ('\t' or '\r' or '\n')).Select(c => (char)c)));

    /// <summary>
    /// The length of the file a path names, through symbolic links (whose own length is that of the
    /// name they hold); a pipe or a device reports 0. A folder is an <see cref="IOException"/>.
    /// </summary>
    internal static long LengthOf(string path)
    {
        if (Directory.Exists(path)) throw new IOException($"'{path}' is a folder, not a file.");
        FileSystemInfo info = new FileInfo(path);
        if (info.LinkTarget is not null) info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
        return ((FileInfo)info).Length;
    }

    static void Read(string path, Stream file, long length, List<string> lines)
    {
        Span<byte> start = stackalloc byte[4];
        int read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        start = start[..read];
        var (encoding, bom) = EncodingOf(start);
        file.Position = bom;
        var reader = new LineReader(path, lines, utf16WithoutMark: encoding is null && LooksLikeUtf16(start));
        if (encoding is null)
        {
            reader.Read(file, length - bom);
            return;
        }
        // Transcoded to UTF-8 on the way in; a character takes at most twice as many bytes there.
        using var utf8 = Encoding.CreateTranscodingStream(file, encoding, Encoding.UTF8, leaveOpen: true);
        reader.Utf8 = false;
        try { reader.Read(utf8, 2 * (length - bom)); }
        catch (DecoderFallbackException)
        {
            file.Position = bom;
            throw new CorpusException($"'{path}' line {LineOfFirstInvalid(file, encoding)}: text that is not valid {encoding.WebName.ToUpperInvariant()}, which its byte-order mark says it is.");
        }
    }

    /// <summary>
    /// The line where decoding fails: the transcoding above decodes ahead of the lines it gives, so
    /// the file is decoded again here one code unit at a time (an error's cost only).
    /// </summary>
    static int LineOfFirstInvalid(Stream file, Encoding encoding)
    {
        var decoder = encoding.GetDecoder();
        var unit = new byte[encoding is UTF32Encoding ? 4 : 2];
        var chars = new char[2];
        int line = 1;
        bool afterCr = false;
        try
        {
            while (file.ReadAtLeast(unit, unit.Length, throwOnEndOfStream: false) == unit.Length)
            {
                foreach (char c in chars.AsSpan(0, decoder.GetChars(unit, 0, unit.Length, chars, 0, flush: false)))
                {
                    if (c == '\r' || (c == '\n' && !afterCr)) line++;
                    afterCr = c == '\r';
                }
            }
            decoder.GetChars(unit, 0, 0, chars, 0, flush: true);
        }
        catch (DecoderFallbackException) { }
        return line;
    }

    /// <summary>The encoding a byte-order mark declares (null for UTF-8, marked or not) and the mark's length.</summary>
    static (Encoding?, int Bom) EncodingOf(ReadOnlySpan<byte> start) => start switch
    {
        [0xEF, 0xBB, 0xBF, ..] => (null, 3),
        [0xFF, 0xFE, 0, 0] => (new UTF32Encoding(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true), 4),
        [0, 0, 0xFE, 0xFF] => (new UTF32Encoding(bigEndian: true, byteOrderMark: false, throwOnInvalidCharacters: true), 4),
        [0xFF, 0xFE, ..] => (new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true), 2),
        [0xFE, 0xFF, ..] => (new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true), 2),
        _ => (null, 0),
    };

    /// <summary>Text starting with one NUL and one other byte, either way round: UTF-16 without its mark.</summary>
    static bool LooksLikeUtf16(ReadOnlySpan<byte> start) => start.Length >= 2 && (start[0] == 0) != (start[1] == 0);

    static string Describe(IReadOnlyList<string> paths) => paths.Count == 1 ? $"'{paths[0]}'" : $"The {paths.Count} files {string.Join(", ", paths.Select(p => $"'{p}'"))}";

    /// <summary>Cuts UTF-8 bytes into checked lines, holding one line at a time.</summary>
    sealed class LineReader(string path, List<string> lines, bool utf16WithoutMark)
    {
        byte[] line = new byte[256];
        int lineLength;

        /// <summary>The 1-based number of the line being read.</summary>
        public int Line { get; private set; } = 1;

        /// <summary>False when the bytes are transcoded from UTF-16 or UTF-32: places are then given in characters.</summary>
        public bool Utf8 { get; set; } = true;

        public void Read(Stream stream, long limit)
        {
            var chunk = new byte[1 << 16];
            bool afterCr = false;
            int read;
            while (limit > 0 && (read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit))) > 0)
            {
                limit -= read;
                var span = chunk.AsSpan(0, read);
                if (afterCr && span[0] == (byte)'\n') span = span[1..]; // the LF of a CR LF that a chunk cut
                afterCr = false;
                while (true)
                {
                    int end = span.IndexOfAny((byte)'\n', (byte)'\r');
                    Append(end < 0 ? span : span[..end]);
                    if (end < 0) break;
                    EndLine();
                    bool cr = span[end] == (byte)'\r';
                    span = span[(end + 1)..];
                    if (cr && !span.IsEmpty && span[0] == (byte)'\n') span = span[1..];
                    else if (cr && span.IsEmpty) afterCr = true;
                }
            }
            if (lineLength > 0) EndLine();
        }

        void Append(ReadOnlySpan<byte> bytes)
        {
            if (lineLength + bytes.Length > MaxLineBytes)
                throw new CorpusException($"'{path}' line {Line} is longer than {MaxLineBytes:N0} bytes; a corpus holds one sentence a line. Is it a text file?");
            if (lineLength + bytes.Length > line.Length) Array.Resize(ref line, Math.Min(MaxLineBytes, Math.Max(2 * line.Length, lineLength + bytes.Length)));
            bytes.CopyTo(line.AsSpan(lineLength));
            lineLength += bytes.Length;
        }

        void EndLine()
        {
            var bytes = line.AsSpan(0, lineLength);
            int invalid = StrictJson.FirstInvalidUtf8(bytes);
            string text = Encoding.UTF8.GetString(invalid >= 0 ? bytes[..invalid] : bytes);
            int control = text.AsSpan().IndexOfAny(ControlCharacters); // before the invalid bytes, if any: the first problem is named
            if (control >= 0)
            {
                string where = Utf8 ? $"byte {Encoding.UTF8.GetByteCount(text.AsSpan(0, control)) + 1:N0}" : $"character {control + 1:N0}";
                string hint = text[control] != '\0' ? "Only tab, CR and LF may appear in a corpus." : utf16WithoutMark
                    ? "The file looks like UTF-16 text without a byte-order mark: save it as UTF-8 (or as UTF-16 with a byte-order mark)."
                    : "A NUL byte does not appear in text: is it a binary file?";
                throw new CorpusException($"'{path}' line {Line}, {where}: the control character U+{(int)text[control]:X4}. {hint}");
            }
            if (invalid >= 0)
                throw new CorpusException($"'{path}' line {Line}, byte {invalid + 1:N0}: bytes that are not UTF-8 text. MicroGpt reads corpora as UTF-8, or as UTF-16 with a byte-order mark; is it a text file?");
            lines.Add(text);
            lineLength = 0;
            Line++;
        }
    }
}
