using System.Diagnostics;
using NtkFast.IO;
using NtkFast.Tests.Distributed;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Issue 18 item 3: two `ntk kernel` processes writing the same output paths at the same time. Each writes
/// tiles into its own exclusively created temporary file and renames it into place when complete, so
/// every final file is one complete result of one run — never a mix — and no temporary is left.
/// </summary>
public sealed class ConcurrentRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-race-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static string[] Kernel(string x, string t, string s) =>
        ["kernel", "--x", x, "--depth", "3", "--activation", "erf", "--tile", "64", "--out-ntk", t, "--out-nngp", s, "--quiet"];

    /// <summary>Starts both runs at once and waits for both; each must succeed.</summary>
    private static async Task Race(string[] a, string[] b, IReadOnlyDictionary<string, string>? env = null)
    {
        using Process pa = Process.Start(NtkProcess.StartInfo(a, env))!;
        using Process pb = Process.Start(NtkProcess.StartInfo(b, env))!;
        Task<string> ea = pa.StandardError.ReadToEndAsync(), eb = pb.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await pa.WaitForExitAsync(timeout.Token);
        await pb.WaitForExitAsync(timeout.Token);
        string errA = await ea, errB = await eb;
        Assert.True(pa.ExitCode == 0, errA);
        Assert.True(pb.ExitCode == 0, errB);
    }

    [Fact]
    public async Task Two_processes_writing_the_same_outputs_leave_one_complete_result_per_file()
    {
        KernelOutOfCoreTests.WritePoints(P("a.npy"), 500, 8, 1);
        KernelOutOfCoreTests.WritePoints(P("b.npy"), 500, 8, 2);
        // the two results, each computed alone
        Assert.Equal(0, NtkProcess.Run(Kernel(P("a.npy"), P("ta.npy"), P("sa.npy"))).ExitCode);
        Assert.Equal(0, NtkProcess.Run(Kernel(P("b.npy"), P("tb.npy"), P("sb.npy"))).ExitCode);
        double[] ta = Npy.Read(P("ta.npy")).Float64!, tb = Npy.Read(P("tb.npy")).Float64!;
        double[] sa = Npy.Read(P("sa.npy")).Float64!, sb = Npy.Read(P("sb.npy")).Float64!;
        Assert.NotEqual(ta, tb);

        for (int round = 0; round < 3; round++)
        {
            string t = P("t.npy"), s = P("s.npy");
            await Race(Kernel(P("a.npy"), t, s), Kernel(P("b.npy"), t, s));
            double[] gotT = Npy.Read(t).Float64!, gotS = Npy.Read(s).Float64!;
            Assert.True(gotT.AsSpan().SequenceEqual(ta) || gotT.AsSpan().SequenceEqual(tb), $"round {round}: the NTK file mixes the two runs");
            Assert.True(gotS.AsSpan().SequenceEqual(sa) || gotS.AsSpan().SequenceEqual(sb), $"round {round}: the NNGP file mixes the two runs");
            Assert.DoesNotContain(Directory.GetFiles(_dir), f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
        }
    }

    /// <summary>
    /// The same for `ntk train` (one --out .npz) and `ntk predict` (--out and --out-std): two processes with different
    /// inputs race on the same paths; each final file is byte for byte one run's result, and no temporary remains.
    /// </summary>
    [Theory]
    [InlineData("train")]
    [InlineData("predict")]
    [InlineData("predict-cov")]
    [InlineData("drift")]
    public async Task Two_train_or_predict_processes_on_the_same_outputs_leave_one_complete_result(string command)
    {
        foreach (string v in (string[])["a", "b"])
        {
            KernelOutOfCoreTests.WritePoints(P($"x{v}.npy"), 300, 6, v == "a" ? 1 : 2);
            KernelOutOfCoreTests.WritePoints(P($"y{v}.npy"), 300, 2, v == "a" ? 3 : 4);
        }
        KernelOutOfCoreTests.WritePoints(P("xt.npy"), 200, 6, 5);
        Assert.Equal(0, NtkProcess.Run(["init", "--widths", "6,64,64,2", "--activation", "tanh", "--seed", "1", "--out", P("net.npz")]).ExitCode);
        if (command == "predict-cov")
        {
            // Precomputed kernels of the two training sets, --out-cov written by rows as the streamed prediction runs.
            foreach (string v in (string[])["a", "b"])
            {
                string[] k = ["--depth", "3", "--activation", "relu", "--quiet"];
                Assert.Equal(0, NtkProcess.Run(["kernel", "--x", P($"x{v}.npy"), .. k, "--out-ntk", P($"k{v}.npy"), "--out-nngp", P($"s{v}.npy")]).ExitCode);
                Assert.Equal(0, NtkProcess.Run(["kernel", "--x", P("xt.npy"), "--x2", P($"x{v}.npy"), .. k, "--out-ntk", P($"kx{v}.npy"), "--out-nngp", P($"sx{v}.npy")]).ExitCode);
            }
            Assert.Equal(0, NtkProcess.Run(["kernel", "--x", P("xt.npy"), "--depth", "3", "--activation", "relu", "--quiet", "--out-ntk", P("kxx.npy"), "--out-nngp", P("sxx.npy")]).ExitCode);
        }
        string[] Args(string v, string dir) => command switch
        {
            "train" => ["train", "--params", P("net.npz"), "--x", P($"x{v}.npy"), "--y", P($"y{v}.npy"), "--lr", "0.5", "--steps", "300", "--out", Path.Combine(dir, "out.npz")],
            "predict" => ["predict", "--x", P($"x{v}.npy"), "--y", P($"y{v}.npy"), "--x-test", P("xt.npy"), "--depth", "4", "--activation", "erf", "--ensemble",
               "--time", "0.5,2,inf", "--out", Path.Combine(dir, "out.npy"), "--out-std", Path.Combine(dir, "std.npy"), "--quiet"],
            "predict-cov" => ["predict", "--kernel-train", P($"k{v}.npy"), "--kernel-test", P($"kx{v}.npy"), "--nngp-train", P($"s{v}.npy"),
               "--nngp-test", P($"sx{v}.npy"), "--nngp-test-test", P("sxx.npy"), "--y", P($"y{v}.npy"), "--time", "1,inf",
               "--out", Path.Combine(dir, "out.npy"), "--out-cov", Path.Combine(dir, "cov.npy"), "--quiet"],
            _ => ["drift", "--x", P($"x{v}.npy"), "--y", P($"y{v}.npy"), "--depth", "2", "--hidden", "16,32", "--activation", "tanh", "--seed", "1",
               "--lr", "0.5", "--steps", "20", "--every", "10", "--report", Path.Combine(dir, "drift.csv")],
        };
        string[] outputs = command switch
        {
            "train" => ["out.npz"],
            "predict" => ["out.npy", "std.npy"],
            "predict-cov" => ["out.npy", "out.std.npy", "cov.npy"],
            _ => ["drift.csv"],
        };
        // (predict-cov: NTKFAST_MAP_THRESHOLD=0 maps the test blocks, so the covariance is written block by block.)
        Dictionary<string, string>? env = command == "predict-cov" ? new() { ["NTKFAST_MAP_THRESHOLD"] = "0", ["NTKFAST_PREDICT_BLOCK_ROWS"] = "16" } : null;
        // each run alone, into its own folder
        var alone = new Dictionary<string, byte[]>();
        foreach (string v in (string[])["a", "b"])
        {
            string dir = Directory.CreateDirectory(P("alone-" + v)).FullName;
            var r = NtkProcess.Run(Args(v, dir), env: env);
            Assert.True(r.ExitCode == 0, r.StdErr);
            foreach (string o in outputs) alone[v + o] = File.ReadAllBytes(Path.Combine(dir, o));
        }
        Assert.NotEqual(alone["a" + outputs[0]], alone["b" + outputs[0]]);
        string shared = Directory.CreateDirectory(P("shared")).FullName;
        for (int round = 0; round < 3; round++)
        {
            await Race(Args("a", shared), Args("b", shared), env);
            foreach (string o in outputs)
            {
                byte[] got = File.ReadAllBytes(Path.Combine(shared, o));
                Assert.True(got.AsSpan().SequenceEqual(alone["a" + o]) || got.AsSpan().SequenceEqual(alone["b" + o]), $"round {round}: {o} is not one run's complete result");
            }
            Assert.DoesNotContain(Directory.GetFiles(shared), f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
        }
    }

    /// <summary>
    /// `ntk empirical --params` (two networks, same points, same --out-ntk/--out-nngp): in memory (one tile, renamed
    /// when complete) and tiled (`--tile 64`, 16 tiles written in place into each run's own temporary). Each final
    /// file is byte for byte the result of one run alone, and no temporary remains.
    /// </summary>
    [Theory]
    [InlineData("memory")]
    [InlineData("tiles")]
    public async Task Two_empirical_processes_on_the_same_outputs_leave_one_complete_result(string mode)
    {
        KernelOutOfCoreTests.WritePoints(P("x.npy"), 250, 5, 1);
        foreach (string v in (string[])["a", "b"])
            Assert.Equal(0, NtkProcess.Run(["init", "--widths", "5,128,128,1", "--activation", "tanh", "--seed", v == "a" ? "1" : "2", "--out", P($"net{v}.npz")]).ExitCode);
        string[] Args(string v, string dir) => ["empirical", "--params", P($"net{v}.npz"), "--x", P("x.npy"),
            "--out-ntk", Path.Combine(dir, "t.npy"), "--out-nngp", Path.Combine(dir, "s.npy"), .. mode == "tiles" ? (string[])["--tile", "64"] : [], "--quiet"];
        await AloneThenRace(Args, ["t.npy", "s.npy"], null);
    }

    /// <summary>
    /// `ntk experiment convergence --quick` with seeds 1 and 2 into the same --out-dir: every file of the folder is,
    /// byte for byte, that file of one run alone (the experiment writes its files one by one, each atomically, so
    /// different files may come from different runs); summary.txt too, up to its "elapsed:" line (a wall time).
    /// </summary>
    [Fact]
    public async Task Two_experiment_runs_into_the_same_folder_leave_complete_files()
    {
        string[] Args(string v, string dir) => ["experiment", "convergence", "--quick", "--seed", v == "a" ? "1" : "2", "--out-dir", dir, "--quiet"];
        await AloneThenRace(Args, ["convergence_ntk.csv", "convergence_norms.csv", "convergence.png", "summary.txt"],
            new Dictionary<string, string> { ["NTKFAST_THREADS"] = "1" }, rounds: 2);
    }

    /// <summary>Without the wall-time line (summary.txt), so that two runs of the same work compare equal.</summary>
    private static byte[] Comparable(string name, byte[] bytes) => name != "summary.txt" ? bytes
        : System.Text.Encoding.UTF8.GetBytes(string.Join('\n', System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Where(l => !l.StartsWith("elapsed: ", StringComparison.Ordinal))));

    /// <summary>
    /// Runs a and b alone, one after the other, into the shared folder (so that a folder named in an output is the
    /// same), then races them there <paramref name="rounds"/> times: every output must be one alone run's bytes.
    /// </summary>
    private async Task AloneThenRace(Func<string, string, string[]> args, string[] outputs, IReadOnlyDictionary<string, string>? env, int rounds = 3)
    {
        string shared = Directory.CreateDirectory(P("shared")).FullName;
        var alone = new Dictionary<string, byte[]>();
        foreach (string v in (string[])["a", "b"])
        {
            var r = NtkProcess.Run(args(v, shared), env: env);
            Assert.True(r.ExitCode == 0, r.ToString());
            foreach (string o in outputs) alone[v + o] = Comparable(o, File.ReadAllBytes(Path.Combine(shared, o)));
        }
        foreach (string o in outputs) Assert.False(alone["a" + o].AsSpan().SequenceEqual(alone["b" + o]), "the two runs write the same " + o);
        for (int round = 0; round < rounds; round++)
        {
            foreach (string o in outputs) File.Delete(Path.Combine(shared, o));
            await Race(args("a", shared), args("b", shared), env);
            foreach (string o in outputs)
            {
                byte[] got = Comparable(o, File.ReadAllBytes(Path.Combine(shared, o)));
                Assert.True(got.AsSpan().SequenceEqual(alone["a" + o]) || got.AsSpan().SequenceEqual(alone["b" + o]), $"round {round}: {o} is not one run's complete result");
            }
            Assert.DoesNotContain(Directory.GetFiles(shared, "*", new EnumerationOptions { AttributesToSkip = 0 }), f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
        }
    }
}
