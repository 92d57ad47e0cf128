using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

// Basic operators for the ElementwiseDriver. For a lone +, ×, exp … over spans, call
// System.Numerics.Tensors.TensorPrimitives directly (it is as fast); these exist so fused
// loops can be composed and so the drivers have operators to be tested and benchmarked with.

/// <summary>x + y.</summary>
public readonly struct AddOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x + y;
}

/// <summary>x · y.</summary>
public readonly struct MultiplyOperator<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => x * y;
}

/// <summary>x · y + z, fused (one rounding) on every path.</summary>
public readonly struct MultiplyAddOperator<T> : ITernaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T y, T z) => VectorMath.Fma(x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> y, Vector128<T> z) => VectorMath.Fma(x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> y, Vector256<T> z) => VectorMath.Fma(x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> z) => VectorMath.Fma(x, y, z);
}

/// <summary>x².</summary>
public readonly struct SquareOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => x * x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => x * x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => x * x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => x * x;
}

/// <summary>max(x, 0) with max(−0, 0) = 0 and NaN propagated — a reference nonlinearity for driver tests and benchmarks.</summary>
public readonly struct ReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => x > T.Zero ? x : (T.IsNaN(x) ? x : T.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero) | ~Vector128.Equals(x, x), x, Vector128<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero) | ~Vector256.Equals(x, x), x, Vector256<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero) | ~Vector512.Equals(x, x), x, Vector512<T>.Zero);
}
