using System.Numerics;
using System.Runtime.InteropServices;

namespace NtkFast.Numerics;

/// <summary>
/// General matrix multiply on row-major storage:
/// C[m×n] = α·op(A)·op(B) + β·C, with leading dimensions (row strides) lda, ldb, ldc.
/// op(A) is m×k (A is m×k, or k×m when transposed); op(B) is k×n.
/// When β = 0, C is not read (NaN in C does not propagate); when α = 0 or k = 0, A and B are not read
/// and C = β·C.
/// </summary>
/// <remarks>
/// A packed, blocked, multi-threaded implementation (<see cref="GemmDriver{T}"/>): FMA micro-kernels for
/// Vector512 and Vector256 and a scalar fallback. Each c_ij is the same chain of fused multiply-adds over
/// p = 0…k−1 whatever the instruction set, the thread count (<see cref="NtkParallel.MaxThreads"/>) or where
/// the row and column sit in the matrices, so results are bitwise reproducible; in particular
/// <see cref="Gram.Syrk(int, int, double, ReadOnlySpan{double}, int, double, Span{double}, int)"/>,
/// <see cref="Gram.Cross(int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int)"/>
/// and Multiply(None, Transpose, …) agree bitwise for the same pair of rows.
/// Allocation: none after the first call on each thread (packing buffers are per thread and reused).
/// </remarks>
public static partial class Gemm
{
    public static void Multiply(Op opA, Op opB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb,
        double beta, Span<double> c, int ldc)
    {
        var none = default(NoEpilogue<double>);
        Multiply(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ref none, false);
    }

    public static void Multiply(Op opA, Op opB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        var none = default(NoEpilogue<float>);
        Multiply(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ref none, false);
    }

    /// <summary>
    /// GEMM with an epilogue: as <see cref="Multiply(Op, Op, int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int)"/>,
    /// then <paramref name="epilogue"/>.Apply(row, colStart, values) on every finished row segment of C
    /// while it is still in cache (contract: <see cref="IGemmEpilogue{T}"/>). Use it to fuse bias + activation.
    /// </summary>
    public static void Multiply<TEpilogue>(Op opA, Op opB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb,
        double beta, Span<double> c, int ldc, ref TEpilogue epilogue)
        where TEpilogue : struct, IGemmEpilogue<double>
        => Multiply(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ref epilogue, true);

    /// <summary>Single-precision GEMM with an epilogue (see the double overload).</summary>
    public static void Multiply<TEpilogue>(Op opA, Op opB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, ref TEpilogue epilogue)
        where TEpilogue : struct, IGemmEpilogue<float>
        => Multiply(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ref epilogue, true);

    private static unsafe void Multiply<T, TEpilogue>(Op opA, Op opB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc,
        ref TEpilogue epilogue, bool hasEpilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TEpilogue : struct, IGemmEpilogue<T>
    {
        CheckOp(opA, nameof(opA));
        CheckOp(opB, nameof(opB));
        Validate(opA, opB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        fixed (T* pa = &MemoryMarshal.GetReference(a))
        fixed (T* pb = &MemoryMarshal.GetReference(b))
        fixed (T* pc = &MemoryMarshal.GetReference(c))
        {
            var p = new GemmDriver<T>.Problem
            {
                A = pa, Lda = lda, TransA = opA == Op.Transpose,
                B = pb, Ldb = ldb, TransB = opB == Op.Transpose,
                C = pc, Ldc = ldc, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            };
            GemmDriver<T>.Run(ref p, ref epilogue, hasEpilogue);
        }
    }

    private static void CheckOp(Op op, string name)
    {
        if (op is not (Op.None or Op.Transpose))
            throw new ArgumentOutOfRangeException(name, op, "Op must be None or Transpose.");
    }

    internal static void Validate(Op opA, Op opB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "m must be non-negative.");
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be non-negative.");
        int aRows = opA == Op.None ? m : k, aCols = opA == Op.None ? k : m;
        int bRows = opB == Op.None ? k : n, bCols = opB == Op.None ? n : k;
        CheckOperand("a", "lda", aRows, aCols, aLength, lda);
        CheckOperand("b", "ldb", bRows, bCols, bLength, ldb);
        CheckOperand("c", "ldc", m, n, cLength, ldc);
    }

    internal static void CheckOperand(string name, string ldName, int rows, int cols, int length, int ld)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least the row length {cols}.");
        if (rows == 0 || cols == 0) return;
        long needed = (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"Span '{name}' has {length} elements but a {rows}×{cols} operand with leading dimension {ld} needs {needed}.", name);
    }
}
