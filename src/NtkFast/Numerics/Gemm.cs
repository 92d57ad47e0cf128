namespace NtkFast.Numerics;

/// <summary>
/// General matrix multiply on row-major storage:
/// C[m×n] = α·op(A)·op(B) + β·C, with leading dimensions (row strides) lda, ldb, ldc.
/// op(A) is m×k (A is m×k, or k×m when transposed); op(B) is k×n.
/// When β = 0, C is not read (NaN in C does not propagate).
/// </summary>
public static partial class Gemm
{
    public static void Multiply(Op opA, Op opB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb,
        double beta, Span<double> c, int ldc)
    {
        Validate(opA, opB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        // Baseline reference implementation (replaced by the packed BLIS-style kernel).
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = opA == Op.None ? a[i * lda + p] : a[p * lda + i];
                    double bv = opB == Op.None ? b[p * ldb + j] : b[j * ldb + p];
                    s += av * bv;
                }
                ref double cij = ref c[i * ldc + j];
                cij = beta == 0 ? alpha * s : alpha * s + beta * cij;
            }
        }
    }

    public static void Multiply(Op opA, Op opB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        Validate(opA, opB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = opA == Op.None ? a[i * lda + p] : a[p * lda + i];
                    float bv = opB == Op.None ? b[p * ldb + j] : b[j * ldb + p];
                    s += av * bv;
                }
                ref float cij = ref c[i * ldc + j];
                cij = beta == 0 ? alpha * s : alpha * s + beta * cij;
            }
        }
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
