using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace NtkFast.Tests.Distributed;

/// <summary>Runs the real <c>ntk</c> (the ntk.dll beside the tests) as a child process, optionally under mpirun.</summary>
internal static partial class NtkProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>The peak RSS the (rank 0) process reported on its out-of-core summary line, or -1.</summary>
        public long PeakRssBytes
        {
            get
            {
                Match m = PeakRegex().Match(StdErr);
                return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
            }
        }

        public override string ToString() => $"exit {ExitCode}\nstdout: {StdOut}\nstderr: {StdErr}";
    }

    [GeneratedRegex(@"peak-rss-bytes (\d+)")]
    private static partial Regex PeakRegex();

    private static string DotnetHost
    {
        get
        {
            string? p = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(p) && File.Exists(p)) return p;
            string? self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
            return "dotnet";
        }
    }

    private static string NtkDll => Path.Combine(AppContext.BaseDirectory, "ntk.dll");

    private static readonly Lazy<string?> s_mpirun = new(() => FindOnPath("mpirun"));

    /// <summary>
    /// True when this process ignores SIGINT (a test run started as a background job of a non-interactive shell): its
    /// children inherit the ignore, so a SIGINT test cannot mean anything and is not run.
    /// </summary>
    public static bool SigIntIgnored
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return false;
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is not null && (Convert.ToUInt64(line[7..].Trim(), 16) & 2) != 0;
        }
    }

    /// <summary>True when mpirun is on PATH (the MPI tests' [MpiFact]/[MpiTheory] skip otherwise, outside CI: <see cref="MpiTests"/>).</summary>
    public static bool HasMpiRun => s_mpirun.Value is not null;

    /// <summary>mpirun's path. Missing, it is a test FAILURE with the install hint (a test reaching here under CI, where Open MPI is installed: .ci/run).</summary>
    public static string MpiRun => s_mpirun.Value ?? throw new XunitException(
        "mpirun not found on PATH: the MPI tests need Open MPI (run scripts/install-openmpi.sh, i.e. apt-get install -y openmpi-bin libopenmpi-dev)");

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Runs <c>ntk args…</c>; under <c>mpirun -np ranks</c> when ranks &gt; 0.</summary>
    public static Result Run(IReadOnlyList<string> args, int ranks = 0, IReadOnlyDictionary<string, string>? env = null, int timeoutSeconds = 120) =>
        Wait(StartInfo(args, env, ranks), string.Join(' ', args) + $" (ranks {ranks})", timeoutSeconds);

    /// <summary>
    /// Runs one MPI job whose rank r runs <c>ntk perRank[r]…</c> (mpirun's MPMD form <c>-np 1 A : -np 1 B</c>):
    /// how a rank that reads other files than its peers is simulated.
    /// </summary>
    public static Result RunMpmd(IReadOnlyList<IReadOnlyList<string>> perRank, IReadOnlyDictionary<string, string>? env = null, int timeoutSeconds = 120)
    {
        ProcessStartInfo psi = StartInfo(perRank[0], env, 1);
        for (int r = 1; r < perRank.Count; r++)
        {
            foreach (string a in (string[])[":", "-np", "1", DotnetHost, NtkDll]) psi.ArgumentList.Add(a);
            foreach (string a in perRank[r]) psi.ArgumentList.Add(a);
        }
        return Wait(psi, $"MPMD job of {perRank.Count} ranks", timeoutSeconds);
    }

    /// <summary>The process that runs <c>ntk args…</c> (under mpirun when ranks &gt; 0), not started.</summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null, int ranks = 0)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (ranks > 0)
        {
            psi.FileName = MpiRun;
            foreach (string a in (string[])["--allow-run-as-root", "--oversubscribe", "--bind-to", "none"])
                psi.ArgumentList.Add(a);
            // Local ranks inherit mpirun's environment; -x also carries a variable to remote nodes.
            foreach (string k in env?.Keys ?? Enumerable.Empty<string>()) { psi.ArgumentList.Add("-x"); psi.ArgumentList.Add(k); }
            psi.ArgumentList.Add("-np");
            psi.ArgumentList.Add(ranks.ToString(CultureInfo.InvariantCulture));
        }
        else psi.FileName = DotnetHost;
        if (ranks > 0) psi.ArgumentList.Add(DotnetHost);
        psi.ArgumentList.Add(NtkDll);
        foreach (string a in args) psi.ArgumentList.Add(a);
        // No MPI launcher variables leak in from an outer job; pin threads so ranks × threads ≤ cores.
        foreach (string k in (string[])["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "NTKFAST_MPI", "NTKFAST_FAULT"]) psi.Environment.Remove(k);
        psi.Environment["TERM"] = "dumb";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env is not null) foreach ((string k, string v) in env) psi.Environment[k] = v;
        return psi;
    }

    private static Result Wait(ProcessStartInfo psi, string what, int timeoutSeconds)
    {
        using var p = Process.Start(psi) ?? throw new XunitException("could not start " + psi.FileName);
        Task<string> so = p.StandardOutput.ReadToEndAsync(), se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new XunitException($"ntk {what} did not finish in {timeoutSeconds} s (a rank left waiting?)\nstderr: {se.Result}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, so.Result, se.Result);
    }
}
