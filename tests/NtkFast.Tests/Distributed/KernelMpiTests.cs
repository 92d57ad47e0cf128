using NtkFast.Cli;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// The real <c>ntk</c> binary in child processes: under <c>mpirun -np 1/2/4</c> (Open MPI must be installed:
/// a missing mpirun FAILS these tests, it does not skip them), out of core under a memory limit (peak RSS
/// read from the child's own VmHWM), and failing or killed ranks.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class KernelMpiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-mpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly Dictionary<string, string> OneThread = new() { ["NTKFAST_THREADS"] = "1" };

    private void InMemory(string[] args)
    {
        int rc = Program.Main(["kernel", .. args, "--quiet"]);
        Assert.Equal(0, rc);
    }

    [MpiFact]
    public void Mpirun_with_1_2_4_ranks_writes_the_in_memory_bytes_symmetric_and_rectangular()
    {
        string x = P("x.npy"), x2 = P("x2.npy");
        KernelOutOfCoreTests.WritePoints(x, 83, 5, 11);
        KernelOutOfCoreTests.WritePoints(x2, 45, 5, 12);
        string[] sym = ["kernel", "--x", x, "--depth", "3", "--activation", "relu", "--tile", "16", "--quiet"];
        string[] rect = ["kernel", "--x", x, "--x2", x2, "--depth", "2", "--activation", "erf", "--tile", "16", "--quiet"];
        InMemory([.. sym[1..^3], "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")]);
        InMemory([.. rect[1..^3], "--out-ntk", P("rt.npy"), "--out-nngp", P("rs.npy")]);
        byte[] t = File.ReadAllBytes(P("t.npy")), s = File.ReadAllBytes(P("s.npy"));
        byte[] rt = File.ReadAllBytes(P("rt.npy")), rs = File.ReadAllBytes(P("rs.npy"));

        foreach (int ranks in (int[])[1, 2, 4])
        {
            // 15 triangle tiles over 2 or 4 ranks: uneven counts, every rank writes into both files.
            NtkProcess.Result r = NtkProcess.Run([.. sym, "--out-ntk", P($"t{ranks}.npy"), "--out-nngp", P($"s{ranks}.npy")], ranks, OneThread);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(t, File.ReadAllBytes(P($"t{ranks}.npy")));
            Assert.Equal(s, File.ReadAllBytes(P($"s{ranks}.npy")));
        }
        foreach (int ranks in (int[])[2, 4])
        {
            NtkProcess.Result r = NtkProcess.Run([.. rect, "--out-ntk", P($"rt{ranks}.npy"), "--out-nngp", P($"rs{ranks}.npy")], ranks, OneThread);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(rt, File.ReadAllBytes(P($"rt{ranks}.npy")));
            Assert.Equal(rs, File.ReadAllBytes(P($"rs{ranks}.npy")));
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Out_of_core_run_far_above_the_memory_limit_stays_under_it()
    {
        // 5600² doubles = 251 MB of NTK under a 64 MiB limit; the child reports its own VmHWM.
        const int n = 5600;
        string x = P("big.npy"), o = P("big-ntk.npy");
        KernelOutOfCoreTests.WritePoints(x, n, 8, 13);
        const long limit = 64L << 20;
        NtkProcess.Result r = NtkProcess.Run(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", o, "--memory-limit", "64M"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        long peak = r.PeakRssBytes;
        Assert.True(peak > 0, "the child reported no peak RSS: " + r.StdErr);
        Assert.True(peak < limit, $"peak RSS {peak} ≥ limit {limit}");
        Assert.True(new FileInfo(o).Length > 3 * limit);

        // Spot-check rows against the library's block API (bitwise), including the mirrored lower triangle.
        NpyArray a = Npy.Read(o);
        Assert.Equal([n, n], a.Shape);
        var spec = new global::NtkFast.Kernels.KernelSpec(2, global::NtkFast.Activations.ActivationRegistry.Parse("relu"), 0.1, 1.0, 0, null);
        global::NtkFast.Numerics.Matrix xm = MatrixFile.Read(x);
        foreach (int row in (int[])[0, 2, 1234, n - 1])
        {
            global::NtkFast.Kernels.KernelResult block = global::NtkFast.Kernels.InfiniteWidth.ComputeBlock(spec, xm, null, row, 1, 0, n, global::NtkFast.Kernels.KernelOutputs.Ntk);
            Assert.Equal(block.Ntk!.Data, a.Float64!.AsSpan(row * n, n).ToArray());
        }
    }

    [MpiTheory]
    [InlineData("throw")]
    [InlineData("kill")]
    public void A_failing_rank_fails_the_job_and_leaves_no_finished_output(string how)
    {
        string x = P("x.npy"), o = P("t.npy"), kept = P("s.npy");
        KernelOutOfCoreTests.WritePoints(x, 60, 4, 14);
        File.WriteAllText(kept, "an older result that must survive");
        var env = new Dictionary<string, string>(OneThread) { ["NTKFAST_FAULT"] = $"1:{how}" };
        NtkProcess.Result r = NtkProcess.Run(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--tile", "8",
            "--out-ntk", o, "--out-nngp", kept, "--quiet"], ranks: 2, env);
        Assert.True(r.ExitCode != 0, r.ToString());
        if (how == "throw")
        {
            Assert.Contains("ntk kernel: rank 1 of 2: injected failure", r.StdErr, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        }
        // Killed or failed, the other rank's temporaries are gone too (rank 0 is stopped by SIGTERM, whose handler deletes them).
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
        Assert.False(File.Exists(o), "no finished-looking NTK file");
        Assert.Equal("an older result that must survive", File.ReadAllText(kept));
    }

    [MpiFact]
    public void Bad_input_under_mpirun_is_one_clear_line_and_exit_2()
    {
        NtkProcess.Result r = NtkProcess.Run(["kernel", "--x", P("missing.npy"), "--depth", "2", "--activation", "relu", "--out-ntk", P("o.npy")], ranks: 2, OneThread);
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("ntk kernel: rank ", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("missing.npy", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("o.npy")));
    }

    [MpiTheory]
    [InlineData("fewer-rows")]
    [InlineData("other-content")]
    [InlineData("missing")]
    [InlineData("corrupt")]
    public void A_rank_that_reads_other_inputs_stops_the_job_with_no_output(string what)
    {
        string x = P("x.npy"), other = P("other.npy");
        KernelOutOfCoreTests.WritePoints(x, 60, 4, 14);
        switch (what)
        {
            case "fewer-rows": KernelOutOfCoreTests.WritePoints(other, 59, 4, 14); break;
            case "other-content": KernelOutOfCoreTests.WritePoints(other, 60, 4, 15); break;
            case "corrupt": File.WriteAllBytes(other, File.ReadAllBytes(x)[..100]); break;
            default: break; // missing
        }
        string o = P("t.npy"), kept = P("s.npy");
        File.WriteAllText(kept, "an older result that must survive");
        string[] Args(string points) => ["kernel", "--x", points, "--depth", "2", "--activation", "relu", "--tile", "8", "--out-ntk", o, "--out-nngp", kept, "--quiet"];
        NtkProcess.Result r = NtkProcess.RunMpmd([Args(x), Args(other)], OneThread, timeoutSeconds: 60);
        Assert.True(r.ExitCode is 1 or 2, r.ToString());
        if (what is "fewer-rows" or "other-content")
            Assert.Contains("ranks read different inputs", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(o), "no finished-looking NTK file");
        Assert.Equal("an older result that must survive", File.ReadAllText(kept));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Single_process_needs_no_MPI_library_and_a_forced_MPI_run_without_one_says_so()
    {
        string x = P("x.npy");
        KernelOutOfCoreTests.WritePoints(x, 20, 3, 15);
        var noLib = new Dictionary<string, string> { ["NTKFAST_MPI_LIBRARY"] = "/nonexistent/libmpi.so.40" };
        NtkProcess.Result ok = NtkProcess.Run(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("a.npy"), "--out-of-core", "--quiet"], env: noLib);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        var forced = new Dictionary<string, string>(noLib) { ["NTKFAST_MPI"] = "1" };
        NtkProcess.Result bad = NtkProcess.Run(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("b.npy")], env: forced);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("no MPI library could be loaded", bad.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("b.npy")));
    }

    [MpiFact]
    public void Mpi_info_exchanges_messages_round_the_ring()
    {
        NtkProcess.Result r = NtkProcess.Run(["mpi-info"], ranks: 3);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Open MPI", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("3 rank(s)", r.StdOut, StringComparison.Ordinal);
    }
}
