using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// mish(x) = x·tanh(softplus(x)) (Misra 2019); smooth, dual kernel by the Mehler series / quadrature.
/// With e = eˣ and n = e(e + 2), tanh(softplus(x)) = n/(n + 2) exactly, which keeps relative accuracy on
/// the whole line (≈ x·eˣ for x → −∞, no 1 − tiny); e is taken at min(x, 20), where n/(n + 2) already
/// rounds to 1 in float and double.
/// </summary>
public sealed class Mish : SmoothActivation<MishOp<double>, MishOp<float>, MishDerivativeOp<double>, MishDerivativeOp<float>>
{
    public static Mish Instance { get; } = new();
    public override string Name => "mish";
}

/// <summary>mish(x) = x·n/(n + 2), n = e(e + 2), e = exp(min(x, 20)).</summary>
public readonly struct MishOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal static T Cut => T.CreateTruncating(20);
    private static T Two => T.CreateTruncating(2);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke(T x) { T e = T.Exp(T.Min(x, Cut)); T n = e * (e + Two); return x * (n / (n + Two)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x) { Vector128<T> e = ActivationMath.Exp(Vector128.Min(x, Vector128.Create(Cut))), two = Vector128.Create(Two), n = e * (e + two); return x * (n / (n + two)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x) { Vector256<T> e = ActivationMath.Exp(Vector256.Min(x, Vector256.Create(Cut))), two = Vector256.Create(Two), n = e * (e + two); return x * (n / (n + two)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x) { Vector512<T> e = ActivationMath.Exp(Vector512.Min(x, Vector512.Create(Cut))), two = Vector512.Create(Two), n = e * (e + two); return x * (n / (n + two)); }
}

/// <summary>
/// mish'(x) = t + x·sech²(softplus x)·sigmoid(x) = n/(n + 2) + x·4(n + 1)/(n + 2)²·e/(1 + e); 1 for x &gt; 20
/// (where the second term is below x·2e−17).
/// </summary>
public readonly struct MishDerivativeOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T Two => T.CreateTruncating(2);
    private static T Four => T.CreateTruncating(4);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke(T x)
    {
        T e = T.Exp(T.Min(x, MishOp<T>.Cut)), n = e * (e + Two), q = n + Two;
        T d = n / q + x * (Four * (n + T.One) / (q * q)) * (e / (T.One + e));
        return x > MishOp<T>.Cut ? T.One : d;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x)
    {
        Vector128<T> cut = Vector128.Create(MishOp<T>.Cut), one = Vector128<T>.One;
        Vector128<T> e = ActivationMath.Exp(Vector128.Min(x, cut)), n = e * (e + Vector128.Create(Two)), q = n + Vector128.Create(Two);
        Vector128<T> d = n / q + x * (Vector128.Create(Four) * (n + one) / (q * q)) * (e / (one + e));
        return Vector128.ConditionalSelect(Vector128.GreaterThan(x, cut), one, d);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x)
    {
        Vector256<T> cut = Vector256.Create(MishOp<T>.Cut), one = Vector256<T>.One;
        Vector256<T> e = ActivationMath.Exp(Vector256.Min(x, cut)), n = e * (e + Vector256.Create(Two)), q = n + Vector256.Create(Two);
        Vector256<T> d = n / q + x * (Vector256.Create(Four) * (n + one) / (q * q)) * (e / (one + e));
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, cut), one, d);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x)
    {
        Vector512<T> cut = Vector512.Create(MishOp<T>.Cut), one = Vector512<T>.One;
        Vector512<T> e = ActivationMath.Exp(Vector512.Min(x, cut)), n = e * (e + Vector512.Create(Two)), q = n + Vector512.Create(Two);
        Vector512<T> d = n / q + x * (Vector512.Create(Four) * (n + one) / (q * q)) * (e / (one + e));
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, cut), one, d);
    }
}
