using System.Globalization;
using NtkFast.Tiling;

namespace NtkFast.Distributed;

/// <summary>The machine's memory as the operating system reports it (Linux /proc/meminfo).</summary>
public static class SystemMemory
{
    /// <summary>
    /// Memory this process may use: the GC's view (<see cref="MemoryBudget.AvailableBytes"/>) and
    /// /proc/meminfo's MemAvailable on Linux, whichever is smaller.
    /// </summary>
    public static long AvailableBytes()
    {
        long gc = MemoryBudget.AvailableBytes();
        long avail = ReadMemAvailable();
        return avail > 0 && avail < gc ? avail : gc;
    }

    /// <summary>The default limit: <see cref="MemoryBudget.DefaultFraction"/> of <see cref="AvailableBytes"/>.</summary>
    public static long DefaultLimit() => (long)(AvailableBytes() * MemoryBudget.DefaultFraction);

    private static long ReadMemAvailable()
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !File.Exists("/proc/meminfo")) return 0;
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)) return kb * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }
}
