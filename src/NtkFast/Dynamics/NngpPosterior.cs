using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>
/// Exact Bayesian inference with the NNGP prior f ~ GP(0, Σ) (for comparison with the
/// NTK-trained ensemble): posterior mean Σ(x*,X)·(Σ+ρI)⁻¹·Y and covariance
/// Σ(x*,x*) − Σ(x*,X)·(Σ+ρI)⁻¹·Σ(X,x*), by Cholesky. ρ acts as observation noise variance.
/// </summary>
public static class NngpPosterior
{
    /// <summary>
    /// <paramref name="sigmaTest"/> is M×M (full covariance returned) or M×1 (its diagonal;
    /// variances only).
    /// </summary>
    /// <remarks><paramref name="factorProgress"/> receives the fraction done of the Cholesky factorisation of Σ + ρI (the O(N³) step).</remarks>
    public static EnsemblePrediction Predict(Matrix sigmaTrain, Matrix sigmaTestTrain, Matrix sigmaTest, Matrix targets,
        Regularization regularization = default, IProgress<double>? factorProgress = null) =>
        Predict(sigmaTrain, sigmaTestTrain, sigmaTest, targets, regularization, factorProgress, out _, out _);

    /// <summary>As the public overload, also returning the factor L of Σ + ρI and z = L⁻¹·Y for further test sets (<see cref="PredictFromFactor"/>).</summary>
    internal static EnsemblePrediction Predict(Matrix sigmaTrain, Matrix sigmaTestTrain, Matrix sigmaTest, Matrix targets,
        Regularization regularization, IProgress<double>? factorProgress, out Matrix l, out Matrix z)
    {
        ArgumentNullException.ThrowIfNull(sigmaTrain);
        ArgumentNullException.ThrowIfNull(sigmaTestTrain);
        ArgumentNullException.ThrowIfNull(sigmaTest);
        ArgumentNullException.ThrowIfNull(targets);
        int n = sigmaTrain.Rows, m = sigmaTestTrain.Rows;
        if (sigmaTrain.Cols != n) throw new ArgumentException($"sigmaTrain must be square, got {n}×{sigmaTrain.Cols}.", nameof(sigmaTrain));
        if (targets.Rows != n) throw new ArgumentException($"targets have {targets.Rows} rows but the kernel has {n} points.", nameof(targets));
        DynamicsChecks.Shape(sigmaTestTrain, m, n, nameof(sigmaTestTrain));
        if (!(sigmaTest.Rows == m && (sigmaTest.Cols == m || sigmaTest.Cols == 1)))
            throw new ArgumentException($"sigmaTest must be {m}×{m} or {m}×1 (diagonal), got {sigmaTest.Rows}×{sigmaTest.Cols}.", nameof(sigmaTest));
        DynamicsChecks.Finite(sigmaTrain, nameof(sigmaTrain));
        DynamicsChecks.Finite(sigmaTestTrain, nameof(sigmaTestTrain));
        DynamicsChecks.Finite(sigmaTest, nameof(sigmaTest));
        DynamicsChecks.Finite(targets, nameof(targets));
        (l, z) = Factor(sigmaTrain, targets, regularization, factorProgress);
        return PredictFromFactor(l, z, sigmaTestTrain, sigmaTest);
    }

    /// <summary>
    /// The posterior from the factor L of Σ + ρI and z = L⁻¹·Y (checked inputs): the same arithmetic as the full overload,
    /// so a second test set (the training points themselves) costs no second factorisation.
    /// </summary>
    internal static EnsemblePrediction PredictFromFactor(Matrix l, Matrix z, Matrix sigmaTestTrain, Matrix sigmaTest)
    {
        int n = l.Rows, m = sigmaTestTrain.Rows;
        bool full = sigmaTest.Cols == m;
        // W = L⁻¹·Σ(X,x*) (N×M), z = L⁻¹·Y (N×K): mean = Wᵀz, cov = Σ** − WᵀW.
        Matrix w = Solve(l, sigmaTestTrain);
        Matrix mean = MatrixProducts.MultiplyTransposeA(w, z);
        var variance = new double[m];
        Matrix? cov = null;
        if (full)
        {
            Matrix wtw = MatrixProducts.MultiplyTransposeA(w, w);
            cov = new Matrix(m, m);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++) cov[i, j] = sigmaTest[i, j] - wtw[i, j];
            for (int i = 0; i < m; i++) variance[i] = Math.Max(0, cov[i, i]);
        }
        else
        {
            for (int i = 0; i < m; i++)
            {
                double s = 0;
                for (int j = 0; j < n; j++) s += w[j, i] * w[j, i];
                variance[i] = Math.Max(0, sigmaTest[i, 0] - s);
            }
        }
        return new EnsemblePrediction(mean, variance, cov);
    }

    /// <summary>The Cholesky factor L of Σ + ρI and z = L⁻¹·Y.</summary>
    internal static (Matrix L, Matrix Z) Factor(Matrix sigmaTrain, Matrix targets, Regularization regularization, IProgress<double>? progress = null)
    {
        int n = sigmaTrain.Rows;
        Matrix l;
        try { l = Cholesky.Factor(sigmaTrain, regularization, progress); }
        catch (NotPositiveDefiniteException ex)
        {
            throw new SingularKernelException($"the NNGP kernel is numerically singular or not positive definite (Cholesky pivot {ex.Pivot} = {ex.PivotValue:G6}); add regularisation (observation noise).", ex);
        }
        var z = new Matrix(n, targets.Cols, (double[])targets.Data.Clone());
        if (targets.Cols > 0) Triangular.SolveLower(n, targets.Cols, l.Data, n, z.Data, targets.Cols);
        return (l, z);
    }

    /// <summary>W = L⁻¹·Σ(X,x*), N×M, from the M×N Σ(x*,X); each column depends only on its own row of Σ(x*,X).</summary>
    internal static Matrix Solve(Matrix l, Matrix sigmaTestTrain)
    {
        int n = l.Rows, m = sigmaTestTrain.Rows;
        var w = new Matrix(n, m);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) w[j, i] = sigmaTestTrain[i, j];
        if (m > 0) Triangular.SolveLower(n, m, l.Data, n, w.Data, m);
        return w;
    }
}
