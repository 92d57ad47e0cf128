using System.Diagnostics;
using NtkFast.Tiling;

namespace NtkFast.Distributed;

/// <summary>
/// Test hook for the failure tests: NTKFAST_FAULT=&lt;rank&gt;:throw makes that rank fail with an error
/// after its first tile, NTKFAST_FAULT=&lt;rank&gt;:kill kills it (SIGKILL) there. <c>ntk</c> installs it at
/// start-up; it is the only place that reads the variable (documented in docs/notes/mpi.md).
/// </summary>
public static class FaultInjection
{
    /// <summary>Installs the hook when NTKFAST_FAULT is set; otherwise does nothing.</summary>
    public static void InstallFromEnvironment()
    {
        string? s = Environment.GetEnvironmentVariable("NTKFAST_FAULT");
        if (string.IsNullOrEmpty(s)) return;
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !int.TryParse(s.AsSpan(0, colon), out int target)) return;
        string action = s[(colon + 1)..];
        TiledKernelWriter.AfterFirstTile = rank =>
        {
            if (rank != target) return;
            if (action == "kill")
            {
                Console.Error.Flush();
                Process.GetCurrentProcess().Kill();
                Thread.Sleep(Timeout.Infinite);
            }
            throw new InvalidDataException($"injected failure (NTKFAST_FAULT={action})");
        };
    }
}
