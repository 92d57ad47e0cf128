using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// An element-wise function y = f(x), written once as a struct and run by
/// <see cref="ElementwiseDriver"/>, which owns width selection (512 → 256 → 128 → scalar),
/// tails and in-place use. Operators never see tails or lengths.
/// </summary>
/// <remarks>
/// Implementations are <c>readonly struct</c>s whose static members are small enough to inline
/// (mark them <c>[MethodImpl(MethodImplOptions.AggressiveInlining)]</c>): a Vector512 passed by value
/// to a call that is not inlined is spilled to the stack, which on this machine can cost 3×
/// (see docs/machines.md). When <see cref="Vectorizable"/> is false the driver only calls the
/// scalar <see cref="Invoke(T)"/>, and the vector members may throw.
/// </remarks>
public interface IUnaryOperator<T>
{
    /// <summary>Whether the vector overloads are implemented (false: the driver runs scalar code).</summary>
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x);
    static abstract Vector128<T> Invoke(Vector128<T> x);
    static abstract Vector256<T> Invoke(Vector256<T> x);
    static abstract Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>An element-wise function z = f(x, y); see <see cref="IUnaryOperator{T}"/>.</summary>
public interface IBinaryOperator<T>
{
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x, T y);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}

/// <summary>An element-wise function w = f(x, y, z); see <see cref="IUnaryOperator{T}"/>.</summary>
public interface ITernaryOperator<T>
{
    static abstract bool Vectorizable { get; }
    static abstract T Invoke(T x, T y, T z);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y, Vector128<T> z);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y, Vector256<T> z);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> z);
}
