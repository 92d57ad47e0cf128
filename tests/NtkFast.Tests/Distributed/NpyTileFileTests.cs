using NtkFast.Tiling;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Distributed;

public sealed class NpyTileFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-tiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(TileWriteMode.Positioned, 1, 1, 1)]
    [InlineData(TileWriteMode.Positioned, 17, 9, 4)]
    [InlineData(TileWriteMode.Positioned, 65, 65, 16)]
    [InlineData(TileWriteMode.MemoryMapped, 17, 9, 4)]
    [InlineData(TileWriteMode.MemoryMapped, 65, 63, 8)]
    public void Blocks_in_any_order_give_the_matrix_numpy_reads(TileWriteMode mode, int rows, int cols, int t)
    {
        var rng = new Random(rows * 31 + cols);
        double[] m = new double[rows * cols];
        for (int i = 0; i < m.Length; i++) m[i] = rng.NextDouble() - 0.5;
        string path = Path.Combine(_dir, $"m-{mode}-{rows}.npy");
        var grid = new TileGrid(rows, cols, t, symmetric: false);
        int[] order = Enumerable.Range(0, grid.Count).OrderBy(_ => rng.Next()).ToArray();
        using (NpyTileFile f = NpyTileFile.Create(path, rows, cols, mode))
        {
            Assert.Equal(0, f.DataOffset % 64);
            Assert.Equal(new FileInfo(path).Length, f.Length);
            foreach (int k in order)
            {
                Tile tile = grid[k];
                // Give the block a leading dimension wider than the tile, as a sub-view of a buffer would.
                int ld = tile.Cols + 3;
                double[] block = new double[tile.Rows * ld];
                for (int i = 0; i < tile.Rows; i++)
                    for (int j = 0; j < tile.Cols; j++) block[i * ld + j] = m[(tile.Row0 + i) * cols + tile.Col0 + j];
                f.WriteBlock(tile.Row0, tile.Col0, tile.Rows, tile.Cols, block, ld);
            }
            f.Flush(toDisk: true);
        }
        NpyArray a = Npy.Read(path);
        Assert.Equal([rows, cols], a.Shape);
        Assert.Equal(m, a.Float64);
    }

    [Theory]
    [InlineData(TileWriteMode.Positioned)]
    [InlineData(TileWriteMode.MemoryMapped)]
    public void Transposed_blocks_mirror_the_upper_triangle(TileWriteMode mode)
    {
        const int n = 23, t = 5;
        var rng = new Random(5);
        double[] m = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) m[i * n + j] = m[j * n + i] = rng.NextDouble();
        string path = Path.Combine(_dir, "sym.npy");
        var grid = new TileGrid(n, n, t, symmetric: true);
        double[] scratch = new double[t * t];
        using (NpyTileFile f = NpyTileFile.Create(path, n, n, mode))
        {
            for (int k = grid.Count - 1; k >= 0; k--)
            {
                Tile tile = grid[k];
                double[] block = new double[tile.Rows * tile.Cols];
                for (int i = 0; i < tile.Rows; i++)
                    for (int j = 0; j < tile.Cols; j++) block[i * tile.Cols + j] = m[(tile.Row0 + i) * n + tile.Col0 + j];
                f.WriteBlock(tile.Row0, tile.Col0, tile.Rows, tile.Cols, block, tile.Cols);
                if (tile.Mirror) f.WriteBlockTransposed(tile.Row0, tile.Col0, tile.Rows, tile.Cols, block, tile.Cols, scratch);
            }
        }
        Assert.Equal(m, Npy.Read(path).Float64);
    }

    [Fact]
    public void Open_checks_shape_and_length_and_blocks_are_bounds_checked()
    {
        string path = Path.Combine(_dir, "o.npy");
        using (NpyTileFile.Create(path, 4, 6)) { }
        using (NpyTileFile f = NpyTileFile.Open(path, 4, 6))
        {
            Assert.Throws<ArgumentOutOfRangeException>("row0", () => f.WriteBlock(3, 0, 2, 1, new double[2], 1));
            Assert.Throws<ArgumentOutOfRangeException>("col0", () => f.WriteBlock(0, 5, 1, 2, new double[2], 2));
            Assert.Throws<ArgumentException>("block", () => f.WriteBlock(0, 0, 2, 2, new double[3], 2));
        }
        Assert.Throws<IOException>(() => NpyTileFile.Open(path, 6, 4));
        Assert.Throws<IOException>(() => NpyTileFile.Open(path, 4, 7));
    }
}
