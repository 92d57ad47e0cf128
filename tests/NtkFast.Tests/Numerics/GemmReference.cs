using NtkFast.Numerics;

namespace NtkFast.Tests.Numerics;

/// <summary>Plain triple loop in double, with an error bound per element, independent of the library.</summary>
internal static class GemmReference
{
    public static double At(double[] x, int ld, bool trans, int row, int col) => trans ? x[col * ld + row] : x[row * ld + col];

    /// <summary>Returns (reference C, bound): bound_ij = |α|·Σ|a||b| + |β·c| — the scale for rounding errors.</summary>
    public static (double[] C, double[] Scale) Multiply(Op opA, Op opB, int m, int n, int k, double alpha,
        double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc)
    {
        var r = (double[])c.Clone();
        var s = new double[c.Length];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double prod = At(a, lda, opA == Op.Transpose, i, p) * At(b, ldb, opB == Op.Transpose, p, j);
                    sum += prod;
                    abs += Math.Abs(prod);
                }
                double cv = c[i * ldc + j];
                r[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * cv;
                s[i * ldc + j] = Math.Abs(alpha) * abs + (beta == 0 ? 0 : Math.Abs(beta * cv));
            }
        return (r, s);
    }

    public static double[] Random(int length, int seed, double lo = -1, double hi = 1)
    {
        var rng = new Random(seed);
        var x = new double[length];
        for (int i = 0; i < length; i++) x[i] = lo + (hi - lo) * rng.NextDouble();
        return x;
    }

    /// <summary>Random values exactly representable as float, so float and double runs see the same inputs.</summary>
    public static double[] RandomFloatExact(int length, int seed)
    {
        var x = Random(length, seed);
        for (int i = 0; i < x.Length; i++) x[i] = (float)x[i];
        return x;
    }

    public static float[] ToFloat(double[] x) => Array.ConvertAll(x, v => (float)v);
}
