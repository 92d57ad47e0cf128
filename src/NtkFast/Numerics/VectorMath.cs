using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// Generic fused multiply-add (a·b + c, one rounding) for float and double vectors and scalars.
/// The typeof tests are JIT-time constants, so each call compiles to one vfmadd instruction.
/// Every kernel that promises identical results across ISA paths uses these (and the scalar
/// <see cref="Fma{T}(T, T, T)"/>, i.e. Math.FusedMultiplyAdd), never multiply-then-add.
/// </summary>
internal static class VectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Fma<T>(T a, T b, T c)
    {
        if (typeof(T) == typeof(double))
            return (T)(object)Math.FusedMultiplyAdd((double)(object)a!, (double)(object)b!, (double)(object)c!);
        if (typeof(T) == typeof(float))
            return (T)(object)MathF.FusedMultiplyAdd((float)(object)a!, (float)(object)b!, (float)(object)c!);
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        throw new NotSupportedException();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Fma<T>(Vector128<T> a, Vector128<T> b, Vector128<T> c)
    {
        if (typeof(T) == typeof(double))
            return Vector128.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        if (typeof(T) == typeof(float))
            return Vector128.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        throw new NotSupportedException();
    }
}
