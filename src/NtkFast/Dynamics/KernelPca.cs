using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>
/// Kernel principal components on a data set (Jacot et al. §5, §6.3): the top k eigenpairs of
/// the N×N Gram matrix, non-centred, eigenvalues divided by N (the eigenvalues of the integral
/// operator under the empirical distribution). Gradient descent on the least-squares cost
/// shrinks the component i of f_t − f* by e^{−t·λ_i}, so the large-λ components are learnt first.
/// </summary>
public sealed class KernelPca
{
    private KernelPca(double[] values, Matrix vectors, int points)
    {
        Values = values;
        Vectors = vectors;
        Points = points;
    }

    /// <summary>λ_i = (eigenvalue of the Gram matrix)/N, descending.</summary>
    public double[] Values { get; }

    /// <summary>N×k: column i is the unit eigenvector of λ_i (on the data points).</summary>
    public Matrix Vectors { get; }

    public int Points { get; }

    public int Components => Values.Length;

    /// <summary>Top k components of the Gram matrix (Lanczos for large N and small k, dense otherwise).</summary>
    public static KernelPca Compute(Matrix gram, int k, double tolerance = Lanczos.DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(gram);
        if (gram.Rows != gram.Cols) throw new ArgumentException($"the Gram matrix must be square, got {gram.Rows}×{gram.Cols}.", nameof(gram));
        if (k < 1 || k > gram.Rows) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {gram.Rows}].");
        DynamicsChecks.Finite(gram, nameof(gram));
        EigenDecomposition top = Lanczos.TopEigenpairs(gram, k, tolerance);
        int n = gram.Rows;
        var values = new double[k];
        for (int i = 0; i < k; i++) values[i] = top.Values[i] / n;
        return new KernelPca(values, top.Vectors, n);
    }

    /// <summary>Coefficients vᵢᵀ·f (k×K) of a function on the data points (N×K) on every component.</summary>
    public Matrix Project(Matrix f)
    {
        ArgumentNullException.ThrowIfNull(f);
        if (f.Rows != Points) throw new ArgumentException($"f has {f.Rows} rows, the data set {Points} points.", nameof(f));
        return MatrixProducts.MultiplyTransposeA(Vectors, f);
    }

    /// <summary>
    /// Projection of f_t − f* on each component over time, for the dynamics driven by this same
    /// kernel: row q, column i = e^{−t_q·λ_i}·vᵢᵀ(f_0 − Y) for output <paramref name="output"/>
    /// (T×k). f0Train defaults to 0.
    /// </summary>
    public Matrix ResidualOverTime(Matrix targets, ReadOnlySpan<double> times, Matrix? f0Train = null, int output = 0)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Rows != Points) throw new ArgumentException($"targets have {targets.Rows} rows, the data set {Points} points.", nameof(targets));
        if (output < 0 || output >= targets.Cols) throw new ArgumentOutOfRangeException(nameof(output), output, $"output must be in [0, {targets.Cols}).");
        foreach (double t in times) DynamicsChecks.Time(t);
        var r = new Matrix(Points, 1);
        for (int i = 0; i < Points; i++) r[i, 0] = (f0Train is null ? 0 : f0Train[i, output]) - targets[i, output];
        Matrix c = Project(r);
        var result = new Matrix(times.Length, Components);
        for (int q = 0; q < times.Length; q++)
            for (int i = 0; i < Components; i++)
                result[q, i] = double.IsPositiveInfinity(times[q]) ? 0 : Math.Exp(-times[q] * Values[i]) * c[i, 0];
        return result;
    }
}
