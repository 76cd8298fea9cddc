namespace MicroGpt;

/// <summary>
/// How much more memory this process can get, for the checks that refuse a model, a model file or
/// a corpus too large to fit before anything is allocated for it: the runtime's limit (the
/// machine's memory, a container's limit, or GCHeapHardLimit) less what is already in use.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Bytes this process can still allocate, as far as the runtime knows.</summary>
    public static long Available()
    {
        var info = GC.GetGCMemoryInfo();
        // The heap: what it has committed at the last collection, or holds now (a new array's pages
        // are committed, though not resident until written).
        long heap = Math.Max(info.TotalCommittedBytes, GC.GetTotalMemory(forceFullCollection: false));
        // Under GCHeapHardLimit the limit is the heap's own. Otherwise it is the machine's (or the
        // container's), which the other processes there share: the load the runtime measured at its
        // last collection counts them and this one (0 before the first collection).
        long inUse = HeapLimited() ? heap : Math.Max(Math.Max(heap, Environment.WorkingSet), info.MemoryLoadBytes);
        return Math.Max(0, info.TotalAvailableMemoryBytes - inUse);
    }

    /// <summary>A size in MiB for messages: "1,234 MiB".</summary>
    public static string Describe(long bytes) => $"{bytes / (1 << 20):N0} MiB";

    static bool HeapLimited()
    {
        var settings = GC.GetConfigurationVariables();
        return Positive("GCHeapHardLimit") || Positive("GCHeapHardLimitPercent");

        bool Positive(string name) => settings.TryGetValue(name, out object? value) && Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture) > 0;
    }
}
