using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// erf(x); erf'(x) = (2/√π)·e^{−x²}. Dual kernel (Williams 1997), with D = ac − b² (Kahan):
///   E[erf u · erf v]   = (2/π)·asin(2b/√((1 + 2a)(1 + 2c))) = (2/π)·atan2(2b, √(1 + 2a + 2c + 4D))
///   E[erf' u · erf' v] = (4/π)/√(1 + 2a + 2c + 4D)
/// The atan2 form is exact where asin of the rounded ratio loses digits (ratio → ±1).
/// </summary>
public sealed class Erf : ElementwiseActivation<ErfOp<double>, ErfOp<float>, ErfDerivativeOp<double>, ErfDerivativeOp<float>>
{
    public static Erf Instance { get; } = new();
    public override string Name => "erf";

    public override DualValue Dual(double a, double b, double c)
    {
        a = a > 0 ? a : 0.0;
        c = c > 0 ? c : 0.0;
        double sac = Math.Sqrt(a) * Math.Sqrt(c);
        double q = 1.0 + 2.0 * (a + c) + 4.0 * SpecialFunctions.Discriminant(a, b, c); // unclipped b (see ArcCosine)
        b = Math.Clamp(b, -sac, sac);
        double r = Math.Sqrt(q);
        return new DualValue((2.0 / Math.PI) * Math.Atan2(2.0 * b, r), (4.0 / Math.PI) / r);
    }

    /// <summary>Vectorised over j (see <see cref="BatchedDual"/>).</summary>
    public override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        BatchedDual.ErfRow(a, b, c, ess, edd);
    }
}

/// <summary>erf(x): scalar from <see cref="SpecialFunctions.Erf"/>, vector lanes from <see cref="ErrorFunction256"/> (fdlibm rationals).</summary>
public readonly struct ErfOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => ActivationMath.Erf(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => ActivationMath.Erf(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => ActivationMath.Erf(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => ActivationMath.Erf(x);
}

/// <summary>erf'(x) = (2/√π)·e^{−x²}.</summary>
public readonly struct ErfDerivativeOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T C => T.CreateTruncating(SpecialFunctions.TwoOverSqrtPi);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => C * T.Exp(-(x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Create(C) * ActivationMath.Exp(-(x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Create(C) * ActivationMath.Exp(-(x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Create(C) * ActivationMath.Exp(-(x * x));
}
