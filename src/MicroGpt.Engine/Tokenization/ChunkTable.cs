using System.Buffers.Binary;
using System.Numerics;

namespace MicroGpt;

/// <summary>
/// A set of byte strings (the UTF-8 chunks of a text) that gives each distinct one a dense index,
/// looked up by span, so that counting chunks or caching their tokens allocates nothing per
/// chunk. Open addressing with linear probing over a power-of-two table; the keys live end to end
/// in one byte array. Callers keep what they need per chunk in their own arrays, by index.
/// </summary>
sealed class ChunkTable
{
    int[] slots;            // entry index + 1, or 0 for an empty slot
    int[] hashes;           // (entries) the full hash of each key
    int[] keyStarts;        // (entries + 1) where each key starts in keyBytes
    byte[] keyBytes;

    public ChunkTable(int capacity = 16)
    {
        capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 16));
        slots = new int[2 * capacity];
        hashes = new int[capacity];
        keyStarts = new int[capacity + 1];
        keyBytes = new byte[capacity * 8];
    }

    /// <summary>How many distinct keys the table holds; their indices are 0 .. Count - 1.</summary>
    public int Count { get; private set; }

    /// <summary>The bytes that all keys take together.</summary>
    public long KeyBytes => keyStarts[Count];

    public ReadOnlySpan<byte> Key(int index) => keyBytes.AsSpan(keyStarts[index], keyStarts[index + 1] - keyStarts[index]);

    /// <summary>The index of <paramref name="key"/>, or -1 when the table lacks it.</summary>
    public int IndexOf(ReadOnlySpan<byte> key)
    {
        int hash = Hash(key);
        int mask = slots.Length - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask)
        {
            int entry = slots[slot] - 1;
            if (entry < 0) return -1;
            if (hashes[entry] == hash && Key(entry).SequenceEqual(key)) return entry;
        }
    }

    /// <summary>The index of <paramref name="key"/>, added as the next index when it is new.</summary>
    public int Add(ReadOnlySpan<byte> key, out bool added)
    {
        int hash = Hash(key);
        int mask = slots.Length - 1;
        int slot = hash & mask;
        for (; ; slot = (slot + 1) & mask)
        {
            int entry = slots[slot] - 1;
            if (entry < 0) break;
            if (hashes[entry] == hash && Key(entry).SequenceEqual(key))
            {
                added = false;
                return entry;
            }
        }

        int index = Count;
        if (index == hashes.Length)
        {
            Array.Resize(ref hashes, 2 * index);
            Array.Resize(ref keyStarts, 2 * index + 1);
        }
        int start = keyStarts[index];
        if (start + key.Length > keyBytes.Length) Array.Resize(ref keyBytes, Math.Max(2 * keyBytes.Length, start + key.Length));
        key.CopyTo(keyBytes.AsSpan(start));
        keyStarts[index + 1] = start + key.Length;
        hashes[index] = hash;
        slots[slot] = index + 1;
        Count = index + 1;
        if (2 * Count > slots.Length) Rehash(); // keep the table at most half full
        added = true;
        return index;
    }

    /// <summary>Forgets every key (keeping the arrays), for a cache that must stay bounded.</summary>
    public void Clear()
    {
        Array.Clear(slots);
        Count = 0;
    }

    void Rehash()
    {
        slots = new int[2 * slots.Length];
        int mask = slots.Length - 1;
        for (int entry = 0; entry < Count; entry++)
        {
            int slot = hashes[entry] & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = entry + 1;
        }
    }

    /// <summary>
    /// A multiply-rotate hash over 8 bytes at a time with a final avalanche (the constants are
    /// splitmix64's): fixed, so that a table's performance does not change from run to run.
    /// </summary>
    static int Hash(ReadOnlySpan<byte> key)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)key.Length;
        while (key.Length >= 8)
        {
            h = BitOperations.RotateLeft((h ^ BinaryPrimitives.ReadUInt64LittleEndian(key)) * 0xBF58476D1CE4E5B9UL, 29);
            key = key[8..];
        }
        ulong tail = 0;
        for (int i = 0; i < key.Length; i++) tail |= (ulong)key[i] << (8 * i);
        h = (h ^ tail) * 0x94D049BB133111EBUL;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 29;
        return (int)h;
    }
}
