using NtkFast.Numerics;

namespace NtkFast.Tests.Numerics.LinearAlgebra;

/// <summary>Independent scalar references for the linear algebra tests.</summary>
internal static class LinearAlgebraTestUtil
{
    /// <summary>Random symmetric positive definite matrix B·Bᵀ/k + shift·I (B n×k Gaussian).</summary>
    public static Matrix RandomSpd(int n, int seed, double shift = 0.5, int? rank = null)
    {
        var rng = new Random(seed);
        int k = rank ?? n + 3;
        var b = new double[n * k];
        for (int i = 0; i < b.Length; i++) b[i] = Gaussian(rng);
        var a = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += b[i * k + p] * b[j * k + p];
                s /= k;
                if (i == j) s += shift;
                a[i, j] = s;
                a[j, i] = s;
            }
        return a;
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Random orthogonal matrix (Gram–Schmidt of a Gaussian matrix, twice).</summary>
    public static Matrix RandomOrthogonal(int n, int seed)
    {
        var rng = new Random(seed);
        var q = new Matrix(n, n);
        for (int i = 0; i < n * n; i++) q.Data[i] = Gaussian(rng);
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < n; c++)
            {
                for (int p = 0; p < c; p++)
                {
                    double s = 0;
                    for (int r = 0; r < n; r++) s += q[r, c] * q[r, p];
                    for (int r = 0; r < n; r++) q[r, c] -= s * q[r, p];
                }
                double nn = 0;
                for (int r = 0; r < n; r++) nn += q[r, c] * q[r, c];
                nn = Math.Sqrt(nn);
                for (int r = 0; r < n; r++) q[r, c] /= nn;
            }
        return q;
    }

    /// <summary>Q·diag(λ)·Qᵀ.</summary>
    public static Matrix WithSpectrum(Matrix q, double[] lambda)
    {
        int n = q.Rows;
        var a = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < lambda.Length; p++) s += q[i, p] * lambda[p] * q[j, p];
                a[i, j] = s;
            }
        return a;
    }

    public static Matrix Multiply(Matrix a, Matrix b, bool transposeB = false)
    {
        int m = a.Rows, k = a.Cols, n = transposeB ? b.Rows : b.Cols;
        var c = new Matrix(m, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i, p] * (transposeB ? b[j, p] : b[p, j]);
                c[i, j] = s;
            }
        return c;
    }

    public static double FrobeniusNorm(Matrix a)
    {
        double s = 0;
        foreach (double v in a.Data) s += v * v;
        return Math.Sqrt(s);
    }

    /// <summary>max over columns of ‖A·v_i − λ_i·v_i‖ / ‖A‖_F.</summary>
    public static double EigenResidual(Matrix a, double[] values, Matrix v)
    {
        int n = a.Rows, k = values.Length;
        double worst = 0, na = Math.Max(FrobeniusNorm(a), double.Epsilon);
        for (int c = 0; c < k; c++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                double r = -values[c] * v[i, c];
                for (int j = 0; j < n; j++) r += a[i, j] * v[j, c];
                s += r * r;
            }
            worst = Math.Max(worst, Math.Sqrt(s) / na);
        }
        return worst;
    }

    /// <summary>max |VᵀV − I|.</summary>
    public static double OrthogonalityError(Matrix v)
    {
        int n = v.Rows, k = v.Cols;
        double worst = 0;
        for (int p = 0; p < k; p++)
            for (int q = p; q < k; q++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += v[i, p] * v[i, q];
                worst = Math.Max(worst, Math.Abs(s - (p == q ? 1 : 0)));
            }
        return worst;
    }
}
