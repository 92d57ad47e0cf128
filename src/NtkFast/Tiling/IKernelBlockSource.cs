namespace NtkFast.Tiling;

/// <summary>
/// Something that computes any block of one or more same-shaped matrices on its own, bitwise identical
/// to the same block of the full matrices (the analytic Θ and Σ, the empirical Θ̂ and its NNGP).
/// </summary>
public interface IKernelBlockSource
{
    /// <summary>Rows of the full matrices (points of X).</summary>
    int Rows { get; }

    /// <summary>Columns of the full matrices (points of X2, or of X).</summary>
    int Cols { get; }

    /// <summary>True when columns are the same points as rows, so the matrices are symmetric.</summary>
    bool IsSymmetric { get; }

    /// <summary>Matrices filled per block (e.g. 2: NTK then NNGP).</summary>
    int Outputs { get; }

    /// <summary>
    /// Dimensions of one entry of output <paramref name="output"/> after (row, column): empty (the default) for
    /// a matrix of scalars; e.g. [nL, nL] for every output pair, written as a file of shape (rows, cols, nL, nL).
    /// That output's block then holds rows×cols entries of that many values each (row-major, the entry's values
    /// last). A source with such an output is never mirrored (an entry's transpose is not the entry).
    /// </summary>
    IReadOnlyList<int> EntryShape(int output) => [];

    /// <summary>Memory held for the whole run (inputs, per-point precomputations), in bytes.</summary>
    long FixedBytes { get; }

    /// <summary>Scratch one <see cref="ComputeBlock"/> call of the given shape needs, in bytes.</summary>
    long WorkspaceBytes(int rows, int cols);

    /// <summary>
    /// Fills <paramref name="destination"/> with <see cref="Outputs"/> consecutive row-major blocks of
    /// rows×cols entries (leading dimension cols entries; see <see cref="EntryShape"/>), output after output,: rows [row0, row0+rows),
    /// columns [col0, col0+cols) of each matrix.
    /// Called concurrently from several threads for different blocks; it must not use more threads itself.
    /// </summary>
    void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination);
}
