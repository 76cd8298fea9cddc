using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace MicroGpt;

/// <summary>
/// JSON as MicroGpt reads its files: UTF-8 checked first (the first bad byte named), syntax errors
/// named by their place only (a file given as a model may be anything, a link to a system file
/// too, and its text is not ours to quote), and no key twice in an object (which JSON readers
/// disagree on: the first, the last, or an error).
/// </summary>
static class StrictJson
{
    const int MaxDepth = 16;
    const int MaxQuoted = 40; // characters of a value quoted in a message

    /// <summary>Parses <paramref name="bytes"/>, or throws a <see cref="FormatProblem"/> saying where it is not JSON.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> bytes, string what)
    {
        int invalid = FirstInvalidUtf8(bytes.Span);
        if (invalid >= 0) throw new FormatProblem($"{what} holds bytes that are not UTF-8 text (byte {invalid + 1:N0}).");
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            string where = ex.BytePositionInLine is long b ? $" (line {ex.LineNumber + 1}, byte {b + 1})" : "";
            throw new FormatProblem(bytes.Length == 0 ? $"{what} is empty." : $"{what} is not valid JSON{where}; it may be truncated, or not a MicroGpt file.");
        }
    }

    /// <summary>Throws a <see cref="FormatProblem"/> when an object at or under <paramref name="element"/> has a key twice.</summary>
    public static void CheckUniqueKeys(JsonElement element, string where)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    if (!names.Add(property.Name)) throw new FormatProblem($"{where} has the key '{Cut(property.Name)}' twice.");
                    CheckUniqueKeys(property.Value, $"'{Cut(property.Name)}'");
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (item.ValueKind is JsonValueKind.Object or JsonValueKind.Array) CheckUniqueKeys(item, where);
                break;
        }
    }

    /// <summary>A value's JSON text for a message, cut short.</summary>
    public static string Quote(JsonElement element) => Cut(element.GetRawText());

    /// <summary>The index of the first byte that is not part of valid UTF-8, or -1.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        Span<char> scratch = stackalloc char[1024];
        int done = 0;
        while (true)
        {
            var status = Utf8.ToUtf16(bytes[done..], scratch, out int read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            done += read;
            if (status == OperationStatus.Done) return -1;
            if (status != OperationStatus.DestinationTooSmall) return done;
        }
    }

    /// <summary>Text from a file for a message, cut short.</summary>
    public static string Cut(string text) => text.Length <= MaxQuoted ? text : text[..MaxQuoted] + "...";
}

/// <summary>A problem with a file's content, turned into a <see cref="ModelFileException"/> naming the file.</summary>
class FormatProblem(string message) : Exception(message);

/// <summary>A vocabulary that does not fit the file, turned into a <see cref="VocabularyMismatchException"/>.</summary>
sealed class VocabularyProblem(string message) : FormatProblem(message);
