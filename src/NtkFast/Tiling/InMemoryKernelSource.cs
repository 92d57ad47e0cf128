namespace NtkFast.Tiling;

/// <summary>
/// Kernel matrices already computed in memory (e.g. `ntk empirical`'s whole-matrix Monte Carlo, or a run
/// with the diagnostics report, which needs the whole kernel), as an <see cref="IKernelBlockSource"/>: <see cref="KernelOutput.Write"/> writes them like
/// any other source (one tile when they fit, else copied tile by tile), so the in-memory results take the same
/// output path, files and transaction as the tiled ones. Blocks are copies of the given arrays, so the files
/// hold exactly their bits. Never mirrored: the arrays are written as they are, symmetric or not.
/// </summary>
public sealed class InMemoryKernelSource : IKernelBlockSource
{
    private readonly double[][] _data;
    private readonly IReadOnlyList<int>[] _entryShapes;
    private readonly int[] _entry;

    /// <param name="rows">Rows of every matrix.</param>
    /// <param name="cols">Columns of every matrix.</param>
    /// <param name="outputs">Per output, its values in C order (rows × cols × entry values) and its entry shape (empty: scalars).</param>
    public InMemoryKernelSource(int rows, int cols, IReadOnlyList<(double[] Data, IReadOnlyList<int> EntryShape)> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1);
        if (outputs.Count == 0) throw new ArgumentException("no outputs", nameof(outputs));
        Rows = rows;
        Cols = cols;
        _data = new double[outputs.Count][];
        _entryShapes = new IReadOnlyList<int>[outputs.Count];
        _entry = new int[outputs.Count];
        for (int o = 0; o < outputs.Count; o++)
        {
            (double[] data, IReadOnlyList<int> shape) = outputs[o];
            ArgumentNullException.ThrowIfNull(data);
            ArgumentNullException.ThrowIfNull(shape);
            int e = NpyTileFile.EntrySize(shape);
            if (data.LongLength != (long)rows * cols * e)
                throw new ArgumentException($"output {o} has {data.LongLength} values, a {rows}×{cols} matrix of {e}-value entries needs {(long)rows * cols * e}", nameof(outputs));
            _data[o] = data;
            _entryShapes[o] = [.. shape];
            _entry[o] = e;
        }
    }

    public int Rows { get; }
    public int Cols { get; }
    public bool IsSymmetric => false;
    public int Outputs => _data.Length;

    public IReadOnlyList<int> EntryShape(int output) => _entryShapes[output];

    /// <summary>
    /// Nothing: the matrices exist before the write starts (the caller allocated them), so a memory limit
    /// measured before that — the default one — budgets what the write adds, its tile buffers; counting the
    /// matrices too would refuse to write a kernel that is already computed.
    /// </summary>
    public long FixedBytes => 0;

    /// <summary>Nothing: a block is a copy.</summary>
    public long WorkspaceBytes(int rows, int cols) => 0;

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        if (row0 < 0 || rows < 1 || row0 + rows > Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"rows {row0}:{row0 + rows} outside 0:{Rows}");
        if (col0 < 0 || cols < 1 || col0 + cols > Cols) throw new ArgumentOutOfRangeException(nameof(cols), $"cols {col0}:{col0 + cols} outside 0:{Cols}");
        int at = 0;
        for (int o = 0; o < _data.Length; o++)
        {
            int e = _entry[o], width = cols * e;
            for (int r = 0; r < rows; r++)
            {
                _data[o].AsSpan((int)((((long)(row0 + r) * Cols) + col0) * e), width).CopyTo(destination.Slice(at, width));
                at += width;
            }
        }
    }
}
