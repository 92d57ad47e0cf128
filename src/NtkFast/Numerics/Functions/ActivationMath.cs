using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// Generic (float/double) vector wrappers over the deterministic <see cref="Elementary256"/> family
/// (the typeof tests are JIT-time constants), used by the activation operators.
/// </summary>
internal static class ActivationMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x) => typeof(T) == typeof(double)
        ? Elementary512.Exp(x.As<T, double>()).As<double, T>()
        : Elementary512.Exp(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) => typeof(T) == typeof(double)
        ? Elementary256.Exp(x.As<T, double>()).As<double, T>()
        : Elementary256.Exp(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Exp<T>(Vector128<T> x) => typeof(T) == typeof(double)
        ? Elementary128.Exp(x.As<T, double>()).As<double, T>()
        : Elementary128.Exp(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> x) => typeof(T) == typeof(double)
        ? Elementary512.Log(x.As<T, double>()).As<double, T>()
        : Elementary512.Log(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> x) => typeof(T) == typeof(double)
        ? Elementary256.Log(x.As<T, double>()).As<double, T>()
        : Elementary256.Log(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Log<T>(Vector128<T> x) => typeof(T) == typeof(double)
        ? Elementary128.Log(x.As<T, double>()).As<double, T>()
        : Elementary128.Log(x.As<T, float>()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Erf<T>(Vector512<T> x) => typeof(T) == typeof(double)
        ? ErrorFunction512.Erf(x.As<T, double>()).As<double, T>()
        : ErrorFunction512.Erf(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Erf<T>(Vector256<T> x) => typeof(T) == typeof(double)
        ? ErrorFunction256.Erf(x.As<T, double>()).As<double, T>()
        : ErrorFunction256.Erf(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Erf<T>(Vector128<T> x) => typeof(T) == typeof(double)
        ? ErrorFunction128.Erf(x.As<T, double>()).As<double, T>()
        : ErrorFunction128.Erf(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Erfc<T>(Vector512<T> x) => typeof(T) == typeof(double)
        ? ErrorFunction512.Erfc(x.As<T, double>()).As<double, T>()
        : ErrorFunction512.Erfc(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Erfc<T>(Vector256<T> x) => typeof(T) == typeof(double)
        ? ErrorFunction256.Erfc(x.As<T, double>()).As<double, T>()
        : ErrorFunction256.Erfc(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Erfc<T>(Vector128<T> x) => typeof(T) == typeof(double)
        ? ErrorFunction128.Erfc(x.As<T, double>()).As<double, T>()
        : ErrorFunction128.Erfc(x.As<T, float>()).As<float, T>();

    /// <summary>Scalar erf in T (computed in double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Erf<T>(T x) where T : IFloatingPointIeee754<T> => T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x)));
}

internal static class Trig
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sin<T>(Vector512<T> x) => typeof(T) == typeof(double) ? Elementary512.Sin(x.As<T, double>()).As<double, T>() : Elementary512.Sin(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sin<T>(Vector256<T> x) => typeof(T) == typeof(double) ? Elementary256.Sin(x.As<T, double>()).As<double, T>() : Elementary256.Sin(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Sin<T>(Vector128<T> x) => typeof(T) == typeof(double) ? Elementary128.Sin(x.As<T, double>()).As<double, T>() : Elementary128.Sin(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Cos<T>(Vector512<T> x) => typeof(T) == typeof(double) ? Elementary512.Cos(x.As<T, double>()).As<double, T>() : Elementary512.Cos(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Cos<T>(Vector256<T> x) => typeof(T) == typeof(double) ? Elementary256.Cos(x.As<T, double>()).As<double, T>() : Elementary256.Cos(x.As<T, float>()).As<float, T>();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Cos<T>(Vector128<T> x) => typeof(T) == typeof(double) ? Elementary128.Cos(x.As<T, double>()).As<double, T>() : Elementary128.Cos(x.As<T, float>()).As<float, T>();
}

/// <summary>
/// Vector eˣ − 1, tanh, log(1 + eˣ) pieces that stay accurate near 0 (Taylor polynomial of expm1 on
/// |x| ≤ 0.5, truncation below 1e−20; exp(x) − 1 outside), generic over float/double.
/// </summary>
internal static class SmoothMath
{
    // 1/k! for k = 1…17: expm1(x) = x·Σ_{j=0}^{16} x^j/(j+1)!
    private static readonly double[] s_invFact = Build();

    private static double[] Build()
    {
        double[] f = new double[18];
        double p = 1;
        for (int k = 1; k <= 17; k++) { p *= k; f[k] = 1.0 / p; }
        return f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Expm1<T>(T x) where T : IFloatingPointIeee754<T> => T.CreateTruncating(SpecialFunctions.Expm1(double.CreateTruncating(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Expm1<T>(Vector512<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> p = Vector512.Create(T.CreateTruncating(s_invFact[17]));
        for (int k = 16; k >= 1; k--) p = VectorMath.Fma(p, x, Vector512.Create(T.CreateTruncating(s_invFact[k])));
        Vector512<T> small = p * x;
        Vector512<T> big = ActivationMath.Exp(x) - Vector512<T>.One;
        return Vector512.ConditionalSelect(Vector512.LessThanOrEqual(Vector512.Abs(x), Vector512.Create(T.CreateTruncating(0.5))), small, big);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Expm1<T>(Vector256<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector256<T> p = Vector256.Create(T.CreateTruncating(s_invFact[17]));
        for (int k = 16; k >= 1; k--) p = VectorMath.Fma(p, x, Vector256.Create(T.CreateTruncating(s_invFact[k])));
        Vector256<T> small = p * x;
        Vector256<T> big = ActivationMath.Exp(x) - Vector256<T>.One;
        return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(Vector256.Abs(x), Vector256.Create(T.CreateTruncating(0.5))), small, big);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Expm1<T>(Vector128<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector128<T> p = Vector128.Create(T.CreateTruncating(s_invFact[17]));
        for (int k = 16; k >= 1; k--) p = VectorMath.Fma(p, x, Vector128.Create(T.CreateTruncating(s_invFact[k])));
        Vector128<T> small = p * x;
        Vector128<T> big = ActivationMath.Exp(x) - Vector128<T>.One;
        return Vector128.ConditionalSelect(Vector128.LessThanOrEqual(Vector128.Abs(x), Vector128.Create(T.CreateTruncating(0.5))), small, big);
    }
}
