using System.Diagnostics;
using NtkFast.IO;
using NtkFast.Tests.Distributed;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Signals (issue #18 item 1) sent while the run's temporary output files surely exist: the run is paused by the
/// NTKFAST_FAULT test hook (`0:pause` after the first tile is written into the temporaries, `publish:pause` just
/// before the complete temporaries are renamed into place; src/NtkFast.Distributed/FaultInjection.cs), which prints
/// one marker line on stderr and waits. No sleep decides when the signal goes: the test waits for that line.
/// SIGINT/SIGTERM: the handlers delete every temporary; no output, older outputs unchanged. SIGKILL: nothing at
/// the output paths, only hidden `.ntk-tmp` names remain, and the next run on the same outputs writes exactly what
/// a clean run writes, leaving the stale temporaries alone (younger than 60 s: only older unlocked ones are cleaned, StaleTemporaryCliTests).
/// </summary>
public sealed class PausedRunSignalTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-paused-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static readonly Dictionary<string, string> OneThread = new() { ["NTKFAST_THREADS"] = "1" };

    /// <summary>A 64×3 point set and two small networks for `empirical --params`.</summary>
    private (string x, string net) Setup()
    {
        string x = P("x.npy"), net = P("net.npz");
        KernelOutOfCoreTests.WritePoints(x, 200, 3, 7);
        NtkProcess.Result r = NtkProcess.Run(["init", "--widths", "3,64,64,1", "--activation", "tanh", "--seed", "1", "--out", net]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return (x, net);
    }

    /// <summary>
    /// Runs <paramref name="args"/> with NTKFAST_FAULT=<paramref name="fault"/>, waits for the pause line, checks the
    /// temporaries exist and no output does, sends <paramref name="signal"/> and checks what is left; after SIGKILL,
    /// reruns without the hook and compares with <paramref name="clean"/> (each output's bytes from a clean run).
    /// </summary>
    private void PauseAndSignal(string[] args, string fault, int signal, string[] outputs, Func<string, byte[]?>? clean,
        IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        if (!OperatingSystem.IsLinux()) return;
        if (signal == 2 && NtkProcess.SigIntIgnored)
        {
            // A paused run that ignores SIGINT would wait forever; the kernel signal test covers the ignored case.
            log.WriteLine("SIGINT is ignored by this test process (background job): the SIGINT case is not run");
            return;
        }
        string old = P("old.csv");
        File.WriteAllText(old, "older result");
        var env = new Dictionary<string, string>(OneThread) { ["NTKFAST_FAULT"] = fault };
        var rerunEnv = new Dictionary<string, string>(OneThread);
        foreach ((string key, string value) in extraEnv ?? new Dictionary<string, string>()) env[key] = rerunEnv[key] = value;
        using Process p = Process.Start(NtkProcess.StartInfo(args, env))!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string?> marker = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardError.ReadLine()) is not null && !line.StartsWith(NtkFast.Distributed.FaultInjection.PauseMarker, StringComparison.Ordinal)) { }
            return line;
        });
        if (!marker.Wait(TimeSpan.FromSeconds(120))) { p.Kill(); Assert.Fail("the run did not reach the pause within 120 s"); }
        if (marker.Result is null) Assert.Fail("the run ended without pausing: exit " + (p.WaitForExit(10_000) ? p.ExitCode : -1)); // (the message waits for the exit: only when it failed)
        Task<string> rest = p.StandardError.ReadToEndAsync();

        // Paused: the temporaries exist (this is what makes the signal meaningful), under temporary names only.
        string[] live = NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir);
        log.WriteLine($"paused ({marker.Result}); temporaries: {string.Join(", ", live.Select(Path.GetFileName))}");
        Assert.NotEmpty(live);
        Assert.All(live, f => Assert.True(AtomicFile.IsTemporaryName(Path.GetFileName(f)), "not a temporary name: " + f));
        foreach (string o in outputs) Assert.False(File.Exists(o), "an output exists before the run published: " + o);

        Assert.Equal(0, SendSignal(p.Id, signal));
        Assert.True(p.WaitForExit(60_000), "the process did not stop after signal " + signal);
        Assert.NotEqual(0, p.ExitCode);
        _ = stdout.Result + rest.Result;
        foreach (string o in outputs) Assert.False(File.Exists(o), "a finished-looking output after signal " + signal + ": " + o);
        Assert.Equal("older result", File.ReadAllText(old));
        string[] left = NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir);
        if (signal != 9)
        {
            Assert.Empty(left); // the handler deleted every temporary
            return;
        }
        // SIGKILL runs no handler: exactly the temporaries seen while paused remain, still named as temporaries.
        Assert.Equal(live.Order(), left.Order());
        var staleBytes = left.ToDictionary(f => f, File.ReadAllBytes);
        NtkProcess.Result again = NtkProcess.Run(args, env: rerunEnv);
        Assert.True(again.ExitCode == 0, again.ToString());
        foreach (string o in outputs)
        {
            byte[] got = File.ReadAllBytes(o); // null below: a file whose bytes are not reproducible (a wall time in it)
            Assert.True(clean!(o) is not { } want || want.AsSpan().SequenceEqual(got), "the run after SIGKILL wrote other bytes than a clean run: " + o);
        }
        // The stale temporaries are too young to be cleaned (StaleTemporaries.MinimumAge): the next run leaves them.
        Assert.Equal(left.Order(), NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir).Order());
        foreach ((string f, byte[] b) in staleBytes) Assert.True(b.AsSpan().SequenceEqual(File.ReadAllBytes(f)), "a stale temporary was changed: " + f);
        Assert.Equal("older result", File.ReadAllText(old));
    }

    /// <summary>Each output's bytes from a clean run of <paramref name="args"/> in a folder of its own.</summary>
    private Func<string, byte[]?> CleanRun(Func<string, string[]> args, string? notReproducible = null, IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        string dir = Directory.CreateDirectory(P("clean")).FullName;
        var env = new Dictionary<string, string>(OneThread);
        foreach ((string key, string value) in extraEnv ?? new Dictionary<string, string>()) env[key] = value;
        NtkProcess.Result r = NtkProcess.Run(args(dir), env: env);
        Assert.True(r.ExitCode == 0, r.ToString());
        return o => Path.GetFileName(o) == notReproducible ? null : File.ReadAllBytes(Path.Combine(dir, Path.GetFileName(o)));
    }

    /// <summary>
    /// In-memory `empirical --params` (a small kernel is one tile): paused after that tile is in the temporaries,
    /// before the rename; `--tile 64` (out of core, 16 tiles of the 200×200 kernel): paused after the first tile,
    /// with the temporaries partly written.
    /// </summary>
    [Theory]
    [InlineData("memory", 15)]
    [InlineData("memory", 2)]
    [InlineData("memory", 9)]
    [InlineData("tiles", 15)]
    [InlineData("tiles", 9)]
    public void A_signal_to_empirical_params_while_its_temporaries_exist_leaves_no_output(string mode, int signal)
    {
        var (x, net) = Setup();
        string[] Args(string dir) => ["empirical", "--params", net, "--x", x, "--out-ntk", Path.Combine(dir, "t.npy"),
            "--out-nngp", Path.Combine(dir, "s.npy"), .. mode == "tiles" ? (string[])["--tile", "64"] : [], "--quiet"];
        Func<string, byte[]?>? clean = signal == 9 ? CleanRun(Args) : null;
        PauseAndSignal(Args(_dir), "0:pause", signal, [P("t.npy"), P("s.npy")], clean);
    }

    /// <summary>
    /// The AtomicOutputs path (`empirical --params --outputs full`, which is not tiled, and `--monte-carlo`): paused
    /// with every output complete in its temporary, just before the renames.
    /// </summary>
    [Theory]
    [InlineData("full", 15)]
    [InlineData("full", 9)]
    [InlineData("monte-carlo", 2)]
    [InlineData("monte-carlo", 9)]
    public void A_signal_just_before_empirical_publishes_leaves_no_output(string mode, int signal)
    {
        var (x, net) = Setup();
        string[] Args(string dir) => mode == "full"
            ? ["empirical", "--params", net, "--x", x, "--outputs", "full", "--out-ntk", Path.Combine(dir, "t.npy"), "--out-nngp", Path.Combine(dir, "s.npy"), "--quiet"]
            : ["empirical", "--monte-carlo", "2", "--widths", "3,32,1", "--activation", "erf", "--seed", "3", "--x", x,
               "--out-ntk", Path.Combine(dir, "t.npy"), "--out-ntk-std", Path.Combine(dir, "ts.npy"), "--out-nngp", Path.Combine(dir, "s.npy"), "--quiet"];
        string[] outputs = mode == "full" ? [P("t.npy"), P("s.npy")] : [P("t.npy"), P("ts.npy"), P("s.npy")];
        Func<string, byte[]?>? clean = signal == 9 ? CleanRun(Args) : null;
        PauseAndSignal(Args(_dir), "publish:pause", signal, outputs, clean);
    }

    /// <summary>
    /// The other commands' one output path (AtomicFile/AtomicOutputs): `train` (--out and --log, one transaction) and
    /// `experiment convergence --quick` (files written one by one; paused before the first rename), signalled with every
    /// output complete in its temporary. After SIGKILL the rerun's files equal a clean run's (summary.txt holds a wall
    /// time and its folder, so only its presence is checked).
    /// </summary>
    [Theory]
    [InlineData("train", 15)]
    [InlineData("train", 9)]
    [InlineData("experiment", 15)]
    [InlineData("experiment", 9)]
    public void A_signal_just_before_train_or_experiment_publishes_leaves_no_output(string command, int signal)
    {
        var (x, net) = Setup();
        string y = P("y.npy");
        KernelOutOfCoreTests.WritePoints(y, 200, 1, 8);
        string[] Args(string dir) => command == "train"
            ? ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "3", "--out", Path.Combine(dir, "trained.npz"), "--log", Path.Combine(dir, "loss.csv"), "--quiet"]
            : ["experiment", "convergence", "--quick", "--seed", "1", "--out-dir", dir, "--quiet"];
        string[] outputs = command == "train" ? [P("trained.npz"), P("loss.csv")]
            : [P("convergence_ntk.csv"), P("convergence_norms.csv"), P("convergence.png"), P("summary.txt")];
        Func<string, byte[]?>? clean = signal == 9 ? CleanRun(Args, notReproducible: "summary.txt") : null;
        PauseAndSignal(Args(_dir), "publish:pause", signal, outputs, clean);
    }
    /// <summary>
    /// `predict` (its one transaction of --out, --out-std and --out-cov): from precomputed kernels with the test blocks
    /// mapped, so --out-cov is written block by block into its temporary during the run, and in memory with --ensemble;
    /// signalled with every output complete in its temporary, just before the renames.
    /// </summary>
    [Theory]
    [InlineData("streamed", 15)]
    [InlineData("streamed", 9)]
    [InlineData("memory", 2)]
    [InlineData("memory", 9)]
    public void A_signal_just_before_predict_publishes_leaves_no_output(string mode, int signal)
    {
        var (x, _) = Setup();
        string y = P("y.npy"), xt = P("xt.npy");
        KernelOutOfCoreTests.WritePoints(y, 200, 1, 8);
        KernelOutOfCoreTests.WritePoints(xt, 50, 3, 9);
        string[] k = ["--depth", "3", "--activation", "relu", "--quiet"];
        Assert.Equal(0, NtkProcess.Run(["kernel", "--x", x, .. k, "--out-ntk", P("k.npy"), "--out-nngp", P("s.npy")]).ExitCode);
        Assert.Equal(0, NtkProcess.Run(["kernel", "--x", xt, "--x2", x, .. k, "--out-ntk", P("kx.npy"), "--out-nngp", P("sx.npy")]).ExitCode);
        Assert.Equal(0, NtkProcess.Run(["kernel", "--x", xt, .. k, "--out-ntk", P("kxx.npy"), "--out-nngp", P("sxx.npy")]).ExitCode);
        string[] Args(string dir) => mode == "streamed"
            ? ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"),
               "--nngp-test-test", P("sxx.npy"), "--y", y, "--time", "1,inf", "--out", Path.Combine(dir, "m.npy"), "--out-cov", Path.Combine(dir, "c.npy"), "--quiet"]
            : ["predict", "--x", x, "--y", y, "--x-test", xt, "--depth", "3", "--activation", "erf", "--ensemble", "--time", "0.5,inf",
               "--out", Path.Combine(dir, "m.npy"), "--out-std", Path.Combine(dir, "m.std.npy"), "--quiet"];
        string[] outputs = mode == "streamed" ? [P("m.npy"), P("m.std.npy"), P("c.npy")] : [P("m.npy"), P("m.std.npy")];
        var mapped = new Dictionary<string, string> { ["NTKFAST_MAP_THRESHOLD"] = "0", ["NTKFAST_PREDICT_BLOCK_ROWS"] = "16" }; // test blocks mapped, rows by 16
        Func<string, byte[]?>? clean = signal == 9 ? CleanRun(Args, extraEnv: mapped) : null;
        PauseAndSignal(Args(_dir), "publish:pause", signal, outputs, clean, mapped);
    }
}
