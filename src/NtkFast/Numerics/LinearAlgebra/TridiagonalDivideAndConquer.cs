namespace NtkFast.Numerics;

/// <summary>
/// Eigenpairs of a symmetric tridiagonal matrix by divide and conquer (Cuppen; LAPACK dstedc /
/// dlaed*), the method behind dsyevd. T is split in the middle into two halves plus a rank-one
/// term, the halves are solved recursively (QL below 32 rows), and the merge solves the secular
/// equation 1 + ρ·Σ z_j²/(d_j − λ) = 0 for the non-deflated part. Eigenvectors use
/// Gu–Eisenstat's recomputed ẑ (orthogonal to working precision however close the roots), and
/// the merge's eigenvectors are one GEMM, Q̃·U, so almost all the work runs at GEMM speed
/// (≈ 8/3·n³ flops without deflation, far less for kernels whose spectra deflate heavily),
/// instead of ≈ 7n³ flops of plane rotations for QL.
/// </summary>
internal static unsafe class TridiagonalDivideAndConquer
{
    private const int Leaf = 32;
    private const double Eps = 1.1102230246251565e-16; // 2⁻⁵³, unit round-off

    public static long WorkspaceLength(int n) => 2L * n * n + 10L * n + Leaf * Leaf + SymmetricEigen.TridiagonalWorkspaceLength(Leaf) + 64;

    /// <summary>
    /// d (n), e (n−1 couplings, e[i] between i and i+1) → eigenvalues ascending in d and the
    /// eigenvectors as the columns of the n×n matrix q (leading dimension ldq).
    /// </summary>
    public static void Solve(int n, double* d, double* e, double* q, int ldq, double* ws)
    {
        for (int i = 0; i < n; i++) new Span<double>(q + (long)i * ldq, n).Clear();
        Recurse(0, n, d, e, q, ldq, ws);
    }

    private static void Recurse(int off, int size, double* d, double* e, double* q, int ldq, double* ws)
    {
        if (size <= Leaf)
        {
            double* ld = ws, le = ws + Leaf, lz = ws + 2 * Leaf, lw = lz + Leaf * Leaf;
            for (int i = 0; i < size; i++) { ld[i] = d[off + i]; le[i] = i < size - 1 ? e[off + i] : 0; }
            SymmetricEigen.Tridiagonal(size, new Span<double>(ld, size), new Span<double>(le, size),
                new Span<double>(lz, size * size), new Span<double>(lw, (int)SymmetricEigen.TridiagonalWorkspaceLength(Leaf)));
            for (int i = 0; i < size; i++)
            {
                d[off + i] = ld[i];
                new Span<double>(lz + i * size, size).CopyTo(new Span<double>(q + (long)(off + i) * ldq + off, size));
            }
            return;
        }
        int m = size / 2;
        double beta = e[off + m - 1];
        double rho = Math.Abs(beta), sign = beta >= 0 ? 1 : -1;
        d[off + m - 1] -= rho;
        d[off + m] -= rho;
        Recurse(off, m, d, e, q, ldq, ws);
        Recurse(off + m, size - m, d, e, q, ldq, ws);
        Merge(off, size, m, rho, sign, d, q, ldq, ws);
    }

    /// <summary>Eigen-decomposes diag(D₁, D₂) + ρ·z·zᵀ and multiplies the block's vectors through.</summary>
    private static void Merge(int off, int size, int m, double rho, double sign, double* d, double* q, int ldq, double* ws)
    {
        double* qb = q + (long)off * ldq + off;       // the size×size block (ld ldq)
        double* qtmp = ws;                            // size×size (ld size)
        double* u = qtmp + (long)size * size;         // k×k
        double* z = u + (long)size * size;
        double* ds = z + size;                        // sorted d
        double* zs = ds + size;                       // sorted z
        double* vals = zs + size;
        double* tau = vals + size;
        double* zhat = tau + size;
        int* col = (int*)(zhat + size);               // original column of each sorted entry (size ints)
        int* org = col + size;                        // secular origin per root
        int* kept = org + size;                       // non-deflated sorted positions
        int* perm = kept + size;

        for (int j = 0; j < m; j++) z[j] = qb[(long)(m - 1) * ldq + j];
        for (int j = m; j < size; j++) z[j] = sign * qb[(long)m * ldq + j];
        double zn2 = 0;
        for (int j = 0; j < size; j++) zn2 += z[j] * z[j];
        double zn = Math.Sqrt(zn2);
        rho *= zn2;
        if (zn > 0) for (int j = 0; j < size; j++) z[j] /= zn;

        // Merge the two ascending halves.
        {
            int a = 0, b = m, t = 0;
            while (a < m || b < size)
            {
                int pick = b >= size || (a < m && d[off + a] <= d[off + b]) ? a++ : b++;
                ds[t] = d[off + pick];
                zs[t] = z[pick];
                col[t] = pick;
                t++;
            }
        }
        double dmax = 0;
        for (int j = 0; j < size; j++) dmax = Math.Max(dmax, Math.Abs(ds[j]));
        double tol = 8 * Eps * Math.Max(dmax, rho);

        // Deflation (dlaed2): tiny z components, and nearly equal d's rotated so one z vanishes.
        int k = 0, nd = 0;
        int pending = -1;
        var deflated = new Span<int>(perm, size); // reuse perm as the deflated list for now
        for (int j = 0; j < size; j++)
        {
            if (rho * Math.Abs(zs[j]) <= tol)
            {
                deflated[nd++] = j;
                continue;
            }
            if (pending < 0) { pending = j; continue; }
            double s = zs[pending], c = zs[j];
            double tr = double.Hypot(c, s);
            double t = ds[j] - ds[pending];
            c /= tr;
            s = -s / tr;
            if (Math.Abs(t * c * s) <= tol)
            {
                zs[j] = tr;
                zs[pending] = 0;
                RotateColumns(qb, ldq, size, col[pending], col[j], c, s);
                double tp = ds[pending] * c * c + ds[j] * s * s;
                ds[j] = ds[pending] * s * s + ds[j] * c * c;
                ds[pending] = tp;
                deflated[nd++] = pending;
                pending = j;
            }
            else
            {
                kept[k++] = pending;
                pending = j;
            }
        }
        if (pending >= 0) kept[k++] = pending;

        // Columns: non-deflated first, then deflated, into qtmp.
        for (int r = 0; r < size; r++)
        {
            double* src = qb + (long)r * ldq;
            double* dst = qtmp + (long)r * size;
            for (int i = 0; i < k; i++) dst[i] = src[col[kept[i]]];
            for (int i = 0; i < nd; i++) dst[k + i] = src[col[deflated[i]]];
        }
        for (int i = 0; i < nd; i++) vals[k + i] = ds[deflated[i]];

        if (k > 0)
        {
            // Compact the non-deflated poles and weights (ascending).
            for (int i = 0; i < k; i++) { double dv = ds[kept[i]], zv = zs[kept[i]]; ds[i] = dv; zs[i] = zv; }
            for (int i = 0; i < k; i++) SolveSecular(k, i, ds, zs, rho, out org[i], out tau[i]);
            for (int i = 0; i < k; i++) vals[i] = ds[org[i]] + tau[i];
            // Gu–Eisenstat: ẑ_j² = Π_i (λ_i − d_j) / (ρ·Π_{i≠j} (d_i − d_j)).
            for (int j = 0; j < k; j++)
            {
                double p = ((ds[org[j]] - ds[j]) + tau[j]) / rho;
                for (int i = 0; i < k; i++)
                {
                    if (i == j) continue;
                    p *= ((ds[org[i]] - ds[j]) + tau[i]) / (ds[i] - ds[j]);
                }
                zhat[j] = Math.CopySign(Math.Sqrt(Math.Abs(p)), zs[j]);
            }
            // U[:, i] = ẑ / (d − λ_i), normalised.
            for (int i = 0; i < k; i++)
            {
                double s2 = 0;
                for (int j = 0; j < k; j++)
                {
                    double v = zhat[j] / ((ds[j] - ds[org[i]]) - tau[i]);
                    u[(long)j * k + i] = v;
                    s2 += v * v;
                }
                double inv = 1 / Math.Sqrt(s2);
                for (int j = 0; j < k; j++) u[(long)j * k + i] *= inv;
            }
            Gemm.Multiply(Op.None, Op.None, size, k, k, 1.0,
                new ReadOnlySpan<double>(qtmp, (size - 1) * size + k), size,
                new ReadOnlySpan<double>(u, k * k), k, 0.0,
                new Span<double>(qb, (size - 1) * ldq + k), ldq);
        }
        for (int r = 0; r < size; r++)
            new Span<double>(qtmp + (long)r * size + k, nd).CopyTo(new Span<double>(qb + (long)r * ldq + k, nd));

        // Sort ascending: permutation of the block's columns.
        // Insertion sort of the permutation: two ascending runs (roots, deflated values), so it is cheap.
        for (int i = 0; i < size; i++)
        {
            int v = i, j = i - 1;
            while (j >= 0 && vals[perm[j]] > vals[v]) { perm[j + 1] = perm[j]; j--; }
            perm[j + 1] = v;
        }
        bool identity = true;
        for (int i = 0; i < size; i++) if (perm[i] != i) { identity = false; break; }
        if (!identity)
        {
            for (int r = 0; r < size; r++)
            {
                double* src = qb + (long)r * ldq;
                double* dst = qtmp + (long)r * size;
                for (int i = 0; i < size; i++) dst[i] = src[perm[i]];
                new Span<double>(dst, size).CopyTo(new Span<double>(src, size));
            }
        }
        for (int i = 0; i < size; i++) d[off + i] = vals[perm[i]];
    }

    /// <summary>x ← c·x + s·y, y ← c·y − s·x on columns a, b of the block (dlaed2's drot).</summary>
    private static void RotateColumns(double* qb, int ldq, int size, int a, int b, double c, double s)
    {
        for (int r = 0; r < size; r++)
        {
            double* row = qb + (long)r * ldq;
            double x = row[a], y = row[b];
            row[a] = c * x + s * y;
            row[b] = c * y - s * x;
        }
    }

    /// <summary>
    /// Root i (0-based) of 1 + ρ·Σ_j z_j²/(d_j − λ) = 0 with d ascending, ρ &gt; 0: λ_i ∈ (d_i, d_{i+1})
    /// (the last one in (d_{k−1}, d_{k−1} + ρ·Σz²]). Returned as λ = d[origin] + τ with the origin
    /// the nearer pole, so d_j − λ = (d_j − d[origin]) − τ keeps full relative accuracy. Safeguarded
    /// Newton on g(τ) = τ·f(τ), which has no pole at the origin, inside a bisection bracket.
    /// </summary>
    private static void SolveSecular(int k, int i, double* d, double* z, double rho, out int origin, out double tau)
    {
        double lo, hi;
        if (i < k - 1)
        {
            double gap = d[i + 1] - d[i];
            double mid = 0.5 * gap;
            double f = 1;
            for (int j = 0; j < k; j++) f += rho * z[j] * z[j] / ((d[j] - d[i]) - mid);
            if (f >= 0) { origin = i; lo = 0; hi = mid; }
            else { origin = i + 1; lo = -mid; hi = 0; }
        }
        else
        {
            double z2 = 0;
            for (int j = 0; j < k; j++) z2 += z[j] * z[j];
            origin = i; lo = 0; hi = rho * z2;
        }
        double dOrg = d[origin];
        double zo2 = rho * z[origin] * z[origin];
        double t = 0.5 * (lo + hi);
        for (int iter = 0; iter < 100; iter++)
        {
            // f(τ) = 1 − ρz_o²/τ + rest(τ); g(τ) = τ·f(τ) = τ(1 + rest) − ρz_o².
            double rest = 0, restD = 0;
            for (int j = 0; j < k; j++)
            {
                if (j == origin) continue;
                double inv = 1 / ((d[j] - dOrg) - t);
                double w = rho * z[j] * z[j] * inv;
                rest += w;
                restD += w * inv;
            }
            double g = t * (1 + rest) - zo2;
            double f = g / t;
            if (f == 0 || double.IsNaN(f)) break;
            if (f < 0) lo = t; else hi = t;
            double gd = 1 + rest + t * restD;
            double next = t - g / gd;
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (next == t || hi - lo <= 4 * Eps * Math.Max(Math.Abs(lo), Math.Abs(hi))) { t = next; break; }
            t = next;
        }
        if (t == 0) t = origin == i ? hi * 0.5 : lo * 0.5; // never exactly on the pole
        tau = t;
    }
}
