namespace NtkFast.Numerics;

/// <summary>
/// Allocating matrix products on <see cref="Matrix"/> for the small, once-per-call products of the
/// dynamics and PCA code (the GEMM itself is <see cref="Gemm"/>); empty shapes give empty or zero results.
/// </summary>
internal static class MatrixProducts
{
    /// <summary>A copy of <paramref name="a"/>.</summary>
    internal static Matrix Copy(Matrix a) => new(a.Rows, a.Cols, (double[])a.Data.Clone());

    /// <summary>A·B.</summary>
    internal static Matrix Multiply(Matrix a, Matrix b)
    {
        var c = new Matrix(a.Rows, b.Cols);
        if (a.Rows > 0 && b.Cols > 0)
        {
            if (a.Cols == 0) return c;
            Gemm.Multiply(Op.None, Op.None, a.Rows, b.Cols, a.Cols, 1.0, a.Data, a.Cols, b.Data, b.Cols, 0.0, c.Data, b.Cols);
        }
        return c;
    }

    /// <summary>Aᵀ·B.</summary>
    internal static Matrix MultiplyTransposeA(Matrix a, Matrix b)
    {
        var c = new Matrix(a.Cols, b.Cols);
        if (a.Cols > 0 && b.Cols > 0 && a.Rows > 0)
            Gemm.Multiply(Op.Transpose, Op.None, a.Cols, b.Cols, a.Rows, 1.0, a.Data, a.Cols, b.Data, b.Cols, 0.0, c.Data, b.Cols);
        return c;
    }

    /// <summary>A·Bᵀ.</summary>
    internal static Matrix MultiplyTransposeB(Matrix a, Matrix b)
    {
        var c = new Matrix(a.Rows, b.Rows);
        if (a.Rows > 0 && b.Rows > 0 && a.Cols > 0)
            Gemm.Multiply(Op.None, Op.Transpose, a.Rows, b.Rows, a.Cols, 1.0, a.Data, a.Cols, b.Data, b.Cols, 0.0, c.Data, b.Rows);
        return c;
    }
}
