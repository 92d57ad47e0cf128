using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>
/// Function-space gradient-descent dynamics of an infinitely wide network (docs/design.md §1,
/// Jacot et al. §5): with cost 1/(2N)·Σ‖f(xᵢ) − yᵢ‖², learning rate η and t = steps·η,
/// <code>
/// f_t(X)  = Y + exp(−tΘ/N)·(f_0(X) − Y)
/// f_t(x*) = f_0(x*) + Θ(x*,X)·Θ⁻¹·(I − exp(−tΘ/N))·(Y − f_0(X))
/// </code>
/// Θ = Θ(X, X) is eigendecomposed once (Θ = V·diag(μ)·Vᵀ); every time t then costs only the
/// gains g_i(t) = (1 − e^{−tμ_i/N})/μ_i (= 1/μ_i at t = ∞, → t/N for μ_i → 0, so finite times
/// work even for a singular Θ) and small GEMMs. Multi-output targets: one column per output
/// (the kernel is Θ ⊗ Id). With regularisation ρ the training Gram matrix is Θ + ρI throughout
/// (kernel ridge regression at t = ∞); Θ(x*, X) is not changed.
/// </summary>
public sealed class KernelDynamics
{
    private readonly Matrix _theta;       // N×N, as given (lower triangle read by the solvers)
    private readonly Matrix _targets;     // N×K
    private EigenDecomposition? _eig;     // of Θ + ρI
    private Matrix? _cholesky;            // of Θ + ρI, for t = ∞ only
    private double _singularThreshold;

    /// <param name="thetaTrain">Θ(X, X), N×N (symmetric; the lower triangle is read).</param>
    /// <param name="targets">Y, N×K (one column per output).</param>
    /// <param name="regularization">ρ added to Θ's diagonal (none by default).</param>
    /// <param name="timeScale">The N of exp(−tΘ/N): the number of data points in the cost's average.
    /// Defaults to the rows of Θ; pass the number of points when Θ is the full (N·nL)×(N·nL)
    /// kernel of nL outputs flattened into one column of targets.</param>
    public KernelDynamics(Matrix thetaTrain, Matrix targets, Regularization regularization = default, int timeScale = 0)
    {
        ArgumentNullException.ThrowIfNull(thetaTrain);
        ArgumentNullException.ThrowIfNull(targets);
        if (thetaTrain.Rows != thetaTrain.Cols)
            throw new ArgumentException($"the training kernel must be square, got {thetaTrain.Rows}×{thetaTrain.Cols}.", nameof(thetaTrain));
        if (targets.Rows != thetaTrain.Rows)
            throw new ArgumentException($"targets have {targets.Rows} rows but the training kernel has {thetaTrain.Rows} points.", nameof(targets));
        if (thetaTrain.Rows == 0) throw new ArgumentException("the training set is empty.", nameof(thetaTrain));
        DynamicsChecks.Finite(thetaTrain, nameof(thetaTrain));
        DynamicsChecks.Finite(targets, nameof(targets));
        if (timeScale < 0) throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "timeScale must be positive (or 0 for the number of rows).");
        _theta = thetaTrain;
        _targets = targets;
        TimeScale = timeScale == 0 ? thetaTrain.Rows : timeScale;
        Regularization = regularization;
        Rho = regularization.Amount(thetaTrain.Rows, thetaTrain.Data, thetaTrain.Cols);
    }

    /// <summary>Number of training points N.</summary>
    public int Points => _theta.Rows;

    /// <summary>The N in exp(−tΘ/N).</summary>
    public int TimeScale { get; }

    /// <summary>Number of outputs K (columns of Y).</summary>
    public int Outputs => _targets.Cols;

    public Regularization Regularization { get; }

    /// <summary>The ρ added to the training kernel's diagonal.</summary>
    public double Rho { get; }

    /// <summary>
    /// Receives the fraction done (0…1) of the eigendecomposition of Θ + ρI while <see cref="Eigen"/> computes it (the
    /// O(N³) step of every finite time and of the ensemble: minutes for N in the tens of thousands), or of the Cholesky
    /// factor that t = ∞ alone takes instead. Null: no reports.
    /// </summary>
    public IProgress<double>? DecompositionProgress { get; init; }

    /// <summary>Eigendecomposition of Θ + ρI (computed on first use).</summary>
    public EigenDecomposition Eigen
    {
        get
        {
            if (_eig is null)
            {
                int n = Points;
                var a = new Matrix(n, n, (double[])_theta.Data.Clone());
                for (int i = 0; i < n; i++) a[i, i] += Rho;
                EigenDecomposition e = SymmetricEigen.Decompose(a, DecompositionProgress);
                double max = Math.Max(Math.Abs(e.Values[0]), Math.Abs(e.Values[n - 1]));
                double thr = Math.Max(n, 10) * 2.220446049250313e-16 * 10 * max;
                if (e.Values[0] < -thr)
                    throw new SingularKernelException($"the training kernel is not positive semi-definite: smallest eigenvalue {e.Values[0]:G6} (largest {e.Values[n - 1]:G6}).");
                _singularThreshold = thr;
                _eig = e;
            }
            return _eig;
        }
    }

    /// <summary>g_i(t) = (1 − e^{−tμ_i/N})/μ_i for every eigenvalue μ_i of Θ + ρI.</summary>
    public void Gains(double t, Span<double> gains)
    {
        DynamicsChecks.Time(t);
        EigenDecomposition e = Eigen;
        int n = Points;
        for (int i = 0; i < n; i++)
        {
            double mu = e.Values[i];
            bool zero = mu <= _singularThreshold;
            if (double.IsPositiveInfinity(t))
            {
                if (zero)
                    throw new SingularKernelException($"the training kernel is numerically singular (eigenvalue {mu:G6} ≤ {_singularThreshold:G3}); t = ∞ needs regularisation (e.g. a relative 1e-10).");
                gains[i] = 1 / mu;
            }
            else gains[i] = zero ? t / TimeScale : -SpecialFunctions.Expm1(-t * mu / TimeScale) / mu;
        }
    }

    /// <summary>f_t on the training points (N×K). f0Train defaults to 0 (the mean over initialisations).</summary>
    public Matrix PredictTrain(double t, Matrix? f0Train = null) => PredictTrain([t], f0Train)[0];

    /// <summary>f_t on the training points for every t (one eigendecomposition for all).</summary>
    public Matrix[] PredictTrain(ReadOnlySpan<double> times, Matrix? f0Train = null)
    {
        foreach (double t in times) DynamicsChecks.Time(t);
        CheckF0(f0Train, Points, nameof(f0Train));
        int n = Points, k = Outputs;
        Matrix r = Residual(f0Train);
        var result = new Matrix[times.Length];
        if (AllInfinite(times) && _eig is null)
        {
            // f_∞(X) = f0 + Θ(Θ+ρI)⁻¹R = Y − ρ·α with α = (Θ+ρI)⁻¹R.
            Matrix alpha = Cholesky.Solve(CholeskyFactor(), r);
            Matrix f = new(n, k);
            for (int i = 0; i < f.Data.Length; i++) f.Data[i] = _targets.Data[i] - Rho * alpha.Data[i];
            for (int q = 0; q < times.Length; q++) result[q] = q == 0 ? f : MatrixProducts.Copy(f);
            return result;
        }
        EigenDecomposition e = Eigen;
        Matrix c = MatrixProducts.MultiplyTransposeA(e.Vectors, r);   // Vᵀ R
        var gains = new double[n];
        for (int q = 0; q < times.Length; q++)
        {
            Gains(times[q], gains);
            var scaled = new Matrix(n, k);
            for (int i = 0; i < n; i++)
            {
                // (μ_i − ρ)·g_i; for ρ = 0 exactly 1 − e^{−tμ/N} (1 at t = ∞) so f_∞(X) = Y.
                double mu = e.Values[i];
                double factor = Rho == 0
                    ? (double.IsPositiveInfinity(times[q]) ? 1 : -SpecialFunctions.Expm1(-times[q] * Math.Max(mu, 0) / TimeScale))
                    : (mu - Rho) * gains[i];
                for (int j = 0; j < k; j++) scaled[i, j] = factor * c[i, j];
            }
            Matrix f = MatrixProducts.Multiply(e.Vectors, scaled);
            AddF0(f, f0Train);
            result[q] = f;
        }
        return result;
    }

    /// <summary>f_t on test points (M×K) given Θ(x*, X) (M×N).</summary>
    public Matrix PredictTest(double t, Matrix thetaTestTrain, Matrix? f0Train = null, Matrix? f0Test = null) =>
        PredictTest([t], thetaTestTrain, f0Train, f0Test)[0];

    /// <summary>f_t on test points for every t in <paramref name="times"/>.</summary>
    public Matrix[] PredictTest(ReadOnlySpan<double> times, Matrix thetaTestTrain, Matrix? f0Train = null, Matrix? f0Test = null)
    {
        foreach (double t in times) DynamicsChecks.Time(t);
        CheckCross(thetaTestTrain, nameof(thetaTestTrain));
        CheckF0(f0Train, Points, nameof(f0Train));
        CheckF0(f0Test, thetaTestTrain.Rows, nameof(f0Test));
        int n = Points, k = Outputs, m = thetaTestTrain.Rows;
        Matrix r = Residual(f0Train);
        var result = new Matrix[times.Length];
        if (AllInfinite(times) && _eig is null)
        {
            Matrix alpha = Cholesky.Solve(CholeskyFactor(), r);
            Matrix f = MatrixProducts.Multiply(thetaTestTrain, alpha);
            AddF0(f, f0Test);
            for (int q = 0; q < times.Length; q++) result[q] = q == 0 ? f : MatrixProducts.Copy(f);
            return result;
        }
        EigenDecomposition e = Eigen;
        Matrix b = MatrixProducts.Multiply(thetaTestTrain, e.Vectors);   // Θ*X·V, M×N
        Matrix c = MatrixProducts.MultiplyTransposeA(e.Vectors, r);      // Vᵀ·R, N×K
        var gains = new double[n];
        for (int q = 0; q < times.Length; q++)
        {
            Gains(times[q], gains);
            var scaled = new Matrix(n, k);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) scaled[i, j] = gains[i] * c[i, j];
            Matrix f = m == 0 ? new Matrix(0, k) : MatrixProducts.Multiply(b, scaled);
            AddF0(f, f0Test);
            result[q] = f;
        }
        return result;
    }

    /// <summary>
    /// The linear map A_t = Θ(x*,X)·Θ⁻¹·(I − e^{−tΘ/N}) (M×N), so that
    /// f_t(x*) = f_0(x*) + A_t·(Y − f_0(X)).
    /// </summary>
    public Matrix TransferMatrix(double t, Matrix thetaTestTrain)
    {
        DynamicsChecks.Time(t);
        CheckCross(thetaTestTrain, nameof(thetaTestTrain));
        EigenDecomposition e = Eigen;
        int n = Points;
        var gains = new double[n];
        Gains(t, gains);
        Matrix b = MatrixProducts.Multiply(thetaTestTrain, e.Vectors);
        for (int i = 0; i < b.Rows; i++)
            for (int j = 0; j < n; j++) b[i, j] *= gains[j];
        return MatrixProducts.MultiplyTransposeB(b, e.Vectors);
    }

    /// <summary>
    /// Infinite ensemble (f_0 ~ GP(0, Σ) jointly on X ∪ X*, Σ = the NNGP kernel) trained by
    /// gradient descent on the NTK: f_t(x*) = f_0(x*) + A·(Y − f_0(X)) is linear in the Gaussian f_0, so
    /// <code>
    /// mean = A·Y
    /// cov  = Σ(x*,x*) + A·Σ(X,X)·Aᵀ − A·Σ(X,x*) − Σ(x*,X)·Aᵀ
    /// </code>
    /// (the same for every output). <paramref name="sigmaTest"/> is either M×M (the full covariance is
    /// returned) or M×1 holding only the diagonal Σ(x*ᵢ,x*ᵢ) (variances only).
    /// </summary>
    public EnsemblePrediction Ensemble(double t, Matrix thetaTestTrain, Matrix sigmaTrain, Matrix sigmaTestTrain, Matrix sigmaTest)
    {
        DynamicsChecks.Time(t);
        CheckCross(thetaTestTrain, nameof(thetaTestTrain));
        int n = Points, m = thetaTestTrain.Rows;
        DynamicsChecks.Shape(sigmaTrain, n, n, nameof(sigmaTrain));
        DynamicsChecks.Shape(sigmaTestTrain, m, n, nameof(sigmaTestTrain));
        ArgumentNullException.ThrowIfNull(sigmaTest);
        bool full = sigmaTest.Cols == m;
        if (!(sigmaTest.Rows == m && (sigmaTest.Cols == m || sigmaTest.Cols == 1)))
            throw new ArgumentException($"sigmaTest must be {m}×{m} or {m}×1 (diagonal), got {sigmaTest.Rows}×{sigmaTest.Cols}.", nameof(sigmaTest));
        DynamicsChecks.Finite(sigmaTrain, nameof(sigmaTrain));
        DynamicsChecks.Finite(sigmaTestTrain, nameof(sigmaTestTrain));
        DynamicsChecks.Finite(sigmaTest, nameof(sigmaTest));

        Matrix a = TransferMatrix(t, thetaTestTrain);              // M×N
        Matrix mean = MatrixProducts.Multiply(a, _targets);                         // M×K
        Matrix aSigma = MatrixProducts.Multiply(a, sigmaTrain);                     // M×N
        var variance = new double[m];
        Matrix? cov = null;
        if (full)
        {
            Matrix asa = MatrixProducts.MultiplyTransposeB(aSigma, a);              // A Σ Aᵀ
            Matrix cross = MatrixProducts.MultiplyTransposeB(a, sigmaTestTrain);    // A Σ_X* = A (Σ*X)ᵀ
            cov = new Matrix(m, m);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                    cov[i, j] = sigmaTest[i, j] + asa[i, j] - cross[i, j] - cross[j, i];
            for (int i = 0; i < m; i++) variance[i] = Math.Max(0, cov[i, i]);
        }
        else
        {
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<double> ai = a.Row(i), asi = aSigma.Row(i), si = sigmaTestTrain.Row(i);
                double s1 = 0, s2 = 0;
                for (int j = 0; j < n; j++) { s1 += asi[j] * ai[j]; s2 += ai[j] * si[j]; }
                variance[i] = Math.Max(0, sigmaTest[i, 0] + s1 - 2 * s2);
            }
        }
        return new EnsemblePrediction(mean, variance, cov);
    }

    private Matrix CholeskyFactor()
    {
        if (_cholesky is not null) return _cholesky;
        int n = Points;
        Matrix l;
        try
        {
            l = Cholesky.Factor(_theta, Regularization, DecompositionProgress);
        }
        catch (NotPositiveDefiniteException ex)
        {
            throw new SingularKernelException($"the training kernel is numerically singular or not positive definite (Cholesky pivot {ex.Pivot} = {ex.PivotValue:G6}); t = ∞ needs regularisation (e.g. a relative 1e-10).", ex);
        }
        double maxDiag = 0, minPivot = double.PositiveInfinity;
        for (int i = 0; i < n; i++)
        {
            maxDiag = Math.Max(maxDiag, _theta[i, i] + Rho);
            minPivot = Math.Min(minPivot, l[i, i] * l[i, i]);
        }
        if (minPivot <= Math.Max(n, 10) * 2.220446049250313e-16 * 10 * maxDiag)
            throw new SingularKernelException($"the training kernel is numerically singular (smallest Cholesky pivot {minPivot:G3} against a diagonal of {maxDiag:G3}); t = ∞ needs regularisation (e.g. a relative 1e-10).");
        _cholesky = l;
        return l;
    }

    private Matrix Residual(Matrix? f0Train)
    {
        var r = new Matrix(_targets.Rows, _targets.Cols, (double[])_targets.Data.Clone());
        if (f0Train is not null)
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] -= f0Train.Data[i];
        return r;
    }

    private void CheckF0(Matrix? f0, int rows, string name)
    {
        if (f0 is null) return;
        DynamicsChecks.Shape(f0, rows, Outputs, name);
        DynamicsChecks.Finite(f0, name);
    }

    private void CheckCross(Matrix thetaTestTrain, string name)
    {
        ArgumentNullException.ThrowIfNull(thetaTestTrain, name);
        if (thetaTestTrain.Cols != Points)
            throw new ArgumentException($"the test–train kernel has {thetaTestTrain.Cols} columns but there are {Points} training points.", name);
        DynamicsChecks.Finite(thetaTestTrain, name);
    }

    private static bool AllInfinite(ReadOnlySpan<double> times)
    {
        if (times.Length == 0) return false;
        foreach (double t in times) if (!double.IsPositiveInfinity(t)) return false;
        return true;
    }

    private static void AddF0(Matrix f, Matrix? f0)
    {
        if (f0 is null) return;
        for (int i = 0; i < f.Data.Length; i++) f.Data[i] += f0.Data[i];
    }
}
