using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// Gaussian expectations of sin/cos products, m = (a + c)/2:
/// E[sin u sin v] = e^{−m}·sinh b, E[cos u cos v] = e^{−m}·cosh b (written as e^{±b−m}/2 so
/// nothing overflows: |b| ≤ m).
/// </summary>
internal static class SinCosDual
{
    public static (double SinSin, double CosCos) Get(double a, double b, double c)
    {
        a = a > 0 ? a : 0.0;
        c = c > 0 ? c : 0.0;
        double sac = Math.Sqrt(a) * Math.Sqrt(c);
        b = Math.Clamp(b, -sac, sac);
        double m = 0.5 * (a + c);
        double ab = Math.Abs(b);
        double p = Math.Exp(ab - m), q = Math.Exp(-ab - m);
        double sinh = ab < 1 ? Math.Exp(-m) * Math.Sinh(ab) : 0.5 * (p - q);
        return (b < 0 ? -sinh : sinh, 0.5 * (p + q));
    }
}

/// <summary>sin(x); derivative cos(x). Dual kernel: (e^{−m} sinh b, e^{−m} cosh b), m = (a + c)/2.</summary>
public sealed class Sin : ElementwiseActivation<SinOp<double>, SinOp<float>, CosOp<double>, CosOp<float>>
{
    public static Sin Instance { get; } = new();
    public override string Name => "sin";
    public override DualValue Dual(double a, double b, double c)
    {
        (double ss, double cc) = SinCosDual.Get(a, b, c);
        return new DualValue(ss, cc);
    }
}

/// <summary>cos(x); derivative −sin(x). Dual kernel: (e^{−m} cosh b, e^{−m} sinh b), m = (a + c)/2.</summary>
public sealed class Cos : ElementwiseActivation<CosOp<double>, CosOp<float>, NegSinOp<double>, NegSinOp<float>>
{
    public static Cos Instance { get; } = new();
    public override string Name => "cos";
    public override DualValue Dual(double a, double b, double c)
    {
        (double ss, double cc) = SinCosDual.Get(a, b, c);
        return new DualValue(cc, ss);
    }
}

/// <summary>sin(x).</summary>
public readonly struct SinOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => T.Sin(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Trig.Sin(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Trig.Sin(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Trig.Sin(x);
}

/// <summary>cos(x).</summary>
public readonly struct CosOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => T.Cos(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Trig.Cos(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Trig.Cos(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Trig.Cos(x);
}

/// <summary>−sin(x).</summary>
public readonly struct NegSinOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => -T.Sin(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => -Trig.Sin(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => -Trig.Sin(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => -Trig.Sin(x);
}
