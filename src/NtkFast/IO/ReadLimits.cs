namespace NtkFast.IO;

/// <summary>
/// How much memory a reader may allocate for data whose size comes from the file itself (a .npy
/// shape, a zip member's declared size, an IDX header). Every reader checks the claimed size against
/// the bytes really present (the file's length, or what a compressed stream can inflate to) and
/// against <see cref="MemoryBudget"/> before allocating; a claim beyond either is a one-line
/// <see cref="InvalidDataException"/>, never an attempt to allocate.
/// </summary>
public static class ReadLimits
{
    private static readonly AsyncLocal<long?> Override = new();
    private static long _default;

    /// <summary>
    /// Bytes one read may allocate: the memory available to the process (physical memory or the
    /// container's limit, as the GC sees it), at least 64 MiB.
    /// </summary>
    public static long MemoryBudget
    {
        get
        {
            if (Override.Value is long o) return o;
            if (_default == 0) _default = Math.Max(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
            return _default;
        }
    }

    /// <summary>Sets the budget for the current async flow (tests) until the result is disposed.</summary>
    internal static IDisposable WithBudget(long bytes)
    {
        long? old = Override.Value;
        Override.Value = bytes;
        return new Restore(old);
    }

    private sealed class Restore(long? old) : IDisposable
    {
        public void Dispose() => Override.Value = old;
    }

    /// <summary>The error for a claim of <paramref name="bytes"/> over the budget.</summary>
    internal static InvalidDataException OverBudget(string name, string what, long bytes) =>
        new($"{name}: {what} needs {bytes} bytes of memory, more than the read budget of {MemoryBudget} bytes");
}
