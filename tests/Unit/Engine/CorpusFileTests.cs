using System.Text;
using MicroGpt;

namespace MicroGpt.Tests.Engine;

/// <summary>
/// Corpus files are text, read within bounds: binary and mis-encoded files are refused naming the
/// file, the line and the byte; UTF-16 with a byte-order mark works; lines and vocabularies have
/// limits that say so; pipes, devices and folders are never read without end.
/// </summary>
public sealed class CorpusFileTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("microgpt-corpus-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    string Refused(params string[] paths) => Assert.Throws<CorpusException>(() => CorpusFile.ReadLines(paths)).Message;

    [Theory]
    [InlineData("utf-8", "the cat\nsat\r\n\r\nthe dog\rran\tfar\n")]
    [InlineData("utf-8 with a mark", "the cat\nsat\r\n\r\nthe dog\rran\tfar")]
    [InlineData("utf-16le", "the cat\nsat\r\n\r\nthe dog\rran\tfar\n")]
    [InlineData("utf-16be", "the cat\nsat\r\n\r\nthe dog\rran\tfar\n")]
    [InlineData("utf-32le", "the cat\nsat\r\n\r\nthe dog\rran\tfar\n")]
    public void TextIsReadLineByLineInEachEncodingItDeclares(string encoding, string text)
    {
        var bytes = encoding switch
        {
            "utf-8" => Encoding.UTF8.GetBytes(text),
            "utf-8 with a mark" => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(text)],
            "utf-16le" => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)],
            "utf-16be" => [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(text)],
            _ => [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(text)],
        };
        // The lines TextReader.ReadLine gives: LF, CR and CR LF end a line.
        Assert.Equal(["the cat", "sat", "", "the dog", "ran\tfar"], CorpusFile.ReadLines([Write("c.txt", bytes)]));
    }

    [Fact]
    public void ALineEndCutByTheReadBufferIsStillOneLineEnd()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 30_000; i++) text.Append(i % 3 == 0 ? "a b\r\n" : "c\r\n"); // CR LF pairs land on every 64 KB boundary offset
        Assert.Equal(30_000, CorpusFile.ReadLines([Write("c.txt", Encoding.UTF8.GetBytes(text.ToString()))]).Count);
    }

    /// <summary>Bytes that are not a corpus, where the first problem is (line and byte), and the hint the message gives.</summary>
    public static TheoryData<byte[], string, string> BadBytes => new()
    {
        { [(byte)'t', (byte)'h', (byte)'e', 0, (byte)'c', (byte)'a', (byte)'t'], "line 1, byte 4: the control character U+0000", "binary file" },
        { [(byte)'o', (byte)'k', 10, (byte)'a', 27, (byte)'[', (byte)'m'], "line 2, byte 2: the control character U+001B", "Only tab, CR and LF" },
        { [(byte)'o', (byte)'k', 10, 10, (byte)'a', 0x7F], "line 3, byte 2: the control character U+007F", "Only tab" },
        { [(byte)'a', 0xC2, 0x85, (byte)'b'], "line 1, byte 2: the control character U+0085", "Only tab" },
        { [(byte)'o', (byte)'k', 10, (byte)'c', (byte)'a', 0xFF, (byte)'e'], "line 2, byte 3: bytes that are not UTF-8 text", "UTF-16 with a byte-order mark" },
        { [(byte)'c', (byte)'a', (byte)'f', 0xC3], "line 1, byte 4: bytes that are not UTF-8 text", "text file" },
        { [(byte)'t', 0, (byte)'h', 0, (byte)'e', 0], "line 1, byte 2: the control character U+0000", "UTF-16 text without a byte-order mark" },
        { [0, (byte)'t', 0, (byte)'h'], "line 1, byte 1: the control character U+0000", "UTF-16 text without a byte-order mark" },
        { [0xEF, 0xBB, 0xBF, (byte)'o', (byte)'k', 13, 10, (byte)'x', 0xE9], "line 2, byte 2: bytes that are not UTF-8 text", "text file" }, // after a byte-order mark and CR LF
    };

    [Theory]
    [MemberData(nameof(BadBytes))]
    public void BinaryAndMisencodedTextIsRefusedNamingTheFileLineAndByte(byte[] bytes, string where, string hint)
    {
        string path = Write("bad.txt", bytes);
        string message = Refused(path);
        Assert.Contains($"'{path}' {where}", message);
        Assert.Contains(hint, message);
    }

    [Theory]
    [MemberData(nameof(BadBytes))]
    public void StreamModeRefusesTheSameBytesNamingTheSameLineAndByte(byte[] bytes, string where, string hint)
    {
        string path = Write("bad.txt", bytes);
        string message = Assert.Throws<CorpusException>(() => CorpusFile.ReadText([path])).Message;
        Assert.Contains($"'{path}' {where}", message);
        Assert.Contains(hint, message);
    }

    [Fact]
    public void InUtf16StreamModeNamesTheCharacterInTheLine()
    {
        string path = Write("bad16.txt", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("one\r\ntw\u0007o")]);
        Assert.Contains($"'{path}' line 2, character 3: the control character U+0007", Assert.Throws<CorpusException>(() => CorpusFile.ReadText([path])).Message);
        Assert.Contains($"'{path}' line 2, character 3: the control character U+0007", Refused(path)); // as the sentence reader says it
    }

    [Fact]
    public void AProgramIsRefusedAtItsFirstBadByte()
    {
        // The first problem of the line is named: here a control character before any invalid UTF-8.
        string program = Write("program", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0xFF, 0xFE]);
        Assert.Contains($"'{program}' line 1, byte 1: the control character U+007F", Refused(program));
        string tests = Path.Combine(AppContext.BaseDirectory, "MicroGpt.Tests.dll");
        Assert.Contains($"'{tests}' line 1, byte", Refused(tests));
    }

    [Fact]
    public void TextThatIsNotValidInTheEncodingItsMarkDeclaresIsRefused()
    {
        string path = Write("u16.txt", [0xFF, 0xFE, (byte)'a', 0, (byte)'\n', 0, 0x00, 0xD8, (byte)'b', 0]); // a lone high surrogate on line 2
        string message = Refused(path);
        Assert.True(message.Contains($"'{path}' line 2: text that is not valid UTF-16"), message);
    }

    [Fact]
    public void ALineLongerThanTheLimitIsRefusedWithoutHoldingIt()
    {
        var bytes = new byte[8 * CorpusFile.MaxLineBytes];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i % 7 == 6 ? ' ' : 'a' + i % 26);
        "first line\n"u8.CopyTo(bytes);
        string path = Write("long.txt", bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains($"'{path}' line 2 is longer than 1,048,576 bytes", Refused(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4 * CorpusFile.MaxLineBytes, $"{allocated:N0} bytes allocated to refuse a line of {bytes.Length:N0}"); // a line at most, not the file
    }

    [Fact]
    public void EmptyFilesPipesAndDevicesAreTakenAsEmptyAndFoldersAreRefused()
    {
        string empty = Write("empty.txt", []);
        Assert.Contains($"'{empty}' is empty, or not a regular file", Refused(empty));
        Assert.Contains("are empty, or not regular files", Refused(empty, empty));
        string text = Write("text.txt", "a b\n"u8.ToArray());
        Assert.Equal(["a b"], CorpusFile.ReadLines([empty, text]));
        Assert.Throws<IOException>(() => CorpusFile.ReadLines([folder]));
        if (!OperatingSystem.IsLinux()) return;
        string fifo = Path.Combine(folder, "fifo");
        System.Diagnostics.Process.Start("mkfifo", fifo)!.WaitForExit();
        foreach (string device in new[] { fifo, "/dev/zero", "/dev/urandom" })
            Assert.Contains("pipe or a device", Refused(device)); // never opened: a pipe would wait, a device never end
    }

    [Fact]
    public void AVocabularyTooLargeNamesItsLineAndSuggestsCharacters()
    {
        var sentences = Enumerable.Range(0, 200).Select(line => new Sentence(string.Join(' ', Enumerable.Range(0, 1000).Select(w => $"w{line * 1000 + w}")), line + 1)).ToList();
        var ex = Assert.Throws<CorpusException>(() => Tokenizer.Build(TokenizerKind.Word, sentences, "'words.txt'"));
        Assert.Contains($"'words.txt' has more than {Tokenizer.MaxVocabulary:N0} distinct words (line {Tokenizer.MaxVocabulary / 1000 + 1} brings one more)", ex.Message);
        Assert.Contains("-Kind Character", ex.Message);
        var exactly = Enumerable.Range(0, Tokenizer.MaxVocabulary).Chunk(1000).Select((words, i) => new Sentence(string.Join(' ', words.Select(w => $"w{w}")), i + 1));
        Assert.Equal(Tokenizer.MaxVocabulary + 1, Tokenizer.Build(TokenizerKind.Word, exactly, "the text").VocabSize); // the limit itself is allowed
    }
}
