using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NtkFast.Numerics;

/// <summary>
/// Cholesky factorisation A = L·Lᵀ of a symmetric positive definite matrix, row-major, in place.
/// <para>
/// Blocked left-looking (LAPACK dpotrf's lower variant): for each block column j of width nb,
/// A11 −= A10·A10ᵀ and A21 −= A20·A10ᵀ through <see cref="Gemm.Multiply(Op, Op, int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int)"/>
/// (one GEMM per block column over both, on every thread, inner dimension j: the shape GEMM is fastest at), then the
/// small diagonal block is factored unblocked and A21 ← A21·L11⁻ᵀ by a recursive triangular solve
/// whose off-diagonal work is again GEMM, its rows split among the threads. Only the lower triangle is
/// read; the strict upper triangle is left as it was (the diagonal block's is saved across its GEMM).
/// </para>
/// <para>Allocation-free: no workspace is needed (65 KB of stack for the saved triangle).</para>
/// </summary>
public static class Cholesky
{
    /// <summary>Block width of the left-looking factorisation.</summary>
    internal const int BlockSize = 128;
    private const int TrsmLeaf = 32;

    /// <summary>
    /// Factors the n×n lower triangle of <paramref name="a"/> (leading dimension lda) into L in place.
    /// Returns the ρ added to the diagonal by <paramref name="regularization"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="progress"/>, when given, receives the fraction of the factorisation's floating-point work done
    /// (0…1, from 3r² − 2r³ of the columns done r: the left-looking updates grow with the columns already factored)
    /// after each block of <see cref="BlockSize"/> columns — the O(n³) step of a t = ∞ prediction, minutes at n in the
    /// tens of thousands. The factor does not depend on it.
    /// </remarks>
    /// <exception cref="NotPositiveDefiniteException">a pivot is ≤ 0 or NaN (the index is in the exception).</exception>
    public static double Factor(int n, Span<double> a, int lda, Regularization regularization = default, IProgress<double>? progress = null)
    {
        double rho = regularization.IsNone ? 0 : CheckAndRegularize(n, a, lda, regularization);
        int pivot = TryFactorCore(n, a, lda, out double bad, progress);
        if (pivot >= 0) throw new NotPositiveDefiniteException(pivot, bad);
        return rho;
    }

    /// <summary>
    /// Like <see cref="Factor(int, Span{double}, int, Regularization, IProgress{double}?)"/> but returns the index of the first non-positive pivot (−1 on success)
    /// instead of throwing; the factor is then only valid above that row.
    /// </summary>
    public static int TryFactor(int n, Span<double> a, int lda, out double pivotValue)
    {
        Validate(n, a.Length, lda, nameof(a));
        return TryFactorCore(n, a, lda, out pivotValue);
    }

    private static double CheckAndRegularize(int n, Span<double> a, int lda, Regularization regularization)
    {
        Validate(n, a.Length, lda, nameof(a));
        return regularization.Apply(n, a, lda);
    }

    private static int TryFactorCore(int n, Span<double> a, int lda, out double pivotValue, IProgress<double>? progress = null)
    {
        Validate(n, a.Length, lda, nameof(a));
        pivotValue = 0;
        // The strict upper triangle of one diagonal block, kept while the block-column GEMM overwrites it (65 KB).
        Span<double> upper = n > BlockSize ? stackalloc double[BlockSize * (BlockSize - 1) / 2] : default;
        for (int j = 0; j < n; j += BlockSize)
        {
            int jb = Math.Min(BlockSize, n - j);
            int below = n - j - jb;
            if (j > 0)
            {
                // [A11; A21] −= [A10; A20]·A10ᵀ in one GEMM on every thread. It also computes the diagonal block's
                // strict upper triangle (jb²·j/2 extra flops, ~9% at n = 2048), which is put back as it was: the
                // strict upper triangle of the input stays untouched.
                Span<double> diagonal = a.Slice(j * lda + j);
                KeepUpper(jb, diagonal, lda, upper, restore: false);
                Gemm.Multiply(Op.None, Op.Transpose, n - j, jb, j, -1.0,
                    a.Slice(j * lda), lda, a.Slice(j * lda), lda, 1.0, diagonal, lda);
                KeepUpper(jb, diagonal, lda, upper, restore: true);
            }
            int p = FactorUnblocked(jb, a.Slice(j * lda + j), lda, out pivotValue);
            if (p >= 0) return j + p;
            if (below > 0)
                SolvePanel(below, jb, a.Slice(j * lda + j), lda, a.Slice((j + jb) * lda + j), lda);
            if (progress is not null)
            {
                double r = (double)(j + jb) / n;
                progress.Report(r * r * (3 - 2 * r));
            }
        }
        return -1;
    }

    /// <summary>Copies the strict upper triangle of the jb×jb block into <paramref name="upper"/>, or back from it.</summary>
    private static void KeepUpper(int jb, Span<double> block, int lda, Span<double> upper, bool restore)
    {
        int at = 0;
        for (int r = 0; r < jb - 1; r++)
        {
            Span<double> row = block.Slice(r * lda + r + 1, jb - r - 1);
            Span<double> kept = upper.Slice(at, row.Length);
            if (restore) kept.CopyTo(row);
            else row.CopyTo(kept);
            at += row.Length;
        }
    }

    /// <summary>Dot-product (left-looking) Cholesky of a small block; returns the failing pivot or −1.</summary>
    private static int FactorUnblocked(int n, Span<double> a, int lda, out double pivotValue)
    {
        ref double a0 = ref MemoryMarshal.GetReference(a);
        for (int i = 0; i < n; i++)
        {
            ref double ri = ref Unsafe.Add(ref a0, (nint)i * lda);
            for (int j = 0; j < i; j++)
            {
                ref double rj = ref Unsafe.Add(ref a0, (nint)j * lda);
                Unsafe.Add(ref ri, j) = (Unsafe.Add(ref ri, j) - DenseKernels.Dot(ref ri, ref rj, j)) / Unsafe.Add(ref rj, j);
            }
            double d = Unsafe.Add(ref ri, i) - DenseKernels.Dot(ref ri, ref ri, i);
            if (!(d > 0))
            {
                pivotValue = d;
                return i;
            }
            Unsafe.Add(ref ri, i) = Math.Sqrt(d);
        }
        pivotValue = 0;
        return -1;
    }

    /// <summary>Rows of the panel one parallel task solves: a multiple of the leaf's row tile.</summary>
    private const int PanelChunkRows = 4 * LeafRowTile;

    /// <summary>
    /// The panel's A21 ← A21·L11⁻ᵀ on every thread: the rows are independent, so contiguous chunks of
    /// <see cref="PanelChunkRows"/> rows each run <see cref="SolveRightLowerTransposed"/> (its GEMMs then run on the
    /// calling thread: nested loops run inline). A chunk starts at a multiple of the leaf's 64-row tile, so every row
    /// meets the same operations as in one call over all rows: the factor is bitwise independent of the thread count.
    /// </summary>
    private static unsafe void SolvePanel(int m, int n, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        int chunks = (m + PanelChunkRows - 1) / PanelChunkRows;
        if (chunks == 1 || NtkParallel.MaxThreads == 1)
        {
            SolveRightLowerTransposed(m, n, l, ldl, b, ldb);
            return;
        }
        fixed (double* pl = l, pb = b)
        {
            var solve = new PanelChunk { M = m, N = n, L = pl, Ldl = ldl, B = pb, Ldb = ldb, LLength = l.Length, BLength = b.Length };
            NtkParallel.For(chunks, ref solve);
        }
    }

    private unsafe struct PanelChunk : IParallelAction
    {
        public int M, N, Ldl, Ldb, LLength, BLength;
        public double* L, B;

        public readonly void Invoke(int index)
        {
            int r0 = index * PanelChunkRows, rows = Math.Min(M - r0, PanelChunkRows);
            long offset = (long)r0 * Ldb;
            SolveRightLowerTransposed(rows, N, new ReadOnlySpan<double>(L, LLength), Ldl,
                new Span<double>(B + offset, (int)(BLength - offset)), Ldb);
        }
    }

    /// <summary>
    /// B ← B·L⁻ᵀ for an m×n block B and lower-triangular n×n L (TRSM right/lower/transposed):
    /// every row of B is solved independently; split recursively so the coupling is a GEMM.
    /// </summary>
    internal static void SolveRightLowerTransposed(int m, int n, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        if (m == 0 || n == 0) return;
        if (n <= TrsmLeaf)
        {
            SolveRightLowerTransposedLeaf(m, n, l, ldl, b, ldb);
            return;
        }
        int h = (n / 2 + 7) & ~7;
        SolveRightLowerTransposed(m, h, l, ldl, b, ldb);
        // B2 −= X1 · L21ᵀ with L21 = L[h.., 0..h]
        Gemm.Multiply(Op.None, Op.Transpose, m, n - h, h, -1.0, b, ldb, l.Slice(h * ldl), ldl, 1.0, b.Slice(h), ldb);
        SolveRightLowerTransposed(m, n - h, l.Slice(h * ldl + h), ldl, b.Slice(h), ldb);
    }

    private const int LeafRowTile = 64;

    private static unsafe void SolveRightLowerTransposedLeaf(int m, int n, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        int tiles = (m + LeafRowTile - 1) / LeafRowTile;
        fixed (double* pl = l, pb = b)
        {
            // Serial: the panel is split among threads above (SolvePanel), in chunks of whole tiles.
            for (int t = 0; t < tiles; t++) LeafRows(t, m, n, pl, ldl, pb, ldb);
        }
    }

    /// <summary>
    /// Rows [64t, 64t+64) of X·Lᵀ = B for a leaf of ≤ 32 columns. The tile is transposed into a
    /// stack buffer so the substitution runs as long axpy's across the 64 rows (Xᵀ[c] =
    /// (Bᵀ[c] − Σ_{p&lt;c} L[c,p]·Xᵀ[p]) / L[c,c]) instead of short dot products per row
    /// (measured: the per-row form took more time than all of Cholesky's GEMMs at n = 1024).
    /// </summary>
    private static unsafe void LeafRows(int t, int m, int n, double* l, int ldl, double* b, int ldb)
    {
        int r0 = t * LeafRowTile, rows = Math.Min(m, r0 + LeafRowTile) - r0;
        double* xt = stackalloc double[TrsmLeaf * LeafRowTile];
        for (int r = 0; r < rows; r++)
        {
            double* src = b + (nint)(r0 + r) * ldb;
            for (int c = 0; c < n; c++) xt[c * LeafRowTile + r] = src[c];
        }
        for (int c = 0; c < n; c++)
        {
            double* xc = xt + c * LeafRowTile;
            double* lc = l + (nint)c * ldl;
            for (int p = 0; p < c; p++) DenseKernels.Axpy(-lc[p], ref xt[p * LeafRowTile], ref xc[0], rows);
            DenseKernels.Scale(1 / lc[c], ref xc[0], rows);
        }
        for (int r = 0; r < rows; r++)
        {
            double* dst = b + (nint)(r0 + r) * ldb;
            for (int c = 0; c < n; c++) dst[c] = xt[c * LeafRowTile + r];
        }
    }

    /// <summary>
    /// Solves A·X = B given the factor L (lower triangle of <paramref name="l"/>): B (n×nrhs,
    /// leading dimension ldb) is overwritten with X.
    /// </summary>
    public static void Solve(int n, ReadOnlySpan<double> l, int ldl, int nrhs, Span<double> b, int ldb)
    {
        Triangular.SolveLower(n, nrhs, l, ldl, b, ldb);
        Triangular.SolveLowerTransposed(n, nrhs, l, ldl, b, ldb);
    }

    /// <summary>log det A = 2 Σ log L_ii.</summary>
    public static double LogDeterminant(int n, ReadOnlySpan<double> l, int ldl)
    {
        Validate(n, l.Length, ldl, nameof(l), nameof(ldl));
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.Log(l[i * ldl + i]);
        return 2 * s;
    }

    /// <summary>
    /// Squared ratio of the largest to the smallest diagonal of L: a lower bound on the condition
    /// number of A (∞ when a diagonal is 0), used to flag numerically singular kernels.
    /// </summary>
    public static double ConditionLowerBound(int n, ReadOnlySpan<double> l, int ldl)
    {
        Validate(n, l.Length, ldl, nameof(l), nameof(ldl));
        if (n == 0) return 1;
        double lo = double.PositiveInfinity, hi = 0;
        for (int i = 0; i < n; i++)
        {
            double d = Math.Abs(l[i * ldl + i]);
            lo = Math.Min(lo, d);
            hi = Math.Max(hi, d);
        }
        return lo == 0 ? double.PositiveInfinity : hi / lo * (hi / lo);
    }

    // ----- allocating conveniences -----

    /// <summary>
    /// Returns L (zeros above the diagonal) for a symmetric positive definite matrix; <paramref name="a"/> is not modified.
    /// <paramref name="progress"/>: as <see cref="Factor(int, Span{double}, int, Regularization, IProgress{double}?)"/>.
    /// </summary>
    public static Matrix Factor(Matrix a, Regularization regularization = default, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"Cholesky needs a square matrix, got {a.Rows}×{a.Cols}.", nameof(a));
        var l = new Matrix(a.Rows, a.Cols, (double[])a.Data.Clone());
        Factor(a.Rows, l.Data, Math.Max(1, a.Cols), regularization, progress);
        for (int i = 0; i < l.Rows; i++) l.Row(i).Slice(i + 1).Clear();
        return l;
    }

    /// <summary>Solves A·X = B with L from <see cref="Factor(Matrix, Regularization, IProgress{double}?)"/>.</summary>
    public static Matrix Solve(Matrix l, Matrix b)
    {
        ArgumentNullException.ThrowIfNull(l);
        ArgumentNullException.ThrowIfNull(b);
        if (l.Rows != l.Cols) throw new ArgumentException("The factor must be square.", nameof(l));
        if (b.Rows != l.Rows) throw new ArgumentException($"B has {b.Rows} rows, the factor {l.Rows}.", nameof(b));
        var x = new Matrix(b.Rows, b.Cols, (double[])b.Data.Clone());
        if (b.Cols > 0) Solve(l.Rows, l.Data, Math.Max(1, l.Cols), b.Cols, x.Data, b.Cols);
        return x;
    }

    internal static void Validate(int n, int length, int ld, string name, string ldName = "lda")
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        Gemm.CheckOperand(name, ldName, n, n, length, ld);
    }
}
