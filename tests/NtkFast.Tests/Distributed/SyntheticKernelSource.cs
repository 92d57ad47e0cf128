using NtkFast.Tiling;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// A kernel whose entries are computed one by one from the two points (an element-wise reference):
/// output 0 = exp(−|x−y|²/d)·(1 + x·y), output 1 = x·y / d. Any block is trivially the same block of the
/// full matrix, so it tests the tiling and writing machinery on its own.
/// </summary>
internal sealed class SyntheticKernelSource : IKernelBlockSource
{
    private readonly double[] _x, _y;
    private readonly int _d;
    public Func<int, int, bool>? FailOn { get; init; }

    public SyntheticKernelSource(int n, int m, int d, int seed, bool symmetric)
    {
        var rng = new Random(seed);
        _d = d;
        _x = new double[n * d];
        for (int i = 0; i < _x.Length; i++) _x[i] = rng.NextDouble() * 2 - 1;
        if (symmetric) { _y = _x; m = n; }
        else
        {
            _y = new double[m * d];
            for (int i = 0; i < _y.Length; i++) _y[i] = rng.NextDouble() * 2 - 1;
        }
        Rows = n; Cols = m; IsSymmetric = symmetric;
    }

    public int Rows { get; }
    public int Cols { get; }
    public bool IsSymmetric { get; }
    public int Outputs => 2;
    public long FixedBytes => (_x.Length + (IsSymmetric ? 0 : _y.Length)) * 8L;
    public long WorkspaceBytes(int rows, int cols) => 0;

    public double Entry(int output, int i, int j)
    {
        // Symmetric by construction: the same operations in the same order for (i, j) and (j, i).
        double dot = 0, dist = 0;
        for (int k = 0; k < _d; k++)
        {
            double a = _x[i * _d + k], b = _y[j * _d + k];
            dot += a * b;
            dist += (a - b) * (a - b);
        }
        return output == 0 ? Math.Exp(-dist / _d) * (1 + dot) : dot / _d;
    }

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        for (int o = 0; o < 2; o++)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    if (FailOn?.Invoke(row0 + i, col0 + j) == true) throw new InvalidDataException($"bad point {row0 + i}");
                    destination[(o * rows * cols) + (i * cols) + j] = Entry(o, row0 + i, col0 + j);
                }
    }

    public double[] Full(int output)
    {
        var a = new double[Rows * Cols];
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++) a[i * Cols + j] = Entry(output, i, j);
        return a;
    }
}
