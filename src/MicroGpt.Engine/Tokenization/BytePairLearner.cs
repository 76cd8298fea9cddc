using System.Diagnostics;
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
    readonly Position[] positions; // (P)
    readonly long[] weight;        // (D) how often each distinct chunk occurs in the text

    readonly PairTable pairIds = new(1 << 16);
    long[] pairKey = new long[1024];                  // (Q) left id in the high half, right id in the low half
    long[] pairCount = new long[1024];                // (Q) weighted occurrences, as the naive count gives them
    PositionList[] occurrences = new PositionList[1024]; // (Q) left positions where the pair was made (some since broken)
    readonly List<int> freshPairs = [];               // pairs first seen in the present merge
    readonly PriorityQueue<int, Candidate> queue = new(CandidateOrder.Instance);

    /// <summary>
    /// One byte of a distinct chunk, and the token that starts there. Its four fields sit together
    /// because a merge reads them together, at places spread over the whole array.
    /// </summary>
    struct Position(int token, int prev, int next, int chunk)
    {
        public int Token = token; // the token that starts here; -1 once merged into the one before it
        public int Prev = prev;   // the position of the token before, within the chunk; -1 at its start
        public int Next = next;   // the position of the token after, within the chunk; -1 at its end
        public readonly int Chunk = chunk;
    }

    BytePairLearner(ChunkTable chunks, long[] chunkCounts)
    {
        positions = new Position[checked((int)chunks.KeyBytes)];
        weight = chunkCounts;
        // At first every pair is two bytes: count each one's places, then lay all the places out
        // in one array, pair after pair, each pair's in increasing order.
        const int BytePairs = BytePairEncoding.ByteTokens * BytePairEncoding.ByteTokens;
        var places = new int[BytePairs];
        var counts = new long[BytePairs];
        int at = 0;
        for (int d = 0; d < chunks.Count; d++)
        {
            var bytes = chunks.Key(d);
            for (int k = 0; k < bytes.Length; k++, at++)
            {
                positions[at] = new Position(bytes[k], k == 0 ? -1 : at - 1, k == bytes.Length - 1 ? -1 : at + 1, d);
                if (k == 0) continue;
                int bytePair = bytes[k - 1] << 8 | bytes[k];
                places[bytePair]++;
                counts[bytePair] += weight[d];
            }
        }
        var starts = new int[BytePairs + 1];
        for (int b = 0; b < BytePairs; b++) starts[b + 1] = starts[b] + places[b];
        var all = new int[starts[BytePairs]];
        var fill = starts[..BytePairs];
        for (int i = 0; i < positions.Length; i++)
            if (positions[i].Next >= 0) all[fill[positions[i].Token << 8 | positions[positions[i].Next].Token]++] = i;
        for (int b = 0; b < BytePairs; b++)
        {
            if (places[b] == 0) continue;
            int pair = NewPair(b >> 8, b & 0xFF);
            pairCount[pair] = counts[b];
            occurrences[pair] = new PositionList(all, starts[b], places[b]);
            Enqueue(pair);
        }
        freshPairs.Clear();
    }

    /// <summary>
    /// The distinct chunks of some texts, each with how often it occurs; a
    /// <see cref="CorpusException"/> once they take more than <paramref name="maxDistinctBytes"/>
    /// together (<see cref="MaxDistinctBytes"/> unless a test asks for less).
    /// </summary>
    public static (ChunkTable Chunks, long[] Counts) CountChunks(IEnumerable<string> texts, CancellationToken cancel, long maxDistinctBytes = MaxDistinctBytes)
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
                if (added)
                {
                    if (chunks.KeyBytes > maxDistinctBytes) throw TooManyDistinctBytes(maxDistinctBytes);
                    if (d == counts.Length) Array.Resize(ref counts, 2 * counts.Length);
                }
                counts[d]++;
            }
            cancel.ThrowIfCancellationRequested();
        }
        return (chunks, counts);
    }

    /// <summary>
    /// The most bytes that the distinct chunks may take together. Learning's peak memory grows
    /// with them, by about 40 bytes for each in the worst case (random words, every chunk
    /// distinct; see bench/RESULTS.md), so this keeps learning under about 1.5 GB whatever the
    /// text. Natural text stays far below it: 100 MB of English-like text has about 1 MB of
    /// distinct chunks.
    /// </summary>
    public const long MaxDistinctBytes = 1L << 25;

    static CorpusException TooManyDistinctBytes(long maxDistinctBytes) => new(
        $"The text's distinct chunks (words, numbers, runs of punctuation or of space) take more than {maxDistinctBytes:N0} bytes together: "
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
            ref var here = ref positions[i];
            if (here.Token != left) continue; // merged away, or merged into something else, since
            int j = here.Next;
            if (j < 0 || positions[j].Token != right) continue;
            long w = weight[here.Chunk];
            pairCount[pair] -= w;
            int before = here.Prev;
            if (before >= 0)
            {
                int beforeToken = positions[before].Token;
                pairCount[PairId(beforeToken, left)] -= w;
                Occur(beforeToken, merged, w, before);
            }
            int after = positions[j].Next;
            if (after >= 0)
            {
                int afterToken = positions[after].Token;
                pairCount[PairId(right, afterToken)] -= w;
                Occur(merged, afterToken, w, i);
                positions[after].Prev = i;
            }
            here.Token = merged;
            here.Next = after;
            positions[j].Token = -1;
        }
        foreach (int p in freshPairs) Enqueue(p);
        freshPairs.Clear();
    }

    /// <summary>Counts the pair (left, right) at position <paramref name="at"/>, <paramref name="w"/> times.</summary>
    void Occur(int left, int right, long w, int at)
    {
        if (!pairIds.TryGetValue(left, right, out int pair))
        {
            pair = NewPair(left, right);
            freshPairs.Add(pair);
        }
        pairCount[pair] += w;
        occurrences[pair].Add(at);
    }

    int NewPair(int left, int right)
    {
        int pair = pairIds.Count;
        pairIds.TryAdd(left, right, pair);
        if (pair == pairCount.Length)
        {
            Array.Resize(ref pairKey, 2 * pair);
            Array.Resize(ref pairCount, 2 * pair);
            Array.Resize(ref occurrences, 2 * pair);
        }
        pairKey[pair] = PairTable.Pack(left, right);
        return pair;
    }

    int PairId(int left, int right) => pairIds.TryGetValue(left, right, out int pair) ? pair : throw new InvalidOperationException($"The pair ({left}, {right}) was never counted.");

    void Enqueue(int pair)
    {
        if (pairCount[pair] <= 0) return;
        var (left, right) = Unpack(pair);
        queue.Enqueue(pair, new Candidate(pairCount[pair], left, right));
    }

    (int Left, int Right) Unpack(int pair) => ((int)(pairKey[pair] >> 32), (int)pairKey[pair]);

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

    /// <summary>
    /// A pair's places: a slice of the one array laid out at the start (pairs of two bytes, which
    /// never get more places: every pair that a merge makes holds its new token), or a growable
    /// array of its own (pairs that merges made). A struct, so that a pair's list costs one array.
    /// </summary>
    struct PositionList(int[] items, int start, int count)
    {
        int[]? items = items;
        readonly int start = start;
        int count = count;

        public void Add(int position)
        {
            Debug.Assert(start == 0, "A pair of two bytes gets no places after the first count.");
            if (items is null) items = new int[2];
            else if (count == items.Length) Array.Resize(ref items, 2 * count);
            items[count++] = position;
        }

        public readonly ReadOnlySpan<int> AsSpan() => items.AsSpan(start, count);
    }
}
