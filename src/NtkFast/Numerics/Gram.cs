using System.Numerics;
using System.Runtime.InteropServices;

namespace NtkFast.Numerics;

/// <summary>
/// Gram matrices of row-major point sets (rows = points): <see cref="Syrk(int, int, double, ReadOnlySpan{double}, int, double, Span{double}, int)"/>
/// C = α·A·Aᵀ + β·C computing only the tiles on or below the diagonal (about half the work of a GEMM)
/// and mirroring them, and <see cref="Cross(int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int)"/>
/// C = α·A·Bᵀ + β·C.
/// </summary>
/// <remarks>
/// Both run the GEMM engine, so for the same two rows x_i, x_j (wherever they sit in their matrices)
/// Syrk, Cross and <see cref="Gemm"/>.Multiply(None, Transpose, …) give bitwise identical c_ij —
/// kernel code may assemble a Gram matrix from blocks computed either way.
/// </remarks>
public static class Gram
{
    /// <summary>
    /// C[n×n] = α·A·Aᵀ + β·C for A n×k (leading dimension lda). The whole of C is written and is exactly
    /// symmetric; β·C uses the lower triangle of the input C (as BLAS dsyrk with uplo = L), the strict
    /// upper triangle of the input is ignored. β = 0: C is not read.
    /// </summary>
    public static void Syrk(int n, int k, double alpha, ReadOnlySpan<double> a, int lda, double beta, Span<double> c, int ldc)
        => SyrkCore(n, k, alpha, a, lda, beta, c, ldc);

    /// <inheritdoc cref="Syrk(int, int, double, ReadOnlySpan{double}, int, double, Span{double}, int)"/>
    public static void Syrk(int n, int k, float alpha, ReadOnlySpan<float> a, int lda, float beta, Span<float> c, int ldc)
        => SyrkCore(n, k, alpha, a, lda, beta, c, ldc);

    /// <summary>C[n×m] = α·A·Bᵀ + β·C for A n×k, B m×k (rows are points). β = 0: C is not read.</summary>
    public static void Cross(int n, int m, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        ValidateCross(n, m, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        Gemm.Multiply(Op.None, Op.Transpose, n, m, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <inheritdoc cref="Cross(int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int)"/>
    public static void Cross(int n, int m, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        ValidateCross(n, m, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        Gemm.Multiply(Op.None, Op.Transpose, n, m, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// dst[i] = α·x_iᵀx_i for the points x[start … start+count) (rows of length d), bitwise the diagonal entry any
    /// Gram product (<see cref="Syrk(int, int, double, ReadOnlySpan{double}, int, double, Span{double}, int)"/>,
    /// <see cref="Cross(int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int)"/>,
    /// a 1×1 product) gives x_i with β = 0: per K block [pc, pc + KC) the FMA chain acc = fma(x_iq, x_iq, acc)
    /// from 0, then α·acc for the first block and fma(α, acc, c) for later ones; α = 0 gives 0 (the GEMM scales
    /// only). Without the packing a 1×1 GEMM pays for k &gt; KC: four points' chains interleaved.
    /// </summary>
    internal static void DiagonalDots(ReadOnlySpan<double> x, int d, int start, int count, double alpha, Span<double> dst)
    {
        if (count == 0) return;
        if (alpha == 0.0) { dst[..count].Clear(); return; }
        int kc = GemmDriver<double>.KC;
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            ReadOnlySpan<double> x0 = x.Slice((start + i) * d, d), x1 = x.Slice((start + i + 1) * d, d);
            ReadOnlySpan<double> x2 = x.Slice((start + i + 2) * d, d), x3 = x.Slice((start + i + 3) * d, d);
            double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
            for (int pc = 0; pc < d; pc += kc)
            {
                int end = Math.Min(d, pc + kc);
                double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                for (int q = pc; q < end; q++)
                {
                    a0 = Math.FusedMultiplyAdd(x0[q], x0[q], a0);
                    a1 = Math.FusedMultiplyAdd(x1[q], x1[q], a1);
                    a2 = Math.FusedMultiplyAdd(x2[q], x2[q], a2);
                    a3 = Math.FusedMultiplyAdd(x3[q], x3[q], a3);
                }
                if (pc == 0) { c0 = alpha * a0; c1 = alpha * a1; c2 = alpha * a2; c3 = alpha * a3; }
                else
                {
                    c0 = Math.FusedMultiplyAdd(alpha, a0, c0); c1 = Math.FusedMultiplyAdd(alpha, a1, c1);
                    c2 = Math.FusedMultiplyAdd(alpha, a2, c2); c3 = Math.FusedMultiplyAdd(alpha, a3, c3);
                }
            }
            dst[i] = c0; dst[i + 1] = c1; dst[i + 2] = c2; dst[i + 3] = c3;
        }
        for (; i < count; i++)
        {
            ReadOnlySpan<double> xi = x.Slice((start + i) * d, d);
            double c = 0;
            for (int pc = 0; pc < d; pc += kc)
            {
                int end = Math.Min(d, pc + kc);
                double a = 0;
                for (int q = pc; q < end; q++) a = Math.FusedMultiplyAdd(xi[q], xi[q], a);
                c = pc == 0 ? alpha * a : Math.FusedMultiplyAdd(alpha, a, c);
            }
            dst[i] = c;
        }
    }

    private static void ValidateCross(int n, int m, int k, int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "m must be non-negative.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be non-negative.");
        Gemm.CheckOperand("a", "lda", n, k, aLength, lda);
        Gemm.CheckOperand("b", "ldb", m, k, bLength, ldb);
        Gemm.CheckOperand("c", "ldc", n, m, cLength, ldc);
    }

    private static unsafe void SyrkCore<T>(int n, int k, T alpha, ReadOnlySpan<T> a, int lda, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be non-negative.");
        Gemm.CheckOperand("a", "lda", n, k, a.Length, lda);
        Gemm.CheckOperand("c", "ldc", n, n, c.Length, ldc);
        if (n == 0) return;
        fixed (T* pa = &MemoryMarshal.GetReference(a))
        fixed (T* pc = &MemoryMarshal.GetReference(c))
        {
            var p = new GemmDriver<T>.Problem
            {
                A = pa, Lda = lda, TransA = false,
                B = pa, Ldb = lda, TransB = true,
                C = pc, Ldc = ldc, M = n, N = n, K = k, Alpha = alpha, Beta = beta, Lower = true,
            };
            var none = default(NoEpilogue<T>);
            GemmDriver<T>.Run(ref p, ref none, false);
        }
    }
}
