using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NtkFast.Numerics;

/// <summary>
/// Triangular solves with many right-hand sides, row-major: L·X = B and Lᵀ·X = B for the lower
/// triangle L of an n×n matrix (the strict upper part is never read). B is n×nrhs and is
/// overwritten with X. Blocked by rows: the coupling to already solved rows is one GEMM per
/// block, the block itself is substituted row by row with axpy's over the right-hand sides.
/// </summary>
public static class Triangular
{
    private const int Block = 64;

    /// <summary>Forward substitution: B ← L⁻¹·B.</summary>
    public static void SolveLower(int n, int nrhs, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        Validate(n, nrhs, l, ldl, b, ldb);
        if (n == 0 || nrhs == 0) return;
        for (int i0 = 0; i0 < n; i0 += Block)
        {
            int ib = Math.Min(Block, n - i0);
            if (i0 > 0)
                Gemm.Multiply(Op.None, Op.None, ib, nrhs, i0, -1.0, l.Slice(i0 * ldl), ldl, b, ldb, 1.0, b.Slice(i0 * ldb), ldb);
            ref double l0 = ref Unsafe.AsRef(in MemoryMarshal.GetReference(l));
            ref double b0 = ref MemoryMarshal.GetReference(b);
            for (int i = i0; i < i0 + ib; i++)
            {
                ref double bi = ref Unsafe.Add(ref b0, (nint)i * ldb);
                ref double li = ref Unsafe.Add(ref l0, (nint)i * ldl);
                for (int p = i0; p < i; p++)
                    DenseKernels.Axpy(-Unsafe.Add(ref li, p), ref Unsafe.Add(ref b0, (nint)p * ldb), ref bi, nrhs);
                double d = Unsafe.Add(ref li, i);
                DenseKernels.Scale(1 / d, ref bi, nrhs);
            }
        }
    }

    /// <summary>Back substitution with the transpose: B ← L⁻ᵀ·B.</summary>
    public static void SolveLowerTransposed(int n, int nrhs, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        Validate(n, nrhs, l, ldl, b, ldb);
        if (n == 0 || nrhs == 0) return;
        int lastStart = (n - 1) / Block * Block;
        for (int i0 = lastStart; i0 >= 0; i0 -= Block)
        {
            int ib = Math.Min(Block, n - i0);
            int i1 = i0 + ib;
            if (i1 < n)
                Gemm.Multiply(Op.Transpose, Op.None, ib, nrhs, n - i1, -1.0, l.Slice(i1 * ldl + i0), ldl, b.Slice(i1 * ldb), ldb, 1.0, b.Slice(i0 * ldb), ldb);
            ref double l0 = ref Unsafe.AsRef(in MemoryMarshal.GetReference(l));
            ref double b0 = ref MemoryMarshal.GetReference(b);
            for (int i = i1 - 1; i >= i0; i--)
            {
                ref double bi = ref Unsafe.Add(ref b0, (nint)i * ldb);
                for (int p = i + 1; p < i1; p++)
                    DenseKernels.Axpy(-Unsafe.Add(ref l0, (nint)p * ldl + i), ref Unsafe.Add(ref b0, (nint)p * ldb), ref bi, nrhs);
                DenseKernels.Scale(1 / Unsafe.Add(ref l0, (nint)i * ldl + i), ref bi, nrhs);
            }
        }
    }

    private static void Validate(int n, int nrhs, ReadOnlySpan<double> l, int ldl, Span<double> b, int ldb)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        if (nrhs < 0) throw new ArgumentOutOfRangeException(nameof(nrhs), nrhs, "nrhs must be non-negative.");
        Gemm.CheckOperand("l", nameof(ldl), n, n, l.Length, ldl);
        Gemm.CheckOperand("b", nameof(ldb), n, nrhs, b.Length, ldb);
    }
}
