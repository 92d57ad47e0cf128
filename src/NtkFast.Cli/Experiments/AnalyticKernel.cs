using NtkFast.Activations;
using NtkFast.Numerics;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Infinite-width NNGP Σ(L) and NTK Θ(L) (design.md §1) between two point sets, by the layer
/// recursion on each pair with the activation's dual kernel:
/// Σ(1) = σw²·xᵀx'/n0 + β², Σ(l+1) = σw²·E[σ(u)σ(v)] + β², Σ̇(l+1) = σw²·E[σ'(u)σ'(v)],
/// Θ(1) = Σ(1), Θ(l+1) = Θ(l)·Σ̇(l+1) + Σ(l+1).
/// Pair-at-a-time (the experiments need at most a few hundred thousand pairs); the library's
/// tiled Kernels/ assembly is the fast path for large Gram matrices.
/// </summary>
public static class AnalyticKernel
{
    /// <summary>(Θ(L), Σ(L)) between the rows of x1 (N×n0) and x2 (M×n0), each N×M.</summary>
    public static (Matrix Ntk, Matrix Nngp) Compute(Activation activation, int depth, double beta, double weightStd, Matrix x1, Matrix x2)
    {
        ArgumentNullException.ThrowIfNull(activation);
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(x2);
        if (depth < 1) throw new ArgumentException("depth must be at least 1", nameof(depth));
        if (x1.Cols != x2.Cols) throw new ArgumentException("x1 and x2 need the same number of columns", nameof(x2));
        int n0 = x1.Cols;
        double s2 = weightStd * weightStd, b2 = beta * beta;
        double[][] d1 = Diagonals(activation, depth, s2, b2, x1);
        double[][] d2 = Diagonals(activation, depth, s2, b2, x2);
        var ntk = new Matrix(x1.Rows, x2.Rows);
        var nngp = new Matrix(x1.Rows, x2.Rows);
        NtkParallel.For(x1.Rows, i =>
        {
            ReadOnlySpan<double> xi = x1.Row(i);
            for (int j = 0; j < x2.Rows; j++)
            {
                double c = s2 * Dot(xi, x2.Row(j)) / n0 + b2;
                double theta = c;
                for (int l = 1; l < depth; l++)
                {
                    // Covariance [[Σ(x,x), Σ(x,x')], [Σ(x,x'), Σ(x',x')]]: Dual(a, b, c) takes b as the covariance.
                    DualValue e = activation.Dual(d1[i][l - 1], c, d2[j][l - 1]);
                    c = s2 * e.Ess + b2;
                    theta = theta * s2 * e.Edd + c;
                }
                ntk[i, j] = theta;
                nngp[i, j] = c;
            }
        });
        return (ntk, nngp);
    }

    /// <summary>Σ(l)(x, x) for l = 1 … L of every row.</summary>
    private static double[][] Diagonals(Activation activation, int depth, double s2, double b2, Matrix x)
    {
        var d = new double[x.Rows][];
        for (int i = 0; i < x.Rows; i++)
        {
            d[i] = new double[depth];
            ReadOnlySpan<double> xi = x.Row(i);
            double a = s2 * Dot(xi, xi) / x.Cols + b2;
            d[i][0] = a;
            for (int l = 1; l < depth; l++)
            {
                a = s2 * activation.DualDiagonal(a).Ess + b2;
                d[i][l] = a;
            }
        }
        return d;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }
}
