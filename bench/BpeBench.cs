// The byte-level BPE rows: learning 4,096 tokens from 1 MB of text and encoding it, on one
// thread, in this process (after a warm-up, medians of several runs), and the time and memory
// of learning from 1 MB and 100 MB, each in a child process of its own.
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MicroGpt.Bench;

static class BpeBench
{
    const int Runs = 7;
    const int VocabSize = 4096;
    const int Megabyte = 1_000_000;

    public static string Run()
    {
        var report = new StringBuilder();
        report.AppendLine("## Byte-level BPE tokenizer (one thread)");
        report.AppendLine();
        string text = SyntheticText.Generate(Megabyte, seed: 1);
        string random = SyntheticText.RandomCodePoints(Megabyte, seed: 1);
        var bpe = BytePairEncoding.Train(text, VocabSize); // warm-up: compiles what the timed runs call
        bpe.Decode(bpe.Encode(random));

        var learn = Time(() => BytePairEncoding.Train(text, VocabSize));
        int[] tokens = bpe.Encode(text);
        var encode = Time(() => bpe.Encode(text));
        var decode = Time(() => bpe.Decode(tokens));
        var encodeRandom = Time(() => bpe.Encode(random));
        double bytes = Encoding.UTF8.GetByteCount(text), randomBytes = Encoding.UTF8.GetByteCount(random);

        report.AppendLine($"On {bytes / 1e6:F2} MB of generated English-like text ({SyntheticText.Description}): {bytes / tokens.Length:F2} bytes a token. "
            + $"Each row is the median of {Runs} runs in one process after a warm-up, with the fastest and slowest; MB are 10^6 UTF-8 bytes.");
        report.AppendLine();
        report.AppendLine("| what | median (s) | min (s) | max (s) | rate |");
        report.AppendLine("| --- | --- | --- | --- | --- |");
        report.AppendLine(Row($"learn {VocabSize:N0} tokens from the text", learn, $"{bytes / 1e6 / learn.Median:F1} MB/s"));
        report.AppendLine(Row("encode the text", encode, $"{bytes / 1e6 / encode.Median:F1} MB/s"));
        report.AppendLine(Row("decode its tokens", decode, $"{bytes / 1e6 / decode.Median:F1} MB/s"));
        report.AppendLine(Row($"encode {randomBytes / 1e6:F2} MB of random code points (no chunk repeats)", encodeRandom, $"{randomBytes / 1e6 / encodeRandom.Median:F1} MB/s"));
        report.AppendLine();

        report.AppendLine($"Learning {VocabSize:N0} tokens in a fresh process, once for each text: the process's resident memory just before (the text");
        report.AppendLine("is in memory then, as UTF-16, with the runtime) and its peak while learning, and what learning allocated on the managed heap");
        report.AppendLine("(memory in MiB). The random words (a-z, 1 to 12 letters) make almost every chunk distinct, the worst case for learning's memory:");
        report.AppendLine($"30 MB of them come near the {BytePairLearner.MaxDistinctBytes:N0} bytes of distinct chunks that learning accepts.");
        report.AppendLine();
        report.AppendLine("| text | distinct chunks | their bytes | learn (s) | text (MiB, UTF-16) | resident before | peak while learning | allocated |");
        report.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (kind, megabytes) in new[] { ("english", 1), ("english", 100), ("random", 30) })
        {
            var r = Child.Spawn(kind, megabytes);
            report.AppendLine(FormattableString.Invariant(
                $"| {megabytes} MB, {(kind == "english" ? "English-like" : "random words")} | {r.Chunks:N0} | {r.ChunkBytes:N0} | {r.Seconds:F2} | {r.TextMegabytes:F0} | {r.ResidentMegabytes:F0} | {r.PeakMegabytes:F0} | {r.AllocatedMegabytes:F0} |"));
        }
        report.AppendLine();
        return report.ToString();
    }

    sealed record Timing(double Median, double Min, double Max);

    static Timing Time(Action action)
    {
        var seconds = new double[Runs];
        for (int run = 0; run < Runs; run++)
        {
            var clock = Stopwatch.StartNew();
            action();
            seconds[run] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(seconds);
        return new Timing(seconds[Runs / 2], seconds[0], seconds[^1]);
    }

    static string Row(string what, Timing t, string rate) => $"| {what} | {t.Median:F3} | {t.Min:F3} | {t.Max:F3} | {rate} |";

    /// <summary>Learning in a child process, so that its memory is its own.</summary>
    public static class Child
    {
        public sealed record Result(double Seconds, double TextMegabytes, double ResidentMegabytes, double PeakMegabytes, double AllocatedMegabytes, long Chunks, long ChunkBytes);

        public static Result Spawn(string kind, int megabytes)
        {
            var f = ChildProcess.Run("--bpe-child", kind, megabytes.ToString(CultureInfo.InvariantCulture));
            return new Result(f[0], f[1], f[2], f[3], f[4], (long)f[5], (long)f[6]);
        }

        public static int Run(string kind, int megabytes)
        {
            string text = kind == "english" ? SyntheticText.Generate(megabytes * Megabyte, seed: 1) : SyntheticText.RandomWords(megabytes * Megabyte, seed: 1);
            var (chunks, _) = BytePairLearner.CountChunks([text], CancellationToken.None); // for the table only
            long chunkCount = chunks.Count, chunkBytes = chunks.KeyBytes;
            chunks = null!;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            double resident = ChildProcess.ResidentMegabytes("VmRSS:");
            File.WriteAllText("/proc/self/clear_refs", "5"); // resets the peak resident size (Linux)
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            var bpe = BytePairEncoding.Train(text, VocabSize);
            double seconds = clock.Elapsed.TotalSeconds;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            double peak = ChildProcess.ResidentMegabytes("VmHWM:");
            GC.KeepAlive(bpe);
            Console.WriteLine(FormattableString.Invariant(
                $"RESULT {seconds} {text.Length * 2 / 1048576.0} {resident} {peak} {allocated / 1048576.0} {chunkCount} {chunkBytes}"));
            return 0;
        }
    }
}

/// <summary>Seeded texts for the BPE rows.</summary>
static class SyntheticText
{
    public const string Description = "a lexicon of 30,000 made-up words drawn by Zipf's law, in sentences with capitals, punctuation, "
        + "contractions, numbers, quotes and paragraphs, and a few accented, Cyrillic and CJK words and emoji";

    static readonly string[] Onsets = ["", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y", "z",
        "br", "ch", "cl", "cr", "dr", "fl", "fr", "gr", "pl", "pr", "sc", "sh", "sl", "sp", "st", "str", "th", "tr", "wh"];
    static readonly string[] Vowels = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "ie", "oa", "oo", "ou", "y"];
    static readonly string[] Codas = ["", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "nt", "rs", "st", "ck", "ll", "ss", "th"];
    static readonly string[] Emoji = ["😀", "👍", "🎉", "🙂", "❤️", "🚀"];

    /// <summary>About <paramref name="bytes"/> UTF-8 bytes (cut at a character) of English-like text.</summary>
    public static string Generate(int bytes, int seed)
    {
        var rng = new Rng(seed);
        var lexicon = Lexicon(rng, 30_000);
        var cumulative = new double[lexicon.Length];
        double total = 0;
        for (int r = 0; r < lexicon.Length; r++) cumulative[r] = total += 1 / Math.Pow(r + 1, 1.1);

        var text = new StringBuilder(bytes + 64);
        int utf8 = 0;
        while (utf8 < bytes)
        {
            int start = text.Length;
            Sentence(text, rng, lexicon, cumulative, total);
            text.Append(rng.NextInt(5) == 0 ? "\n\n" : " ");
            utf8 += Encoding.UTF8.GetByteCount(text.ToString(start, text.Length - start));
        }
        string all = text.ToString();
        while (Encoding.UTF8.GetByteCount(all) > bytes) all = all[..^Math.Max(1, (Encoding.UTF8.GetByteCount(all) - bytes) / 4)];
        return char.IsHighSurrogate(all[^1]) ? all[..^1] : all;
    }

    /// <summary>About <paramref name="bytes"/> UTF-8 bytes of code points drawn uniformly from each UTF-8 length in turn.</summary>
    public static string RandomCodePoints(int bytes, int seed)
    {
        var rng = new Rng(seed);
        var text = new StringBuilder();
        int utf8 = 0;
        while (utf8 < bytes)
        {
            int value = rng.NextInt(4) switch
            {
                0 => rng.NextInt(0x80),
                1 => 0x80 + rng.NextInt(0x800 - 0x80),
                2 => 0x800 + rng.NextInt(0xD800 - 0x800),
                _ => 0x10000 + rng.NextInt(0x110000 - 0x10000),
            };
            var rune = new Rune(value);
            text.Append(rune.ToString());
            utf8 += rune.Utf8SequenceLength;
        }
        return text.ToString();
    }

    /// <summary>About <paramref name="bytes"/> bytes of random a-z words of 1 to 12 letters, separated by spaces.</summary>
    public static string RandomWords(int bytes, int seed)
    {
        var rng = new Rng(seed);
        var text = new StringBuilder(bytes + 16);
        while (text.Length < bytes)
        {
            text.Append(' ');
            for (int n = 1 + rng.NextInt(12); n > 0; n--) text.Append((char)('a' + rng.NextInt(26)));
        }
        return text.ToString(0, bytes);
    }

    static string[] Lexicon(Rng rng, int size)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < size)
        {
            var word = new StringBuilder();
            int syllables = 1 + (rng.NextInt(3) == 0 ? 1 + rng.NextInt(3) : rng.NextInt(2));
            for (int s = 0; s < syllables; s++) word.Append(Pick(rng, Onsets)).Append(Pick(rng, Vowels)).Append(Pick(rng, Codas));
            string w = word.ToString();
            w = rng.NextInt(1000) switch
            {
                < 20 => w.Replace('e', 'é').Replace('u', 'ü'),
                < 25 => new string(w.Select(c => (char)('а' + (c - 'a') % 32)).ToArray()),
                < 28 => string.Concat(Enumerable.Range(0, 2).Select(_ => (char)(0x4E00 + rng.NextInt(0x500)))),
                < 60 => char.ToUpperInvariant(w[0]) + w[1..],
                _ => w,
            };
            words.Add(w);
        }
        return words.OrderBy(w => w.Length).ThenBy(w => w, StringComparer.Ordinal).ToArray(); // short words are the frequent ones
    }

    static void Sentence(StringBuilder text, Rng rng, string[] lexicon, double[] cumulative, double total)
    {
        bool quoted = rng.NextInt(20) == 0;
        if (quoted) text.Append('"');
        int words = 4 + rng.NextInt(21);
        for (int i = 0; i < words; i++)
        {
            if (i > 0) text.Append(' ');
            string word = rng.NextInt(50) == 0 ? (rng.NextInt(2) == 0 ? 1800 + rng.NextInt(225) : rng.NextInt(100)).ToString(CultureInfo.InvariantCulture)
                : lexicon[Zipf(cumulative, rng.NextDouble() * total)];
            text.Append(i == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            int mark = rng.NextInt(100);
            if (mark < 2) text.Append("'s");
            else if (mark < 3) text.Append("n't");
            if (i < words - 1 && rng.NextInt(12) == 0) text.Append(rng.NextInt(6) == 0 ? ";" : ",");
        }
        int end = rng.NextInt(100);
        text.Append(end < 80 ? '.' : end < 92 ? '?' : '!');
        if (quoted) text.Append('"');
        if (rng.NextInt(200) == 0) text.Append(' ').Append(Pick(rng, Emoji));
    }

    /// <summary>The first rank whose cumulative weight reaches <paramref name="u"/>.</summary>
    static int Zipf(double[] cumulative, double u)
    {
        int at = Array.BinarySearch(cumulative, u);
        return at >= 0 ? at : Math.Min(~at, cumulative.Length - 1);
    }

    static string Pick(Rng rng, string[] items) => items[rng.NextInt(items.Length)];
}
