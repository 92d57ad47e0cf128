using NtkFast.Cli;
using NtkFast.Tiling;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Activations;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// <c>ntk kernel</c> out of core, in this process: every tiling (tile sizes, threads, windows, write
/// modes) writes files byte-for-byte equal to the in-memory command's.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class KernelOutOfCoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-ooc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    internal static void WritePoints(string path, int n, int d, int seed)
    {
        var rng = new Random(seed);
        double[] x = new double[n * d];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
        if (n > 3) Array.Clear(x, 2 * d, d); // a zero point: the edge case of the kernels
        Npy.Write(path, NpyArray.FromFloat64(x, n, d));
    }

    private static void Ntk(params string[] args)
    {
        int rc = Program.Main(["kernel", .. args, "--quiet"]);
        Assert.True(rc == 0, $"ntk kernel {string.Join(' ', args)} exited {rc}");
    }

    [Theory]
    [InlineData("relu", "3", false, "16")]
    [InlineData("relu", "3", false, "64")]
    [InlineData("erf", "2", false, "7")]
    [InlineData("relu", "3", true, "16")]
    [InlineData("leaky_relu:0.2", "4", true, "13")]
    public void Tiled_files_are_bytewise_the_in_memory_files(string activation, string depth, bool rectangular, string tile)
    {
        string x = P("x.npy"), x2 = P("x2.npy");
        WritePoints(x, 97, 6, 1);
        WritePoints(x2, 61, 6, 2);
        string[] common = ["--x", x, .. (rectangular ? (string[])["--x2", x2] : []), "--depth", depth, "--activation", activation];
        Ntk([.. common, "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")]);
        Ntk([.. common, "--out-ntk", P("tt.npy"), "--out-nngp", P("ts.npy"), "--tile", tile]);
        Ntk([.. common, "--out-nngp", P("ts2.npy"), "--out-of-core"]);
        Assert.Equal(File.ReadAllBytes(P("t.npy")), File.ReadAllBytes(P("tt.npy")));
        Assert.Equal(File.ReadAllBytes(P("s.npy")), File.ReadAllBytes(P("ts.npy")));
        Assert.Equal(File.ReadAllBytes(P("s.npy")), File.ReadAllBytes(P("ts2.npy")));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Theory]
    [InlineData("5:40", "20:90")]
    [InlineData("10:60", "10:60")]
    [InlineData("96:97", ":")]
    public void Tiled_windows_are_bytewise_the_in_memory_windows(string rows, string cols)
    {
        string x = P("x.npy");
        WritePoints(x, 97, 5, 3);
        string[] common = ["--x", x, "--depth", "3", "--activation", "relu", "--rows", rows, "--cols", cols];
        Ntk([.. common, "--out-ntk", P("t.npy")]);
        Ntk([.. common, "--out-ntk", P("tt.npy"), "--tile", "8"]);
        Assert.Equal(File.ReadAllBytes(P("t.npy")), File.ReadAllBytes(P("tt.npy")));
    }

    [Fact]
    public void Thread_count_and_write_mode_do_not_change_the_bytes()
    {
        string x = P("x.npy");
        WritePoints(x, 70, 4, 4);
        int saved = global::NtkFast.Numerics.NtkParallel.MaxThreads;
        try
        {
            global::NtkFast.Numerics.NtkParallel.MaxThreads = 1;
            Ntk("--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("a.npy"), "--tile", "9");
            global::NtkFast.Numerics.NtkParallel.MaxThreads = 3;
            Ntk("--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("b.npy"), "--tile", "9");
        }
        finally { global::NtkFast.Numerics.NtkParallel.MaxThreads = saved; }
        Assert.Equal(File.ReadAllBytes(P("a.npy")), File.ReadAllBytes(P("b.npy")));

        // The library with memory-mapped writes gives the same file too.
        Matrix xm = MatrixFile.Read(x);
        var spec = new KernelSpec(2, ActivationRegistry.Parse("relu"), 0.1, 1.0, 0, null);
        TiledKernelWriter.Run(new AnalyticKernelSource(spec, xm, null, ntk: true, nngp: false), [P("c.npy")],
            new KernelOutputPlan { TileSize = 11, WriteMode = TileWriteMode.MemoryMapped }, Communicator.Single);
        Assert.Equal(File.ReadAllBytes(P("a.npy")), File.ReadAllBytes(P("c.npy")));
    }

    [Fact]
    public void Bad_memory_limits_are_one_line_errors_with_no_output()
    {
        string x = P("x.npy");
        WritePoints(x, 50, 4, 5);
        Assert.Equal(ExitCodes.BadInput, Program.Main(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("o.npy"), "--memory-limit", "lots", "--quiet"]));
        Assert.Equal(ExitCodes.BadInput, Program.Main(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("o.npy"), "--memory-limit", "1M", "--quiet"]));
        Assert.Equal(ExitCodes.BadInput, Program.Main(["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("o.npy"), "--tile", "0", "--quiet"]));
        Assert.Empty(Directory.GetFiles(_dir, "o.npy*"));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }
}

/// <summary>Tests that start child processes or change NtkParallel.MaxThreads run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DistributedCollection
{
    public const string Name = "Distributed (processes)";
}
