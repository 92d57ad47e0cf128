namespace NtkFast.Numerics;

/// <summary>
/// Thrown by <see cref="Cholesky"/> when a pivot (the diagonal of the Schur complement) is not
/// positive: the matrix is not (numerically) positive definite. <see cref="Pivot"/> is the
/// 0-based row where the factorisation stopped and <see cref="PivotValue"/> the value it met.
/// </summary>
public sealed class NotPositiveDefiniteException : ArithmeticException
{
    public NotPositiveDefiniteException(int pivot, double pivotValue)
        : base($"matrix is not positive definite: pivot {pivot} is {pivotValue:G6} (add diagonal regularisation, e.g. relative 1e-10 of the mean diagonal)")
    {
        Pivot = pivot;
        PivotValue = pivotValue;
    }

    public NotPositiveDefiniteException() : this(-1, double.NaN) { }
    public NotPositiveDefiniteException(string message) : base(message) { Pivot = -1; PivotValue = double.NaN; }
    public NotPositiveDefiniteException(string message, Exception inner) : base(message, inner) { Pivot = -1; PivotValue = double.NaN; }

    /// <summary>0-based index of the failing pivot (-1 when unknown).</summary>
    public int Pivot { get; }

    /// <summary>The non-positive (or NaN) Schur-complement diagonal met at <see cref="Pivot"/>.</summary>
    public double PivotValue { get; }
}

/// <summary>
/// Diagonal regularisation A + ρ·I for ill-conditioned kernels: ρ is either an absolute value or
/// relative to the mean of A's diagonal (ρ = r · tr(A)/n).
/// </summary>
public readonly record struct Regularization(double Value, bool RelativeToMeanDiagonal)
{
    /// <summary>No regularisation.</summary>
    public static Regularization None => default;

    /// <summary>ρ = value.</summary>
    public static Regularization Absolute(double value) => new(Check(value), false);

    /// <summary>ρ = value · (mean of the diagonal).</summary>
    public static Regularization Relative(double value) => new(Check(value), true);

    public bool IsNone => Value == 0;

    private static double Check(double value)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "Regularisation must be a finite non-negative number.");
        return value;
    }

    /// <summary>The ρ this regularisation adds to the diagonal of the n×n matrix a.</summary>
    public double Amount(int n, ReadOnlySpan<double> a, int lda)
    {
        if (Value == 0 || n == 0) return 0;
        if (!RelativeToMeanDiagonal) return Value;
        double s = 0;
        for (int i = 0; i < n; i++) s += a[i * lda + i];
        return Value * s / n;
    }

    /// <summary>Adds <see cref="Amount"/> to the diagonal in place and returns it.</summary>
    public double Apply(int n, Span<double> a, int lda)
    {
        double rho = Amount(n, a, lda);
        if (rho != 0)
            for (int i = 0; i < n; i++) a[i * lda + i] += rho;
        return rho;
    }

    public override string ToString() => IsNone ? "none" : RelativeToMeanDiagonal ? $"{Value:G6}×mean diagonal" : $"{Value:G6}";
}
