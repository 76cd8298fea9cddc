namespace MicroGpt;

/// <summary>
/// A copy of the weights for each group of sentences a trainer's threads work on, so that no core
/// ever rewrites a cache line that another core has only read. On the 2-vCPU EPYC of
/// bench/RESULTS.md that rewrite waits for the other core to drop its copy, line after line
/// (128 KB take 18 us that way against 2 us locally), and with shared weights every step does it:
/// both cores read all the weights, then Adam rewrites them. With copies, each group reads its own,
/// and Adam (run for each chunk of parameters on the thread of the chunk's home group) writes the
/// model's parameters, the home group's copy, and the other groups' inboxes; at the start of the
/// next step each group takes the new values of the chunks homed elsewhere out of its inbox and
/// zeroes what it took. Reading a line the other core has just written and then writing it is
/// cheap here (the line moves over whole), and it leaves the line on the reader, so that the next
/// step's Adam finds it there to take back. Values are copied, never computed, so the numbers are
/// those of shared weights.
/// Used for small models only (<see cref="Worthwhile"/>): there the weights live in the caches and
/// these stalls are a large part of a step; for large ones the copies would cost more memory
/// traffic than they save.
/// </summary>
sealed class WeightCopies
{
    const long Budget = 1 << 20; // floats in all the copies and inboxes together: 4 MB

    readonly float[][] copies;  // [group] the weights the group reads
    readonly float[][] inboxes; // [group] new values of the chunks homed in other groups, not yet taken
    readonly ParameterRange[] chunks; // the ranges Adam updates, each homed in the group of its Owner
    bool fresh;                 // Adam has filled the inboxes since they were last taken

    /// <summary>Copies <paramref name="parameters"/> for each group; chunk c is homed in group chunks[c].Owner.</summary>
    public WeightCopies(float[] parameters, int groups, ParameterRange[] chunks)
    {
        copies = Enumerable.Range(0, groups).Select(_ => (float[])parameters.Clone()).ToArray();
        inboxes = Enumerable.Range(0, groups).Select(_ => new float[parameters.Length]).ToArray();
        this.chunks = chunks;
    }

    /// <summary>Whether copies pay for this many parameters and groups.</summary>
    public static bool Worthwhile(int parameters, int groups) => groups > 1 && 2L * groups * parameters <= Budget;

    /// <summary>The weights group <paramref name="group"/> reads this step, after taking what its inbox holds.</summary>
    public float[] For(int group)
    {
        var copy = copies[group];
        if (!fresh) return copy;
        var inbox = inboxes[group];
        foreach (var (first, length, home) in chunks)
        {
            if (home == group) continue;
            // A line at a time would do; a slice of 4 KB keeps the read and the zeroing of a line close.
            for (int start = first, end = first + length; start < end; start += 1024)
            {
                var slice = inbox.AsSpan(start, Math.Min(1024, end - start));
                slice.CopyTo(copy.AsSpan(start));
                slice.Clear();
            }
        }
        return copy;
    }

    /// <summary>Marks the inboxes taken: every group has run <see cref="For"/> this step.</summary>
    public void Taken() => fresh = false;

    /// <summary>The home copy of chunk <paramref name="c"/>, which Adam updates along with the model's parameters.</summary>
    public Span<float> Home(int c) => copies[chunks[c].Owner].AsSpan(chunks[c].Start, chunks[c].Length);

    /// <summary>Puts the new values of chunk <paramref name="c"/> into the inboxes of the groups it is not homed in.</summary>
    public void Send(int c, ReadOnlySpan<float> values)
    {
        for (int g = 0; g < inboxes.Length; g++)
            if (g != chunks[c].Owner) values.CopyTo(inboxes[g].AsSpan(chunks[c].Start));
    }

    /// <summary>Marks the inboxes full: Adam has run on every chunk this step.</summary>
    public void Sent() => fresh = true;
}
