using NtkFast.Tiling;
using Xunit;

namespace NtkFast.Tests.Distributed;

public class TileGridTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 9, 3)]
    [InlineData(17, 5, 4)]
    [InlineData(64, 65, 16)]
    [InlineData(10, 10, 64)]
    public void Rectangular_tiles_cover_every_element_once(int rows, int cols, int t)
    {
        var grid = new TileGrid(rows, cols, t, symmetric: false);
        var hits = new int[rows, cols];
        for (int k = 0; k < grid.Count; k++)
        {
            Tile tile = grid[k];
            Assert.Equal(k, tile.Index);
            Assert.False(tile.Mirror);
            Assert.InRange(tile.Rows, 1, t);
            Assert.InRange(tile.Cols, 1, t);
            for (int i = 0; i < tile.Rows; i++)
                for (int j = 0; j < tile.Cols; j++) hits[tile.Row0 + i, tile.Col0 + j]++;
        }
        foreach (int h in hits) Assert.Equal(1, h);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(9, 3)]
    [InlineData(65, 8)]
    [InlineData(100, 7)]
    [InlineData(5, 64)]
    public void Triangle_tiles_and_their_mirrors_cover_every_element_once(int n, int t)
    {
        var grid = new TileGrid(n, n, t, symmetric: true);
        int tn = (n + t - 1) / t;
        Assert.Equal(tn * (tn + 1) / 2, grid.Count);
        var hits = new int[n, n];
        for (int k = 0; k < grid.Count; k++)
        {
            Tile tile = grid[k];
            Assert.True(tile.Col0 >= tile.Row0, "tiles lie in the upper triangle");
            Assert.Equal(tile.Row0 != tile.Col0, tile.Mirror);
            for (int i = 0; i < tile.Rows; i++)
                for (int j = 0; j < tile.Cols; j++)
                {
                    hits[tile.Row0 + i, tile.Col0 + j]++;
                    if (tile.Mirror) hits[tile.Col0 + j, tile.Row0 + i]++;
                }
        }
        foreach (int h in hits) Assert.Equal(1, h);
    }

    [Fact]
    public void Triangle_index_inversion_matches_enumeration()
    {
        foreach (int n in (int[])[1, 2, 3, 10, 63, 64, 65, 1000])
        {
            int t = 0;
            for (int i = 0; i < n; i++)
                for (int j = i; j < n; j++, t++)
                {
                    if (n == 1000 && t % 97 != 0) continue;
                    Assert.Equal((i, j), TileGrid.TriangleRowCol(t, n));
                }
        }
        // Large grids (N = 10⁶ points in 256-wide tiles): the closed form stays exact at the ends.
        int big = 3907;
        long last = (long)big * (big + 1) / 2 - 1;
        Assert.Equal((big - 1, big - 1), TileGrid.TriangleRowCol((int)last, big));
        Assert.Equal((1, 1), TileGrid.TriangleRowCol(big, big));
        Assert.Equal((0, big - 1), TileGrid.TriangleRowCol(big - 1, big));
    }

    [Theory]
    [InlineData(50, 7, true, 4)]
    [InlineData(50, 7, false, 3)]
    [InlineData(5, 7, true, 4)]
    [InlineData(100, 10, true, 2)]
    public void Block_cyclic_split_is_a_balanced_partition(int n, int t, bool symmetric, int ranks)
    {
        var grid = new TileGrid(n, n, t, symmetric);
        var seen = new bool[grid.Count];
        var work = new long[ranks];
        for (int r = 0; r < ranks; r++)
        {
            int count = 0;
            foreach (Tile tile in grid.TilesOf(r, ranks))
            {
                Assert.False(seen[tile.Index]);
                seen[tile.Index] = true;
                Assert.Equal(r, tile.Index % ranks);
                work[r] += tile.Elements;
                count++;
            }
            Assert.Equal(grid.CountOf(r, ranks), count);
        }
        Assert.All(seen, Assert.True);
        int min = Enumerable.Range(0, ranks).Min(r => grid.CountOf(r, ranks));
        int max = Enumerable.Range(0, ranks).Max(r => grid.CountOf(r, ranks));
        Assert.True(max - min <= 1);
        // Work differs by at most about one full tile between ranks.
        Assert.True(work.Max() - work.Min() <= 2L * t * t, $"work {string.Join(",", work)}");
    }

    [Fact]
    public void Window_offsets_tiles_and_bad_arguments_name_themselves()
    {
        var grid = new TileGrid(5, 5, 2, symmetric: true, row0: 10, col0: 10);
        Assert.Equal(10, grid[0].Row0);
        Assert.Equal(14, grid[grid.Count - 1].Row0);
        Assert.Throws<ArgumentException>("symmetric", () => new TileGrid(5, 6, 2, symmetric: true));
        Assert.Throws<ArgumentOutOfRangeException>("tileSize", () => new TileGrid(5, 5, 0, false));
        Assert.Throws<ArgumentOutOfRangeException>("index", () => grid[grid.Count]);
        Assert.Equal(0, new TileGrid(0, 0, 4, true).Count);
    }
}
