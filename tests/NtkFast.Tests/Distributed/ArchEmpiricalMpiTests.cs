using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>`ntk empirical --arch` under mpirun (issue 16 item 4): the ranks share the tiles and write bitwise the single-process files.</summary>
[Collection(DistributedCollection.Name)]
public sealed class ArchEmpiricalMpiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-archmpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [MpiFact]
    public void Mpirun_with_2_ranks_writes_the_single_process_bytes()
    {
        var rng = new Random(3);
        var d = new double[11 * 4 * 4 * 1];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() - 0.5;
        using (var s = File.Create(P("x.npy"))) Npy.Write(s, d, [11, 4, 4, 1]);
        string[] args = ["empirical", "--arch", "conv:3,3x3 relu res{ conv:3,3x3 relu } gap dense:1", "--seed", "2", "--monte-carlo", "2",
            "--x", P("x.npy"), "--tile", "4", "--quiet"];
        var oneThread = new Dictionary<string, string> { ["NTKFAST_THREADS"] = "1" };
        NtkProcess.Result single = NtkProcess.Run([.. args, "--out-ntk", P("t1.npy"), "--out-ntk-std", P("d1.npy")], 0, oneThread);
        Assert.True(single.ExitCode == 0, single.ToString());
        NtkProcess.Result mpi = NtkProcess.Run([.. args, "--out-ntk", P("t2.npy"), "--out-ntk-std", P("d2.npy")], 2, oneThread);
        Assert.True(mpi.ExitCode == 0, mpi.ToString());
        Assert.Equal(Npy.Read(P("t1.npy")).Float64, Npy.Read(P("t2.npy")).Float64);
        Assert.Equal(Npy.Read(P("d1.npy")).Float64, Npy.Read(P("d2.npy")).Float64);
    }

    /// <summary>
    /// Ranks that read a different network — another --params file (a stale node-local copy), another spec file, or
    /// another seed — stop the job ("ranks read different inputs"), with no output and no temporary, instead of
    /// writing a kernel mixed from two networks.
    /// </summary>
    [MpiTheory]
    [InlineData("params")]
    [InlineData("spec-file")]
    [InlineData("seed")]
    public void Ranks_that_read_a_different_network_stop_the_job_with_no_output(string what)
    {
        var rng = new Random(4);
        var d = new double[9 * 4 * 4 * 1];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() - 0.5;
        using (var s = File.Create(P("x.npy"))) Npy.Write(s, d, [9, 4, 4, 1]);
        const string spec = "conv:3,3x3 relu gap dense:1";
        File.WriteAllText(P("a.arch"), spec);
        File.WriteAllText(P("b.arch"), "conv:4,3x3 relu gap dense:1");
        foreach (int seed in (int[])[1, 2])
        {
            NtkProcess.Result init = NtkProcess.Run(["init", "--arch", spec, "--input-shape", "4,4,1", "--seed", $"{seed}", "--out", P($"net{seed}.npz")]);
            Assert.True(init.ExitCode == 0, init.ToString());
        }
        string[] Args(int rank) => what switch
        {
            "params" => ["empirical", "--params", P($"net{rank + 1}.npz"), "--x", P("x.npy"), "--tile", "4", "--out-ntk", P("t.npy"), "--quiet"],
            "spec-file" => ["empirical", "--arch", P(rank == 0 ? "a.arch" : "b.arch"), "--seed", "1", "--x", P("x.npy"), "--tile", "4", "--out-ntk", P("t.npy"), "--quiet"],
            _ => ["empirical", "--arch", spec, "--seed", $"{rank + 1}", "--x", P("x.npy"), "--tile", "4", "--out-ntk", P("t.npy"), "--quiet"],
        };
        var oneThread = new Dictionary<string, string> { ["NTKFAST_THREADS"] = "1" };
        NtkProcess.Result r = NtkProcess.RunMpmd([Args(0), Args(1)], oneThread, timeoutSeconds: 60);
        Assert.True(r.ExitCode is 1 or 2, r.ToString());
        Assert.Contains("ranks read different inputs", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("t.npy")), "no finished-looking NTK file");
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }
}
