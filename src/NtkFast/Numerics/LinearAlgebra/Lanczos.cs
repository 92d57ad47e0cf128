using System.Runtime.InteropServices;

namespace NtkFast.Numerics;

/// <summary>
/// Extreme eigenpairs of a symmetric matrix by the Lanczos process with full
/// reorthogonalisation (classical Gram–Schmidt applied twice at every step), for kernel PCA and
/// operator norms where only a few eigenpairs of a large kernel are wanted.
/// <para>
/// Stopping rule (the stated tolerance): every wanted Ritz pair (θ, y) has residual
/// ‖A·y − θ·y‖ = |β_m·s_m| ≤ tol·max|θ|. A Ritz value then lies within that residual of an
/// eigenvalue of A (and, for the largest, θ ≤ λ_max), so the relative error of a converged
/// extreme eigenvalue is at most tol (usually far smaller, ~tol²·|θ|/gap).
/// </para>
/// <para>
/// Known limit of a single-vector Krylov method: an eigenvalue repeated exactly is found once
/// per Krylov breakdown (a new random start vector is drawn then); for top-k with exact
/// multiplicities use <see cref="SymmetricEigen"/>, which <see cref="TopEigenpairs(Matrix, int, double)"/>
/// does automatically for small matrices or large k.
/// </para>
/// The start vector is a fixed pseudo-random vector, so results are reproducible and do not
/// depend on the thread count.
/// </summary>
public static class Lanczos
{
    /// <summary>Default relative residual tolerance.</summary>
    public const double DefaultTolerance = 1e-10;

    /// <summary>Workspace (doubles) for <see cref="Run"/> with at most <paramref name="maxSteps"/> steps.</summary>
    public static long GetWorkspaceLength(int n, int maxSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        int m = Math.Min(n, Math.Max(1, maxSteps));
        return (long)m * n + 2L * n + 6L * m + 2L * m * m + SymmetricEigen.TridiagonalWorkspaceLength(m);
    }

    /// <summary>
    /// Runs Lanczos on the symmetric n×n matrix a (full storage, leading dimension lda) until the
    /// <paramref name="top"/> largest and <paramref name="bottom"/> smallest Ritz pairs have
    /// converged to <paramref name="tolerance"/> or the basis reaches <paramref name="maxSteps"/>
    /// (at n steps the result is exact). Writes the largest eigenvalues descending into
    /// <paramref name="topValues"/> (and their unit vectors as the columns of the n×top matrix
    /// <paramref name="topVectors"/>, unless empty), the smallest ascending into
    /// <paramref name="bottomValues"/>. Returns the number of Lanczos steps taken.
    /// </summary>
    public static int Run(int n, ReadOnlySpan<double> a, int lda, int top, int bottom,
        Span<double> topValues, Span<double> topVectors, Span<double> bottomValues,
        double tolerance, int maxSteps, Span<double> workspace) =>
        RunCore(n, a, lda, top, bottom, topValues, topVectors, bottomValues, tolerance, maxSteps, workspace, maxAbsOnly: false, out _);

    /// <summary>
    /// With <paramref name="maxAbsOnly"/> (top = bottom = 1) it stops as soon as the extreme of
    /// larger magnitude has converged and the other end provably cannot exceed it in magnitude
    /// (λ_min ≥ θ_min − r_min, λ_max ≤ θ_max + r_max): the spectral norm of a PSD kernel then
    /// does not wait for the bottom of its cluster of tiny eigenvalues.
    /// </summary>
    internal static int RunCore(int n, ReadOnlySpan<double> a, int lda, int top, int bottom,
        Span<double> topValues, Span<double> topVectors, Span<double> bottomValues,
        double tolerance, int maxSteps, Span<double> workspace, bool maxAbsOnly, out bool converged)
    {
        converged = false;
        Gemm.CheckOperand(nameof(a), nameof(lda), n, n, a.Length, lda);
        if (top < 0 || top > n) throw new ArgumentOutOfRangeException(nameof(top), top, $"top must be in [0, {n}].");
        if (bottom < 0 || bottom > n) throw new ArgumentOutOfRangeException(nameof(bottom), bottom, $"bottom must be in [0, {n}].");
        if (!(tolerance > 0) || tolerance >= 1) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be in (0, 1).");
        if (topValues.Length < top) throw new ArgumentException("topValues is too short.", nameof(topValues));
        if (bottomValues.Length < bottom) throw new ArgumentException("bottomValues is too short.", nameof(bottomValues));
        if (!topVectors.IsEmpty && topVectors.Length < (long)n * top) throw new ArgumentException("topVectors must hold n×top values.", nameof(topVectors));
        int mMax = Math.Min(n, Math.Max(Math.Max(top, bottom), maxSteps));
        if (workspace.Length < GetWorkspaceLength(n, mMax)) throw new ArgumentException($"workspace too short: needs {GetWorkspaceLength(n, mMax)}.", nameof(workspace));
        if (n == 0 || (top == 0 && bottom == 0)) { converged = true; return 0; }

        Span<double> q = workspace.Slice(0, mMax * n);
        Span<double> w = workspace.Slice(mMax * n, n);
        Span<double> tmpN = workspace.Slice(mMax * n + n, n);
        int off = mMax * n + 2 * n;
        Span<double> alpha = workspace.Slice(off, mMax); off += mMax;
        Span<double> beta = workspace.Slice(off, mMax); off += mMax;
        Span<double> h = workspace.Slice(off, mMax); off += mMax;
        Span<double> td = workspace.Slice(off, mMax); off += mMax;
        Span<double> te = workspace.Slice(off, mMax); off += mMax;
        Span<double> extra = workspace.Slice(off, mMax); off += mMax;
        Span<double> z = workspace.Slice(off, mMax * mMax); off += mMax * mMax;
        Span<double> sel = workspace.Slice(off, mMax * mMax); off += mMax * mMax;
        Span<double> tws = workspace.Slice(off);

        ulong state = 0x9E3779B97F4A7C15UL;
        RandomUnit(q.Slice(0, n), ref state);
        int steps = 0;
        bool done = false;
        while (!done)
        {
            int j = steps;
            Span<double> qj = q.Slice(j * n, n);
            DenseKernels.MatVec(n, n, a, lda, qj, w);
            // Full reorthogonalisation against the whole basis also removes the α·q_j and β·q_{j−1}
            // components of the three-term recurrence; α_j is the total coefficient on q_j.
            Orthogonalize(q, j + 1, n, w, h);
            alpha[j] = h[j];
            steps = j + 1;
            double b = DenseKernels.Norm2(w);
            double anorm = 0;
            for (int i = 0; i < steps; i++) anorm = Math.Max(anorm, Math.Abs(alpha[i]) + (i > 0 ? Math.Abs(beta[i - 1]) : 0) + (i < steps - 1 ? Math.Abs(beta[i]) : 0));
            bool breakdown = b <= 1e-13 * Math.Max(anorm, double.Epsilon) || steps == n;
            beta[j] = breakdown ? 0 : b;
            bool check = steps >= Math.Max(top, bottom) && (breakdown || steps == mMax || (steps - Math.Max(top, bottom)) % Math.Max(4, steps / 8) == 0);
            if (check)
            {
                converged = (maxAbsOnly
                    ? ConvergedMaxAbs(steps, alpha, beta, tolerance, td, te, z, tws, breakdown ? 0 : b)
                    : Converged(steps, alpha, beta, top, bottom, tolerance, td, te, z, tws, breakdown ? 0 : b)) || steps == n;
                done = converged || steps == mMax;
            }
            if (done) break;
            Span<double> next = q.Slice(steps * n, n);
            if (breakdown)
            {
                // Invariant subspace found: continue with a fresh random direction orthogonal to the basis.
                for (int attempt = 0; ; attempt++)
                {
                    RandomUnit(next, ref state);
                    Orthogonalize(q, steps, n, next, h);
                    double nn = DenseKernels.Norm2(next);
                    if (nn > 1e-8 || attempt > 5)
                    {
                        DenseKernels.Scale(1 / nn, ref MemoryMarshal.GetReference(next), n);
                        break;
                    }
                }
            }
            else
            {
                w.CopyTo(next);
                DenseKernels.Scale(1 / b, ref MemoryMarshal.GetReference(next), n);
            }
        }

        // Final Ritz pairs from T (recomputed with vectors).
        int m = steps;
        alpha.Slice(0, m).CopyTo(td);
        for (int i = 0; i < m; i++) te[i] = i < m - 1 ? beta[i] : 0;
        SymmetricEigen.Tridiagonal(m, td, te, z.Slice(0, m * m), tws);
        int kt = Math.Min(top, m), kb = Math.Min(bottom, m);
        for (int c = 0; c < kt; c++) topValues[c] = td[m - 1 - c];
        for (int c = kt; c < top; c++) topValues[c] = double.NaN;
        for (int c = 0; c < kb; c++) bottomValues[c] = td[c];
        for (int c = kb; c < bottom; c++) bottomValues[c] = double.NaN;
        if (!topVectors.IsEmpty && top > 0)
        {
            // Y = Qᵀ·S with S the top Ritz vectors of T (m×top), descending.
            for (int i = 0; i < m; i++)
                for (int c = 0; c < top; c++)
                    sel[i * top + c] = c < kt ? z[i * m + (m - 1 - c)] : 0;
            Gemm.Multiply(Op.Transpose, Op.None, n, top, m, 1.0, q.Slice(0, m * n), n, sel.Slice(0, m * top), top, 0.0, topVectors, top);
        }
        _ = extra;
        _ = tmpN;
        return steps;
    }

    /// <summary>w −= Q₀..ₖ₋₁ᵀ(Q₀..ₖ₋₁·w), twice; h receives the sum of both coefficient sets.</summary>
    private static void Orthogonalize(Span<double> q, int k, int n, Span<double> w, Span<double> h)
    {
        h.Slice(0, k).Clear();
        ref double w0 = ref MemoryMarshal.GetReference(w);
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < k; i++)
            {
                ref double qi = ref MemoryMarshal.GetReference(q.Slice(i * n, n));
                double c = DenseKernels.Dot(ref qi, ref w0, n);
                h[i] += c;
                DenseKernels.Axpy(-c, ref qi, ref w0, n);
            }
        }
    }

    private static bool Converged(int m, Span<double> alpha, Span<double> beta, int top, int bottom, double tol,
        Span<double> td, Span<double> te, Span<double> z, Span<double> tws, double lastBeta)
    {
        alpha.Slice(0, m).CopyTo(td);
        for (int i = 0; i < m; i++) te[i] = i < m - 1 ? beta[i] : 0;
        SymmetricEigen.Tridiagonal(m, td, te, z.Slice(0, m * m), tws);
        double scale = Math.Max(Math.Abs(td[0]), Math.Abs(td[m - 1]));
        if (scale == 0) return true;
        for (int c = 0; c < Math.Min(top, m); c++)
            if (Math.Abs(lastBeta * z[(m - 1) * m + (m - 1 - c)]) > tol * scale) return false;
        for (int c = 0; c < Math.Min(bottom, m); c++)
            if (Math.Abs(lastBeta * z[(m - 1) * m + c]) > tol * scale) return false;
        return m >= top && m >= bottom;
    }

    private static bool ConvergedMaxAbs(int m, Span<double> alpha, Span<double> beta, double tol,
        Span<double> td, Span<double> te, Span<double> z, Span<double> tws, double lastBeta)
    {
        alpha.Slice(0, m).CopyTo(td);
        for (int i = 0; i < m; i++) te[i] = i < m - 1 ? beta[i] : 0;
        SymmetricEigen.Tridiagonal(m, td, te, z.Slice(0, m * m), tws);
        double hi = td[m - 1], lo = td[0];
        double rHi = Math.Abs(lastBeta * z[(m - 1) * m + (m - 1)]), rLo = Math.Abs(lastBeta * z[(m - 1) * m]);
        double scale = Math.Max(Math.Abs(hi), Math.Abs(lo));
        if (scale == 0) return true;
        bool topWins = rHi <= tol * scale && hi >= -(lo - rLo);
        bool bottomWins = rLo <= tol * scale && -lo >= hi + rHi;
        return topWins || bottomWins;
    }

    private static void RandomUnit(Span<double> v, ref ulong state)
    {
        for (int i = 0; i < v.Length; i++)
        {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            v[i] = (state >> 11) * (2.0 / (1UL << 53)) - 1.0;
        }
        double nn = DenseKernels.Norm2(v);
        DenseKernels.Scale(1 / nn, ref MemoryMarshal.GetReference(v), v.Length);
    }

    // ----- allocating conveniences -----

    /// <summary>
    /// The k largest eigenvalues (descending) and unit eigenvectors (columns, n×k) of a symmetric
    /// matrix. Uses the dense eigensolver when n ≤ 256 or k &gt; n/4 (exact multiplicities, and
    /// cheaper there), Lanczos otherwise.
    /// </summary>
    public static EigenDecomposition TopEigenpairs(Matrix a, int k, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"need a square matrix, got {a.Rows}×{a.Cols}.", nameof(a));
        int n = a.Rows;
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [0, {n}].");
        if (n <= 256 || 4L * k > n)
        {
            EigenDecomposition full = SymmetricEigen.Decompose(a);
            var vals = new double[k];
            var vecs = new Matrix(n, k);
            for (int c = 0; c < k; c++)
            {
                vals[c] = full.Values[n - 1 - c];
                for (int i = 0; i < n; i++) vecs[i, c] = full.Vectors[i, n - 1 - c];
            }
            return new EigenDecomposition(vals, vecs);
        }
        var values = new double[k];
        var vectors = new Matrix(n, k);
        int cap = Math.Min(n, Math.Max(3 * k + 40, 200));
        while (true)
        {
            var ws = new double[GetWorkspaceLength(n, cap)];
            RunCore(n, a.Data, n, k, 0, values, vectors.Data, Span<double>.Empty, tolerance, cap, ws, false, out bool ok);
            if (ok || cap == n) break;
            cap = Math.Min(n, cap * 2); // not converged within the basis (flat spectra): grow it
        }
        return new EigenDecomposition(values, vectors);
    }
}

/// <summary>
/// Operator norms of kernels on a data set (docs/design.md, Appendix A): for an (N·nL)×(N·nL) Gram
/// matrix K, ‖K‖_op = max|λ(K)| / N, which is λ_max/N for a positive semi-definite kernel.
/// Computed by Lanczos to a relative tolerance (default 1e-10) on the eigenvalue.
/// </summary>
public static class OperatorNorm
{
    /// <summary>Largest (algebraic) eigenvalue of the symmetric matrix a (full storage).</summary>
    public static double LargestEigenvalue(int n, ReadOnlySpan<double> a, int lda, double tolerance, Span<double> workspace)
    {
        Span<double> top = stackalloc double[1];
        Lanczos.Run(n, a, lda, 1, 0, top, Span<double>.Empty, Span<double>.Empty, tolerance, n, workspace);
        return top[0];
    }

    /// <summary>Largest eigenvalue, relative error ≤ tolerance.</summary>
    public static double LargestEigenvalue(Matrix a, double tolerance = Lanczos.DefaultTolerance)
    {
        CheckSquare(a);
        return Extreme(a, tolerance, maxAbs: false);
    }

    /// <summary>Lanczos with a basis of 64 vectors, doubled until converged (memory m·n, not n²).</summary>
    private static double Extreme(Matrix a, double tolerance, bool maxAbs)
    {
        int n = a.Rows;
        if (n == 0) return 0;
        Span<double> top = stackalloc double[1];
        Span<double> bottom = stackalloc double[1];
        for (int cap = Math.Min(n, 64); ; cap = Math.Min(n, 2 * cap))
        {
            var ws = new double[Lanczos.GetWorkspaceLength(n, cap)];
            Lanczos.RunCore(n, a.Data, n, 1, maxAbs ? 1 : 0, top, Span<double>.Empty, bottom, tolerance, cap, ws, maxAbs, out bool ok);
            if (ok || cap == n) return maxAbs ? Math.Max(Math.Abs(top[0]), Math.Abs(bottom[0])) : top[0];
        }
    }

    /// <summary>Spectral norm max|λ| of a symmetric (possibly indefinite) matrix, e.g. Θ̂ − Θ.</summary>
    public static double SymmetricNorm(Matrix a, double tolerance = Lanczos.DefaultTolerance)
    {
        CheckSquare(a);
        return Extreme(a, tolerance, maxAbs: true);
    }

    /// <summary>‖K‖_op = max|λ(K)| / N for a kernel Gram matrix on N points (N = rows / outputs).</summary>
    public static double Kernel(Matrix gram, int outputs = 1, double tolerance = Lanczos.DefaultTolerance)
    {
        CheckSquare(gram);
        if (outputs < 1 || gram.Rows % outputs != 0)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "outputs must divide the number of rows.");
        if (gram.Rows == 0) return 0;
        return SymmetricNorm(gram, tolerance) / (gram.Rows / outputs);
    }

    private static void CheckSquare(Matrix a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"need a square matrix, got {a.Rows}×{a.Cols}.", nameof(a));
    }
}
