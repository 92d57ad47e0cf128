using System.Runtime.InteropServices;

namespace NtkFast.Memory;

/// <summary>
/// A large, 2 MiB-aligned native buffer of doubles advised for transparent huge pages
/// (madvise(MADV_HUGEPAGE) on Linux; a no-op elsewhere or when the kernel refuses). On a VM where a
/// first touch costs ~10 µs per 4 KiB page, one 2 MiB page replaces 512 faults. Contents are
/// uninitialised. Owned by one caller; dispose to free. Small buffers (below 2 MiB) are not
/// aligned up and get no advice (a huge page would waste memory).
/// </summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    private const nuint HugePage = 2 * 1024 * 1024;
    private double* _p;

    /// <param name="length">Doubles (≥ 0).</param>
    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        nuint bytes = checked((nuint)Math.Max(1, length) * sizeof(double));
        bool huge = bytes >= HugePage;
        if (huge) bytes = (bytes + HugePage - 1) & ~(HugePage - 1);
        _p = (double*)NativeMemory.AlignedAlloc(bytes, huge ? HugePage : 64);
        if (_p == null) throw new OutOfMemoryException($"could not allocate {bytes} bytes");
        if (huge) OsMemory.AdviseHugePages(_p, bytes);
    }

    /// <summary>Number of doubles.</summary>
    public long Length { get; }

    /// <summary>The first <paramref name="count"/> doubles (count ≤ int.MaxValue).</summary>
    public Span<double> Span(int count)
    {
        ObjectDisposedException.ThrowIf(_p == null, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Length);
        return new Span<double>(_p, count);
    }

    /// <summary>The whole buffer when it fits one span.</summary>
    public Span<double> Span() => Span(checked((int)Length));

    public void Dispose()
    {
        if (_p != null) NativeMemory.AlignedFree(_p);
        _p = null;
    }
}

/// <summary>Operating-system hints (Linux; silently nothing elsewhere). Hints only: failures are ignored.</summary>
public static unsafe partial class OsMemory
{
    private const int MadvHugePage = 14;
    private static bool s_noMadvise;

    /// <summary>madvise(MADV_HUGEPAGE) over [p, p + bytes) (p page-aligned).</summary>
    public static void AdviseHugePages(void* p, nuint bytes)
    {
        if (!OperatingSystem.IsLinux() || s_noMadvise) return;
        try { _ = Madvise(p, bytes, MadvHugePage); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { s_noMadvise = true; }
    }

    /// <summary>
    /// A managed array of <paramref name="length"/> elements whose contents are unspecified (the caller
    /// overwrites every element), for large outputs and workspaces the allocating overloads hand out:
    /// at 2 MiB or more the array's whole 2 MiB pages inside it are advised for transparent huge pages
    /// before anything touches them, so a first touch costs one fault per 2 MiB instead of one per 4 KiB
    /// (a hint; the array stays an ordinary GC array). Smaller arrays are plain uninitialised arrays.
    /// </summary>
    public static T[] AllocateLarge<T>(long length) where T : unmanaged
    {
        var a = GC.AllocateUninitializedArray<T>(checked((int)length));
        nuint bytes = (nuint)length * (nuint)sizeof(T);
        if (bytes < 2 * HugePageBytes) return a;
        fixed (T* p = a)
        {
            nuint start = ((nuint)p + HugePageBytes - 1) & ~(HugePageBytes - 1);
            nuint end = ((nuint)p + bytes) & ~(HugePageBytes - 1);
            if (end > start) AdviseHugePages((void*)start, end - start);
        }
        return a;
    }

    private const nuint HugePageBytes = 2 * 1024 * 1024;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* addr, nuint length, int advice);
}
