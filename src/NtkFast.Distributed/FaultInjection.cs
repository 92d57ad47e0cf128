using System.Diagnostics;
using NtkFast.IO;
using NtkFast.Tiling;

namespace NtkFast.Distributed;

/// <summary>
/// Test hook for the failure and signal tests, read from NTKFAST_FAULT (documented in docs/notes/mpi.md and
/// docs/notes/reliability.md); <c>ntk</c> installs it at start-up and this is the only place that reads the variable.
/// <list type="bullet">
/// <item><c>&lt;rank&gt;:throw</c> makes that rank fail with an error after its first tile, or after its first
/// network of an untiled Monte Carlo run (<c>ntk empirical --monte-carlo</c>, networks split among the ranks);</item>
/// <item><c>&lt;rank&gt;:kill</c> kills it (SIGKILL) there;</item>
/// <item><c>&lt;rank&gt;:pause</c> makes it print <see cref="PauseMarker"/> on stderr there and wait forever, so that a
/// test can signal a run whose temporary output files surely exist (holding one tile);</item>
/// <item><c>publish:pause</c> does the same just before a run renames its complete temporaries into place
/// (every output path that goes through <see cref="AtomicFile"/>: all commands).</item>
/// </list>
/// Anything else is ignored. Never set outside tests.
/// </summary>
public static class FaultInjection
{
    /// <summary>Start of the stderr line a paused run prints (then the pid); tests wait for it.</summary>
    public const string PauseMarker = "ntk: NTKFAST_FAULT pause";

    /// <summary>Installs the hook when NTKFAST_FAULT is set; otherwise does nothing.</summary>
    public static void InstallFromEnvironment()
    {
        string? s = Environment.GetEnvironmentVariable("NTKFAST_FAULT");
        if (string.IsNullOrEmpty(s)) return;
        int colon = s.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) return;
        string action = s[(colon + 1)..];
        if (s.AsSpan(0, colon).SequenceEqual("publish"))
        {
            if (action == "pause") AtomicFile.BeforePublish = () => Pause("before publishing");
            return;
        }
        if (!int.TryParse(s.AsSpan(0, colon), out int target)) return;
        Action<int> fault = rank =>
        {
            if (rank != target) return;
            if (action == "pause") Pause($"after the first tile (or Monte Carlo network) of rank {rank}");
            if (action == "kill")
            {
                Console.Error.Flush();
                Process.GetCurrentProcess().Kill();
                Thread.Sleep(Timeout.Infinite);
            }
            throw new InvalidDataException($"injected failure (NTKFAST_FAULT={action})");
        };
        TiledKernelWriter.AfterFirstTile = fault;
        Empirical.EmpiricalMonteCarlo.AfterFirstNetwork = fault;
    }

    private static void Pause(string where)
    {
        Console.Error.WriteLine($"{PauseMarker} {where}, pid {Environment.ProcessId}: waiting for a signal");
        Console.Error.Flush();
        Thread.Sleep(Timeout.Infinite);
    }
}
