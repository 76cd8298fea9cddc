using System.Runtime.InteropServices;
using System.Text.Json;

namespace MicroGpt;

/// <summary>
/// Byte-level BPE (<see cref="BytePairEncoding"/>) as a tokenizer: ids 0 to 255 are the bytes,
/// 256 onwards the merges in the order learned, and BOS comes after them, so a vocabulary size
/// of N (BOS included, the size of a model's tables) holds N - 257 merges. Any text encodes, and
/// decode(encode(x)) is x: there is no unknown token. It learns from a corpus's text (its lines,
/// each ended by a newline), so newlines and indentation are learned as the text has them.
/// Its pieces are the tokens as text for display (<see cref="BytePairEncoding.PieceOf"/>): UTF-8
/// where the bytes are whole characters, \xNN for each byte of a cut one, \uNNNN for a control
/// character such as the newline. A model file keeps the merge list, the whole state, as
/// <c>merges</c> ([[left, right], ...]); its checksum hashes the kind, the count and every merge.
/// </summary>
public sealed class BytePairTokenizer : Tokenizer
{
    readonly BytePairEncoding encoding;

    /// <summary>The tokenizer of a merge list (<see cref="BytePairEncoding.Train(string, int, CancellationToken)"/>, or one read back).</summary>
    public BytePairTokenizer(BytePairEncoding encoding) : base(Pieces(encoding)) => this.encoding = encoding;

    internal override TokenizerKindInfo Info => TokenizerKindInfo.Bpe;

    internal override bool EncodesAnyText => true;

    /// <summary>The merges, in the order learned: merge k makes token 256 + k.</summary>
    internal IReadOnlyList<TokenPair> Merges => encoding.Merges;

    public override int[] Encode(string text) => encoding.Encode(text);

    private protected override string DecodePieces(List<int> tokens) => encoding.Decode(CollectionsMarshal.AsSpan(tokens));

    internal override bool SameAs(Tokenizer other) => other is BytePairTokenizer bpe && bpe.Merges.SequenceEqual(Merges);

    private protected override void WriteContent(Utf8JsonWriter json)
    {
        json.WriteStartArray("merges");
        foreach (var (left, right) in Merges)
        {
            json.WriteStartArray();
            json.WriteNumberValue(left);
            json.WriteNumberValue(right);
            json.WriteEndArray();
        }
        json.WriteEndArray();
    }

    internal override void AddTo(ref Fnv1a hash)
    {
        hash.Add((int)TokenKind);
        hash.Add(Merges.Count);
        foreach (var (left, right) in Merges)
        {
            hash.Add(left);
            hash.Add(right);
        }
    }

    static string[] Pieces(BytePairEncoding encoding)
    {
        var pieces = new string[encoding.VocabSize];
        for (int token = 0; token < pieces.Length; token++) pieces[token] = encoding.PieceOf(token);
        return pieces;
    }

    /// <summary>
    /// Learns merges from the corpus's text until the vocabulary, BOS included, has
    /// <paramref name="vocabSize"/> tokens. A size below 257 or above what the text allows is an
    /// <see cref="InvalidConfigurationException"/> naming it (and the most the text allows).
    /// </summary>
    internal static Tokenizer Learn(TokenizerCorpus corpus, int? vocabSize, CancellationToken cancel)
    {
        int size = vocabSize ?? throw new ArgumentNullException(nameof(vocabSize));
        if (corpus.Sentences.Count == 0) throw new CorpusException("The corpus has no sentences: every line is blank.");
        return new BytePairTokenizer(BytePairEncoding.Train([corpus.Text()], size, withBos: true, cancel));
    }

    /// <summary>The tokenizer of a model file's <c>merges</c>; a list that learning cannot make is a <see cref="FormatProblem"/>.</summary>
    internal static Tokenizer ReadMerges(JsonElement element)
    {
        var merges = new List<TokenPair>();
        foreach (var merge in ModelFile.Required(element, "merges", JsonValueKind.Array).EnumerateArray())
        {
            if (merge.ValueKind != JsonValueKind.Array || merge.GetArrayLength() != 2
                || !TryGetId(merge[0], out int left) || !TryGetId(merge[1], out int right))
                throw new FormatProblem($"tokenizer.merges[{merges.Count}] is not a pair of token ids ([left, right]).");
            merges.Add(new TokenPair(left, right));
        }
        try { return new BytePairTokenizer(new BytePairEncoding(merges)); }
        catch (ArgumentException ex) { throw new FormatProblem($"its merges are invalid: {ex.Message}"); }
    }

    static bool TryGetId(JsonElement element, out int id)
    {
        id = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out id);
    }
}
