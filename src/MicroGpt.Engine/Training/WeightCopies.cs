using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MicroGpt;

/// <summary>
/// A copy of the weights for each group of examples a trainer's threads work on, so that no core
/// ever rewrites a cache line that another core has only read: on a shared host such a rewrite may
/// wait for the other core to drop its copy, line after line, and with shared weights every step
/// does it (both cores read all the weights, then Adam rewrites them; bench/RESULTS.md, "Copies of
/// the weights", has the figures). With copies, each group reads its own, and Adam (run for each
/// chunk of parameters on the thread of the chunk's home group) writes the new values into every
/// copy. Group 0's copy is the model's parameters themselves, which are complete after every step.
/// Once a group has read its copy for a step (its forward and backward passes), it claims the
/// chunks that other threads write: it stores the values it read again, which leaves the lines on
/// its core alone, so that the next step's Adam takes them back cheaply.
/// Values are copied, never computed, so the numbers are those of shared weights. The copies
/// follow the parameters only through Adam: a trainer makes them from the parameters when it
/// starts, and the parameters must not change outside the optimizer while it runs (invariant 3 of
/// <see cref="StepRunner"/>; <see cref="CheckEqualToParameters"/> checks it in DEBUG builds).
/// Used for small models only (<see cref="Worthwhile"/>): there the weights live in the caches and
/// these stalls are a large part of a step; for large ones the copies would cost more memory
/// traffic than they save.
/// </summary>
sealed class WeightCopies
{
    readonly float[][] copies;  // [group] the weights the group reads
    readonly ParameterRange[] chunks; // the ranges Adam updates, each homed in the group of its Owner

    /// <summary>
    /// Gives group 0 <paramref name="parameters"/> and every other group a copy of them; chunk c is
    /// homed in group chunks[c].Owner.
    /// </summary>
    public WeightCopies(float[] parameters, int groups, ParameterRange[] chunks)
    {
        copies = Enumerable.Range(0, groups).Select(g => g == 0 ? parameters : (float[])parameters.Clone()).ToArray();
        this.chunks = chunks;
    }

    /// <summary>Whether copies pay for this many parameters and groups.</summary>
    public static bool Worthwhile(int parameters, int groups) => groups > 1 && (long)(groups - 1) * parameters <= Tunables.WeightCopiesBudget;

    /// <summary>The weights group <paramref name="group"/> reads: always the current ones, claimed or not.</summary>
    public float[] For(int group) => copies[group];

    /// <summary>
    /// Claims for group <paramref name="group"/>, on its thread, the chunks of its copy that other
    /// threads write, once the group has read them for this step: the lines are then this core's
    /// alone, and the next step's Adam takes them over cheaply.
    /// </summary>
    public void Claim(int group)
    {
        var copy = copies[group];
        ref float at = ref MemoryMarshal.GetArrayDataReference(copy);
        foreach (var (start, length, home) in chunks)
        {
            if (home == group) continue;
            // The same values, stored again: the store is what moves the line to this core alone.
            int i = start, end = start + length;
            for (; i + Vector256<float>.Count <= end; i += Vector256<float>.Count)
                Vector256.LoadUnsafe(ref at, (nuint)i).StoreUnsafe(ref at, (nuint)i);
            for (; i < end; i++) copy[i] = Volatile.Read(ref copy[i]);
        }
    }

    /// <summary>
    /// The home copy of chunk <paramref name="c"/>, which Adam updates along with the model's
    /// parameters; empty when the home is group 0, whose copy the parameters are.
    /// </summary>
    public Span<float> Home(int c) => chunks[c].Owner == 0 ? default : copies[chunks[c].Owner].AsSpan(chunks[c].Start, chunks[c].Length);

    /// <summary>
    /// Throws, in DEBUG builds, when a copy differs from the parameters by a bit: something changed
    /// the weights outside the optimizer while a trainer ran, and the groups would read stale ones.
    /// </summary>
    [Conditional("DEBUG")]
    public void CheckEqualToParameters()
    {
        var parameters = MemoryMarshal.Cast<float, int>(copies[0].AsSpan());
        for (int g = 1; g < copies.Length; g++)
            if (!parameters.SequenceEqual(MemoryMarshal.Cast<float, int>(copies[g].AsSpan())))
                throw new InvalidOperationException($"The weights of thread {g} differ from the parameters: they changed outside the optimizer while a trainer ran.");
    }

    /// <summary>Makes every copy equal the parameters again, after the trainer has put back weights from outside Adam.</summary>
    public void Reset()
    {
        for (int g = 1; g < copies.Length; g++) copies[0].CopyTo(copies[g], 0);
    }

    /// <summary>Puts the new values of chunk <paramref name="c"/> into the copies of the other groups but 0 (the parameters, which Adam wrote).</summary>
    public void Send(int c, ReadOnlySpan<float> values)
    {
        for (int g = 1; g < copies.Length; g++)
            if (g != chunks[c].Owner) values.CopyTo(copies[g].AsSpan(chunks[c].Start));
    }
}
