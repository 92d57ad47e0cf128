namespace NtkFast.Tiling;

/// <summary>One block of an output matrix: rows [Row0, Row0+Rows), columns [Col0, Col0+Cols).</summary>
/// <param name="Row0">First row in the full matrix.</param>
/// <param name="Rows">Number of rows.</param>
/// <param name="Col0">First column in the full matrix.</param>
/// <param name="Cols">Number of columns.</param>
/// <param name="Index">Position in the grid's fixed tile order.</param>
/// <param name="Mirror">True when the transposed block (rows ↔ columns) must be written too: an
/// off-diagonal tile of a symmetric matrix, computed once for the upper triangle.</param>
public readonly record struct Tile(int Index, int Row0, int Rows, int Col0, int Cols, bool Mirror)
{
    public long Elements => (long)Rows * Cols;
}

/// <summary>
/// A deterministic tiling of an N×M output (or a window of it). Rectangular: row-major order over
/// ⌈rows/T⌉ × ⌈cols/T⌉ tiles. Symmetric (N×N with the same points on both sides): only the tiles
/// (i, j) with i ≤ j, in row-major order, each off-diagonal one written also transposed; the
/// diagonal tiles are square and computed whole, so the result is exactly symmetric only if the
/// kernel's block is (the block API's contract: any block is bitwise the same block of the full matrix).
/// <para>Ranks take tiles block-cyclically: tile t belongs to rank t mod P. Over the triangle's
/// row-major order consecutive tiles have the same size, so every rank gets ⌊n/P⌋ or ⌈n/P⌉ tiles of
/// (nearly) the same cost — balanced to one tile, unlike a contiguous split of rows (which gives the
/// first rank of a triangle P times the last one's work).</para>
/// </summary>
public sealed class TileGrid
{
    private readonly int _tilesDown, _tilesAcross;

    /// <param name="rows">Output rows (or the window's).</param>
    /// <param name="cols">Output columns.</param>
    /// <param name="tileSize">Edge of a square tile (the last row/column of tiles may be smaller).</param>
    /// <param name="symmetric">Tile only the upper triangle (requires rows == cols and row0 == col0).</param>
    /// <param name="row0">First row of the window in the full matrix.</param>
    /// <param name="col0">First column of the window in the full matrix.</param>
    public TileGrid(int rows, int cols, int tileSize, bool symmetric, int row0 = 0, int col0 = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(row0);
        ArgumentOutOfRangeException.ThrowIfNegative(col0);
        if (symmetric && (rows != cols || row0 != col0))
            throw new ArgumentException($"A symmetric tiling needs a square window on the diagonal; got rows {row0}+{rows}, cols {col0}+{cols}.", nameof(symmetric));
        Rows = rows; Cols = cols; TileSize = tileSize; Symmetric = symmetric; Row0 = row0; Col0 = col0;
        _tilesDown = (int)(((long)rows + tileSize - 1) / tileSize);
        _tilesAcross = (int)(((long)cols + tileSize - 1) / tileSize);
        long count = symmetric ? (long)_tilesDown * (_tilesDown + 1) / 2 : (long)_tilesDown * _tilesAcross;
        if (count > int.MaxValue) throw new ArgumentException($"{count} tiles are too many; use a larger tile size.", nameof(tileSize));
        Count = (int)count;
    }

    public int Rows { get; }
    public int Cols { get; }
    public int Row0 { get; }
    public int Col0 { get; }
    public int TileSize { get; }
    public bool Symmetric { get; }

    /// <summary>Number of tiles.</summary>
    public int Count { get; }

    /// <summary>The tile with the given index (O(1); triangle indices are inverted in closed form).</summary>
    public Tile this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            int i, j;
            if (!Symmetric)
            {
                i = index / _tilesAcross;
                j = index % _tilesAcross;
            }
            else
            {
                (i, j) = TriangleRowCol(index, _tilesDown);
            }
            int r = i * TileSize, c = j * TileSize;
            return new Tile(index, Row0 + r, Math.Min(TileSize, Rows - r), Col0 + c, Math.Min(TileSize, Cols - c), Symmetric && i != j);
        }
    }

    /// <summary>Row i and column j ≥ i of the t-th tile of the upper triangle of an n×n grid, row-major.</summary>
    internal static (int I, int J) TriangleRowCol(int t, int n)
    {
        // Row i starts at S(i) = i·n − i(i−1)/2. Solve S(i) ≤ t by the quadratic formula, then fix
        // the floating-point guess by at most a step either way.
        double b = 2.0 * n + 1;
        int i = (int)Math.Floor((b - Math.Sqrt(b * b - 8.0 * t)) / 2);
        i = Math.Clamp(i, 0, n - 1);
        while (i > 0 && RowStart(i, n) > t) i--;
        while (i + 1 < n && RowStart(i + 1, n) <= t) i++;
        return (i, i + (int)(t - RowStart(i, n)));
    }

    private static long RowStart(int i, int n) => (long)i * n - (long)i * (i - 1) / 2;

    /// <summary>The tiles of <paramref name="rank"/> out of <paramref name="ranks"/>: t = rank, rank+P, rank+2P, …</summary>
    public IEnumerable<Tile> TilesOf(int rank, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        for (long t = rank; t < Count; t += ranks) yield return this[(int)t];
    }

    /// <summary>Number of tiles rank owns (block-cyclic).</summary>
    public int CountOf(int rank, int ranks) => Count <= rank ? 0 : (Count - 1 - rank) / ranks + 1;
}
