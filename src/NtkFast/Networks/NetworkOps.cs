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

    /// <summary>GEMM whose finished row segments of C get β·b added and σ applied (forward layer).</summary>
    public static void Gemm<T>(Op opA, Op opB, int m, int n, int k, double alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, double beta, Span<T> c, int ldc, ref BiasActivationEpilogue<T> epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Unsafe.As only renames the type: the branch taken has T = double (or float) exactly.
        if (typeof(T) == typeof(double))
            Numerics.Gemm.Multiply(opA, opB, m, n, k, alpha, MemoryMarshal.Cast<T, double>(a), lda,
                MemoryMarshal.Cast<T, double>(b), ldb, beta, MemoryMarshal.Cast<T, double>(c), ldc,
                ref Unsafe.As<BiasActivationEpilogue<T>, BiasActivationEpilogue<double>>(ref epilogue));
        else
            Numerics.Gemm.Multiply(opA, opB, m, n, k, (float)alpha, MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, (float)beta, MemoryMarshal.Cast<T, float>(c), ldc,
                ref Unsafe.As<BiasActivationEpilogue<T>, BiasActivationEpilogue<float>>(ref epilogue));
    }

    /// <summary>GEMM whose finished row segments of C are multiplied by σ'(Z) (backward layer).</summary>
    public static void Gemm<T>(Op opA, Op opB, int m, int n, int k, double alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, double beta, Span<T> c, int ldc, ref DerivativeEpilogue<T> epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
            Numerics.Gemm.Multiply(opA, opB, m, n, k, alpha, MemoryMarshal.Cast<T, double>(a), lda,
                MemoryMarshal.Cast<T, double>(b), ldb, beta, MemoryMarshal.Cast<T, double>(c), ldc,
                ref Unsafe.As<DerivativeEpilogue<T>, DerivativeEpilogue<double>>(ref epilogue));
        else
            Numerics.Gemm.Multiply(opA, opB, m, n, k, (float)alpha, MemoryMarshal.Cast<T, float>(a), lda,
                MemoryMarshal.Cast<T, float>(b), ldb, (float)beta, MemoryMarshal.Cast<T, float>(c), ldc,
                ref Unsafe.As<DerivativeEpilogue<T>, DerivativeEpilogue<float>>(ref epilogue));
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

    /// <summary>
    /// sums[j] = Σ_i a[offset + i·cols + j] over a rows×cols matrix, summing rows in order 0, 1, …
    /// for every column (a fixed order: the result does not depend on threads or alignment).
    /// Large matrices are split into fixed blocks of 256 columns run in parallel.
    /// </summary>
    public static void ColumnSums<T>(T[] a, int offset, int rows, int cols, T[] sums)
        where T : unmanaged, INumberBase<T>
    {
        var action = new ColumnSumAction<T>(a, offset, rows, cols, sums);
        int blocks = (cols + ColumnSumAction<T>.Block - 1) / ColumnSumAction<T>.Block;
        if ((long)rows * cols < 1 << 18 || blocks == 1)
            for (int b = 0; b < blocks; b++) action.Invoke(b);
        else NtkParallel.For(blocks, ref action);
    }

    private readonly struct ColumnSumAction<T>(T[] a, int offset, int rows, int cols, T[] sums) : IParallelAction
        where T : unmanaged, INumberBase<T>
    {
        public const int Block = 256;

        public void Invoke(int index)
        {
            int c0 = index * Block, len = Math.Min(Block, cols - c0);
            Span<T> s = sums.AsSpan(c0, len);
            s.Clear();
            for (int i = 0; i < rows; i++) TensorPrimitives.Add(s, a.AsSpan(offset + i * cols + c0, len), s);
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
