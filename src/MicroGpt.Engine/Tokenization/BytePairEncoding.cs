using System.Buffers;
using System.Text;

namespace MicroGpt;

/// <summary>A merge: the two tokens, left and right, that become one new token wherever they meet.</summary>
public readonly record struct TokenPair(int Left, int Right);

/// <summary>
/// Byte-level byte-pair encoding, in the manner of GPT-2 and minbpe. Tokens 0 to 255 are the bytes;
/// merge k makes token 256 + k from the two tokens of its pair. Text is cut into chunks by
/// <see cref="PreSplitter"/> and encoded as UTF-8, and merges never cross a chunk boundary.
/// <list type="bullet">
/// <item>Learning: the pair that occurs most often in the text's chunks becomes the next merge; a tie
/// goes to the smallest left id, then the smallest right id. The merge replaces its pair in every
/// chunk from left to right ("a a a" becomes "aa a"), and so on until the vocabulary is full.</item>
/// <item>Encoding: within each chunk, the pair of adjacent tokens with the lowest merge (the one
/// learned first), leftmost first, is merged until no pair has a merge: minbpe's encode.</item>
/// <item>Any text encodes, with no unknown token: a character never seen in training is its bytes.
/// decode(encode(x)) == x for every valid string. A lone surrogate (invalid UTF-16) encodes as
/// U+FFFD, as .NET's UTF-8 encoder writes it to a file, so then decode(encode(x)) is x with each
/// lone surrogate replaced by U+FFFD.</item>
/// <item>Decoding: the tokens' bytes, joined, read as UTF-8; bytes that are not valid UTF-8 (a model
/// can sample half a character) become U+FFFD, one for each maximal invalid subsequence, as .NET's
/// decoder and Python's errors='replace' do.</item>
/// </list>
/// The merge list is the whole state (its serialisation). Immutable, so one instance serves many
/// threads; each encode call keeps its own cache of chunks already encoded.
/// </summary>
public sealed class BytePairEncoding
{
    /// <summary>The byte tokens that every vocabulary starts with.</summary>
    public const int ByteTokens = 256;

    /// <summary>
    /// The largest vocabulary: a model's embedding and output tables grow with each token
    /// (the bound that the word and character tokenizers have too).
    /// </summary>
    public const int MaxVocabSize = 1 << 17;

    // An encode call caches the tokens of the distinct chunks it meets, up to this many, then
    // starts afresh, so that a huge text of distinct chunks keeps the cache bounded (< 10 MB).
    const int MaxCachedChunks = 1 << 15;

    readonly TokenPair[] merges;
    readonly PairTable ranks;              // (left, right) -> merge index
    readonly byte[] pieceBytes;            // every token's bytes, end to end
    readonly int[] pieceStarts;            // (V + 1) where each token's bytes start

    /// <summary>
    /// The tokenizer of a merge list (as <see cref="Merges"/> gives it). Each merge may only use
    /// tokens made before it, no pair may appear twice, and no token may be longer than a chunk
    /// can be (<see cref="PreSplitter.MaxChunkBytes"/>): such a list cannot come from learning.
    /// </summary>
    public BytePairEncoding(IEnumerable<TokenPair> merges)
    {
        this.merges = merges.ToArray();
        if (this.merges.Length > MaxVocabSize - ByteTokens)
            throw new ArgumentException($"{this.merges.Length:N0} merges make a vocabulary larger than {MaxVocabSize:N0}.", nameof(merges));
        int vocabulary = ByteTokens + this.merges.Length;
        ranks = new PairTable(this.merges.Length);
        pieceStarts = new int[vocabulary + 1];
        for (int b = 0; b <= ByteTokens; b++) pieceStarts[b] = b;
        var bytes = new List<byte>(4 * vocabulary);
        for (int b = 0; b < ByteTokens; b++) bytes.Add((byte)b);
        for (int k = 0; k < this.merges.Length; k++)
        {
            var (left, right) = this.merges[k];
            int made = ByteTokens + k;
            if ((uint)left >= (uint)made || (uint)right >= (uint)made)
                throw new ArgumentException($"Merge {k} ({left}, {right}) uses a token that is not made before it (tokens 0 to {made - 1} are).", nameof(merges));
            if (!ranks.TryAdd(left, right, k))
                throw new ArgumentException($"Merge {k} ({left}, {right}) repeats merge {(ranks.TryGetValue(left, right, out int first) ? first : -1)}.", nameof(merges));
            int length = Length(left) + Length(right);
            if (length > PreSplitter.MaxChunkBytes)
                throw new ArgumentException($"Merge {k} ({left}, {right}) makes a token of {length} bytes, longer than a chunk can be ({PreSplitter.MaxChunkBytes}).", nameof(merges));
            for (int i = pieceStarts[left]; i < pieceStarts[left + 1]; i++) bytes.Add(bytes[i]);
            for (int i = pieceStarts[right]; i < pieceStarts[right + 1]; i++) bytes.Add(bytes[i]);
            pieceStarts[made + 1] = bytes.Count;
        }
        pieceBytes = bytes.ToArray();
    }

    /// <summary>Learns <paramref name="vocabSize"/> - 256 merges from a text.</summary>
    public static BytePairEncoding Train(string text, int vocabSize, CancellationToken cancel = default) => Train([text], vocabSize, cancel);

    /// <summary>
    /// Learns <paramref name="vocabSize"/> - 256 merges from texts, each cut into chunks on its own
    /// (a chunk never spans two texts). A size below 256, above <see cref="MaxVocabSize"/>, or
    /// above what the texts allow (256 plus the merges possible before every distinct chunk is
    /// one token) is an <see cref="InvalidConfigurationException"/> that names the size and,
    /// for the last, the most the texts allow.
    /// </summary>
    public static BytePairEncoding Train(IEnumerable<string> texts, int vocabSize, CancellationToken cancel = default)
    {
        if (vocabSize < ByteTokens || vocabSize > MaxVocabSize)
            throw new InvalidConfigurationException("VocabSize", vocabSize,
                $"VocabSize {vocabSize} must be between {ByteTokens} (the byte tokens) and {MaxVocabSize:N0}: a byte-level BPE vocabulary holds the {ByteTokens} bytes and then its merges.");
        var (chunks, counts) = BytePairLearner.CountChunks(texts, cancel);
        var learned = BytePairLearner.Learn(chunks, counts, vocabSize - ByteTokens, cancel);
        if (learned.Count < vocabSize - ByteTokens)
            throw new InvalidConfigurationException("VocabSize", vocabSize,
                $"VocabSize {vocabSize} is more than this text allows: after {learned.Count:N0} merges each of its {chunks.Count:N0} distinct chunks is one token, "
                + $"so it allows at most {ByteTokens + learned.Count:N0} tokens (the {ByteTokens} bytes and {learned.Count:N0} merges). Use a smaller VocabSize or a longer text.");
        return new BytePairEncoding(learned);
    }

    /// <summary>The merges in the order learned; merge k makes token 256 + k.</summary>
    public IReadOnlyList<TokenPair> Merges => merges;

    /// <summary>256 byte tokens plus one per merge.</summary>
    public int VocabSize => ByteTokens + merges.Length;

    /// <summary>The bytes that a token stands for.</summary>
    public ReadOnlySpan<byte> BytesOf(int token)
    {
        CheckToken(token);
        return pieceBytes.AsSpan(pieceStarts[token], Length(token));
    }

    /// <summary>
    /// A token as text for display: its bytes read as UTF-8 where they are valid, each byte of an
    /// invalid (or cut) sequence as \xNN, and control characters as \uNNNN (as minbpe's
    /// render_token), so that a newline token shows as \u000A in a table. For display only: a
    /// text that holds a backslash looks the same.
    /// </summary>
    public string PieceOf(int token)
    {
        var bytes = BytesOf(token);
        var text = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out int used) == OperationStatus.Done)
            {
                if (Rune.IsControl(rune)) text.Append($"\\u{rune.Value:X4}");
                else text.Append(rune.ToString());
            }
            else
            {
                foreach (byte b in bytes[..used]) text.Append($"\\x{b:X2}");
            }
            bytes = bytes[used..];
        }
        return text.ToString();
    }

    /// <summary>The tokens of a text; never fails (see the class remarks for invalid UTF-16).</summary>
    public int[] Encode(string text) => new Encoder(this).Encode(text);

    /// <summary>The text of some tokens; bytes that are not valid UTF-8 become U+FFFD. A token outside the vocabulary is an error.</summary>
    public string Decode(ReadOnlySpan<int> tokens)
    {
        long total = 0;
        foreach (int token in tokens)
        {
            CheckToken(token);
            total += Length(token);
        }
        if (total > Array.MaxLength) throw new ArgumentException($"{tokens.Length:N0} tokens hold {total:N0} bytes, more than a string can.", nameof(tokens));
        byte[] rented = ArrayPool<byte>.Shared.Rent((int)total);
        try
        {
            int at = 0;
            foreach (int token in tokens)
            {
                int length = Length(token);
                Buffer.BlockCopy(pieceBytes, pieceStarts[token], rented, at, length);
                at += length;
            }
            return Encoding.UTF8.GetString(rented, 0, at);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    int Length(int token) => pieceStarts[token + 1] - pieceStarts[token];

    void CheckToken(int token)
    {
        if ((uint)token >= (uint)VocabSize)
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token id {token} is outside the vocabulary of {VocabSize}.");
    }

    /// <summary>The merge index of (left, right), or int.MaxValue when they do not merge.</summary>
    int Rank(int left, int right) => ranks.TryGetValue(left, right, out int rank) ? rank : int.MaxValue;

    /// <summary>One encode call: its output and its cache of chunks already encoded.</summary>
    sealed class Encoder(BytePairEncoding bpe)
    {
        readonly ChunkTable cache = new(256);
        int[] cachedTokens = new int[1024]; // the tokens of every cached chunk, end to end
        int[] cachedStarts = new int[257];  // (cached chunks + 1) where each one's tokens start
        int[] output = [];
        int count;

        public int[] Encode(string text)
        {
            output = new int[text.Length / 3 + 16];
            Span<byte> utf8 = stackalloc byte[PreSplitter.MaxChunkBytes];
            Span<int> tokens = stackalloc int[PreSplitter.MaxChunkBytes];
            var cursor = new PreSplitter.ChunkCursor();
            while (cursor.Next(text, out int start, out int end))
            {
                int length = Encoding.UTF8.GetBytes(text.AsSpan(start, end - start), utf8);
                if (count + length > output.Length) Array.Resize(ref output, Math.Max(2 * output.Length, count + length));
                if (length == 1)
                {
                    output[count++] = utf8[0];
                    continue;
                }
                if (cache.Count == MaxCachedChunks) cache.Clear();
                int chunk = cache.Add(utf8[..length], out bool added);
                if (added)
                {
                    int made = bpe.MergeChunk(utf8[..length], tokens);
                    Remember(chunk, tokens[..made]);
                }
                var cached = cachedTokens.AsSpan(cachedStarts[chunk], cachedStarts[chunk + 1] - cachedStarts[chunk]);
                cached.CopyTo(output.AsSpan(count));
                count += cached.Length;
            }
            return output[..count];
        }

        void Remember(int chunk, ReadOnlySpan<int> tokens)
        {
            if (chunk + 2 > cachedStarts.Length) Array.Resize(ref cachedStarts, 2 * cachedStarts.Length);
            int start = cachedStarts[chunk];
            if (start + tokens.Length > cachedTokens.Length) Array.Resize(ref cachedTokens, Math.Max(2 * cachedTokens.Length, start + tokens.Length));
            tokens.CopyTo(cachedTokens.AsSpan(start));
            cachedStarts[chunk + 1] = start + tokens.Length;
        }
    }

    /// <summary>
    /// Encodes one chunk: its bytes, then, while some adjacent pair has a merge, the leftmost
    /// pair with the lowest merge index becomes its token. (Merging them one at a time from the
    /// left is what merging all of a pair's places from left to right does: every pair that a
    /// merge makes holds the new token, whose merges all come later.) Returns the token count.
    /// </summary>
    int MergeChunk(ReadOnlySpan<byte> bytes, Span<int> tokens)
    {
        int n = bytes.Length;
        for (int i = 0; i < n; i++) tokens[i] = bytes[i];
        Span<int> rank = stackalloc int[n]; // rank[i]: the merge of (tokens[i], tokens[i + 1])
        for (int i = 0; i + 1 < n; i++) rank[i] = Rank(tokens[i], tokens[i + 1]);
        while (n > 1)
        {
            int best = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < n; i++)
            {
                if (rank[i] < best)
                {
                    best = rank[i];
                    at = i;
                }
            }
            if (at < 0) break;
            tokens[at] = ByteTokens + best;
            tokens[(at + 2)..n].CopyTo(tokens[(at + 1)..]);
            if (at + 2 < n) rank[(at + 2)..(n - 1)].CopyTo(rank[(at + 1)..]);
            n--;
            if (at > 0) rank[at - 1] = Rank(tokens[at - 1], tokens[at]);
            if (at + 1 < n) rank[at] = Rank(tokens[at], tokens[at + 1]);
        }
        return n;
    }
}
