using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// All eigenpairs of a real symmetric matrix, A·V = V·Λ with eigenvalues ascending and
/// orthonormal eigenvectors in the columns of V (row-major, like every matrix here).
/// <para>
/// Three phases, as LAPACK's dsyev but arranged for row-major storage and two cores:
/// (1) Householder tridiagonalisation A = Q·T·Qᵀ, one fused pass per column that applies the
/// previous rank-2 update and computes the next matrix–vector product in the same sweep over the
/// trailing matrix (one read + one write of it per column, rows split in fixed tiles);
/// (2) implicit QL with Wilkinson-type shifts on T, whose plane rotations are recorded and applied
/// in batches to the rows of Zᵀ, 16 columns at a time held in registers (compute-bound instead of
/// streaming Zᵀ once per sweep); (3) back-transformation V = Q·Z with the reflectors grouped 32 at
/// a time in compact WY form, so it is three GEMMs per group.
/// </para>
/// Only the lower triangle of A is read; A is destroyed (it holds the reflectors afterwards).
/// </summary>
public static class SymmetricEigen
{
    private const int ReflectorBlock = 32;
    private const int RowTile = 16;
    private const int ColumnChunk = 16;

    /// <summary>Doubles of workspace <see cref="Decompose(int, Span{double}, int, Span{double}, Span{double}, int, Span{double})"/> needs.</summary>
    public static long GetWorkspaceLength(int n, bool computeVectors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        long small = 6L * n + 16;
        if (!computeVectors) return small;
        long rotations = RotationCapacity(n);
        long back = 3L * n * ReflectorBlock + ReflectorBlock * ReflectorBlock * 2 + ReflectorBlock;
        return small + (long)n * n + 4 * rotations + back;
    }

    private static int RotationCapacity(int n) => Math.Max(64, 32 * n);

    /// <summary>
    /// Eigen-decomposes the symmetric n×n matrix in <paramref name="a"/> (lower triangle read, then
    /// destroyed). Writes eigenvalues ascending to <paramref name="eigenvalues"/> and, unless
    /// <paramref name="vectors"/> is empty, the orthonormal eigenvectors as the columns of the n×n
    /// <paramref name="vectors"/> (leading dimension ldv). Allocation-free given the workspace.
    /// </summary>
    public static unsafe void Decompose(int n, Span<double> a, int lda, Span<double> eigenvalues,
        Span<double> vectors, int ldv, Span<double> workspace)
    {
        Cholesky.Validate(n, a.Length, lda, nameof(a));
        bool wantVectors = !vectors.IsEmpty;
        if (eigenvalues.Length < n) throw new ArgumentException($"eigenvalues has {eigenvalues.Length} elements, needs {n}.", nameof(eigenvalues));
        if (wantVectors) Gemm.CheckOperand(nameof(vectors), nameof(ldv), n, n, vectors.Length, ldv);
        long need = GetWorkspaceLength(n, wantVectors);
        if (workspace.Length < need) throw new ArgumentException($"workspace has {workspace.Length} elements, needs {need} (GetWorkspaceLength).", nameof(workspace));
        if (n == 0) return;
        for (int i = 0; i < n * lda; i += lda)
            for (int j = 0; j < i / lda + 1; j++)
                if (!double.IsFinite(a[i + j])) throw new ArgumentException($"matrix has a non-finite entry at ({i / lda}, {j}).", nameof(a));

        fixed (double* pa = a, pd = eigenvalues, pw = workspace, pv = vectors)
        {
            double* e = pw, tau = pw + n, v1 = pw + 2 * n, v2 = pw + 3 * n, p1 = pw + 4 * n, p2 = pw + 5 * n;
            Tridiagonalize(n, pa, lda, pd, e, tau, v1, v2, p1, p2);
            if (!wantVectors)
            {
                TridiagonalQL(n, pd, e, null, null, 0, null);
                new Span<double>(pd, n).Sort();
                return;
            }
            double* z = pw + 6 * n + 16;
            int cap = RotationCapacity(n);
            double* rot = z + (long)n * n;
            double* back = rot + 4L * cap;
            new Span<double>(z, n * n).Clear();
            for (int i = 0; i < n; i++) z[(long)i * n + i] = 1;
            var buffer = new RotationBatch(rot, cap, rot + 2L * cap, cap);
            TridiagonalQL(n, pd, e, z, &buffer, n, null);
            SortAscending(n, pd, z);
            // V = Zᵀ, then V ← Q·V.
            for (int i0 = 0; i0 < n; i0 += 32)
                for (int j0 = 0; j0 < n; j0 += 32)
                    for (int i = i0; i < Math.Min(n, i0 + 32); i++)
                        for (int j = j0; j < Math.Min(n, j0 + 32); j++)
                            pv[(long)i * ldv + j] = z[(long)j * n + i];
            BackTransform(n, pa, lda, tau, pv, ldv, back);
        }
    }

    // ----------------------------------------------------------------------------------------
    // (1) Tridiagonalisation
    // ----------------------------------------------------------------------------------------

    /// <summary>
    /// Householder reduction A = Q·T·Qᵀ (dsytd2, lower). d, e receive T's diagonal and
    /// off-diagonal (e[k] couples k and k+1); reflector k (k ≤ n−3) is H = I − τ_k·v·vᵀ with
    /// v = (0…0, 1 at k+1, A[k, k+2..]) stored in row k of A.
    /// </summary>
    private static unsafe void Tridiagonalize(int n, double* a, int lda, double* d, double* e, double* tau,
        double* vcur, double* vnext, double* p, double* pnext)
    {
        // Mirror the lower triangle so full rows can be streamed.
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) a[(long)j * lda + i] = a[(long)i * lda + j];
        for (int i = 0; i < n; i++) { e[i] = 0; tau[i] = 0; }
        d[0] = a[0];
        if (n == 1) return;
        if (n == 2)
        {
            d[1] = a[lda + 1];
            e[0] = a[1];
            return;
        }
        tau[0] = Householder(a + 1, n - 1, out e[0]);
        vcur[1] = 1;
        for (int j = 2; j < n; j++) vcur[j] = a[j];
        FusedPass(n, a, lda, 1, null, null, vcur, tau[0], p);
        for (int k = 0; k <= n - 3; k++)
        {
            double t = tau[k];
            int r = k + 1;
            double kk = 0.5 * t * DenseKernels.Dot(ref p[r], ref vcur[r], n - r);
            for (int j = r; j < n; j++) p[j] -= kk * vcur[j];        // p becomes w
            double* row = a + (long)r * lda;
            double vr = vcur[r], wr = p[r];
            for (int j = r; j < n; j++) row[j] -= vr * p[j] + wr * vcur[j];
            d[r] = row[r];
            if (r <= n - 3)
            {
                double tn = Householder(row + r + 1, n - r - 1, out e[r]);
                tau[r] = tn;
                vnext[r + 1] = 1;
                for (int j = r + 2; j < n; j++) vnext[j] = row[j];
                FusedPass(n, a, lda, r + 1, vcur, p, vnext, tn, pnext);
                double* s = vcur; vcur = vnext; vnext = s;
                s = p; p = pnext; pnext = s;
            }
            else
            {
                // r = n−2: update the last entry, read off the final 2×2 block.
                a[(long)(n - 1) * lda + n - 1] -= 2 * vcur[n - 1] * p[n - 1];
                d[n - 1] = a[(long)(n - 1) * lda + n - 1];
                e[n - 2] = row[n - 1];
            }
        }
    }

    /// <summary>
    /// For rows i ≥ s: A[i, s..] −= v_i·w[s..] + w_i·v[s..] (skipped when v is null), then
    /// pout[i] = τ·(A[i, s..]·u[s..]). One read and one write of the trailing matrix.
    /// </summary>
    private static unsafe void FusedPass(int n, double* a, int lda, int s, double* v, double* w, double* u, double t, double* pout)
    {
        int len = n - s;
        int tiles = (len + RowTile - 1) / RowTile;
        if ((long)len * len < 160 * 160 || NtkParallel.MaxThreads == 1)
        {
            for (int tile = 0; tile < tiles; tile++) FusedRows(a, lda, s, n, s + tile * RowTile, Math.Min(n, s + (tile + 1) * RowTile), v, w, u, t, pout);
            return;
        }
        FusedPassParallel(n, a, lda, s, v, w, u, t, pout, tiles);
    }

    // Separate method so the serial path allocates no closure.
    private static unsafe void FusedPassParallel(int n, double* a, int lda, int s, double* v, double* w, double* u, double t, double* pout, int tiles) =>
        NtkParallel.For(tiles, tile => FusedRows(a, lda, s, n, s + tile * RowTile, Math.Min(n, s + (tile + 1) * RowTile), v, w, u, t, pout));

    private static unsafe void FusedRows(double* a, int lda, int s, int n, int i0, int i1, double* v, double* w, double* u, double t, double* pout)
    {
        int len = n - s;
        for (int i = i0; i < i1; i++)
        {
            double* row = a + (long)i * lda + s;
            if (v != null) UpdateRow(row, v[i], w[i], v + s, w + s, len);
            pout[i] = t * DenseKernels.Dot(ref row[0], ref u[s], len);
        }
    }

    /// <summary>row[j] −= vi·w[j] + wi·v[j].</summary>
    private static unsafe void UpdateRow(double* row, double vi, double wi, double* v, double* w, int len)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vvi = Vector256.Create(vi);
            var vwi = Vector256.Create(wi);
            for (; j <= len - 4; j += 4)
            {
                var r = Vector256.Load(row + j);
                r -= vvi * Vector256.Load(w + j) + vwi * Vector256.Load(v + j);
                r.Store(row + j);
            }
        }
        for (; j < len; j++) row[j] -= vi * w[j] + wi * v[j];
    }

    /// <summary>
    /// dlarfg: for x = (α, x₁…), returns τ and β with (I − τ·v·vᵀ)·x = β·e₁, v = (1, x₁…/(α−β));
    /// x[1..] is overwritten with v[1..].
    /// </summary>
    private static unsafe double Householder(double* x, int len, out double beta)
    {
        double alpha = x[0];
        double xnorm = len > 1 ? DenseKernels.Norm2(new ReadOnlySpan<double>(x + 1, len - 1)) : 0;
        if (xnorm == 0)
        {
            beta = alpha;
            return 0;
        }
        beta = -Math.CopySign(double.Hypot(alpha, xnorm), alpha);
        double tauv = (beta - alpha) / beta;
        DenseKernels.Scale(1 / (alpha - beta), ref x[1], len - 1);
        return tauv;
    }

    // ----------------------------------------------------------------------------------------
    // (2) Implicit QL on the tridiagonal matrix
    // ----------------------------------------------------------------------------------------

    /// <summary>Recorded plane rotations: sweeps (top index, count, offset) and their (c, s) pairs.</summary>
    private unsafe struct RotationBatch
    {
        public RotationBatch(double* cs, int capacity, double* headers, int headerCapacity)
        {
            Cs = cs; Capacity = capacity; Headers = headers; HeaderCapacity = headerCapacity;
        }
        public double* Cs;
        public int Capacity, Count;
        public double* Headers;
        public int HeaderCapacity, Sweeps;
    }

    /// <summary>
    /// Implicit QL with shifts (EISPACK tql2 / LAPACK dsteqr's QL branch) on d (diagonal) and e
    /// (e[i] couples i and i+1). When z is given, the rotations are applied to the rows of the
    /// n×n matrix z (z = Zᵀ: row i ends as the eigenvector of d[i]).
    /// </summary>
    private static unsafe void TridiagonalQL(int n, double* d, double* e, double* z, RotationBatch* batch, int zn, object? unused)
    {
        _ = unused;
        const double Eps = 2.220446049250313e-16;
        if (n > 0) e[n - 1] = 0;
        for (int l = 0; l < n; l++)
        {
            int iter = 0;
            while (true)
            {
                int m = l;
                for (; m < n - 1; m++)
                {
                    double dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= Eps * dd) break;
                }
                if (m == l) break;
                if (++iter > 60)
                    throw new ArithmeticException($"symmetric eigensolver did not converge (eigenvalue {l} after 60 QL sweeps).");
                if (batch != null && (batch->Count + (m - l) > batch->Capacity || batch->Sweeps == batch->HeaderCapacity))
                    Flush(batch, z, zn);
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = double.Hypot(g, 1);
                g = d[m] - d[l] + e[l] / (g + Math.CopySign(r, g));
                double s = 1, c = 1, p = 0;
                int i = m - 1;
                bool underflow = false;
                double* cs = batch != null ? batch->Cs + 2L * batch->Count : null;
                for (; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    r = double.Hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0)
                    {
                        d[i + 1] -= p;
                        e[m] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    if (cs != null) { *cs++ = c; *cs++ = s; }
                }
                int count = underflow ? m - 1 - i : m - l;
                if (batch != null && count > 0)
                {
                    double* h = batch->Headers + 3L * batch->Sweeps;
                    h[0] = m - 1; h[1] = count; h[2] = batch->Count;
                    batch->Count += count;
                    batch->Sweeps++;
                }
                if (underflow) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        }
        if (batch != null) Flush(batch, z, zn);
    }

    private static unsafe void Flush(RotationBatch* batch, double* z, int n)
    {
        if (batch->Sweeps == 0) return;
        RotationBatch local = *batch;
        int chunks = (n + ColumnChunk - 1) / ColumnChunk;
        if (chunks == 1 || (long)local.Count * n < 1 << 15 || NtkParallel.MaxThreads == 1)
        {
            for (int ch = 0; ch < chunks; ch++) ApplyRotations(&local, z, n, ch * ColumnChunk, Math.Min(n, (ch + 1) * ColumnChunk));
        }
        else FlushParallel(&local, z, n, chunks);
        batch->Count = 0;
        batch->Sweeps = 0;
    }

    private static unsafe void FlushParallel(RotationBatch* pl, double* z, int n, int chunks) =>
        NtkParallel.For(chunks, ch => ApplyRotations(pl, z, n, ch * ColumnChunk, Math.Min(n, (ch + 1) * ColumnChunk)));

    /// <summary>
    /// Applies every recorded sweep, in order, to columns [c0, c1) of z. A sweep with top t and
    /// count k applies rotations i = t, t−1, …, t−k+1: (z_i, z_{i+1}) ← (c·z_i − s·z_{i+1}, s·z_i + c·z_{i+1});
    /// the running z_{i+1} stays in registers, so each rotation costs one load and one store per vector.
    /// </summary>
    private static unsafe void ApplyRotations(RotationBatch* batch, double* z, int n, int c0, int c1)
    {
        int sweeps = batch->Sweeps;
        int width = c1 - c0;
        bool vec = Vector256.IsHardwareAccelerated && width == ColumnChunk;
        for (int sw = 0; sw < sweeps; sw++)
        {
            double* h = batch->Headers + 3L * sw;
            int top = (int)h[0], count = (int)h[1];
            double* cs = batch->Cs + 2L * (long)h[2];
            if (vec)
            {
                double* zt = z + (long)(top + 1) * n + c0;
                var x0 = Vector256.Load(zt);
                var x1 = Vector256.Load(zt + 4);
                var x2 = Vector256.Load(zt + 8);
                var x3 = Vector256.Load(zt + 12);
                for (int q = 0; q < count; q++)
                {
                    var c = Vector256.Create(cs[2 * q]);
                    var s = Vector256.Create(cs[2 * q + 1]);
                    double* lo = z + (long)(top - q) * n + c0;
                    double* hi = lo + n;
                    var l0 = Vector256.Load(lo);
                    var l1 = Vector256.Load(lo + 4);
                    var l2 = Vector256.Load(lo + 8);
                    var l3 = Vector256.Load(lo + 12);
                    (s * l0 + c * x0).Store(hi);
                    (s * l1 + c * x1).Store(hi + 4);
                    (s * l2 + c * x2).Store(hi + 8);
                    (s * l3 + c * x3).Store(hi + 12);
                    x0 = c * l0 - s * x0;
                    x1 = c * l1 - s * x1;
                    x2 = c * l2 - s * x2;
                    x3 = c * l3 - s * x3;
                }
                double* bottom = z + (long)(top - count + 1) * n + c0;
                x0.Store(bottom); x1.Store(bottom + 4); x2.Store(bottom + 8); x3.Store(bottom + 12);
            }
            else
            {
                for (int col = c0; col < c1; col++)
                {
                    double x = z[(long)(top + 1) * n + col];
                    for (int q = 0; q < count; q++)
                    {
                        double c = cs[2 * q], s = cs[2 * q + 1];
                        double* lo = z + (long)(top - q) * n + col;
                        double l = *lo;
                        lo[n] = s * l + c * x;
                        x = c * l - s * x;
                    }
                    z[(long)(top - count + 1) * n + col] = x;
                }
            }
        }
    }

    /// <summary>Selection sort of d ascending, swapping the rows of z along.</summary>
    private static unsafe void SortAscending(int n, double* d, double* z)
    {
        for (int i = 0; i < n - 1; i++)
        {
            int k = i;
            for (int j = i + 1; j < n; j++) if (d[j] < d[k]) k = j;
            if (k == i) continue;
            (d[i], d[k]) = (d[k], d[i]);
            double* zi = z + (long)i * n, zk = z + (long)k * n;
            for (int j = 0; j < n; j++) (zi[j], zk[j]) = (zk[j], zi[j]);
        }
    }

    // ----------------------------------------------------------------------------------------
    // (3) Back-transformation V ← Q·V with compact WY blocks
    // ----------------------------------------------------------------------------------------

    private static unsafe void BackTransform(int n, double* a, int lda, double* tau, double* v, int ldv, double* ws)
    {
        int reflectors = n - 2;
        if (reflectors <= 0) return;
        const int Nb = ReflectorBlock;
        double* panel = ws;                         // L × b, ld b
        double* y1 = panel + (long)n * Nb;          // b × n
        double* y2 = y1 + (long)n * Nb;             // b × n
        double* tm = y2 + (long)n * Nb;             // b × b
        double* g = tm + Nb * Nb;                   // b × b
        double* tmp = g + Nb * Nb;                  // b
        for (int k0 = (reflectors - 1) / Nb * Nb; k0 >= 0; k0 -= Nb)
        {
            int b = Math.Min(Nb, reflectors - k0);
            int len = n - 1 - k0;
            for (int r = 0; r < len; r++)
            {
                double* pr = panel + (long)r * b;
                int abs = k0 + 1 + r;
                for (int jj = 0; jj < b; jj++)
                    pr[jj] = r < jj ? 0 : r == jj ? 1 : a[(long)(k0 + jj) * lda + abs];
            }
            var pan = new ReadOnlySpan<double>(panel, len * b);
            // G = Pᵀ·P, then T (upper) by dlarft's recurrence.
            Gemm.Multiply(Op.Transpose, Op.None, b, b, len, 1.0, pan, b, pan, b, 0.0, new Span<double>(g, b * b), b);
            for (int i = 0; i < b; i++)
            {
                double ti = tau[k0 + i];
                for (int jj = 0; jj < i; jj++) tmp[jj] = -ti * g[jj * b + i];
                for (int jj = 0; jj < i; jj++)
                {
                    double s = 0;
                    for (int q = jj; q < i; q++) s += tm[jj * b + q] * tmp[q];
                    tm[jj * b + i] = s;
                }
                tm[i * b + i] = ti;
                for (int jj = i + 1; jj < b; jj++) tm[jj * b + i] = 0;
            }
            var x = new Span<double>(v + (long)(k0 + 1) * ldv, (len - 1) * ldv + n);
            var sy1 = new Span<double>(y1, b * n);
            var sy2 = new Span<double>(y2, b * n);
            Gemm.Multiply(Op.Transpose, Op.None, b, n, len, 1.0, pan, b, x, ldv, 0.0, sy1, n);
            Gemm.Multiply(Op.None, Op.None, b, n, b, 1.0, new ReadOnlySpan<double>(tm, b * b), b, sy1, n, 0.0, sy2, n);
            Gemm.Multiply(Op.None, Op.None, len, n, b, -1.0, pan, b, sy2, n, 1.0, x, ldv);
        }
    }

    // ----------------------------------------------------------------------------------------
    // Allocating conveniences
    // ----------------------------------------------------------------------------------------

    /// <summary>All eigenpairs of the symmetric matrix <paramref name="a"/> (not modified; lower triangle read).</summary>
    public static EigenDecomposition Decompose(Matrix a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"eigendecomposition needs a square matrix, got {a.Rows}×{a.Cols}.", nameof(a));
        int n = a.Rows;
        double[] copy = (double[])a.Data.Clone();
        var values = new double[n];
        var vectors = new Matrix(n, n);
        var ws = new double[GetWorkspaceLength(n, true)];
        Decompose(n, copy, Math.Max(1, n), values, vectors.Data, Math.Max(1, n), ws);
        return new EigenDecomposition(values, vectors);
    }

    /// <summary>Eigenvalues only, ascending.</summary>
    public static double[] Eigenvalues(Matrix a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"eigenvalues need a square matrix, got {a.Rows}×{a.Cols}.", nameof(a));
        int n = a.Rows;
        double[] copy = (double[])a.Data.Clone();
        var values = new double[n];
        var ws = new double[GetWorkspaceLength(n, false)];
        Decompose(n, copy, Math.Max(1, n), values, Span<double>.Empty, 1, ws);
        return values;
    }

    /// <summary>
    /// Eigenvalues of the symmetric tridiagonal matrix with diagonal d and off-diagonal e
    /// (e[i] couples i and i+1), ascending, with the eigenvectors as the columns of z (n×n) when
    /// z is not empty. Used by Lanczos; O(n²) without vectors.
    /// </summary>
    internal static unsafe void Tridiagonal(int n, Span<double> d, Span<double> e, Span<double> z, Span<double> workspace)
    {
        if (n == 0) return;
        fixed (double* pd = d, pe = e, pz = z, pw = workspace)
        {
            if (z.IsEmpty)
            {
                TridiagonalQL(n, pd, pe, null, null, 0, null);
                d.Slice(0, n).Sort();
                return;
            }
            double* w = pw;
            int cap = RotationCapacity(n);
            double* rot = w + (long)n * n;
            new Span<double>(w, n * n).Clear();
            for (int i = 0; i < n; i++) w[(long)i * n + i] = 1;
            var batch = new RotationBatch(rot, cap, rot + 2L * cap, cap);
            TridiagonalQL(n, pd, pe, w, &batch, n, null);
            SortAscending(n, pd, w);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) pz[(long)i * n + j] = w[(long)j * n + i];
        }
    }

    internal static long TridiagonalWorkspaceLength(int n) => (long)n * n + 4L * RotationCapacity(n);
}

/// <summary>Eigenvalues (ascending) and orthonormal eigenvectors (columns of <see cref="Vectors"/>).</summary>
public sealed class EigenDecomposition
{
    public EigenDecomposition(double[] values, Matrix vectors)
    {
        Values = values ?? throw new ArgumentNullException(nameof(values));
        Vectors = vectors ?? throw new ArgumentNullException(nameof(vectors));
        if (vectors.Cols != values.Length) throw new ArgumentException("One eigenvector column per eigenvalue is needed.", nameof(vectors));
    }

    /// <summary>Eigenvalues, ascending.</summary>
    public double[] Values { get; }

    /// <summary>n×k matrix whose column i is the unit eigenvector of <see cref="Values"/>[i].</summary>
    public Matrix Vectors { get; }
}
