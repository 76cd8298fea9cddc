namespace MicroGpt;

/// <summary>
/// How much more memory this process can get, for the checks that refuse a model, a model file or
/// a corpus too large to fit before anything is allocated for it. The runtime's limit is the
/// machine's memory, or a container's or GCHeapHardLimit's limit when one is set; what is already
/// in use there (by every process, or the container, as of the last collection) is not available.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Bytes this process can still allocate, as far as the runtime knows.</summary>
    public static long Available()
    {
        var info = GC.GetGCMemoryInfo();
        // Before the first collection the runtime has not measured the load: count this process only.
        long inUse = info.MemoryLoadBytes > 0 ? info.MemoryLoadBytes : Environment.WorkingSet;
        return Math.Max(0, info.TotalAvailableMemoryBytes - inUse);
    }

    /// <summary>A size in MiB for messages: "1,234 MiB".</summary>
    public static string Describe(long bytes) => $"{bytes / (1 << 20):N0} MiB";
}
