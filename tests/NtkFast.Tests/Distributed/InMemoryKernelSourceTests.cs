using NtkFast.IO;
using NtkFast.Tiling;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// Kernels computed in memory through the one output path (<see cref="KernelOutput.Write"/>): files bitwise
/// those <see cref="Npy.Write(Stream, ReadOnlySpan{double}, ReadOnlySpan{int})"/> writes, entries of several
/// values ((N, M, q, q) files), side files in the same transaction.
/// </summary>
public sealed class InMemoryKernelSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-inmem-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static double[] Values(long count, int seed)
    {
        var r = new Random(seed);
        var v = new double[count];
        for (long i = 0; i < count; i++) v[i] = r.NextDouble() - 0.5;
        return v;
    }

    private static byte[] NpyBytes(double[] data, int[] shape)
    {
        using var s = new MemoryStream();
        Npy.Write(s, data, shape);
        return s.ToArray();
    }

    [Theory]
    [InlineData(23, 23, 2, 0, 1)]   // automatic: one tile
    [InlineData(23, 9, 3, 4, 2)]
    [InlineData(7, 11, 1, 1, 2)]
    [InlineData(1, 1, 2, 0, 1)]
    [InlineData(40, 33, 2, 16, 3)]
    public void Files_are_the_bytes_Npy_Write_gives_for_any_tile(int n, int m, int q, int tile, int threads)
    {
        double[] full = Values((long)n * m * q * q, n + m), fullStd = Values((long)n * m * q * q, 7), nngp = Values((long)n * m, 3);
        var source = new InMemoryKernelSource(n, m, [(full, [q, q]), (fullStd, [q, q]), (nngp, [])]);
        Assert.Equal([q, q], source.EntryShape(0));
        Assert.Empty(source.EntryShape(2));
        foreach (TileWriteMode mode in (TileWriteMode[])[TileWriteMode.Positioned, TileWriteMode.MemoryMapped])
        {
            string a = P($"a{mode}.npy"), b = P($"b{mode}.npy"), c = P($"c{mode}.npy");
            TiledRunReport r = KernelOutput.Write(source, [a, b, c], new KernelOutputPlan { TileSize = tile, Threads = threads, WriteMode = mode });
            if (tile == 0) Assert.Equal(1, r.Tiles);
            Assert.Equal(NpyBytes(full, [n, m, q, q]), File.ReadAllBytes(a));
            Assert.Equal(NpyBytes(fullStd, [n, m, q, q]), File.ReadAllBytes(b));
            Assert.Equal(NpyBytes(nngp, [n, m]), File.ReadAllBytes(c));
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void A_window_of_entries_is_that_block_of_the_full_array()
    {
        const int n = 9, m = 6, q = 2;
        double[] full = Values(n * m * q * q, 1);
        var source = new InMemoryKernelSource(n, m, [(full, [q, q])]);
        string a = P("w.npy");
        KernelOutput.Write(source, [a], new KernelOutputPlan { TileSize = 2, RowStart = 3, RowEnd = 8, ColStart = 1, ColEnd = 4 });
        NpyArray got = Npy.Read(a);
        Assert.Equal([5, 3, q, q], got.Shape);
        for (int i = 3; i < 8; i++)
            for (int j = 1; j < 4; j++)
                for (int k = 0; k < q * q; k++)
                    Assert.Equal(full[((i * m) + j) * q * q + k], got.Float64![(((i - 3) * 3) + j - 1) * q * q + k]);
    }

    [Fact]
    public void Side_files_are_written_with_the_matrices_or_not_at_all()
    {
        double[] ntk = Values(4 * 5, 2);
        var source = new InMemoryKernelSource(4, 5, [(ntk, [])]);
        string a = P("k.npy"), report = P("r.csv");
        KernelOutput.Write(source, [a], new KernelOutputPlan(), [new KernelSideFile(report, "a,b\n1,2\n"u8.ToArray())]);
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(report));
        Assert.Equal(NpyBytes(ntk, [4, 5]), File.ReadAllBytes(a));

        // A non-finite entry fails the run: neither the matrix nor the side file is replaced.
        double[] bad = (double[])ntk.Clone();
        bad[13] = double.NaN;
        var failing = new InMemoryKernelSource(4, 5, [(bad, [])]);
        Assert.Throws<InvalidDataException>(() => KernelOutput.Write(failing, [a], new KernelOutputPlan(), [new KernelSideFile(report, "new"u8.ToArray())]));
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(report));
        Assert.Equal(NpyBytes(ntk, [4, 5]), File.ReadAllBytes(a));

        // A side file naming a matrix output is refused before anything is written.
        Assert.Throws<ArgumentException>(() => KernelOutput.Write(source, [P("x.npy")], new KernelOutputPlan(), [new KernelSideFile(P("x.npy"), "z"u8.ToArray())]));
        Assert.False(File.Exists(P("x.npy")));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Another_rank_opens_an_entry_shaped_file_by_its_shape()
    {
        string dest = P("e.npy");
        using (NpyTileFile f = NpyTileFile.CreateTemporary(dest, 3, 4, TileWriteMode.Positioned, out string temp, [2, 2]))
        {
            Assert.Equal(16, f.Cols);
            Assert.Equal(NpyTileFile.FileLength(3, 4, [2, 2]), f.Length);
            using (NpyTileFile g = NpyTileFile.Open(temp, 3, 4, TileWriteMode.Positioned, [2, 2])) Assert.Equal(16, g.Cols);
            Assert.Throws<IOException>(() => NpyTileFile.Open(temp, 3, 16));
            Assert.Throws<IOException>(() => NpyTileFile.Open(temp, 3, 4, TileWriteMode.Positioned, [4]));
            AtomicFile.Delete(temp);
        }
    }

    [Fact]
    public void Large_entries_get_automatic_tiles_whose_buffer_is_that_of_one_scalar_output()
    {
        const int n = 210, q = 10;
        double[] full = Values((long)n * n * q * q, 5);
        var source = new InMemoryKernelSource(n, n, [(full, [q, q])]);
        Assert.Equal(0, source.FixedBytes); // already in memory: the limit budgets what the write adds
        string a = P("big.npy");
        TiledRunReport r = KernelOutput.Write(source, [a], new KernelOutputPlan { Threads = 1, MemoryLimitBytes = 1L << 30 });
        Assert.Equal(128, r.TileSize); // 100·128² ≤ 2048² < 100·256²
        Assert.Equal(NpyBytes(full, [n, n, q, q]), File.ReadAllBytes(a));
    }

    [Fact]
    public void Bad_shapes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new InMemoryKernelSource(3, 3, [(new double[9], [2, 2])]));
        Assert.Throws<ArgumentException>(() => new InMemoryKernelSource(3, 3, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryKernelSource(0, 3, [(new double[0], [])]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryKernelSource(1, 1, [(new double[0], [0])]));
    }
}
