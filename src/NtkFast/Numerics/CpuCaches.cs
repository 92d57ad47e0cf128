using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace NtkFast.Numerics;

/// <summary>
/// The data-cache sizes of the CPU the process runs on, for blocking parameters that are chosen per machine (GEMM's
/// packed-B block) rather than hard-wired for one. Linux: /sys/devices/system/cpu/cpu0/cache (what the kernel reports,
/// also inside VMs); elsewhere on x64: CPUID (leaf 0x8000001D on AMD, leaf 4 on Intel); otherwise unknown (0).
/// Sizes never change a result: only where the work runs.
/// </summary>
internal static class CpuCaches
{
    /// <summary>Where <see cref="L2Bytes"/> came from ("sysfs", "cpuid", "unknown"), for benchmark reports.</summary>
    public static string Source { get; private set; } = "unknown";

    /// <summary>L2 per core in bytes (0 when unknown). Declared after <see cref="Source"/>: static initialisers run in order.</summary>
    public static long L2Bytes { get; } = Detect(2);

    private static long Detect(int level)
    {
        long s = FromSysfs(level);
        if (s > 0) { Source = "sysfs"; return s; }
        s = FromCpuid(level);
        if (s > 0) { Source = "cpuid"; return s; }
        return 0;
    }

    /// <summary>Parses sysfs cache sizes such as "512K", "32768K", "1M", "1048576".</summary>
    internal static long ParseSize(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return 0;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024L * 1024 * 1024, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0 && v < (1L << 40) / unit ? v * unit : 0;
    }

    internal static long FromSysfs(int level)
    {
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(root)) return 0;
            foreach (string dir in Directory.EnumerateDirectories(root, "index*"))
            {
                string lv = File.ReadAllText(Path.Combine(dir, "level")).Trim();
                string type = File.ReadAllText(Path.Combine(dir, "type")).Trim();
                if (lv == level.ToString(CultureInfo.InvariantCulture) && type is "Unified" or "Data")
                    return ParseSize(File.ReadAllText(Path.Combine(dir, "size")));
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    internal static long FromCpuid(int level)
    {
        if (!X86Base.IsSupported) return 0;
        (int maxExt, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
        (_, int vb, int vc, int vd) = X86Base.CpuId(0, 0);
        bool amd = vb == 0x68747541 && vd == 0x69746e65 && vc == 0x444d4163; // "AuthenticAMD"
        int leaf = amd && (uint)maxExt >= 0x8000001D ? unchecked((int)0x8000001D) : 4;
        if (leaf == 4 && X86Base.CpuId(0, 0).Eax < 4) return 0;
        for (int sub = 0; sub < 16; sub++)
        {
            (int a, int b, int c, _) = X86Base.CpuId(leaf, sub);
            int type = a & 0x1F;
            if (type == 0) break;
            if (((a >> 5) & 0x7) != level || type == 2) continue; // 1 data, 2 instruction, 3 unified
            long ways = ((b >> 22) & 0x3FF) + 1, partitions = ((b >> 12) & 0x3FF) + 1, line = (b & 0xFFF) + 1, sets = (long)(uint)c + 1;
            return ways * partitions * line * sets;
        }
        // AMD's legacy leaf when the topology leaf is empty (the Zen 5 VM of 2026-12-08 reports 0x8000001D as all
        // zeros and no sysfs cache directory): L2 per core in KiB in ECX[31:16] (the level the GEMM blocking uses).
        if (amd && level == 2 && (uint)maxExt >= 0x80000006)
            return (long)((uint)X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx >> 16) * 1024;
        return 0;
    }
}
