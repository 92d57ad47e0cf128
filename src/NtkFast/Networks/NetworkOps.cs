using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NtkFast.Activations;
using NtkFast.Numerics;

namespace NtkFast.Networks;

/// <summary>
/// The float/double dispatch of the network code. <see cref="Mlp{T}"/> is generic over
/// T ∈ {float, double}; the numerics core and the activations expose one overload per
/// type, so these helpers pick it with <c>typeof(T) == typeof(float)</c> tests, which the JIT
/// folds away when it specialises the generic code for each value type (no runtime cost).
/// </summary>
internal static class NetworkOps
{
    public static void CheckType<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Networks are float or double, not {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gemm<T>(Op opA, Op opB, int m, int n, int k, double alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, double beta, Span<T> c, int ldc)
        where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            Numerics.Gemm.Multiply(opA, opB, m, n, k, alpha, MemoryMarshal.Cast<T, double>(a), lda,
                MemoryMarshal.Cast<T, double>(b), ldb, beta, MemoryMarshal.Cast<T, double>(c), ldc);
        else if (typeof(T) == typeof(float))
            Numerics.Gemm.Multiply(opA, opB, m, n, k, (float)alpha, MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, (float)beta, MemoryMarshal.Cast<T, float>(c), ldc);
        else throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<T>(Activation act, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            act.Forward(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(y));
        else if (typeof(T) == typeof(float))
            act.Forward(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Derivative<T>(Activation act, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            act.Derivative(MemoryMarshal.Cast<T, double>(x), MemoryMarshal.Cast<T, double>(d));
        else if (typeof(T) == typeof(float))
            act.Derivative(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(d));
        else throw new NotSupportedException();
    }

    /// <summary>Every row of the rows×row.Length matrix <paramref name="z"/> := <paramref name="row"/>.</summary>
    public static void BroadcastRows<T>(ReadOnlySpan<T> row, Span<T> z, int rows)
    {
        int w = row.Length;
        for (int i = 0; i < rows; i++) row.CopyTo(z.Slice(i * w, w));
    }

    /// <summary>
    /// sums[j] = Σ_i a[i, j] over the rows×cols matrix a, summing rows in order 0, 1, …
    /// (a fixed order: the result does not depend on threads or alignment).
    /// </summary>
    public static void ColumnSums<T>(ReadOnlySpan<T> a, int rows, int cols, Span<T> sums)
        where T : unmanaged, INumberBase<T>
    {
        Span<T> s = sums[..cols];
        s.Clear();
        for (int i = 0; i < rows; i++) TensorPrimitives.Add(s, a.Slice(i * cols, cols), s);
    }

    /// <summary>delta[i] *= σ'(z[i]), evaluating σ' in cache-sized chunks into <paramref name="scratch"/>.</summary>
    public static void MultiplyByDerivative<T>(Activation act, ReadOnlySpan<T> z, Span<T> delta, Span<T> scratch)
        where T : unmanaged, INumberBase<T>
    {
        int chunk = scratch.Length;
        for (int off = 0; off < z.Length; off += chunk)
        {
            int len = Math.Min(chunk, z.Length - off);
            Span<T> d = scratch[..len];
            Derivative(act, z.Slice(off, len), d);
            Span<T> dst = delta.Slice(off, len);
            TensorPrimitives.Multiply(dst, d, dst);
        }
    }

    /// <summary>y[i] += alpha·x[i] (multiply, then add: not fused).</summary>
    public static void Axpy<T>(T alpha, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, INumberBase<T>
        => TensorPrimitives.MultiplyAdd(x, alpha, y, y);

    public static bool AllFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
            if (!T.IsFinite(x[i])) return false;
        return true;
    }
}
