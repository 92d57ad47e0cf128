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

    /// <summary>Diagnostics: plane rotations recorded by the QL phase since start-up (not thread-safe).</summary>
    internal static long RotationsApplied;

    /// <summary>Doubles of workspace <see cref="Decompose(int, Span{double}, int, Span{double}, Span{double}, int, Span{double}, IProgress{double}?)"/> needs.</summary>
    public static long GetWorkspaceLength(int n, bool computeVectors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        long small = 6L * n + 16 + (2L * PanelWidth + SymvSlabs) * n;
        if (!computeVectors) return small;
        long back = 3L * n * ReflectorBlock + ReflectorBlock * ReflectorBlock * 2 + ReflectorBlock;
        return small + Math.Max(TridiagonalDivideAndConquer.WorkspaceLength(n), back);
    }

    private static int RotationCapacity(int n) => Math.Max(64, 32 * n);

    // Zᵀ is stored in column chunks of 16: chunk c holds columns [16c, 16c+16) of all n rows
    // contiguously (row r at offset 16r). A rotation sweep over one chunk then walks memory
    // sequentially; with plain row-major storage the power-of-two row stride put every row of
    // a chunk in the same few L2 sets (measured 1.8 s → see the benchmark notes at n = 1024).
    private static long ChunkedLength(int n) => (long)((n + ColumnChunk - 1) / ColumnChunk) * ColumnChunk * n;

    private static long ChunkedIndex(int n, int row, int col) => (long)(col / ColumnChunk) * ColumnChunk * n + (long)row * ColumnChunk + col % ColumnChunk;

    private static unsafe void ChunkedIdentity(int n, double* z)
    {
        new Span<double>(z, checked((int)ChunkedLength(n))).Clear();
        for (int i = 0; i < n; i++) z[ChunkedIndex(n, i, i)] = 1;
    }

    /// <summary>out[i·ld + j] = Zᵀ[j, i]: the eigenvector of d[j] becomes column j.</summary>
    private static unsafe void ChunkedTransposeOut(int n, double* z, double* output, int ld)
    {
        for (int i = 0; i < n; i++)
        {
            double* src = z + (long)(i / ColumnChunk) * ColumnChunk * n + i % ColumnChunk;
            double* dst = output + (long)i * ld;
            for (int j = 0; j < n; j++) dst[j] = src[(long)j * ColumnChunk];
        }
    }

    /// <summary>
    /// Eigen-decomposes the symmetric n×n matrix in <paramref name="a"/> (lower triangle read, then
    /// destroyed). Writes eigenvalues ascending to <paramref name="eigenvalues"/> and, unless
    /// <paramref name="vectors"/> is empty, the orthonormal eigenvectors as the columns of the n×n
    /// <paramref name="vectors"/> (leading dimension ldv). Allocation-free given the workspace.
    /// <paramref name="progress"/> receives the fraction of the estimated work done (0…1, non-decreasing: per panel of the
    /// tridiagonal reduction, after the tridiagonal solve, per block of the back-transformation), on the calling thread.
    /// </summary>
    public static unsafe void Decompose(int n, Span<double> a, int lda, Span<double> eigenvalues,
        Span<double> vectors, int ldv, Span<double> workspace, IProgress<double>? progress = null)
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
            double* vt = pw + 6 * n + 16, wt = vt + (long)PanelWidth * n, slabs = wt + (long)PanelWidth * n;
            // Work weights (flops / n³): reduction 4/3, divide and conquer ~1 (less with deflation), back-transformation 2.
            var stages = new Stages(progress, wantVectors ? s_vectorStages : s_valueStages);
            Tridiagonalize(n, pa, lda, pd, e, tau, v1, v2, p1, p2, vt, wt, slabs, stages);
            stages.Finish(0);
            if (!wantVectors)
            {
                TridiagonalQL(n, pd, e, null, null, 0, null);
                new Span<double>(pd, n).Sort();
                return;
            }
            // Tridiagonal eigenvectors by divide and conquer straight into V, then V ← Q·V.
            double* rest = pw + 6 * n + 16 + (2L * PanelWidth + SymvSlabs) * n;
            TridiagonalDivideAndConquer.Solve(n, pd, e, pv, ldv, rest);
            stages.Finish(1);
            double* back = rest;
            BackTransform(n, pa, lda, tau, pv, ldv, back, stages);
            stages.Finish(2);
        }
    }

    private static readonly double[] s_vectorStages = [4.0 / 3, 1, 2], s_valueStages = [1.0];

    /// <summary>Cumulative progress over weighted stages: stage k at fraction f reports (Σ_{j&lt;k} w_j + f·w_k) / Σ w.</summary>
    private readonly struct Stages(IProgress<double>? progress, double[] weights)
    {
        public void Report(int stage, double fraction)
        {
            if (progress is null) return;
            double before = 0, total = 0;
            for (int j = 0; j < weights.Length; j++)
            {
                if (j < stage) before += weights[j];
                total += weights[j];
            }
            progress.Report(Math.Clamp((before + Math.Clamp(fraction, 0, 1) * weights[stage]) / total, 0, 1));
        }

        public void Finish(int stage) => Report(stage, 1);
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
        double* vcur, double* vnext, double* p, double* pnext, double* vt, double* wt, double* slabs, Stages stages)
    {
        // Mirror the lower triangle so full rows can be streamed.
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) a[(long)j * lda + i] = a[(long)i * lda + j];
        for (int i = 0; i < n; i++) { e[i] = 0; tau[i] = 0; }
        int s = 0;
        while (n - s > BlockedCrossover)
        {
            ReducePanel(n, a, lda, s, d, e, tau, vcur, p, vt, wt, slabs);
            s += PanelWidth;
            double left = (double)(n - s) / n;
            stages.Report(0, 1 - (left * left * left)); // the work left is ∝ (n − s)³
        }
        TridiagonalizeUnblocked(n, a, lda, s, d, e, tau, vcur, vnext, p, pnext);
    }

    /// <summary>Columns at which the blocked reduction hands over to the fused unblocked one.</summary>
    private const int BlockedCrossover = 192;
    private const int PanelWidth = 32;

    /// <summary>
    /// dlatrd + dsyr2k (lower): reduces columns s … s+nb−1. Each column's matrix–vector product
    /// reads the not-yet-updated trailing matrix once and is corrected with the panel's
    /// reflectors V and vectors W; the trailing matrix is then updated by A −= V·Wᵀ + W·Vᵀ with two
    /// GEMMs (compute-bound), so the memory traffic per column is one read instead of a read and
    /// a write. vt, wt hold Vᵀ and Wᵀ (nb × n, absolute column index).
    /// </summary>
    private static unsafe void ReducePanel(int n, double* a, int lda, int s, double* d, double* e, double* tau,
        double* v, double* y, double* vt, double* wt, double* slabs)
    {
        const int Nb = PanelWidth;
        new Span<double>(vt, Nb * n).Clear();
        new Span<double>(wt, Nb * n).Clear();
        for (int i = 0; i < Nb; i++)
        {
            int c = s + i;
            double* row = a + (long)c * lda;
            int len = n - c;
            // 1. Bring row c (= column c) up to date with the panel's earlier updates.
            for (int q = 0; q < i; q++)
            {
                DenseKernels.Axpy(-vt[q * n + c], ref wt[q * n + c], ref row[c], len);
                DenseKernels.Axpy(-wt[q * n + c], ref vt[q * n + c], ref row[c], len);
            }
            d[c] = row[c];
            // 2. Reflector for row c, columns c+1 …
            double t = Householder(row + c + 1, len - 1, out e[c]);
            tau[c] = t;
            int r = c + 1, m = n - r;
            v[r] = 1;
            for (int j = r + 1; j < n; j++) v[j] = row[j];
            // 3. y = A·v on the stale trailing matrix, then the corrections −V(Wᵀv) − W(Vᵀv).
            SymvLower(n, a, lda, r, v, y, slabs);
            for (int q = 0; q < i; q++)
            {
                double s1 = DenseKernels.Dot(ref wt[q * n + r], ref v[r], m);
                double s2 = DenseKernels.Dot(ref vt[q * n + r], ref v[r], m);
                DenseKernels.Axpy(-s1, ref vt[q * n + r], ref y[r], m);
                DenseKernels.Axpy(-s2, ref wt[q * n + r], ref y[r], m);
            }
            // w = τ·y − (τ/2)(τ·yᵀv)·v
            DenseKernels.Scale(t, ref y[r], m);
            double kk = 0.5 * t * DenseKernels.Dot(ref y[r], ref v[r], m);
            DenseKernels.Axpy(-kk, ref v[r], ref y[r], m);
            new Span<double>(v + r, m).CopyTo(new Span<double>(vt + (long)i * n + r, m));
            new Span<double>(y + r, m).CopyTo(new Span<double>(wt + (long)i * n + r, m));
        }
        // Trailing update A22 −= V·Wᵀ + W·Vᵀ for rows/columns ≥ s + nb.
        int t0 = s + Nb, mt = n - t0;
        if (mt <= 0) return;
        var vts = new ReadOnlySpan<double>(vt + t0, (Nb - 1) * n + mt);
        var wts = new ReadOnlySpan<double>(wt + t0, (Nb - 1) * n + mt);
        var c22 = new Span<double>(a + (long)t0 * lda + t0, (mt - 1) * lda + mt);
        Gemm.Multiply(Op.Transpose, Op.None, mt, mt, Nb, -1.0, vts, n, wts, n, 1.0, c22, lda);
        Gemm.Multiply(Op.Transpose, Op.None, mt, mt, Nb, -1.0, wts, n, vts, n, 1.0, c22, lda);
    }

    /// <summary>Fixed number of row slabs of the lower-triangle matrix–vector product (not the thread count).</summary>
    private const int SymvSlabs = 8;

    /// <summary>
    /// y[i] = Σ_j A[i,j]·v[j] over the trailing block (rows and columns ≥ r), reading only its lower
    /// triangle — half the memory traffic of streaming full rows, which is what bounds the
    /// tridiagonalisation once the matrix leaves the cache. Row i contributes A[i, r..i]·v to y[i]
    /// and v[i]·A[i, r..i) to y[r..i) (the upper triangle by symmetry), the latter into one of 8
    /// slab-private buffers (slabs of equal triangle area, boundaries fixed by the size only),
    /// summed in slab order afterwards: the result does not depend on the thread count.
    /// </summary>
    private static unsafe void SymvLower(int n, double* a, int lda, int r, double* v, double* y, double* slabs)
    {
        int m = n - r;
        Span<int> bounds = stackalloc int[SymvSlabs + 1];
        for (int sl = 0; sl <= SymvSlabs; sl++) bounds[sl] = r + (int)Math.Round(m * Math.Sqrt((double)sl / SymvSlabs));
        bounds[SymvSlabs] = n;
        var job = new SymvJob(a, lda, r, v, y, slabs, n, bounds[0], bounds[1], bounds[2], bounds[3], bounds[4], bounds[5], bounds[6], bounds[7], bounds[8]);
        // One parallel dispatch per column; below ~512 rows the pass is shorter than a dispatch
        // can be on a busy machine.
        if ((long)m * m < 512 * 512 || NtkParallel.MaxThreads == 1)
            for (int sl = 0; sl < SymvSlabs; sl++) job.Slab(sl);
        else SymvParallel(job);
        // y[j] += Σ_slabs partial[j] in slab order.
        for (int sl = 0; sl < SymvSlabs; sl++)
        {
            double* part = slabs + (long)sl * n;
            int hi = job.Bound(sl + 1);
            // slab sl only wrote partial[r .. its last row)
            for (int j = r; j < hi; j++) y[j] += part[j];
        }
    }

    private static void SymvParallel(SymvJob job) => NtkParallel.For(SymvSlabs, job.Slab);

    private readonly unsafe struct SymvJob(double* a, int lda, int r, double* v, double* y, double* slabs, int n,
        int b0, int b1, int b2, int b3, int b4, int b5, int b6, int b7, int b8)
    {
        public int Bound(int i) => i switch { 0 => b0, 1 => b1, 2 => b2, 3 => b3, 4 => b4, 5 => b5, 6 => b6, 7 => b7, _ => b8 };

        public void Slab(int sl)
        {
            int i0 = Bound(sl), i1 = Bound(sl + 1);
            double* part = slabs + (long)sl * n;
            new Span<double>(part + r, Math.Max(0, i1 - r)).Clear();
            for (int i = i0; i < i1; i++)
            {
                double* row = a + (long)i * lda;
                double vi = v[i];
                int len = i - r;                       // strictly left of the diagonal
                int j = 0;
                double acc;
                if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && len >= 4)
                {
                    var s0 = Vector256<double>.Zero;
                    var s1 = Vector256<double>.Zero;
                    var vvi = Vector256.Create(vi);
                    double* pr = row + r, pv = v + r, pp = part + r;
                    for (; j <= len - 8; j += 8)
                    {
                        var x0 = Vector256.Load(pr + j);
                        var x1 = Vector256.Load(pr + j + 4);
                        s0 += x0 * Vector256.Load(pv + j);
                        s1 += x1 * Vector256.Load(pv + j + 4);
                        (Vector256.Load(pp + j) + x0 * vvi).Store(pp + j);
                        (Vector256.Load(pp + j + 4) + x1 * vvi).Store(pp + j + 4);
                    }
                    for (; j <= len - 4; j += 4)
                    {
                        var x0 = Vector256.Load(pr + j);
                        s0 += x0 * Vector256.Load(pv + j);
                        (Vector256.Load(pp + j) + x0 * vvi).Store(pp + j);
                    }
                    acc = Vector256.Sum(s0 + s1);
                }
                else acc = 0;
                for (; j < len; j++)
                {
                    double x = row[r + j];
                    acc += x * v[r + j];
                    part[r + j] += x * vi;
                }
                y[i] = acc + row[i] * vi;
            }
        }
    }

    /// <summary>Unblocked reduction of columns s … n−1 (the trailing matrix must be up to date).</summary>
    private static unsafe void TridiagonalizeUnblocked(int n, double* a, int lda, int s0, double* d, double* e, double* tau,
        double* vcur, double* vnext, double* p, double* pnext)
    {
        int rem = n - s0;
        if (rem <= 0) return;
        double* r0 = a + (long)s0 * lda;
        d[s0] = r0[s0];
        if (rem == 1) return;
        if (rem == 2)
        {
            d[s0 + 1] = a[(long)(s0 + 1) * lda + s0 + 1];
            e[s0] = r0[s0 + 1];
            return;
        }
        tau[s0] = Householder(r0 + s0 + 1, rem - 1, out e[s0]);
        vcur[s0 + 1] = 1;
        for (int j = s0 + 2; j < n; j++) vcur[j] = r0[j];
        FusedPass(n, a, lda, s0 + 1, null, null, vcur, tau[s0], p);
        for (int k = s0; k <= n - 3; k++)
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
                double* sw = vcur; vcur = vnext; vnext = sw;
                sw = p; p = pnext; pnext = sw;
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
        // One dispatch per column: only worth it when a pass is long (see SymvLower).
        if ((long)len * len < 512 * 512 || NtkParallel.MaxThreads == 1)
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
        if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256)
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
                    RotationsApplied += count;
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
            for (int ch = 0; ch < chunks; ch++) ApplyRotations(&local, z + (long)ch * ColumnChunk * n);
        }
        else FlushParallel(&local, z, n, chunks);
        batch->Count = 0;
        batch->Sweeps = 0;
    }

    private static unsafe void FlushParallel(RotationBatch* pl, double* z, int n, int chunks) =>
        NtkParallel.For(chunks, ch => ApplyRotations(pl, z + (long)ch * ColumnChunk * n));

    /// <summary>
    /// Applies every recorded sweep, in order, to one 16-column chunk of Zᵀ (row r at zc + 16r).
    /// A sweep with top t and count k applies rotations i = t, t−1, …, t−k+1:
    /// (z_i, z_{i+1}) ← (c·z_i − s·z_{i+1}, s·z_i + c·z_{i+1}); the running z_{i+1} stays in
    /// registers, so each rotation costs one load and one store per vector.
    /// </summary>
    private static unsafe void ApplyRotations(RotationBatch* batch, double* zc)
    {
        const int W = ColumnChunk;
        int sweeps = batch->Sweeps;
        bool vec = Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256;
        for (int sw = 0; sw < sweeps; sw++)
        {
            double* h = batch->Headers + 3L * sw;
            int top = (int)h[0], count = (int)h[1];
            double* cs = batch->Cs + 2L * (long)h[2];
            if (vec)
            {
                double* zt = zc + (long)(top + 1) * W;
                var x0 = Vector256.Load(zt);
                var x1 = Vector256.Load(zt + 4);
                var x2 = Vector256.Load(zt + 8);
                var x3 = Vector256.Load(zt + 12);
                double* lo = zc + (long)top * W;
                for (int q = 0; q < count; q++, lo -= W)
                {
                    var c = Vector256.Create(cs[2 * q]);
                    var s = Vector256.Create(cs[2 * q + 1]);
                    var l0 = Vector256.Load(lo);
                    var l1 = Vector256.Load(lo + 4);
                    var l2 = Vector256.Load(lo + 8);
                    var l3 = Vector256.Load(lo + 12);
                    (s * l0 + c * x0).Store(lo + W);
                    (s * l1 + c * x1).Store(lo + W + 4);
                    (s * l2 + c * x2).Store(lo + W + 8);
                    (s * l3 + c * x3).Store(lo + W + 12);
                    x0 = c * l0 - s * x0;
                    x1 = c * l1 - s * x1;
                    x2 = c * l2 - s * x2;
                    x3 = c * l3 - s * x3;
                }
                double* bottom = zc + (long)(top - count + 1) * W;
                x0.Store(bottom); x1.Store(bottom + 4); x2.Store(bottom + 8); x3.Store(bottom + 12);
            }
            else
            {
                for (int col = 0; col < W; col++)
                {
                    double x = zc[(long)(top + 1) * W + col];
                    for (int q = 0; q < count; q++)
                    {
                        double c = cs[2 * q], s = cs[2 * q + 1];
                        double* lo = zc + (long)(top - q) * W + col;
                        double l = *lo;
                        lo[W] = s * l + c * x;
                        x = c * l - s * x;
                    }
                    zc[(long)(top - count + 1) * W + col] = x;
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
            for (long c0 = 0; c0 < ChunkedLength(n); c0 += (long)ColumnChunk * n)
            {
                double* zi = z + c0 + (long)i * ColumnChunk, zk = z + c0 + (long)k * ColumnChunk;
                for (int j = 0; j < ColumnChunk; j++) (zi[j], zk[j]) = (zk[j], zi[j]);
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // (3) Back-transformation V ← Q·V with compact WY blocks
    // ----------------------------------------------------------------------------------------

    private static unsafe void BackTransform(int n, double* a, int lda, double* tau, double* v, int ldv, double* ws, Stages stages)
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
            double done = (double)(n - k0) / n;
            stages.Report(2, done * done); // block k0 costs ∝ n − k0: the work done is ∝ (n − k0)²
        }
    }

    // ----------------------------------------------------------------------------------------
    // Allocating conveniences
    // ----------------------------------------------------------------------------------------

    /// <summary>
    /// All eigenpairs of the symmetric matrix <paramref name="a"/> (not modified; lower triangle read); <paramref name="progress"/>
    /// as in the span overload.
    /// </summary>
    public static EigenDecomposition Decompose(Matrix a, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (a.Rows != a.Cols) throw new ArgumentException($"eigendecomposition needs a square matrix, got {a.Rows}×{a.Cols}.", nameof(a));
        int n = a.Rows;
        double[] copy = (double[])a.Data.Clone();
        var values = new double[n];
        var vectors = new Matrix(n, n);
        var ws = new double[GetWorkspaceLength(n, true)];
        Decompose(n, copy, Math.Max(1, n), values, vectors.Data, Math.Max(1, n), ws, progress);
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
            double* rot = w + ChunkedLength(n);
            ChunkedIdentity(n, w);
            var batch = new RotationBatch(rot, cap, rot + 2L * cap, cap);
            TridiagonalQL(n, pd, pe, w, &batch, n, null);
            SortAscending(n, pd, w);
            ChunkedTransposeOut(n, w, pz, n);
        }
    }

    internal static long TridiagonalWorkspaceLength(int n) => ChunkedLength(n) + 4L * RotationCapacity(n);
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
