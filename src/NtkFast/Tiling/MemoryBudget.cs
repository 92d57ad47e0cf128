using System.Globalization;

namespace NtkFast.Tiling;

/// <summary>
/// The memory a run may use (<c>--memory-limit</c>) and the tile size that keeps it there.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Fraction of the available memory used when no limit is given.</summary>
    public const double DefaultFraction = 0.5;

    /// <summary>
    /// Resident memory of the process before any tile buffer exists: the .NET runtime, compiled code and
    /// the command's own small objects. Measured as VmHWM of <c>ntk kernel</c> on small problems: about
    /// 36–40 MiB with the JIT, 17 MiB NativeAOT on this machine; budgeted 48 and 24 MiB.
    /// </summary>
    public static readonly long RuntimeBaselineBytes =
        (System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? 48L : 24L) << 20;

    /// <summary>
    /// Memory this process may use as the runtime sees it (the GC's view, which honours cgroup/container
    /// limits and DOTNET_GCHeapHardLimit). The <c>ntk</c> command also caps it by /proc/meminfo's
    /// MemAvailable (NtkFast.Distributed's <c>SystemMemory</c>); the library reads no /proc file.
    /// </summary>
    public static long AvailableBytes()
    {
        long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return gc > 0 ? gc : 4L << 30;
    }

    /// <summary>The default limit: <see cref="DefaultFraction"/> of <see cref="AvailableBytes"/>.</summary>
    public static long DefaultLimit() => (long)(AvailableBytes() * DefaultFraction);

    /// <summary>
    /// Parses a size: bytes ("1073741824"), with a binary suffix ("512M", "512MiB", "2G", "1.5GB", "64k",
    /// "1T" — K/M/G/T are powers of 1024), or a share of the available memory ("25%").
    /// </summary>
    /// <param name="text">The size.</param>
    /// <param name="what">Option name for messages.</param>
    /// <param name="availableBytes">What a percentage is of (0 = <see cref="AvailableBytes"/>).</param>
    public static long Parse(string text, string what = "--memory-limit", long availableBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim();
        if (s.Length == 0) throw new ArgumentException($"{what}: empty size", nameof(text));
        if (s.EndsWith('%'))
        {
            if (!double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double pct) || !(pct > 0 && pct <= 100))
                throw new ArgumentException($"{what}: '{text}' is not a percentage in (0, 100]", nameof(text));
            return (long)((availableBytes > 0 ? availableBytes : AvailableBytes()) * pct / 100);
        }
        string upper = s.ToUpperInvariant();
        foreach (string suffix in (string[])["IB", "B"])
            if (upper.EndsWith(suffix, StringComparison.Ordinal) && upper.Length > suffix.Length && char.IsLetter(upper[^(suffix.Length + 1)]))
            { upper = upper[..^suffix.Length]; break; }
        double scale = 1;
        switch (upper[^1])
        {
            case 'K': scale = 1L << 10; upper = upper[..^1]; break;
            case 'M': scale = 1L << 20; upper = upper[..^1]; break;
            case 'G': scale = 1L << 30; upper = upper[..^1]; break;
            case 'T': scale = 1L << 40; upper = upper[..^1]; break;
            case 'B': upper = upper[..^1]; break;
        }
        if (!double.TryParse(upper, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v <= 0)
            throw new ArgumentException($"{what}: '{text}' is not a size (examples: 512M, 2G, 25%)", nameof(text));
        double bytes = v * scale;
        if (bytes > long.MaxValue / 2) throw new ArgumentException($"{what}: '{text}' is too large", nameof(text));
        return (long)bytes;
    }

    /// <summary>Human-readable size, e.g. "1.5 GiB".</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = bytes;
        int u = 0;
        while (Math.Abs(v) >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>
    /// The largest tile edge T (a multiple of <paramref name="granule"/>, between granule and
    /// <paramref name="maxTile"/>) with fixedBytes + workers·perTile(T) ≤ limit, or 0 when even the
    /// smallest does not fit.
    /// </summary>
    public static int ChooseTileSize(long limitBytes, long fixedBytes, int workers, Func<int, long> perTileBytes, int maxTile = 2048, int granule = 64)
    {
        ArgumentNullException.ThrowIfNull(perTileBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(granule, 1);
        int best = 0;
        for (int t = granule; t <= Math.Max(granule, maxTile); t += granule)
        {
            long need = fixedBytes + (workers * perTileBytes(t));
            if (need <= limitBytes) best = t;
            else break;
        }
        return best;
    }
}
