using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>Which kernel the prediction is made with.</summary>
public enum PosteriorKind
{
    /// <summary>Gradient descent on the NTK at time t (<see cref="KernelDynamics"/>); with NNGP blocks, the infinite ensemble.</summary>
    Ntk,

    /// <summary>Exact Gaussian-process regression with the NNGP kernel as prior (<see cref="NngpPosterior"/>); no time.</summary>
    Nngp,
}

/// <summary>
/// The Gram blocks a prediction on M test points from N training points needs, from any source
/// (<c>InfiniteWidth.Compute</c>, the files <c>ntk kernel</c> writes, an empirical kernel):
/// <list type="bullet">
/// <item>Θ(X,X) (N×N) and Θ(X*,X) (M×N): the NTK, for <see cref="PosteriorKind.Ntk"/>;</item>
/// <item>Σ(X,X) (N×N) and Σ(X*,X) (M×N): the NNGP kernel, for the ensemble's spread and for
/// <see cref="PosteriorKind.Nngp"/>;</item>
/// <item>Σ(X*,X*): M×M (full covariances) or M×1 (its diagonal: variances only).</item>
/// </list>
/// Every block present must have these shapes and be finite; the square training blocks are read
/// through their lower triangle (see <see cref="KernelMatrices"/> to check and symmetrise them).
/// </summary>
public sealed class PredictionKernels
{
    /// <exception cref="ArgumentException">A block has the wrong shape, a non-finite entry, or a
    /// companion is missing (Θ(X,X) without Θ(X*,X), Σ(X*,X) without Σ(X,X), Σ(X*,X*) without Σ(X*,X)).</exception>
    public PredictionKernels(Matrix? ntkTrain, Matrix? ntkTest, Matrix? nngpTrain = null, Matrix? nngpTest = null, Matrix? nngpTestTest = null)
    {
        if ((ntkTrain is null) != (ntkTest is null))
            throw new ArgumentException("the NTK needs both blocks, Θ(X,X) and Θ(X*,X).", ntkTrain is null ? nameof(ntkTrain) : nameof(ntkTest));
        if ((nngpTrain is null) != (nngpTest is null))
            throw new ArgumentException("the NNGP kernel needs both blocks, Σ(X,X) and Σ(X*,X).", nngpTrain is null ? nameof(nngpTrain) : nameof(nngpTest));
        if (nngpTestTest is not null && nngpTest is null)
            throw new ArgumentException("Σ(X*,X*) needs Σ(X,X) and Σ(X*,X).", nameof(nngpTestTest));
        if (ntkTrain is null && nngpTrain is null)
            throw new ArgumentException("give the NTK blocks, the NNGP blocks or both.", nameof(ntkTrain));
        Matrix train = (ntkTrain ?? nngpTrain)!, test = (ntkTest ?? nngpTest)!;
        int n = train.Rows, m = test.Rows;
        if (n == 0) throw new ArgumentException("the training set is empty.", ntkTrain is null ? nameof(nngpTrain) : nameof(ntkTrain));
        Check(ntkTrain, n, n, nameof(ntkTrain));
        Check(ntkTest, m, n, nameof(ntkTest));
        Check(nngpTrain, n, n, nameof(nngpTrain));
        Check(nngpTest, m, n, nameof(nngpTest));
        if (nngpTestTest is not null)
        {
            if (!(nngpTestTest.Rows == m && (nngpTestTest.Cols == m || nngpTestTest.Cols == 1)))
                throw new ArgumentException($"nngpTestTest must be {m}×{m} or {m}×1 (diagonal), got {nngpTestTest.Rows}×{nngpTestTest.Cols}.", nameof(nngpTestTest));
            DynamicsChecks.Finite(nngpTestTest, nameof(nngpTestTest));
        }
        NtkTrain = ntkTrain;
        NtkTest = ntkTest;
        NngpTrain = nngpTrain;
        NngpTest = nngpTest;
        NngpTestTest = nngpTestTest;
        TrainPoints = n;
        TestPoints = m;
    }

    private static void Check(Matrix? a, int rows, int cols, string name)
    {
        if (a is null) return;
        DynamicsChecks.Shape(a, rows, cols, name);
        DynamicsChecks.Finite(a, name);
    }

    public Matrix? NtkTrain { get; }
    public Matrix? NtkTest { get; }
    public Matrix? NngpTrain { get; }
    public Matrix? NngpTest { get; }

    /// <summary>Σ(X*,X*), M×M, or M×1 holding its diagonal; null when absent.</summary>
    public Matrix? NngpTestTest { get; }

    /// <summary>N.</summary>
    public int TrainPoints { get; }

    /// <summary>M.</summary>
    public int TestPoints { get; }

    /// <summary>True when the full M×M Σ(X*,X*) is present (so full covariances can be computed; for M = 1 the diagonal is the full block).</summary>
    public bool HasFullTestCovariance => NngpTestTest is not null && NngpTestTest.Cols == TestPoints;
}

/// <summary>
/// One time's prediction: the mean on the test points (M×K), optionally on the training points
/// (N×K), and the spread over initialisations (NTK ensemble) or the posterior's (NNGP) — one
/// variance per test point, shared by every output (the kernels are Σ ⊗ Id).
/// </summary>
public sealed class TimePrediction
{
    public TimePrediction(double time, Matrix mean, Matrix? train, double[]? variance, Matrix? covariance)
    {
        Time = time;
        Mean = mean;
        Train = train;
        Variance = variance;
        Covariance = covariance;
    }

    /// <summary>t (+∞ for the NNGP posterior).</summary>
    public double Time { get; }

    /// <summary>Mean prediction on the test points, M×K.</summary>
    public Matrix Mean { get; }

    /// <summary>Mean prediction on the training points, N×K (null unless asked for).</summary>
    public Matrix? Train { get; }

    /// <summary>Variance per test point (clipped at 0), or null without the NNGP blocks.</summary>
    public double[]? Variance { get; }

    /// <summary>Full M×M covariance of the test predictions, or null unless asked for.</summary>
    public Matrix? Covariance { get; }

    /// <summary>√Variance, or null.</summary>
    public double[]? StandardDeviation => Variance is null ? null : Array.ConvertAll(Variance, Math.Sqrt);
}

/// <summary>
/// Predictions from precomputed Gram matrices (docs/design.md §1 "Training and function-space
/// dynamics"): the entry point <c>ntk predict</c> uses for every kernel source.
/// <para><see cref="PosteriorKind.Ntk"/>: f_t = Θ(x*,X)·Θ⁻¹·(I − e^{−tΘ/N})·Y, the mean over
/// initialisations f_0 ~ GP(0, Σ); with Σ blocks also its variance/covariance
/// Σ(x*,x*) + A·Σ·Aᵀ − A·Σ(X,x*) − Σ(x*,X)·Aᵀ, A = Θ(x*,X)·Θ⁻¹·(I − e^{−tΘ/N}) (<see cref="KernelDynamics.Ensemble"/>).</para>
/// <para><see cref="PosteriorKind.Nngp"/>: mean Σ(x*,X)·(Σ+ρI)⁻¹·Y, covariance Σ(x*,x*) − Σ(x*,X)·(Σ+ρI)⁻¹·Σ(X,x*)
/// (<see cref="NngpPosterior"/>).</para>
/// </summary>
public static partial class KernelPrediction
{
    /// <summary>
    /// The NTK-trained prediction at every time (one eigendecomposition or one Cholesky factor for all).
    /// With the Σ blocks and Σ(X*,X*) the variances are returned and the mean is the ensemble's A·Y
    /// (equal to the mean prediction up to round-off); <paramref name="covariance"/> asks for the full
    /// M×M covariance (needs the full Σ(X*,X*)).
    /// <paramref name="factorProgress"/> receives the fraction done of the eigendecomposition of Θ + ρI, the O(N³) step
    /// (<see cref="KernelDynamics.DecompositionProgress"/>); t = ∞ without the Σ blocks takes a Cholesky factor instead and reports its fraction done.
    /// </summary>
    /// <exception cref="SingularKernelException">t = ∞ and Θ + ρI is numerically singular.</exception>
    public static TimePrediction[] Ntk(PredictionKernels kernels, Matrix targets, ReadOnlySpan<double> times,
        Regularization regularization = default, bool train = false, bool covariance = false, IProgress<double>? factorProgress = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(targets);
        if (kernels.NtkTrain is null) throw new ArgumentException("the NTK prediction needs Θ(X,X) and Θ(X*,X).", nameof(kernels));
        if (times.Length == 0) throw new ArgumentException("give at least one time.", nameof(times));
        bool spread = kernels.NngpTestTest is not null;
        if (covariance && !kernels.HasFullTestCovariance)
            throw new ArgumentException("the full covariance needs the full M×M Σ(X*,X*).", nameof(covariance));
        var dyn = new KernelDynamics(kernels.NtkTrain, targets, regularization) { DecompositionProgress = factorProgress };
        Matrix[] mean = dyn.PredictTest(times, kernels.NtkTest!);
        Matrix[]? trainPred = train ? dyn.PredictTrain(times) : null;
        var result = new TimePrediction[times.Length];
        for (int q = 0; q < times.Length; q++)
        {
            double[]? variance = null;
            Matrix? cov = null;
            if (spread)
            {
                Matrix sigmaTest = kernels.NngpTestTest!;
                if (!covariance && sigmaTest.Cols != 1) sigmaTest = Diagonal(sigmaTest);
                EnsemblePrediction e = dyn.Ensemble(times[q], kernels.NtkTest!, kernels.NngpTrain!, kernels.NngpTest!, sigmaTest);
                mean[q] = e.Mean;
                variance = e.Variance;
                cov = e.Covariance;
            }
            result[q] = new TimePrediction(times[q], mean[q], trainPred?[q], variance, cov);
        }
        return result;
    }

    /// <summary>Default number of test rows per block of the streamed <see cref="Ntk(Matrix, Matrix?, int, Func{int, int, TestRowBlock}, Matrix, ReadOnlySpan{double}, Regularization, bool, int, IProgress{long}?, IProgress{double}?)"/>.</summary>
    public const int DefaultBlockRows = 256;

    /// <summary>
    /// The NTK-trained prediction of <see cref="Ntk(PredictionKernels, Matrix, ReadOnlySpan{double}, Regularization, bool, bool, IProgress{double}?)"/>
    /// with the test blocks read <paramref name="blockRows"/> rows at a time from <paramref name="readBlock"/>
    /// (start, count), e.g. from a memory-mapped file: memory is the N×N blocks and their factor plus one block,
    /// not M×N. Each test row's mean and variance depend only on its own kernel rows, so the results are those of
    /// the in-memory overload bit for bit. No full covariance (that needs every row at once).
    /// <paramref name="progress"/> receives the test-block entries done so far (rows × N, cumulative) after each block.
    /// <paramref name="factorProgress"/> receives the fraction done (0…1) of the factorisation of Θ + ρI, the O(N³) step taken
    /// while the first block is processed, before any block is reported: an eigendecomposition when there is a spread or a
    /// finite time, else (t = ∞ only) a Cholesky factor (<see cref="KernelDynamics.DecompositionProgress"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A block has the wrong shape or a non-finite entry, or the spread blocks come and go between blocks.</exception>
    /// <exception cref="SingularKernelException">t = ∞ and Θ + ρI is numerically singular.</exception>
    public static TimePrediction[] Ntk(Matrix ntkTrain, Matrix? nngpTrain, int testPoints, Func<int, int, TestRowBlock> readBlock,
        Matrix targets, ReadOnlySpan<double> times, Regularization regularization = default, bool train = false,
        int blockRows = DefaultBlockRows, IProgress<long>? progress = null, IProgress<double>? factorProgress = null)
    {
        ArgumentNullException.ThrowIfNull(ntkTrain);
        ArgumentNullException.ThrowIfNull(readBlock);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(testPoints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockRows);
        if (times.Length == 0) throw new ArgumentException("give at least one time.", nameof(times));
        int n = ntkTrain.Rows, k = targets.Cols, m = testPoints;
        KernelDynamics? dyn = null;
        bool spread = false;
        var mean = new Matrix[times.Length];
        var variance = new double[times.Length][];
        for (int q = 0; q < times.Length; q++) mean[q] = new Matrix(m, k);
        for (int start = 0; start < m; start += blockRows)
        {
            int count = Math.Min(blockRows, m - start);
            TestRowBlock b = readBlock(start, count);
            if (dyn is null)
            {
                // The first block checks the training blocks (shape, finite) once, as the in-memory overload does.
                _ = new PredictionKernels(ntkTrain, b.NtkTest, nngpTrain, b.NngpTest, b.NngpTestDiagonal);
                spread = b.NngpTestDiagonal is not null;
                if (spread && nngpTrain is null) throw new ArgumentException("the spread needs Σ(X,X).", nameof(nngpTrain));
                dyn = new KernelDynamics(ntkTrain, targets, regularization) { DecompositionProgress = factorProgress };
                if (spread) for (int q = 0; q < times.Length; q++) variance[q] = new double[m];
            }
            CheckBlock(b.NtkTest, count, n, "the Θ(X*,X) block");
            if (spread != (b.NngpTestDiagonal is not null) || spread != (b.NngpTest is not null))
                throw new ArgumentException("every block must carry the Σ rows, or none.", nameof(readBlock));
            if (spread)
            {
                CheckBlock(b.NngpTest!, count, n, "the Σ(X*,X) block");
                CheckBlock(b.NngpTestDiagonal!, count, 1, "the Σ(X*,X*) diagonal block");
                // A one-row block's 1×1 diagonal would read as the full Σ(X*,X*) (a different formula, other
                // round-off): with M > 1 the row goes in twice and the first copy is kept, as in memory.
                Matrix kt = b.NtkTest, st = b.NngpTest!, dt = b.NngpTestDiagonal!;
                if (count == 1 && m > 1) { kt = Twice(kt); st = Twice(st); dt = Twice(dt); }
                for (int q = 0; q < times.Length; q++)
                {
                    EnsemblePrediction e = dyn.Ensemble(times[q], kt, nngpTrain!, st, dt);
                    e.Mean.Data.AsSpan(0, count * k).CopyTo(mean[q].Data.AsSpan(start * k));
                    e.Variance.AsSpan(0, count).CopyTo(variance[q].AsSpan(start));
                }
            }
            else
            {
                Matrix[] f = dyn.PredictTest(times, b.NtkTest);
                for (int q = 0; q < times.Length; q++) f[q].Data.CopyTo(mean[q].Data, (long)start * k);
            }
            progress?.Report((long)(start + count) * n);
        }
        Matrix[]? trainPred = train ? dyn!.PredictTrain(times) : null;
        var result = new TimePrediction[times.Length];
        for (int q = 0; q < times.Length; q++)
            result[q] = new TimePrediction(times[q], mean[q], trainPred?[q], spread ? variance[q] : null, null);
        return result;
    }

    private static Matrix Twice(Matrix row)
    {
        var r = new Matrix(2, row.Cols);
        row.Data.CopyTo(r.Data, 0);
        row.Data.CopyTo(r.Data, row.Cols);
        return r;
    }

    private static void CheckBlock(Matrix a, int rows, int cols, string name)
    {
        ArgumentNullException.ThrowIfNull(a, name);
        DynamicsChecks.Shape(a, rows, cols, name);
        DynamicsChecks.Finite(a, name);
    }

    /// <summary>
    /// The NNGP posterior (Gaussian-process regression with prior Σ, noise variance ρ from
    /// <paramref name="regularization"/>). Variances need Σ(X*,X*) (diagonal or full); the covariance the full block.
    /// <paramref name="train"/> adds the posterior mean at the training points, Σ·(Σ+ρI)⁻¹·Y (= Y for ρ = 0).
    /// </summary>
    /// <remarks>
    /// <paramref name="factorProgress"/> receives the fraction done of the Cholesky factorisation of Σ + ρI, the O(N³) step
    /// (one factor serves the test points and, with <paramref name="train"/>, the training points).
    /// </remarks>
    /// <exception cref="SingularKernelException">Σ + ρI is numerically singular.</exception>
    public static TimePrediction Nngp(PredictionKernels kernels, Matrix targets, Regularization regularization = default,
        bool train = false, bool covariance = false, IProgress<double>? factorProgress = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(targets);
        if (kernels.NngpTrain is null) throw new ArgumentException("the NNGP posterior needs Σ(X,X) and Σ(X*,X).", nameof(kernels));
        if (covariance && !kernels.HasFullTestCovariance)
            throw new ArgumentException("the full covariance needs the full M×M Σ(X*,X*).", nameof(covariance));
        int m = kernels.TestPoints;
        Matrix? sigmaTest = kernels.NngpTestTest;
        bool spread = sigmaTest is not null;
        if (sigmaTest is not null && !covariance && sigmaTest.Cols != 1) sigmaTest = Diagonal(sigmaTest);
        EnsemblePrediction p = NngpPosterior.Predict(kernels.NngpTrain, kernels.NngpTest!, sigmaTest ?? new Matrix(m, 1), targets, regularization,
            factorProgress, out Matrix l, out Matrix z);
        Matrix? trainMean = null;
        if (train)
        {
            Matrix s = kernels.NngpTrain;
            trainMean = NngpPosterior.PredictFromFactor(l, z, s, Diagonal(s)).Mean;
        }
        return new TimePrediction(double.PositiveInfinity, p.Mean, trainMean, spread ? p.Variance : null, p.Covariance);
    }

    /// <summary>The diagonal of a square matrix as an M×1 column.</summary>
    private static Matrix Diagonal(Matrix a)
    {
        var d = new Matrix(a.Rows, 1);
        for (int i = 0; i < a.Rows; i++) d[i, 0] = a[i, i];
        return d;
    }
}

/// <summary>Checks of Gram matrices read from files (square, symmetric) before they go to the solvers.</summary>
public static class KernelMatrices
{
    /// <summary>Default tolerance of <see cref="Asymmetry"/>: loose enough for float32 files, tight enough for a transposed or wrong block.</summary>
    public const double DefaultSymmetryTolerance = 1e-6;

    /// <summary>
    /// max |a_ij − a_ji| relative to max |a_ij| (0 for a zero matrix), and where it occurs (row &gt; col).
    /// </summary>
    public static (double Relative, int Row, int Col) Asymmetry(Matrix a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"the matrix must be square, got {a.Rows}×{a.Cols}.", nameof(a));
        int n = a.Rows;
        double scale = 0, worst = 0;
        int wi = 0, wj = 0;
        foreach (double v in a.Data) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
            {
                double d = Math.Abs(a[i, j] - a[j, i]);
                if (d > worst || double.IsNaN(d)) { worst = d; wi = i; wj = j; }
            }
        return (scale == 0 ? worst : worst / scale, wi, wj);
    }

    /// <summary>Replaces a and aᵀ by (a + aᵀ)/2 in place (a no-op, bit for bit, on an exactly symmetric matrix).</summary>
    public static void Symmetrize(Matrix a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"the matrix must be square, got {a.Rows}×{a.Cols}.", nameof(a));
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < i; j++)
            {
                double v = 0.5 * (a[i, j] + a[j, i]);
                a[i, j] = v;
                a[j, i] = v;
            }
    }
}
