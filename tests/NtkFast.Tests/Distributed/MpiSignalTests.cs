using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using NtkFast.IO;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// Issue #18 row 7: a signal delivered to ONE rank of an `mpirun -np 2` job (`kernel` and `empirical --params`,
/// tiled). That rank is paused by the test hook NTKFAST_FAULT=&lt;rank&gt;:pause after writing its first tile into the
/// shared temporaries (the other goes on and waits for it in the commit's collective); the test reads its pid from
/// the pause line, checks the temporaries exist, and signals that process only. The job must end non-zero, with no
/// file at the output paths, an older output unchanged and no temporary left: SIGTERM/SIGINT run the signalled
/// rank's handler (which deletes the temporaries it tracks: rank 0 created them, rank 1 tracks the same names),
/// SIGKILL does not, and then mpirun stops the other rank with SIGTERM, whose handler deletes them. Open MPI must be installed (a missing mpirun fails, as for every MPI test).
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed partial class MpiSignalTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-mpisig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [GeneratedRegex(@"NTKFAST_FAULT pause .*pid (\d+)")]
    private static partial Regex PausePid();

    [MpiTheory]
    [InlineData("kernel", 15, 1)]
    [InlineData("kernel", 2, 1)]
    [InlineData("kernel", 9, 1)]
    [InlineData("kernel", 15, 0)]
    [InlineData("kernel", 9, 0)]
    [InlineData("empirical", 15, 1)]
    [InlineData("empirical", 9, 1)]
    public void A_signal_to_one_rank_ends_the_job_with_no_output_and_no_temporary(string command, int signal, int rank) => SignalOneRank(command, signal, rank);

    /// <summary>
    /// <c>empirical --monte-carlo</c> without tiling splits the networks among the ranks: the signal reaches a rank
    /// paused after its first network (NTKFAST_FAULT's Monte Carlo hook), in the middle of the run, before rank 0
    /// has any output temporary.
    /// </summary>
    [MpiTheory]
    [InlineData(15, 1)]
    [InlineData(9, 1)]
    [InlineData(15, 0)]
    [InlineData(9, 0)]
    public void A_signal_to_one_rank_mid_Monte_Carlo_ends_the_job_with_no_output(int signal, int rank) => SignalOneRank("monte-carlo", signal, rank);

    /// <summary>The signal goes to <c>mpirun</c> itself (its forwarding to the ranks), while rank 1 is paused after its first tile.</summary>
    [MpiTheory]
    [InlineData("kernel", 15)]
    [InlineData("kernel", 2)]
    [InlineData("monte-carlo", 15)]
    public void A_signal_to_mpirun_ends_the_job_with_no_output_and_no_temporary(string command, int signal) => SignalOneRank(command, signal, 1, toMpirun: true);

    private void SignalOneRank(string command, int signal, int rank, bool toMpirun = false)
    {
        if (!OperatingSystem.IsLinux()) return;
        if (signal == 2 && NtkProcess.SigIntIgnored)
        {
            log.WriteLine("SIGINT is ignored by this test process (background job): the SIGINT case is not run");
            return;
        }
        _ = NtkProcess.MpiRun; // fails with the install hint when Open MPI is missing
        string x = P("x.npy"), t = P("t.npy"), s = P("s.npy");
        KernelOutOfCoreTests.WritePoints(x, 60, 4, 21);
        File.WriteAllText(s, "an older result that must survive");
        string[] args;
        if (command == "kernel")
            args = ["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--tile", "8", "--out-ntk", t, "--out-nngp", s, "--quiet"];
        else if (command == "monte-carlo")
            args = ["empirical", "--monte-carlo", "6", "--widths", "4,32,1", "--activation", "tanh", "--seed", "1", "--x", x,
                "--out-ntk", t, "--out-nngp", s, "--quiet"];
        else
        {
            NtkProcess.Result init = NtkProcess.Run(["init", "--widths", "4,32,1", "--activation", "tanh", "--seed", "1", "--out", P("net.npz")]);
            Assert.True(init.ExitCode == 0, init.ToString());
            args = ["empirical", "--params", P("net.npz"), "--x", x, "--tile", "8", "--out-ntk", t, "--out-nngp", s, "--quiet"];
        }
        var env = new Dictionary<string, string> { ["NTKFAST_THREADS"] = "1", ["NTKFAST_FAULT"] = $"{rank}:pause" };
        using Process job = Process.Start(NtkProcess.StartInfo(args, env, ranks: 2))!;
        Task<string> stdout = job.StandardOutput.ReadToEndAsync();
        Task<string?> marker = Task.Run(() =>
        {
            string? line;
            while ((line = job.StandardError.ReadLine()) is not null && !PausePid().IsMatch(line)) { }
            return line;
        });
        if (!marker.Wait(TimeSpan.FromSeconds(120))) { job.Kill(entireProcessTree: true); Assert.Fail($"rank {rank} did not pause within 120 s"); }
        if (marker.Result is null) Assert.Fail("the job ended without pausing: exit " + (job.WaitForExit(10_000) ? job.ExitCode : -1)); // (the message waits for the exit: only when it failed)
        Task<string> rest = job.StandardError.ReadToEndAsync();
        int paused = int.Parse(PausePid().Match(marker.Result!).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.NotEqual(job.Id, paused);

        string[] live = NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir);
        log.WriteLine($"rank {rank} (pid {paused}) paused; temporaries: {string.Join(", ", live.Select(Path.GetFileName))}");
        // Tiled: the NTK's and the NNGP's temporaries, shared by both ranks. Monte Carlo: none yet (rank 0 writes
        // once every network is in).
        Assert.Equal(command == "monte-carlo" ? 0 : 2, live.Length);
        Assert.False(File.Exists(t));

        string target = toMpirun ? "mpirun" : $"rank {rank}";
        Assert.Equal(0, SendSignal(toMpirun ? job.Id : paused, signal));
        if (!job.WaitForExit(60_000)) { job.Kill(entireProcessTree: true); Assert.Fail($"the job did not end within 60 s of signal {signal} to {target}"); }
        string err = rest.Result;
        _ = stdout.Result;
        log.WriteLine($"mpirun exit {job.ExitCode}; stderr: {err}");
        Assert.NotEqual(0, job.ExitCode);
        Assert.False(File.Exists(t), $"a finished-looking NTK file after a signal to {target}");
        Assert.Equal("an older result that must survive", File.ReadAllText(s));
        // Give up to 30 s for the last rank's handler to finish (mpirun may return as it signals rank 0): poll, do not sleep blindly.
        var clock = Stopwatch.StartNew();
        while (NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir).Length > 0 && clock.Elapsed.TotalSeconds < 30) Thread.Sleep(50);
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
        Assert.DoesNotContain(Directory.GetFiles(_dir, "*", new EnumerationOptions { AttributesToSkip = 0 }),
            f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
    }
}
