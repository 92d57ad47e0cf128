using System.Numerics;
using System.Runtime.CompilerServices;

namespace NtkFast.Numerics;

/// <summary>
/// Packing for <see cref="GemmDriver{T}"/>: copies a block of op(A) into MR-row panels stored by
/// columns (for each p, MR consecutive values) and a block of op(B) into NR-column panels stored by
/// rows (for each p, NR consecutive values), zero-padding partial panels. Transposes are resolved
/// here, so the micro-kernels see one layout only.
/// </summary>
internal static unsafe class GemmPacking<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Packs op(A)[i0 … i0+mc, p0 … p0+kc] into dst (panel q at dst + q·MR·kc).</summary>
    public static void PackA(in GemmDriver<T>.Problem p, int i0, int mc, int p0, int kc, T* dst, int mr)
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            T* d = dst + (nint)ir * kc;
            if (!p.TransA)
            {
                // A(i, p) = a[i·lda + p]: read rows contiguously, write with stride MR (a block transpose).
                if (typeof(T) == typeof(double))
                    BlockTranspose.Double((double*)(p.A + (i0 + ir) * p.Lda + p0), p.Lda, rows, kc, (double*)d, mr);
                else if (typeof(T) == typeof(float))
                    BlockTranspose.Single((float*)(p.A + (i0 + ir) * p.Lda + p0), p.Lda, rows, kc, (float*)d, mr);
                else
                    for (int r = 0; r < rows; r++)
                    {
                        T* src = p.A + (i0 + ir + r) * p.Lda + p0;
                        for (int q = 0; q < kc; q++) d[q * mr + r] = src[q];
                    }
            }
            else
            {
                // A(i, p) = a[p·lda + i]: MR consecutive values per p.
                for (int q = 0; q < kc; q++)
                {
                    T* src = p.A + (p0 + q) * p.Lda + i0 + ir;
                    T* dq = d + q * mr;
                    for (int r = 0; r < rows; r++) dq[r] = src[r];
                }
            }
            if (rows < mr)
                for (int q = 0; q < kc; q++)
                    for (int r = rows; r < mr; r++) d[q * mr + r] = T.Zero;
        }
    }

    /// <summary>Packs op(B)[p0 … p0+kc, j0 … j0+nc] into dst (panel q at dst + q·NR·kc).</summary>
    public static void PackB(in GemmDriver<T>.Problem p, int p0, int kc, int j0, int nc, T* dst, int nr)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            T* d = dst + (nint)jr * kc;
            if (!p.TransB)
            {
                // B(p, j) = b[p·ldb + j]: NR consecutive values per p.
                uint bytes = (uint)(cols * sizeof(T));
                for (int q = 0; q < kc; q++)
                {
                    T* src = p.B + (p0 + q) * p.Ldb + j0 + jr;
                    Unsafe.CopyBlockUnaligned(d + q * nr, src, bytes);
                    for (int c = cols; c < nr; c++) d[q * nr + c] = T.Zero;
                }
            }
            else
            {
                // B(p, j) = b[j·ldb + p] (the X·Yᵀ / Gram case): a transpose. Walk p in chunks of 8 so
                // the destination rows being written stay in L1 while each source row is read forward.
                if (typeof(T) == typeof(double))
                    BlockTranspose.Double((double*)(p.B + (j0 + jr) * p.Ldb + p0), p.Ldb, cols, kc, (double*)d, nr);
                else if (typeof(T) == typeof(float))
                    BlockTranspose.Single((float*)(p.B + (j0 + jr) * p.Ldb + p0), p.Ldb, cols, kc, (float*)d, nr);
                else
                {
                    for (int q0 = 0; q0 < kc; q0 += 8)
                    {
                        int q1 = Math.Min(kc, q0 + 8);
                        for (int c = 0; c < cols; c++)
                        {
                            T* src = p.B + (j0 + jr + c) * p.Ldb + p0;
                            for (int q = q0; q < q1; q++) d[q * nr + c] = src[q];
                        }
                    }
                }
                if (cols < nr)
                    for (int q = 0; q < kc; q++)
                        for (int c = cols; c < nr; c++) d[q * nr + c] = T.Zero;
            }
        }
    }
}
