using System.Text;

namespace MicroGpt;

/// <summary>
/// A 64-bit FNV-1a digest of everything a model file says: configuration, tokenizer (what it says
/// it holds: <see cref="Tokenizer.AddTo"/>), training summary, weights and optimizer state (the
/// options as <see cref="TrainingOptions.All"/> describes them), taken from the values (not the
/// text), so a file that parses but has a changed digit, word or count is refused instead of
/// silently loaded. The bytes hashed for each format version never change: files keep verifying.
/// </summary>
static class Checksum
{
    public const string Prefix = "fnv1a64:";

    /// <summary>The digest of a file of <paramref name="version"/> (which decides the options it has: <see cref="TrainingOption.Since"/>).</summary>
    public static string Of(Model model, OptimizerState? optimizer, int version = ModelFile.FormatVersion)
    {
        var hash = new Fnv1a();
        var c = model.Config;
        hash.Add(c.VocabSize); hash.Add(c.EmbeddingSize); hash.Add(c.Heads); hash.Add(c.Layers); hash.Add(c.BlockSize);
        model.Tokenizer.AddTo(ref hash);
        hash.Add(model.Summary.Seed ?? int.MinValue);
        hash.Add(model.Summary.Steps);
        hash.Add(model.Summary.Tokens);
        hash.Add(BitConverter.DoubleToInt64Bits(model.Summary.LastLoss ?? double.NaN));
        hash.Add(model.Parameters);
        if (optimizer is not null)
        {
            hash.Add(optimizer.NextStep); hash.Add(optimizer.Tokens); hash.Add(optimizer.CorpusSentences); hash.Add((long)optimizer.CorpusFingerprint);
            if (optimizer.CorpusOrigin is { } origin) // absent from older checkpoints, whose checksums stay as they were
            {
                hash.Add((int)origin.Source);
                foreach (string file in origin.Files) hash.Add(file);
            }
            foreach (var option in TrainingOptions.All)
                if (option.InCheckpoints && version >= option.Since) hash.Add(option.ChecksumValue(optimizer.Options));
            hash.Add(optimizer.M);
            hash.Add(optimizer.V);
        }
        return Prefix + hash.Value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The 64-bit FNV-1a hash that <see cref="Checksum"/> takes of a model file's values.</summary>
struct Fnv1a()
{
    public ulong Value { get; private set; } = 14695981039346656037;

    public void Add(long value)
    {
        for (int i = 0; i < 8; i++, value >>= 8) Value = (Value ^ (byte)value) * 1099511628211;
    }

    public void Add(string text)
    {
        foreach (byte b in Encoding.UTF8.GetBytes(text)) Value = (Value ^ b) * 1099511628211;
        Add(-1L); // a separator, so that "ab","c" and "a","bc" differ
    }

    public void Add(float[] values)
    {
        Add(values.Length);
        foreach (float v in values) Add(BitConverter.SingleToInt32Bits(v));
    }
}
