namespace NtkFast.Numerics;

/// <summary>
/// A dense row-major float64 matrix: the convenience type of the allocating API.
/// Hot paths take spans; this type only owns an array and its shape.
/// </summary>
public sealed class Matrix
{
    public Matrix(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Rows = rows;
        Cols = cols;
        Data = new double[checked(rows * cols)];
    }

    public Matrix(int rows, int cols, double[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"Data has {data.Length} elements, expected {rows}×{cols} = {(long)rows * cols}.", nameof(data));
        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Row-major storage, length Rows·Cols.</summary>
    public double[] Data { get; }

    public ref double this[int row, int col] => ref Data[row * Cols + col];

    public Span<double> Row(int row) => Data.AsSpan(row * Cols, Cols);

    /// <summary>Builds a matrix from a rectangular array (copied).</summary>
    public static Matrix FromArray(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var m = new Matrix(values.GetLength(0), values.GetLength(1));
        for (int i = 0; i < m.Rows; i++)
            for (int j = 0; j < m.Cols; j++)
                m[i, j] = values[i, j];
        return m;
    }

    public double[,] ToArray()
    {
        var r = new double[Rows, Cols];
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++)
                r[i, j] = this[i, j];
        return r;
    }
}
