using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// Level-1 building blocks of the dense linear algebra (dot, axpy, scale) on refs.
/// Every reduction uses the same fixed order (four Vector256 accumulators over blocks of 16,
/// then a Vector256 step, then a scalar tail, combined as ((a0+a1)+(a2+a3))), so a result
/// depends only on the operands, never on the thread that computes it.
/// Multiply and add stay separate (no FMA) so the vector and scalar paths round alike.
/// </summary>
internal static class DenseKernels
{
    /// <summary>Σ x[i]·y[i], i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Dot(ref double x, ref double y, int n)
    {
        int i = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && n >= 4)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; i <= n - 16; i += 16)
            {
                a0 += Vector256.LoadUnsafe(ref x, (nuint)i) * Vector256.LoadUnsafe(ref y, (nuint)i);
                a1 += Vector256.LoadUnsafe(ref x, (nuint)(i + 4)) * Vector256.LoadUnsafe(ref y, (nuint)(i + 4));
                a2 += Vector256.LoadUnsafe(ref x, (nuint)(i + 8)) * Vector256.LoadUnsafe(ref y, (nuint)(i + 8));
                a3 += Vector256.LoadUnsafe(ref x, (nuint)(i + 12)) * Vector256.LoadUnsafe(ref y, (nuint)(i + 12));
            }
            for (; i <= n - 4; i += 4)
                a0 += Vector256.LoadUnsafe(ref x, (nuint)i) * Vector256.LoadUnsafe(ref y, (nuint)i);
            s = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) s += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
        return s;
    }

    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("y is shorter than x.", nameof(y));
        return Dot(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>y[i] += alpha·x[i], i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(double alpha, ref double x, ref double y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && n >= 4)
        {
            var va = Vector256.Create(alpha);
            for (; i <= n - 4; i += 4)
                (Vector256.LoadUnsafe(ref y, (nuint)i) + va * Vector256.LoadUnsafe(ref x, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref y, i) += alpha * Unsafe.Add(ref x, i);
    }

    /// <summary>x[i] *= alpha, i &lt; n.</summary>
    public static void Scale(double alpha, ref double x, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && n >= 4)
        {
            var va = Vector256.Create(alpha);
            for (; i <= n - 4; i += 4)
                (Vector256.LoadUnsafe(ref x, (nuint)i) * va).StoreUnsafe(ref x, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref x, i) *= alpha;
    }

    /// <summary>Euclidean norm with scaling against overflow and underflow.</summary>
    public static double Norm2(ReadOnlySpan<double> x)
    {
        double max = 0;
        foreach (double v in x) max = Math.Max(max, Math.Abs(v));
        if (max == 0 || double.IsNaN(max)) return max;
        if (max > 1e-150 && max < 1e150) return Math.Sqrt(Dot(x, x));
        double s = 0, inv = 1 / max;
        foreach (double v in x) { double t = v * inv; s += t * t; }
        return max * Math.Sqrt(s);
    }

    /// <summary>y = A·x for a row-major m×n matrix (one dot per row, rows split in fixed tiles).</summary>
    public static void MatVec(int m, int n, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> x, Span<double> y)
    {
        const int Tile = 64;
        int tiles = (m + Tile - 1) / Tile;
        if ((long)m * n < 1 << 16 || NtkParallel.MaxThreads == 1)
        {
            ref double a0 = ref MemoryMarshal.GetReference(a);
            ref double x0 = ref MemoryMarshal.GetReference(x);
            for (int i = 0; i < m; i++) y[i] = Dot(ref Unsafe.Add(ref a0, (nint)i * lda), ref x0, n);
            return;
        }
        unsafe
        {
            fixed (double* pa = a, px = x, py = y)
            {
                double* ca = pa, cx = px, cy = py;
                NtkParallel.For(tiles, t =>
                {
                    int i0 = t * Tile, i1 = Math.Min(m, i0 + Tile);
                    for (int i = i0; i < i1; i++)
                        cy[i] = Dot(ref ca[(nint)i * lda], ref cx[0], n);
                });
            }
        }
    }
}
