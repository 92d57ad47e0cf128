using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// Direct (unpacked) GEMM for small products with k ≤ KC, where packing, buffers and tile bookkeeping
/// would cost more than the arithmetic. Four rows of C at a time share each B vector (four independent
/// FMA chains); leftovers run scalar. Each c_ij is the same FMA chain as in the packed path
/// (acc = 0; acc = fma(a_ip, b_pj, acc) for p in order; then α·acc or fma(α, acc, β·c)), so a product
/// gives the same bits whichever path its size selects.
/// </summary>
[SkipLocalsInit]
internal static unsafe class GemmSmall<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Largest m·n·k handled here (≈ 24³; at 33³ the packed path was already 2× faster).</summary>
    public const long Limit = 14_000;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T LoadA(in GemmDriver<T>.Problem p, int i, int q) => p.TransA ? p.A[q * p.Lda + i] : p.A[i * p.Lda + q];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T LoadB(in GemmDriver<T>.Problem p, int q, int j) => p.TransB ? p.B[j * p.Ldb + q] : p.B[q * p.Ldb + j];

    public static void Run<TEp>(in GemmDriver<T>.Problem p, IsaPath path, ref TEp ep, bool hasEp) where TEp : struct, IGemmEpilogue<T>
    {
        T alpha = p.Alpha, beta = p.Beta;
        bool readC = beta != T.Zero;
        int k = p.K;
        for (int i0 = 0; i0 < p.M; i0 += 4)
        {
            int rows = Math.Min(4, p.M - i0);
            int j = 0;
            if (rows == 4 && !p.TransB && !p.Lower)
            {
                if (path == IsaPath.Vector512)
                {
                    int w = Vector512<T>.Count;
                    for (; j + w <= p.N; j += w)
                    {
                        Vector512<T> c0 = Vector512<T>.Zero, c1 = c0, c2 = c0, c3 = c0;
                        T* b = p.B + j;
                        for (int q = 0; q < k; q++, b += p.Ldb)
                        {
                            Vector512<T> bv = Vector512.Load(b);
                            c0 = VectorMath.Fma(Vector512.Create(LoadA(in p, i0, q)), bv, c0);
                            c1 = VectorMath.Fma(Vector512.Create(LoadA(in p, i0 + 1, q)), bv, c1);
                            c2 = VectorMath.Fma(Vector512.Create(LoadA(in p, i0 + 2, q)), bv, c2);
                            c3 = VectorMath.Fma(Vector512.Create(LoadA(in p, i0 + 3, q)), bv, c3);
                        }
                        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
                        T* c = p.C + i0 * p.Ldc + j;
                        if (!readC)
                        {
                            (va * c0).Store(c); (va * c1).Store(c + p.Ldc); (va * c2).Store(c + 2 * p.Ldc); (va * c3).Store(c + 3 * p.Ldc);
                        }
                        else
                        {
                            VectorMath.Fma(va, c0, vb * Vector512.Load(c)).Store(c);
                            VectorMath.Fma(va, c1, vb * Vector512.Load(c + p.Ldc)).Store(c + p.Ldc);
                            VectorMath.Fma(va, c2, vb * Vector512.Load(c + 2 * p.Ldc)).Store(c + 2 * p.Ldc);
                            VectorMath.Fma(va, c3, vb * Vector512.Load(c + 3 * p.Ldc)).Store(c + 3 * p.Ldc);
                        }
                    }
                }
                if (path >= IsaPath.Vector256)
                {
                    int w = Vector256<T>.Count;
                    for (; j + w <= p.N; j += w)
                    {
                        Vector256<T> c0 = Vector256<T>.Zero, c1 = c0, c2 = c0, c3 = c0;
                        T* b = p.B + j;
                        for (int q = 0; q < k; q++, b += p.Ldb)
                        {
                            Vector256<T> bv = Vector256.Load(b);
                            c0 = VectorMath.Fma(Vector256.Create(LoadA(in p, i0, q)), bv, c0);
                            c1 = VectorMath.Fma(Vector256.Create(LoadA(in p, i0 + 1, q)), bv, c1);
                            c2 = VectorMath.Fma(Vector256.Create(LoadA(in p, i0 + 2, q)), bv, c2);
                            c3 = VectorMath.Fma(Vector256.Create(LoadA(in p, i0 + 3, q)), bv, c3);
                        }
                        Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
                        T* c = p.C + i0 * p.Ldc + j;
                        if (!readC)
                        {
                            (va * c0).Store(c); (va * c1).Store(c + p.Ldc); (va * c2).Store(c + 2 * p.Ldc); (va * c3).Store(c + 3 * p.Ldc);
                        }
                        else
                        {
                            VectorMath.Fma(va, c0, vb * Vector256.Load(c)).Store(c);
                            VectorMath.Fma(va, c1, vb * Vector256.Load(c + p.Ldc)).Store(c + p.Ldc);
                            VectorMath.Fma(va, c2, vb * Vector256.Load(c + 2 * p.Ldc)).Store(c + 2 * p.Ldc);
                            VectorMath.Fma(va, c3, vb * Vector256.Load(c + 3 * p.Ldc)).Store(c + 3 * p.Ldc);
                        }
                    }
                }
            }
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                T* crow = p.C + i * p.Ldc;
                int jEnd = p.Lower ? i + 1 : p.N;
                for (int jj = j; jj < jEnd; jj++)
                {
                    T acc = T.Zero;
                    for (int q = 0; q < k; q++) acc = VectorMath.Fma(LoadA(in p, i, q), LoadB(in p, q, jj), acc);
                    crow[jj] = readC ? VectorMath.Fma(alpha, acc, beta * crow[jj]) : alpha * acc;
                }
                if (p.Lower)
                    for (int jj = 0; jj < i; jj++) p.C[jj * p.Ldc + i] = crow[jj];
                if (hasEp) ep.Apply(i, 0, new Span<T>(crow, p.N));
            }
        }
    }
}
