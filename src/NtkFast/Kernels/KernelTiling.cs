namespace NtkFast.Kernels;

/// <summary>A block of a kernel matrix: rows [RowStart, RowStart + RowCount) × columns [ColStart, ColStart + ColCount).</summary>
public readonly record struct KernelTile(int RowStart, int RowCount, int ColStart, int ColCount)
{
    /// <summary>True for a square block on the diagonal (the symmetric fast path, one triangle computed).</summary>
    public bool IsDiagonal => RowStart == ColStart && RowCount == ColCount;
}

/// <summary>
/// Deterministic tilings of kernel matrices, for computing one out of core or across processes with
/// <see cref="InfiniteWidth.ComputeBlock(KernelSpec, NtkFast.Numerics.Matrix, NtkFast.Numerics.Matrix?, int, int, int, int, KernelOutputs)"/>:
/// every block is bitwise identical to the same block of the full matrix, so any tiling, in any order,
/// on any number of processes, assembles the same bits.
/// </summary>
public static class KernelTiling
{
    /// <summary>
    /// Tiles of size <paramref name="tileSize"/> (the last row/column of tiles smaller) covering the upper
    /// triangle, diagonal included, of a symmetric n×n kernel, row of tiles by row of tiles, left to right.
    /// Tile (I, J) with J ≥ I; the lower triangle is its mirror. Count = T(T+1)/2 with T = ⌈n / tileSize⌉.
    /// </summary>
    public static KernelTile[] UpperTriangle(int n, int tileSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 1);
        int t = (int)(((long)n + tileSize - 1) / tileSize);
        var tiles = new KernelTile[(long)t * (t + 1) / 2];
        int k = 0;
        for (int i = 0; i < t; i++)
            for (int j = i; j < t; j++)
                tiles[k++] = Make(n, n, tileSize, tileSize, i, j);
        return tiles;
    }

    /// <summary>Tiles covering an n×m kernel, row of tiles by row of tiles, left to right.</summary>
    public static KernelTile[] Rectangle(int n, int m, int tileRows, int tileCols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileCols, 1);
        int tr = (int)(((long)n + tileRows - 1) / tileRows), tc = (int)(((long)m + tileCols - 1) / tileCols);
        var tiles = new KernelTile[(long)tr * tc];
        int k = 0;
        for (int i = 0; i < tr; i++)
            for (int j = 0; j < tc; j++)
                tiles[k++] = Make(n, m, tileRows, tileCols, i, j);
        return tiles;
    }

    private static KernelTile Make(int n, int m, int tileRows, int tileCols, int i, int j)
    {
        int r0 = i * tileRows, c0 = j * tileCols;
        return new KernelTile(r0, Math.Min(tileRows, n - r0), c0, Math.Min(tileCols, m - c0));
    }
}
