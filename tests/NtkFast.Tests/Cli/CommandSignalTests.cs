using System.Diagnostics;
using NtkFast.Tests.Distributed;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Signals (issue #18 item 1) for `train` and `empirical --monte-carlo` (`kernel`: Distributed/OutputFaultTests):
/// SIGINT/SIGTERM during a long run leave no output, no temporary file, and earlier outputs unchanged. The signal
/// is sent once the run has printed its progress start line (so it is surely mid-run: the runs asked for would
/// take hours), not after a guessed delay. After SIGKILL a short run with the same outputs must succeed.
/// </summary>
public sealed class CommandSignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-signals-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private string Points()
    {
        string x = P("x.csv");
        if (!File.Exists(x)) File.WriteAllLines(x, Enumerable.Range(0, 64).Select(i => $"{Math.Sin(i)},{Math.Cos(i)},{Math.Sin(2 * i)}"));
        return x;
    }

    private void Interrupt(string[] args, string progressLabel, int signal, string[] outputs, string[] rerun)
    {
        if (!OperatingSystem.IsLinux()) return;
        if (signal == 2 && NtkProcess.SigIntIgnored) return; // a background test run: its children ignore SIGINT too
        string old = P("old.npy");
        File.WriteAllText(old, "older result");
        ProcessStartInfo psi = NtkProcess.StartInfo(args, new Dictionary<string, string> { ["NTKFAST_THREADS"] = "1" });
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        // Progress starts after 2 s of work with one line on a non-terminal stderr: the run is under way.
        Task<string?> first = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardError.ReadLine()) is not null && !line.Contains(progressLabel, StringComparison.Ordinal)) { }
            return line;
        });
        if (!first.Wait(TimeSpan.FromSeconds(60))) { p.Kill(); Assert.Fail("no progress line within 60 s"); }
        Assert.True(first.Result is not null, "the run ended before it printed progress: exit " + (p.HasExited ? p.ExitCode : -1));
        Task<string> rest = p.StandardError.ReadToEndAsync();
        Assert.Equal(0, SendSignal(p.Id, signal));
        if (!p.WaitForExit(30_000))
        {
            p.Kill(entireProcessTree: true); // a failed test must not leave a run of 10⁸ steps behind
            Assert.Fail("the process did not stop after signal " + signal);
        }
        Assert.NotEqual(0, p.ExitCode);
        foreach (string o in outputs) Assert.False(File.Exists(o), "a finished-looking output after the signal: " + o);
        Assert.Equal("older result", File.ReadAllText(old));
        if (signal == 9)
        {
            // SIGKILL runs no handler: temporaries may remain, but only under their own hidden names.
            string[] temps = NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir);
            foreach (string f in Directory.GetFiles(_dir))
                Assert.True(Array.IndexOf(temps, f) >= 0 || !outputs.Contains(f), "a finished-looking output after SIGKILL: " + f);
            // The next run (a short one, same outputs) is not disturbed by what the killed one left.
            NtkProcess.Result again = NtkProcess.Run(rerun);
            Assert.True(again.ExitCode == 0, again.ToString());
            foreach (string o in outputs) Assert.True(File.Exists(o), "the run after SIGKILL wrote no " + o);
            Assert.Equal("older result", File.ReadAllText(old));
            return;
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
        _ = stdout.Result + rest.Result;
    }

    [Theory]
    [InlineData(15)]
    [InlineData(2)]
    [InlineData(9)]
    public void A_signal_during_training_leaves_no_network_no_log_and_no_temporary(int signal)
    {
        string net = P("net.npz"), y = P("y.csv");
        File.WriteAllLines(y, Enumerable.Range(0, 64).Select(i => $"{Math.Sin(3 * i)}"));
        CliResult r = CliRunner.Run("init", "--widths", "3,256,256,1", "--activation", "tanh", "--seed", "1", "--out", net, "--quiet");
        Assert.True(r.ExitCode == 0, r.StdErr);
        string outPath = P("trained.npz"), logPath = P("loss.csv");
        string[] Train(string steps) => ["train", "--params", net, "--x", Points(), "--y", y, "--lr", "0.01", "--steps", steps, "--allow-divergence",
            "--out", outPath, "--log", logPath];
        Interrupt(Train("100000000"), "train", signal, [outPath, logPath], Train("5"));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(2)]
    [InlineData(9)]
    public void A_signal_during_monte_carlo_leaves_no_kernel_and_no_temporary(int signal)
    {
        string ntk = P("t.npy"), std = P("ts.npy");
        string[] Mc(string k, string nngp) => ["empirical", "--monte-carlo", k, "--widths", "3,256,256,1", "--activation", "tanh", "--seed", "1",
            "--x", Points(), "--out-ntk", ntk, "--out-ntk-std", std, "--out-nngp", nngp];
        Interrupt(Mc("1000000", P("old.npy")), "monte carlo", signal, [ntk, std], Mc("2", P("s.npy")));
    }
}
