using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>`ntk empirical --arch` under mpirun (issue 16 item 4): the ranks share the tiles and write bitwise the single-process files.</summary>
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
}
