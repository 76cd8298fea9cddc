using System.Text;

namespace MicroGpt;

/// <summary>
/// Learns byte-pair merges the incremental way: the text's chunks are counted once (each distinct
/// chunk is kept once, with how often it occurs), every adjacent pair of tokens in them is counted
/// once, and then each merge touches only the places where its pair occurs: it takes away the
/// pairs it breaks (left neighbour with the left token, right token with the right neighbour) and
/// adds the pairs it makes with the new token. The best pair comes from a priority queue.
/// <para>
/// The result is exactly what the naive loop (count every pair of every chunk, merge the best one
/// everywhere from left to right, repeat) gives, at a cost of about one merge's own occurrences
/// per merge instead of the whole text. Two facts make the lazy queue exact: a pair's count only
/// grows in the step that creates one of its tokens (any new neighbourhood holds the new token),
/// so a queued count is an upper bound of the pair's count after that step; and a pair taken from
/// the queue whose count has dropped since goes back with its present count.
/// </para>
/// </summary>
sealed class BytePairLearner
{
    // Legend: P = positions (every byte of every distinct chunk, chunks end to end),
    // D = distinct chunks, Q = distinct pairs seen so far.
    readonly int[] token;   // (P) the token that starts at each position; -1 once merged into the one before it
    readonly int[] prev;    // (P) the position of the token before, within the chunk; -1 at its start
    readonly int[] next;    // (P) the position of the token after, within the chunk; -1 at its end
    readonly int[] chunkOf; // (P) the distinct chunk of each position
    readonly long[] weight; // (D) how often each distinct chunk occurs in the text

    readonly Dictionary<long, int> pairIds = [];
    long[] pairKey = new long[1024];                  // (Q) left id in the high half, right id in the low half
    long[] pairCount = new long[1024];                // (Q) weighted occurrences, as the naive count gives them
    PositionList[] occurrences = new PositionList[1024]; // (Q) left positions where the pair was made (some since broken)
    readonly List<int> freshPairs = [];               // pairs first seen in the present merge
    readonly PriorityQueue<int, Candidate> queue = new(CandidateOrder.Instance);

    BytePairLearner(ChunkTable chunks, long[] chunkCounts)
    {
        int positions = checked((int)chunks.KeyBytes);
        token = new int[positions];
        prev = new int[positions];
        next = new int[positions];
        chunkOf = new int[positions];
        weight = chunkCounts;
        int at = 0;
        for (int d = 0; d < chunks.Count; d++)
        {
            var bytes = chunks.Key(d);
            for (int k = 0; k < bytes.Length; k++, at++)
            {
                token[at] = bytes[k];
                prev[at] = k == 0 ? -1 : at - 1;
                next[at] = k == bytes.Length - 1 ? -1 : at + 1;
                chunkOf[at] = d;
                if (k > 0) Occur(bytes[k - 1], bytes[k], weight[d], at - 1);
            }
        }
        for (int p = 0; p < pairIds.Count; p++) Enqueue(p);
        freshPairs.Clear();
    }

    /// <summary>The distinct chunks of some texts, each with how often it occurs.</summary>
    public static (ChunkTable Chunks, long[] Counts) CountChunks(IEnumerable<string> texts, CancellationToken cancel)
    {
        var chunks = new ChunkTable(1024);
        var counts = new long[1024];
        Span<byte> utf8 = stackalloc byte[PreSplitter.MaxChunkBytes];
        foreach (string text in texts)
        {
            var cursor = new PreSplitter.ChunkCursor();
            int seen = 0;
            while (cursor.Next(text, out int start, out int end))
            {
                if ((++seen & 0xFFFF) == 0) cancel.ThrowIfCancellationRequested();
                int length = Encoding.UTF8.GetBytes(text.AsSpan(start, end - start), utf8);
                int d = chunks.Add(utf8[..length], out bool added);
                if (added && d == counts.Length)
                {
                    if (chunks.KeyBytes > MaxDistinctBytes) throw TooManyDistinctBytes(chunks.KeyBytes);
                    Array.Resize(ref counts, 2 * counts.Length);
                }
                counts[d]++;
            }
            cancel.ThrowIfCancellationRequested();
        }
        if (chunks.KeyBytes > MaxDistinctBytes) throw TooManyDistinctBytes(chunks.KeyBytes);
        return (chunks, counts);
    }

    /// <summary>
    /// The most bytes the distinct chunks may take together: learning holds about 40 bytes for
    /// each (see bench/RESULTS.md), so this keeps learning within a few gigabytes whatever the text.
    /// Natural text stays far below it: its distinct chunks are a small part of it.
    /// </summary>
    public const long MaxDistinctBytes = 1L << 27;

    static CorpusException TooManyDistinctBytes(long bytes) => new(
        $"The text's distinct chunks (words, numbers, runs of punctuation or space) take more than {MaxDistinctBytes:N0} bytes together ({bytes:N0} so far): "
        + "learning merges over them would take too much memory. Learn the tokenizer on a part of the text; it still encodes all of it.");

    /// <summary>Up to <paramref name="count"/> merges, fewer when no pair is left to merge.</summary>
    public static List<TokenPair> Learn(ChunkTable chunks, long[] chunkCounts, int count, CancellationToken cancel)
    {
        var learner = new BytePairLearner(chunks, chunkCounts);
        var merges = new List<TokenPair>(count);
        while (merges.Count < count && learner.TryTakeBest(out int pair))
        {
            cancel.ThrowIfCancellationRequested();
            var (left, right) = learner.Unpack(pair);
            learner.Merge(pair, left, right, BytePairEncoding.ByteTokens + merges.Count);
            merges.Add(new TokenPair(left, right));
        }
        return merges;
    }

    /// <summary>The pair with the highest count, ties to the smallest left id, then right id; false when none is left.</summary>
    bool TryTakeBest(out int pair)
    {
        while (queue.TryDequeue(out pair, out var queued))
        {
            long count = pairCount[pair];
            if (count == queued.Count) return true;
            if (count > 0) queue.Enqueue(pair, queued with { Count = count });
        }
        return false;
    }

    /// <summary>Replaces every occurrence of (left, right) by <paramref name="merged"/>, from left to right within each chunk.</summary>
    void Merge(int pair, int left, int right, int merged)
    {
        var places = occurrences[pair];
        occurrences[pair] = default;
        // With left == right, "a a a" holds the pair twice, overlapping, and only the first may
        // merge, as in the naive loop's scan from left to right. The places are in increasing
        // order, which is that order (positions grow from left to right, and a merged token keeps
        // its left position): a pair's places are all added in one merge (the one that makes the
        // newer of its tokens, or the first count), while that merge goes through its own places
        // in increasing order and adds, for each, the new token's place (to pairs that start with
        // it) or its left neighbour's (to pairs that end with it). A pair of two new tokens gets
        // only the second kind: the new token to the right of a place is made after it.
        foreach (int i in places.AsSpan())
        {
            if (token[i] != left) continue; // merged away, or merged into something else, since
            int j = next[i];
            if (j < 0 || token[j] != right) continue;
            long w = weight[chunkOf[i]];
            pairCount[pair] -= w;
            int before = prev[i];
            if (before >= 0)
            {
                pairCount[PairId(token[before], left)] -= w;
                Occur(token[before], merged, w, before);
            }
            int after = next[j];
            if (after >= 0)
            {
                pairCount[PairId(right, token[after])] -= w;
                Occur(merged, token[after], w, i);
            }
            token[i] = merged;
            token[j] = -1;
            next[i] = after;
            if (after >= 0) prev[after] = i;
        }
        foreach (int p in freshPairs) Enqueue(p);
        freshPairs.Clear();
    }

    /// <summary>Counts the pair (left, right) at position <paramref name="at"/>, <paramref name="w"/> times.</summary>
    void Occur(int left, int right, long w, int at)
    {
        long key = Pack(left, right);
        if (!pairIds.TryGetValue(key, out int pair))
        {
            pair = pairIds.Count;
            pairIds.Add(key, pair);
            if (pair == pairCount.Length)
            {
                Array.Resize(ref pairKey, 2 * pair);
                Array.Resize(ref pairCount, 2 * pair);
                Array.Resize(ref occurrences, 2 * pair);
            }
            pairKey[pair] = key;
            freshPairs.Add(pair);
        }
        pairCount[pair] += w;
        occurrences[pair].Add(at);
    }

    int PairId(int left, int right) => pairIds[Pack(left, right)];

    void Enqueue(int pair)
    {
        if (pairCount[pair] <= 0) return;
        var (left, right) = Unpack(pair);
        queue.Enqueue(pair, new Candidate(pairCount[pair], left, right));
    }

    (int Left, int Right) Unpack(int pair) => ((int)(pairKey[pair] >> 32), (int)pairKey[pair]);

    static long Pack(int left, int right) => ((long)left << 32) | (uint)right;

    readonly record struct Candidate(long Count, int Left, int Right);

    /// <summary>Queue order: the highest count first; ties to the smallest left id, then the smallest right id.</summary>
    sealed class CandidateOrder : IComparer<Candidate>
    {
        public static readonly CandidateOrder Instance = new();

        public int Compare(Candidate x, Candidate y)
        {
            int byCount = y.Count.CompareTo(x.Count);
            if (byCount != 0) return byCount;
            int byLeft = x.Left.CompareTo(y.Left);
            return byLeft != 0 ? byLeft : x.Right.CompareTo(y.Right);
        }
    }

    /// <summary>A growable list of positions, a struct so that a pair's list costs one array.</summary>
    struct PositionList
    {
        int[]? items;
        int count;

        public void Add(int position)
        {
            if (items is null) items = new int[2];
            else if (count == items.Length) Array.Resize(ref items, 2 * count);
            items[count++] = position;
        }

        public readonly ReadOnlySpan<int> AsSpan() => items.AsSpan(0, count);
    }
}
