using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Numerics;

namespace NtkFast.Activations;

// Element-wise operators of the piecewise-linear family, run by ElementwiseDriver.
// The slope A comes in as the driver's scalar second argument (MapScalar), since operators carry no state.
// Scalar and vector forms are the same IEEE operations (compare, select, multiply), so they agree bitwise.

/// <summary>σ(x) = x for x &gt; 0, A·x otherwise (relu: A = 0; abs: A = −1). NaN propagates.</summary>
internal readonly struct PiecewiseLinearOp<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T a) => x > T.Zero ? x : x * a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), x, x * a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, x * a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, x * a);
}

/// <summary>σ'(x) = 1 for x &gt; 0, A for x &lt; 0, and at 0 the torch value A (leaky_relu, relu with A = 0).</summary>
internal readonly struct PiecewiseLinearDerivativeOp<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T a) => x > T.Zero ? T.One : a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), Vector128<T>.One, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), Vector256<T>.One, a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), Vector512<T>.One, a);
}

/// <summary>sign(x) ∈ {−1, 0, 1} (torch: sign(0) = 0); also abs'(x), since torch's abs backward is sign(x).</summary>
internal readonly struct SignOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => x > T.Zero ? T.One : x < T.Zero ? T.NegativeOne : x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), Vector128<T>.One, Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<T>.Zero), -Vector128<T>.One, x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), Vector256<T>.One, Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -Vector256<T>.One, x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), Vector512<T>.One, Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -Vector512<T>.One, x));
}
