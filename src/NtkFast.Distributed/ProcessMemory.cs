using System.Globalization;

namespace NtkFast.Distributed;

/// <summary>The process's own memory accounting (Linux /proc/self/status).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes, or -1 where /proc is not available.</summary>
    public static long PeakResidentBytes() => ReadStatus("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes, or -1.</summary>
    public static long ResidentBytes() => ReadStatus("VmRSS:");

    private static long ReadStatus(string key)
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return -1;
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
                string[] parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb)) return kb * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return -1;
    }
}
