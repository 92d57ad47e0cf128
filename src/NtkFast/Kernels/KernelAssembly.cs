using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NtkFast.Activations;
using NtkFast.Numerics;

namespace NtkFast.Kernels;

/// <summary>
/// The engine behind <see cref="InfiniteWidth"/>: one Gram product for the layer-1 covariances, then the
/// whole L-layer recursion per cache tile (Σ and Θ of a tile stay in two 64 KiB buffers for all layers;
/// no N×M temporary per layer), tiles spread over <see cref="NtkParallel"/>.
/// </summary>
/// <remarks>
/// <para><b>One function of two points.</b> Every entry is the same chain of IEEE operations of
/// (x_i, x2_j), wherever it is computed, so full, symmetric, rectangular, block and tiled results are
/// bitwise identical, for any thread count:</para>
/// <list type="bullet">
/// <item>the layer-1 covariance comes from <see cref="Gram"/> (Syrk, Cross and the 1×1 products of the
/// diagonals give the same bits for the same pair of rows, and c_ij = c_ji: fma(a, b, acc) = fma(b, a, acc));</item>
/// <item>the per-point variances Σ(l)(x, x) are computed once per point per layer by
/// <see cref="Activation.DualDiagonal"/> (<see cref="ComputeDiagonals"/>), the same for a point used as a row
/// or as a column;</item>
/// <item>the dual kernel is always evaluated as Dual(min(a, c), b, max(a, c)) — its two variances in
/// canonical order — so Σ(x, x') and Σ(x', x) come from the same evaluation even when the activation's
/// dual is not bitwise symmetric in (a, c) (numeric quadrature through a Cholesky factor is not);</item>
/// <item>an entry whose covariance equals both variances exactly (b = a = c: the diagonal, duplicated
/// points) takes the per-point diagonal values, so diagonal entries have b = a = c exactly at every layer;</item>
/// <item>multiplies and adds are separate (no FMA contraction in the recursion).</item>
/// </list>
/// <para>The batched dual is row-fixed (a constant per call), so a tile is swept twice per layer: by rows
/// for the entries with c ≥ a (the row's variance is the smaller one), then by columns for the others.</para>
/// </remarks>
[SkipLocalsInit]
internal static unsafe class KernelAssembly
{
    /// <summary>Tile shape: 64 × 128 doubles = 64 KiB per buffer; Σ and Θ tiles (128 KiB) stay in L2 (1 MiB).</summary>
    internal const int TileRows = 64;
    internal const int TileCols = 128;
    private const int Batch = TileCols > TileRows ? TileCols : TileRows;

    /// <summary>
    /// Batches passed to the activation's dual are padded to a multiple of this (with b = 0, c = a), so every
    /// entry runs the same vector path whatever the batch length: vectorised drivers fall back to narrower or
    /// scalar code for spans shorter than a vector, and the tile geometry decides batch lengths.
    /// </summary>
    private const int Pad = 8;

    /// <summary>Doubles of per-point diagonals: Σ(l) and Σ̇(l) for l = 1…L, rows and columns.</summary>
    internal static long DiagonalLength(int depth, int rowCount, int colCount) => 2L * depth * ((long)rowCount + colCount);

    /// <summary>Doubles of one worker's tile buffers.</summary>
    internal static long WorkerLength(int depth, bool contributions) =>
        5L * TileRows * TileCols + 5L * Batch + (contributions ? 2L * depth * TileRows * TileCols : 0);

    /// <summary>
    /// Per-point layer variances of points x[start … start+count): sig[(l−1)·count + i] = Σ(l)(x_i, x_i),
    /// sdot[(l−1)·count + i] = Σ̇(l)(x_i, x_i) (l ≥ 2; the l = 1 slot holds 0). Σ(1) comes from a 1×1 Gram
    /// product, so it is bitwise the diagonal of any Gram product containing x_i.
    /// </summary>
    internal static void ComputeDiagonals(KernelSpec spec, ReadOnlySpan<double> x, int d, int start, int count, Span<double> sig, Span<double> sdot)
    {
        int depth = spec.Depth;
        double w2 = spec.WeightStd * spec.WeightStd, b2 = spec.Beta * spec.Beta, alpha = w2 / d;
        Activation act = spec.DualActivation;
        Gram.DiagonalDots(x, d, start, count, alpha, sig);
        for (int i = 0; i < count; i++)
        {
            double s = sig[i] + b2;
            sig[i] = s;
            sdot[i] = 0.0;
            for (int l = 1; l < depth; l++)
            {
                DualValue v = act.DualDiagonal(s);
                s = w2 * v.Ess + b2;
                sig[l * count + i] = s;
                sdot[l * count + i] = w2 * v.Edd;
            }
        }
    }

    /// <summary>
    /// <see cref="ComputeDiagonals"/> for the row points and (unless <paramref name="symmetric"/>) the column
    /// points together, layer by layer, with one <see cref="PreparedDual"/> per layer transition over the
    /// variances [rows…, columns…] of that layer (returned: element l−1 for the transition l → l+1). Used for
    /// activations without a closed-form dual, whose coefficients are then computed once per point and layer.
    /// Bitwise the values of <see cref="ComputeDiagonals"/>: the same operations, and
    /// <see cref="PreparedDual.Diagonal"/> is bitwise <see cref="Activation.DualDiagonal"/>.
    /// </summary>
    internal static PreparedDual[] ComputeDiagonalsPrepared(KernelSpec spec, ReadOnlySpan<double> x, ReadOnlySpan<double> x2, int d, bool symmetric,
        int rowStart, int rowCount, int colStart, int colCount, Span<double> rowSig, Span<double> rowSdot, Span<double> colSig, Span<double> colSdot)
    {
        int depth = spec.Depth;
        double w2 = spec.WeightStd * spec.WeightStd, b2 = spec.Beta * spec.Beta, alpha = w2 / d;
        Activation act = spec.DualActivation;
        int cols = symmetric ? 0 : colCount, total = rowCount + cols;
        Gram.DiagonalDots(x, d, rowStart, rowCount, alpha, rowSig);
        for (int i = 0; i < rowCount; i++) { rowSig[i] += b2; rowSdot[i] = 0.0; }
        if (cols > 0)
        {
            Gram.DiagonalDots(x2, d, colStart, colCount, alpha, colSig);
            for (int i = 0; i < colCount; i++) { colSig[i] += b2; colSdot[i] = 0.0; }
        }
        var tables = new PreparedDual[depth - 1];
        double[] v = new double[total];
        for (int l = 1; l < depth; l++)
        {
            rowSig.Slice((l - 1) * rowCount, rowCount).CopyTo(v);
            if (cols > 0) colSig.Slice((l - 1) * colCount, colCount).CopyTo(v.AsSpan(rowCount));
            PreparedDual table = act.PrepareDual(v);
            tables[l - 1] = table;
            for (int i = 0; i < total; i++)
            {
                DualValue dv = table.Diagonal(i);
                double s = w2 * dv.Ess + b2, sd = w2 * dv.Edd;
                if (i < rowCount) { rowSig[l * rowCount + i] = s; rowSdot[l * rowCount + i] = sd; }
                else { colSig[l * colCount + i - rowCount] = s; colSdot[l * colCount + i - rowCount] = sd; }
            }
        }
        return tables;
    }

    /// <summary>Θ(L)(x, x) from the per-point layer values (same operations as the tile recursion).</summary>
    internal static double NtkFromDiagonal(int depth, int trainableFrom, ReadOnlySpan<double> sig, ReadOnlySpan<double> sdot, int count, int i)
    {
        double t = trainableFrom == 0 ? sig[i] : 0.0;
        for (int l = 2; l <= depth; l++)
        {
            double s = sig[(l - 1) * count + i], sd = sdot[(l - 1) * count + i];
            t = l <= trainableFrom ? 0.0 : l == trainableFrom + 1 ? s : t * sd + s;
        }
        return t;
    }

    /// <summary>
    /// Fills the block rows [rowStart, +rowCount) × cols [colStart, +colCount) of Σ(L) and/or Θ(L) (an empty
    /// span = not wanted) and, when <paramref name="contributions"/> is not empty, the L per-layer NTK terms
    /// (layer l at offset (l−1)·rowCount·ldOut). <paramref name="same"/>: x2 is x (the symmetric fast path
    /// applies to a square block on the diagonal).
    /// </summary>
    internal static void Run(KernelSpec spec, ReadOnlySpan<double> x, ReadOnlySpan<double> x2, int d, bool same,
        int rowStart, int rowCount, int colStart, int colCount,
        Span<double> nngp, Span<double> ntk, Span<double> contributions, int ldOut, Span<double> workspace, int workers)
    {
        if (rowCount == 0 || colCount == 0) return;
        int depth = spec.Depth;
        bool symmetric = same && rowStart == colStart && rowCount == colCount;
        bool wantS = !nngp.IsEmpty, wantT = !ntk.IsEmpty, wantC = !contributions.IsEmpty;
        double w2 = spec.WeightStd * spec.WeightStd, alpha = w2 / d;

        // Layer-1 covariances into the first requested output (read back tile by tile, then overwritten).
        Span<double> gram = wantS ? nngp : wantT ? ntk : contributions;
        if (symmetric) Gram.Syrk(rowCount, d, alpha, x[(rowStart * d)..], d, 0.0, gram, ldOut);
        else Gram.Cross(rowCount, colCount, d, alpha, x[(rowStart * d)..], d, x2[(colStart * d)..], d, 0.0, gram, ldOut);

        long rowDiag = (long)depth * rowCount, colDiag = symmetric ? 0 : (long)depth * colCount;
        Span<double> rowSig = workspace.Slice(0, (int)rowDiag);
        Span<double> rowSdot = workspace.Slice((int)rowDiag, (int)rowDiag);
        Span<double> colSig = rowSig, colSdot = rowSdot;
        if (!symmetric)
        {
            colSig = workspace.Slice((int)(2 * rowDiag), (int)colDiag);
            colSdot = workspace.Slice((int)(2 * rowDiag + colDiag), (int)colDiag);
        }
        PreparedDual[]? tables = null;
        if (spec.DualActivation.HasClosedFormDual)
        {
            ComputeDiagonals(spec, x, d, rowStart, rowCount, rowSig, rowSdot);
            if (!symmetric) ComputeDiagonals(spec, x2, d, colStart, colCount, colSig, colSdot);
        }
        else
        {
            // Numeric duals: per-variance work (Hermite coefficients) once per point and layer.
            tables = ComputeDiagonalsPrepared(spec, x, x2, d, symmetric, rowStart, rowCount, colStart, colCount, rowSig, rowSdot, colSig, colSdot);
        }
        long perWorker = WorkerLength(depth, wantC);
        Span<double> scratch = workspace[(int)(2 * rowDiag + 2 * colDiag)..];

        fixed (double* pGram = gram, pS = nngp, pT = ntk, pC = contributions)
        fixed (double* pRowSig = rowSig, pRowSdot = rowSdot, pColSig = colSig, pColSdot = colSdot, pScratch = scratch)
        {
            var action = new TileAction
            {
                Act = spec.DualActivation, Tables = tables, ColBase = symmetric ? 0 : rowCount,
                Depth = depth, TrainableFrom = spec.TrainableFrom,
                W2 = w2, B2 = spec.Beta * spec.Beta,
                Gram = pGram, OutS = wantS ? pS : null, OutT = wantT ? pT : null, OutC = wantC ? pC : null,
                Ld = ldOut, RowCount = rowCount, ColCount = colCount, Symmetric = symmetric,
                RowSig = pRowSig, RowSdot = pRowSdot, ColSig = pColSig, ColSdot = pColSdot,
                Scratch = pScratch, PerWorker = perWorker,
                TilesR = (rowCount + TileRows - 1) / TileRows, TilesC = (colCount + TileCols - 1) / TileCols,
            };
            NtkParallel.ForWithWorker(action.TilesR * action.TilesC, workers, ref action);
        }
    }

    private struct TileAction : IParallelWorkerAction
    {
        public Activation Act;
        public PreparedDual[]? Tables;      // per layer transition, over [rows…, columns…]; null: closed form
        public int ColBase;                 // index of column 0 in the tables
        public int Depth, TrainableFrom;
        public double W2, B2;
        public double* Gram, OutS, OutT, OutC;
        public nint Ld;
        public int RowCount, ColCount, TilesR, TilesC;
        public bool Symmetric;
        public double* RowSig, RowSdot, ColSig, ColSdot, Scratch;
        public long PerWorker;

        public readonly void Invoke(int worker, int index)
        {
            int ti = index / TilesC, tj = index % TilesC;
            int r0 = ti * TileRows, c0 = tj * TileCols;
            int h = Math.Min(TileRows, RowCount - r0), w = Math.Min(TileCols, ColCount - c0);
            // Symmetric: only tiles touching the upper triangle (col ≥ row); the rest is mirrored.
            if (Symmetric && c0 + w - 1 < r0) return;
            Tile(Scratch + worker * PerWorker, r0, c0, h, w);
        }

        /// <summary>First local column of row r that the tile computes (upper triangle only when symmetric).</summary>
        private readonly int FirstCol(int r0, int c0, int r) => Symmetric ? Math.Max(0, r0 + r - c0) : 0;

        private readonly void Tile(double* buf, int r0, int c0, int h, int w)
        {
            const int ld = TileCols;
            double* S = buf, T = buf + TileRows * TileCols;
            double* DE = T + TileRows * TileCols, DD = DE + TileRows * TileCols; // E[σσ] and E[σ'σ'] of every entry, then one dense update
            double* ST = DD + TileRows * TileCols; // Σ of the layer transposed (TileCols × TileRows), for the column sweep's vector compaction
            double* ess = ST + TileRows * TileCols, edd = ess + Batch, bb = edd + Batch, vv = bb + Batch;
            bool compress = Avx512F.VL.IsSupported;
            int* idx = (int*)(vv + Batch);
            int* gidx = idx + Batch;            // table indices (the idx slot holds Batch doubles = 2·Batch ints)
            double* hist = (double*)idx + Batch; // Σ(l) for l = 1…L, then Σ̇(l) for l = 1…L, one tile each
            bool wantT = OutT != null, wantC = OutC != null;
            int tileSize = TileRows * TileCols;
            int k = TrainableFrom;

            // Layer 1: Σ(1) = Gram + β², Θ(1) = Σ(1) (0 when layer 0 is frozen).
            for (int r = 0; r < h; r++)
            {
                double* g = Gram + (r0 + r) * Ld + c0;
                for (int j = FirstCol(r0, c0, r); j < w; j++)
                {
                    double s = g[j] + B2;
                    S[r * ld + j] = s;
                    T[r * ld + j] = k == 0 ? s : 0.0;
                    if (wantC) hist[r * ld + j] = s;
                }
            }

            for (int l = 1; l < Depth; l++)
            {
                // Transition from layer l to l+1: variances of layer l, diagonal values of layer l+1.
                double* rSig = RowSig + (l - 1) * RowCount, cSig = ColSig + (l - 1) * ColCount;
                double* rNext = RowSig + l * RowCount, rNextDot = RowSdot + l * RowCount;
                int layer = l + 1;
                double* hs = wantC ? hist + (long)l * tileSize : null;
                double* hd = wantC ? hist + (long)(Depth + l) * tileSize : null;

                if (compress) BlockTranspose.Double(S, ld, h, w, ST, TileRows);

                // Row sweep: entries whose column variance is not below the row's (c ≥ a, and NaN).
                for (int r = 0; r < h; r++)
                {
                    double a = rSig[r0 + r];
                    int n = Compact(S + r * ld, cSig + c0, FirstCol(r0, c0, r), w, a, rowSweep: true, idx, bb, vv, compress);
                    if (n == 0) continue;
                    int real = n;
                    for (; (n & (Pad - 1)) != 0; n++) { bb[n] = 0.0; vv[n] = a; }
                    if (Tables is null)
                        Act.Dual(a, new ReadOnlySpan<double>(bb, n), new ReadOnlySpan<double>(vv, n), new Span<double>(ess, n), new Span<double>(edd, n));
                    else
                    {
                        int fixedIndex = r0 + r;
                        for (int q = 0; q < n; q++) gidx[q] = q < real ? ColBase + c0 + idx[q] : fixedIndex;
                        Tables[l - 1].Row(fixedIndex, new ReadOnlySpan<int>(gidx, n), new ReadOnlySpan<double>(bb, n), new ReadOnlySpan<double>(vv, n), new Span<double>(ess, n), new Span<double>(edd, n));
                    }
                    double* de = DE + r * ld, dd = DD + r * ld;
                    for (int q = 0; q < real; q++) { int e = idx[q]; de[e] = ess[q]; dd[e] = edd[q]; }
                }

                // Column sweep: the rest (row variance above the column's): Dual(c, b, a).
                for (int j = 0; j < w; j++)
                {
                    double c = cSig[c0 + j];
                    int rEnd = Symmetric ? Math.Min(h, c0 + j - r0 + 1) : h;
                    int n = compress ? Compact(ST + j * TileRows, rSig + r0, 0, rEnd, c, rowSweep: false, idx, bb, vv, compress: true) : 0;
                    if (!compress)
                        for (int r = 0; r < rEnd; r++)
                        {
                            double a = rSig[r0 + r];
                            idx[n] = r; bb[n] = S[r * ld + j]; vv[n] = a;
                            n += (c < a) ? 1 : 0;
                        }
                    if (n == 0) continue;
                    int real = n;
                    for (; (n & (Pad - 1)) != 0; n++) { bb[n] = 0.0; vv[n] = c; }
                    if (Tables is null)
                        Act.Dual(c, new ReadOnlySpan<double>(bb, n), new ReadOnlySpan<double>(vv, n), new Span<double>(ess, n), new Span<double>(edd, n));
                    else
                    {
                        int fixedIndex = ColBase + c0 + j;
                        for (int q = 0; q < n; q++) gidx[q] = q < real ? r0 + idx[q] : fixedIndex;
                        Tables[l - 1].Row(fixedIndex, new ReadOnlySpan<int>(gidx, n), new ReadOnlySpan<double>(bb, n), new ReadOnlySpan<double>(vv, n), new Span<double>(ess, n), new Span<double>(edd, n));
                    }
                    for (int q = 0; q < real; q++) { int e = idx[q] * ld + j; DE[e] = ess[q]; DD[e] = edd[q]; }
                }

                // Every entry of the tile (its upper part when symmetric) has its expectations: one dense update.
                for (int r = 0; r < h; r++)
                {
                    int j0 = FirstCol(r0, c0, r);
                    if (j0 >= w) continue;
                    int o = r * ld;
                    UpdateRow(S + o, T + o, DE + o, DD + o, hs is null ? null : hs + o, hd is null ? null : hd + o, cSig + c0, j0, w,
                        rSig[r0 + r], rNext[r0 + r], rNextDot[r0 + r], layer, k, wantT);
                }
            }

            if (OutS != null) WriteBack(S, OutS, r0, c0, h, w);
            if (wantT) WriteBack(T, OutT, r0, c0, h, w);
            if (wantC) WriteContributions(hist, r0, c0, h, w);
        }

        /// <summary>
        /// One sweep's batch: the entries q ∈ [q0, q1) of a tile row (row sweep: v = the column variances, f = the row's,
        /// kept when v ≥ f or NaN, i.e. c ≥ a) or of a transposed tile column (column sweep: v = the row variances,
        /// f = the column's, kept when f &lt; v, i.e. c &lt; a), in order, as (idx = q, bb = b, vv = v); returns how many.
        /// With AVX-512 eight entries at a time through compress-stores, else the branch-free scalar loop (always
        /// write, advance on the test). Data movement only: the same batch either way.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Compact(double* b, double* v, int q0, int q1, double f, bool rowSweep, int* idx, double* bb, double* vv, bool compress)
        {
            int n = 0, q = q0;
            if (compress && Avx512F.VL.IsSupported)
            {
                Vector512<double> vf = Vector512.Create(f);
                Vector256<int> vq = Vector256.Create(q) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), eight = Vector256.Create(8);
                for (; q + 8 <= q1; q += 8, vq += eight)
                {
                    Vector512<double> x = Vector512.Load(v + q);
                    Vector512<double> keep = rowSweep ? ~Vector512.LessThan(x, vf) : Vector512.LessThan(vf, x);
                    Avx512F.CompressStore(bb + n, keep, Vector512.Load(b + q));
                    Avx512F.CompressStore(vv + n, keep, x);
                    Avx512F.VL.CompressStore(idx + n, Avx512F.ConvertToVector256Int32(keep.AsInt64()), vq);
                    n += System.Numerics.BitOperations.PopCount(keep.ExtractMostSignificantBits());
                }
            }
            for (; q < q1; q++)
            {
                double x = v[q];
                idx[n] = q; bb[n] = b[q]; vv[n] = x;
                n += rowSweep ? (x < f ? 0 : 1) : (f < x ? 1 : 0);
            }
            return n;
        }

        /// <summary>
        /// Entries [j0, w) of one tile row from layer l to l+1 (<paramref name="layer"/> = l+1), given their
        /// expectations <paramref name="de"/> = E[σσ], <paramref name="dd"/> = E[σ'σ']: Σ = σw²·E[σσ] + β²,
        /// Σ̇ = σw²·E[σ'σ'], except where b = a = c exactly (the diagonal, duplicated points), which take the
        /// row point's own values; then Θ = Θ·Σ̇ + Σ. Multiplies and adds are separate (no FMA), and the
        /// 256-bit lanes do the same IEEE operations as the scalar tail, so every entry gets the same bits on
        /// every path.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void UpdateRow(double* S, double* T, double* de, double* dd, double* hs, double* hd, double* cs, int j0, int w,
            double a, double diagSig, double diagSdot, int layer, int k, bool wantT)
        {
            int j = j0;
            int tmode = !wantT ? 0 : layer <= k ? 1 : layer == k + 1 ? 2 : 3;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<double> va = Vector256.Create(a), vw2 = Vector256.Create(W2), vb2 = Vector256.Create(B2);
                Vector256<double> vds = Vector256.Create(diagSig), vdd = Vector256.Create(diagSdot);
                for (; j + 4 <= w; j += 4)
                {
                    Vector256<double> b = Vector256.Load(S + j), c = Vector256.Load(cs + j);
                    Vector256<double> diag = Vector256.Equals(b, va) & Vector256.Equals(b, c);
                    Vector256<double> sv = Vector256.ConditionalSelect(diag, vds, vw2 * Vector256.Load(de + j) + vb2);
                    Vector256<double> sd = Vector256.ConditionalSelect(diag, vdd, vw2 * Vector256.Load(dd + j));
                    sv.Store(S + j);
                    if (tmode == 1) Vector256<double>.Zero.Store(T + j);
                    else if (tmode == 2) sv.Store(T + j);
                    else if (tmode == 3) (Vector256.Load(T + j) * sd + sv).Store(T + j);
                    if (hs != null) { sv.Store(hs + j); sd.Store(hd + j); }
                }
            }
            for (; j < w; j++)
            {
                double b = S[j], c = cs[j], sv, sd;
                if (b == a && b == c) { sv = diagSig; sd = diagSdot; }
                else { sv = W2 * de[j] + B2; sd = W2 * dd[j]; }
                S[j] = sv;
                if (tmode == 1) T[j] = 0.0;
                else if (tmode == 2) T[j] = sv;
                else if (tmode == 3) T[j] = T[j] * sd + sv;
                if (hs != null) { hs[j] = sv; hd[j] = sd; }
            }
        }

        private readonly void WriteBack(double* tile, double* dst, int r0, int c0, int h, int w)
        {
            const int ld = TileCols;
            for (int r = 0; r < h; r++)
            {
                int j0 = FirstCol(r0, c0, r);
                if (j0 < w) new ReadOnlySpan<double>(tile + r * ld + j0, w - j0).CopyTo(new Span<double>(dst + (r0 + r) * Ld + c0 + j0, w - j0));
            }
            if (!Symmetric) return;
            // Mirror: (col, row) ← (row, col) for col > row. Only this tile writes those lower entries,
            // and no tile reads them (tiles read the Gram product on and above the diagonal only).
            for (int j = 0; j < w; j++)
            {
                int gc = c0 + j;
                int rEnd = Math.Min(h, gc - r0);
                double* d = dst + gc * Ld + r0;
                for (int r = 0; r < rEnd; r++) d[r] = tile[r * ld + j];
            }
        }

        /// <summary>Term l = Σ(l)·Π_{k&gt;l} Σ̇(k), accumulated from the last layer down.</summary>
        private readonly void WriteContributions(double* hist, int r0, int c0, int h, int w)
        {
            const int ld = TileCols;
            int tileSize = TileRows * TileCols;
            long plane = (long)RowCount * Ld;
            double* prod = hist + (long)Depth * tileSize; // Σ̇ slot of layer 1 is unused: the running product
            for (int r = 0; r < h; r++)
                for (int j = FirstCol(r0, c0, r); j < w; j++) prod[r * ld + j] = 1.0;
            for (int l = Depth; l >= 1; l--)
            {
                double* hs = hist + (long)(l - 1) * tileSize, hd = hist + (long)(Depth + l - 1) * tileSize;
                for (int r = 0; r < h; r++)
                    for (int j = FirstCol(r0, c0, r); j < w; j++)
                    {
                        int e = r * ld + j;
                        double p = prod[e];
                        hs[e] *= p;
                        if (l > 1) prod[e] = p * hd[e];
                    }
                WriteBack(hs, OutC + (l - 1) * plane, r0, c0, h, w);
            }
        }
    }
}
