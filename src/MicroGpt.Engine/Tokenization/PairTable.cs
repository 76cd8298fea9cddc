using System.Numerics;

namespace MicroGpt;

/// <summary>
/// A map from a pair of token ids to an int (a merge's index, or a pair's number while learning):
/// open addressing with linear probing and Fibonacci hashing over the packed pair, which the
/// encoder and the learner look up several times per byte (about twice as fast as a
/// Dictionary&lt;long, int&gt; there).
/// </summary>
sealed class PairTable
{
    const long Empty = -1; // no packed pair is negative: ids are
    long[] keys;
    int[] values;
    int shift;

    public PairTable(int capacity)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2 * capacity, 16));
        keys = new long[size];
        Array.Fill(keys, Empty);
        values = new int[size];
        shift = 64 - BitOperations.Log2((uint)size);
    }

    public int Count { get; private set; }

    public static long Pack(int left, int right) => ((long)left << 32) | (uint)right;

    public bool TryGetValue(int left, int right, out int value)
    {
        long key = Pack(left, right);
        int mask = keys.Length - 1;
        for (int slot = Slot(key); ; slot = (slot + 1) & mask)
        {
            long k = keys[slot];
            if (k == key)
            {
                value = values[slot];
                return true;
            }
            if (k == Empty)
            {
                value = 0;
                return false;
            }
        }
    }

    /// <summary>Adds the pair with <paramref name="value"/>; false (and no change) when it is there already.</summary>
    public bool TryAdd(int left, int right, int value)
    {
        long key = Pack(left, right);
        int mask = keys.Length - 1;
        int slot = Slot(key);
        for (; keys[slot] != Empty; slot = (slot + 1) & mask)
            if (keys[slot] == key) return false;
        keys[slot] = key;
        values[slot] = value;
        if (2 * ++Count > keys.Length) Grow(); // keep the table at most half full
        return true;
    }

    int Slot(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15UL)) >> shift);

    void Grow()
    {
        var (oldKeys, oldValues) = (keys, values);
        keys = new long[2 * oldKeys.Length];
        Array.Fill(keys, Empty);
        values = new int[keys.Length];
        shift--;
        int mask = keys.Length - 1;
        for (int i = 0; i < oldKeys.Length; i++)
        {
            if (oldKeys[i] == Empty) continue;
            int slot = Slot(oldKeys[i]);
            while (keys[slot] != Empty) slot = (slot + 1) & mask;
            keys[slot] = oldKeys[i];
            values[slot] = oldValues[i];
        }
    }
}
