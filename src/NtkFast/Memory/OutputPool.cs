namespace NtkFast.Memory;

/// <summary>
/// Storage of large results handed back by their owner (<see cref="Kernels.KernelResult.Dispose"/>), for the next
/// allocating call of the same size. On a VM a first touch of fresh memory costs 0.1–0.2 ms per 2 MiB huge page
/// (≈ 0.3 s for the two 134 MB outputs of an N = 4096 kernel, as much as the compute); a returned array is
/// already mapped. Holds at most <see cref="Capacity"/> arrays of at least 2 MiB (and at most <see cref="MaxBytes"/>); rents only an exact length
/// (a <see cref="Numerics.Matrix"/> owns exactly rows·cols values). Thread-safe.
/// </summary>
internal static class OutputPool
{
    public const int Capacity = 4;
    private const long MinBytes = 2 * 1024 * 1024;
    private static readonly List<double[]> s_free = [];

    /// <summary>An array of <paramref name="length"/> doubles with unspecified contents: a returned one when one fits, else <see cref="OsMemory.AllocateLarge{T}(long)"/>.</summary>
    public static double[] Rent(long length)
    {
        if (length * sizeof(double) >= MinBytes)
            lock (s_free)
                for (int i = s_free.Count - 1; i >= 0; i--)
                    if (s_free[i].LongLength == length)
                    {
                        double[] a = s_free[i];
                        s_free.RemoveAt(i);
                        return a;
                    }
        return OsMemory.AllocateLarge<double>(length);
    }

    /// <summary>
    /// Gives an array back (the caller must not use it again). The oldest are dropped beyond <see cref="Capacity"/>
    /// arrays or <see cref="MaxBytes"/> in all, so the pool never holds more than an eighth of the memory the GC may use.
    /// </summary>
    public static void Return(double[]? a)
    {
        if (a is null || a.LongLength * sizeof(double) < MinBytes || a.LongLength * sizeof(double) > MaxBytes) return;
        lock (s_free)
        {
            foreach (double[] f in s_free) if (ReferenceEquals(f, a)) return;
            s_free.Add(a);
            long total = 0;
            foreach (double[] f in s_free) total += f.LongLength * sizeof(double);
            while (s_free.Count > Capacity || total > MaxBytes)
            {
                total -= s_free[0].LongLength * sizeof(double);
                s_free.RemoveAt(0);
            }
        }
    }

    /// <summary>Bytes the pool may hold: an eighth of the memory available to the GC, at least 256 MiB.</summary>
    public static long MaxBytes => Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8);

    /// <summary>Drops every pooled array (the GC frees them).</summary>
    public static void Clear()
    {
        lock (s_free) s_free.Clear();
    }

    internal static int Count
    {
        get { lock (s_free) return s_free.Count; }
    }
}
