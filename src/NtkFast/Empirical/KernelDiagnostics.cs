using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Empirical;

/// <summary>How far an empirical kernel is from the infinite-width one (docs/design.md §1 "Operator norm").</summary>
/// <param name="Points">N, the number of data points (the operator norms are eigenvalues divided by N).</param>
/// <param name="EmpiricalOp">‖Θ̂‖_op = λ_max(Θ̂)/N.</param>
/// <param name="AnalyticOp">‖Θ‖_op = λ_max(Θ)/N.</param>
/// <param name="DifferenceOp">‖Θ̂ − Θ‖_op = max|λ(Θ̂ − Θ)|/N.</param>
/// <param name="RelativeDifferenceOp">‖Θ̂ − Θ‖_op / ‖Θ‖_op.</param>
/// <param name="RelativeFrobenius">‖Θ̂ − Θ‖_F / ‖Θ‖_F.</param>
public sealed record KernelComparison(int Points, double EmpiricalOp, double AnalyticOp, double DifferenceOp,
    double RelativeDifferenceOp, double RelativeFrobenius);

/// <summary>
/// Operator norms and distances of kernels on a data set. For nL outputs the Gram matrix is
/// (N·nL)×(N·nL) with rows (i, k) ordered i-major (index i·nL + k); ‖K‖_op is its largest eigenvalue
/// divided by N. Eigenvalues come from Lanczos (<see cref="OperatorNorm"/>) to a relative tolerance of
/// 1e-10 by default.
/// </summary>
public static class KernelDiagnostics
{
    /// <summary>‖K‖_op = λ_max(K)/N for a symmetric positive semi-definite Gram matrix K of N points.</summary>
    public static double OperatorNormOf(Matrix gram, int points, double tolerance = Lanczos.DefaultTolerance)
    {
        CheckGram(gram, points);
        return OperatorNorm.LargestEigenvalue(gram, tolerance) / points;
    }

    /// <summary>‖A − B‖_op = max|λ(A − B)|/N (the difference of two kernels is indefinite).</summary>
    public static double DifferenceOperatorNorm(Matrix a, Matrix b, int points, double tolerance = Lanczos.DefaultTolerance)
    {
        CheckGram(a, points);
        CheckSame(a, b);
        var d = new Matrix(a.Rows, a.Cols);
        for (int i = 0; i < d.Data.Length; i++) d.Data[i] = a.Data[i] - b.Data[i];
        return OperatorNorm.SymmetricNorm(d, tolerance) / points;
    }

    /// <summary>‖A − B‖_F / ‖B‖_F (0/0 = 0).</summary>
    public static double RelativeFrobenius(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"a has {a.Length} elements, b has {b.Length}.", nameof(a));
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { double e = a[i] - b[i]; num += e * e; den += b[i] * b[i]; }
        return num == 0 ? 0 : Math.Sqrt(num / den);
    }

    /// <summary>Θ̂ (N×N×nL×nL, <see cref="EmpiricalOutputs.Full"/>) as the (N·nL)×(N·nL) Gram matrix, entry (i·nL + k, j·nL + k').</summary>
    public static Matrix FullToGram(ReadOnlySpan<double> full, int points, int outputs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        int q = outputs, s = points * q;
        if (full.Length != (long)s * s) throw new ArgumentException($"full has {full.Length} elements, expected {(long)s * s}.", nameof(full));
        var g = new Matrix(s, s);
        for (int i = 0; i < points; i++)
            for (int j = 0; j < points; j++)
                for (int k = 0; k < q; k++)
                    for (int k2 = 0; k2 < q; k2++)
                        g[i * q + k, j * q + k2] = full[((i * points + j) * q + k) * q + k2];
        return g;
    }

    /// <summary>Θ ⊗ Id_nL in the same (i·nL + k) layout as <see cref="FullToGram"/>.</summary>
    public static Matrix KroneckerIdentity(Matrix kernel, int outputs)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        int n = kernel.Rows, q = outputs;
        var g = new Matrix(n * q, kernel.Cols * q);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < kernel.Cols; j++)
                for (int k = 0; k < q; k++) g[i * q + k, j * q + k] = kernel[i, j];
        return g;
    }

    /// <summary>
    /// Compares an empirical NTK on X×X with the analytic Θ(L)(X, X): the full kernel against Θ ⊗ Id
    /// when <paramref name="empirical"/> holds all output pairs, the trace kernel against Θ otherwise.
    /// </summary>
    public static KernelComparison Compare(EmpiricalKernelResult empirical, Matrix analytic, double tolerance = Lanczos.DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(empirical);
        ArgumentNullException.ThrowIfNull(analytic);
        if (empirical.N != empirical.M) throw new ArgumentException("The comparison needs the square kernel K(X, X).", nameof(empirical));
        if (analytic.Rows != empirical.N || analytic.Cols != empirical.N)
            throw new ArgumentException($"analytic is {analytic.Rows}×{analytic.Cols}, the empirical kernel is {empirical.N}×{empirical.N}.", nameof(analytic));
        Matrix e, a;
        if (empirical.Kind == EmpiricalOutputs.Full)
        {
            e = FullToGram(empirical.Ntk, empirical.N, empirical.OutputCount);
            a = KroneckerIdentity(analytic, empirical.OutputCount);
        }
        else
        {
            e = new Matrix(empirical.N, empirical.N, empirical.Ntk);
            a = analytic;
        }
        return Compare(e, a, empirical.N, tolerance);
    }

    /// <summary>Compares two Gram matrices of the same N points (see <see cref="KernelComparison"/>).</summary>
    public static KernelComparison Compare(Matrix empirical, Matrix analytic, int points, double tolerance = Lanczos.DefaultTolerance)
    {
        double eo = OperatorNormOf(empirical, points, tolerance);
        double ao = OperatorNormOf(analytic, points, tolerance);
        double d = DifferenceOperatorNorm(empirical, analytic, points, tolerance);
        return new KernelComparison(points, eo, ao, d, ao == 0 ? 0 : d / ao, RelativeFrobenius(empirical.Data, analytic.Data));
    }

    private static void CheckGram(Matrix gram, int points)
    {
        ArgumentNullException.ThrowIfNull(gram);
        if (gram.Rows != gram.Cols) throw new ArgumentException($"The Gram matrix must be square, got {gram.Rows}×{gram.Cols}.", nameof(gram));
        ArgumentOutOfRangeException.ThrowIfLessThan(points, 1);
        if (gram.Rows % points != 0) throw new ArgumentException($"{gram.Rows} rows are not a multiple of {points} points.", nameof(points));
    }

    private static void CheckSame(Matrix a, Matrix b)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rows != b.Rows || a.Cols != b.Cols) throw new ArgumentException($"Shapes differ: {a.Rows}×{a.Cols} and {b.Rows}×{b.Cols}.", nameof(b));
    }
}
