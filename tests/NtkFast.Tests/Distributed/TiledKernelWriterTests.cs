using NtkFast.Tiling;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Distributed;

public sealed class TiledKernelWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-tiled-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData(37, 37, true, 8, 1)]
    [InlineData(37, 37, true, 8, 3)]
    [InlineData(37, 37, true, 1, 2)]
    [InlineData(37, 37, true, 64, 2)]
    [InlineData(33, 19, false, 7, 2)]
    [InlineData(1, 1, true, 4, 1)]
    [InlineData(65, 64, false, 16, 3)]
    public void Files_are_bitwise_the_full_matrices(int n, int m, bool symmetric, int tile, int threads)
    {
        var src = new SyntheticKernelSource(n, m, 5, n + m, symmetric);
        foreach (TileWriteMode mode in (TileWriteMode[])[TileWriteMode.Positioned, TileWriteMode.MemoryMapped])
        {
            string a = P($"a-{mode}.npy"), b = P($"b-{mode}.npy");
            TiledRunReport r = TiledKernelWriter.Run(src, [a, b], new KernelOutputPlan { TileSize = tile, Threads = threads, WriteMode = mode }, Communicator.Single);
            Assert.Equal(Math.Min(tile, Math.Max(n, m)), r.TileSize); // a tile larger than the matrix is the matrix
            Assert.Equal(src.Full(0), Npy.Read(a).Float64);
            Assert.Equal(src.Full(1), Npy.Read(b).Float64);
            Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
        }
    }

    [Fact]
    public void Windows_give_the_same_block_of_the_full_matrix_and_skipped_outputs_are_not_written()
    {
        const int n = 30;
        var src = new SyntheticKernelSource(n, n, 4, 1, symmetric: true);
        double[] full = src.Full(0);
        foreach ((int r0, int r1, int c0, int c1) in new[] { (3, 17, 3, 17), (0, 30, 5, 6), (29, 30, 0, 30), (4, 11, 20, 29) })
        {
            string a = P($"w{r0}-{c0}.npy");
            TiledKernelWriter.Run(src, [a, null], new KernelOutputPlan { TileSize = 4, RowStart = r0, RowEnd = r1, ColStart = c0, ColEnd = c1 }, Communicator.Single);
            NpyArray got = Npy.Read(a);
            Assert.Equal([r1 - r0, c1 - c0], got.Shape);
            for (int i = r0; i < r1; i++)
                for (int j = c0; j < c1; j++) Assert.Equal(full[i * n + j], got.Float64![(i - r0) * (c1 - c0) + j - c0]);
        }
        Assert.Single(Directory.GetFiles(_dir, "w3-3*"));
        Assert.Throws<ArgumentException>("options", () => TiledKernelWriter.Run(src, [P("x.npy"), null], new KernelOutputPlan { RowStart = 5, RowEnd = 5 }, Communicator.Single));
        Assert.Throws<ArgumentException>("options", () => TiledKernelWriter.Run(src, [P("x.npy"), null], new KernelOutputPlan { ColEnd = 31 }, Communicator.Single));
    }

    [Fact]
    public void A_failing_tile_leaves_no_output_and_keeps_an_existing_one()
    {
        var src = new SyntheticKernelSource(40, 40, 3, 2, symmetric: true) { FailOn = (i, j) => i == 33 && j == 35 };
        string a = P("fail.npy"), b = P("fail2.npy");
        File.WriteAllText(b, "previous result");
        Assert.Throws<InvalidDataException>(() => TiledKernelWriter.Run(src, [a, b], new KernelOutputPlan { TileSize = 8, Threads = 2 }, Communicator.Single));
        Assert.False(File.Exists(a));
        Assert.Equal("previous result", File.ReadAllText(b));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Memory_limit_chooses_tiles_that_fit_or_refuses_clearly()
    {
        var src = new SyntheticKernelSource(300, 300, 3, 3, symmetric: true);
        long limit = MemoryBudget.RuntimeBaselineBytes + src.FixedBytes + 2 * TiledKernelWriter.PerWorkerBytes(src, 128, true);
        TiledRunReport r = TiledKernelWriter.Run(src, [P("m.npy"), null], new KernelOutputPlan { MemoryLimitBytes = limit, Threads = 2 }, Communicator.Single);
        Assert.Equal(128, r.TileSize);
        Assert.True(r.PredictedBytes <= limit);
        Assert.Equal(src.Full(0), Npy.Read(P("m.npy")).Float64);
        var e = Assert.Throws<ArgumentException>(() => TiledKernelWriter.Run(src, [P("m2.npy"), null], new KernelOutputPlan { MemoryLimitBytes = 1 << 20 }, Communicator.Single));
        Assert.Contains("too small", e.Message);
        Assert.False(File.Exists(P("m2.npy")));
    }
}
