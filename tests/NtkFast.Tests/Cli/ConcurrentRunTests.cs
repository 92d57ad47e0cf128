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
    private static async Task Race(string[] a, string[] b)
    {
        using Process pa = Process.Start(NtkProcess.StartInfo(a))!;
        using Process pb = Process.Start(NtkProcess.StartInfo(b))!;
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
    public async Task Two_train_or_predict_processes_on_the_same_outputs_leave_one_complete_result(string command)
    {
        foreach (string v in (string[])["a", "b"])
        {
            KernelOutOfCoreTests.WritePoints(P($"x{v}.npy"), 300, 6, v == "a" ? 1 : 2);
            KernelOutOfCoreTests.WritePoints(P($"y{v}.npy"), 300, 2, v == "a" ? 3 : 4);
        }
        KernelOutOfCoreTests.WritePoints(P("xt.npy"), 200, 6, 5);
        Assert.Equal(0, NtkProcess.Run(["init", "--widths", "6,64,64,2", "--activation", "tanh", "--seed", "1", "--out", P("net.npz")]).ExitCode);
        string[] Args(string v, string dir) => command == "train"
            ? ["train", "--params", P("net.npz"), "--x", P($"x{v}.npy"), "--y", P($"y{v}.npy"), "--lr", "0.5", "--steps", "300", "--out", Path.Combine(dir, "out.npz")]
            : ["predict", "--x", P($"x{v}.npy"), "--y", P($"y{v}.npy"), "--x-test", P("xt.npy"), "--depth", "4", "--activation", "erf", "--ensemble",
               "--time", "0.5,2,inf", "--out", Path.Combine(dir, "out.npy"), "--out-std", Path.Combine(dir, "std.npy"), "--quiet"];
        string[] outputs = command == "train" ? ["out.npz"] : ["out.npy", "std.npy"];
        // each run alone, into its own folder
        var alone = new Dictionary<string, byte[]>();
        foreach (string v in (string[])["a", "b"])
        {
            string dir = Directory.CreateDirectory(P("alone-" + v)).FullName;
            var r = NtkProcess.Run(Args(v, dir));
            Assert.True(r.ExitCode == 0, r.StdErr);
            foreach (string o in outputs) alone[v + o] = File.ReadAllBytes(Path.Combine(dir, o));
        }
        Assert.NotEqual(alone["a" + outputs[0]], alone["b" + outputs[0]]);
        string shared = Directory.CreateDirectory(P("shared")).FullName;
        for (int round = 0; round < 3; round++)
        {
            await Race(Args("a", shared), Args("b", shared));
            foreach (string o in outputs)
            {
                byte[] got = File.ReadAllBytes(Path.Combine(shared, o));
                Assert.True(got.AsSpan().SequenceEqual(alone["a" + o]) || got.AsSpan().SequenceEqual(alone["b" + o]), $"round {round}: {o} is not one run's complete result");
            }
            Assert.DoesNotContain(Directory.GetFiles(shared), f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
        }
    }
}
