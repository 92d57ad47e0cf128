using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Numerics;

namespace NtkFast.Activations;

// Element-wise operators of the smooth activations. Each is written to stay accurate in relative
// terms over the whole real line (no 1 − t² cancellation, no log(1 + tiny)); the vector forms use
// the runtime's Vector*.Exp/Log and agree with the scalar forms to a few ulps (tested).

/// <summary>tanh(x) = −sign(x)·m/(2 + m), m = expm1(−2|x|).</summary>
public readonly struct TanhOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T Two => T.CreateTruncating(2);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => T.Tanh(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x) { Vector128<T> m = SmoothMath.Expm1(Vector128.Create(-Two) * Vector128.Abs(x)); return Vector128.CopySign(-m / (Vector128.Create(Two) + m), x); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x) { Vector256<T> m = SmoothMath.Expm1(Vector256.Create(-Two) * Vector256.Abs(x)); return Vector256.CopySign(-m / (Vector256.Create(Two) + m), x); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x) { Vector512<T> m = SmoothMath.Expm1(Vector512.Create(-Two) * Vector512.Abs(x)); return Vector512.CopySign(-m / (Vector512.Create(Two) + m), x); }
}

/// <summary>tanh'(x) = sech²x = 4e/(1 + e)², e = exp(−2|x|).</summary>
public readonly struct TanhDerivativeOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T Two => T.CreateTruncating(2);
    private static T Four => T.CreateTruncating(4);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) { T e = T.Exp(-Two * T.Abs(x)); T d = T.One + e; return Four * e / (d * d); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x) { Vector128<T> e = ActivationMath.Exp(Vector128.Create(-Two) * Vector128.Abs(x)); Vector128<T> d = Vector128<T>.One + e; return Vector128.Create(Four) * e / (d * d); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x) { Vector256<T> e = ActivationMath.Exp(Vector256.Create(-Two) * Vector256.Abs(x)); Vector256<T> d = Vector256<T>.One + e; return Vector256.Create(Four) * e / (d * d); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x) { Vector512<T> e = ActivationMath.Exp(Vector512.Create(-Two) * Vector512.Abs(x)); Vector512<T> d = Vector512<T>.One + e; return Vector512.Create(Four) * e / (d * d); }
}

/// <summary>sigmoid(x) = 1/(1 + e^{−x}).</summary>
public readonly struct SigmoidOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => T.One / (T.One + T.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Vector128<T>.One / (Vector128<T>.One + ActivationMath.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.One / (Vector256<T>.One + ActivationMath.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / (Vector512<T>.One + ActivationMath.Exp(-x));
}

/// <summary>sigmoid'(x) = e/(1 + e)², e = exp(−|x|).</summary>
public readonly struct SigmoidDerivativeOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) { T e = T.Exp(-T.Abs(x)); T d = T.One + e; return e / (d * d); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) { Vector128<T> e = ActivationMath.Exp(-Vector128.Abs(x)); Vector128<T> d = Vector128<T>.One + e; return e / (d * d); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) { Vector256<T> e = ActivationMath.Exp(-Vector256.Abs(x)); Vector256<T> d = Vector256<T>.One + e; return e / (d * d); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) { Vector512<T> e = ActivationMath.Exp(-Vector512.Abs(x)); Vector512<T> d = Vector512<T>.One + e; return e / (d * d); }
}

/// <summary>softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}), log1p(y) = log(1 + y)·y/((1 + y) − 1).</summary>
public readonly struct SoftplusOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke(T x)
    {
        T y = T.Exp(-T.Abs(x));
        T u = T.One + y;
        T l = u == T.One ? y : T.Log(u) * (y / (u - T.One));
        return T.Max(x, T.Zero) + l;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x)
    {
        Vector128<T> y = ActivationMath.Exp(-Vector128.Abs(x)), u = Vector128<T>.One + y;
        Vector128<T> l = Vector128.ConditionalSelect(Vector128.Equals(u, Vector128<T>.One), y, ActivationMath.Log(u) * (y / (u - Vector128<T>.One)));
        return Vector128.Max(x, Vector128<T>.Zero) + l;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x)
    {
        Vector256<T> y = ActivationMath.Exp(-Vector256.Abs(x)), u = Vector256<T>.One + y;
        Vector256<T> l = Vector256.ConditionalSelect(Vector256.Equals(u, Vector256<T>.One), y, ActivationMath.Log(u) * (y / (u - Vector256<T>.One)));
        return Vector256.Max(x, Vector256<T>.Zero) + l;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x)
    {
        Vector512<T> y = ActivationMath.Exp(-Vector512.Abs(x)), u = Vector512<T>.One + y;
        Vector512<T> l = Vector512.ConditionalSelect(Vector512.Equals(u, Vector512<T>.One), y, ActivationMath.Log(u) * (y / (u - Vector512<T>.One)));
        return Vector512.Max(x, Vector512<T>.Zero) + l;
    }
}

/// <summary>silu(x) = x·sigmoid(x).</summary>
public readonly struct SiluOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) => x / (T.One + T.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => x / (Vector128<T>.One + ActivationMath.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => x / (Vector256<T>.One + ActivationMath.Exp(-x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => x / (Vector512<T>.One + ActivationMath.Exp(-x));
}

/// <summary>silu'(x) = s·(1 + x·(1 − s)), s = sigmoid(x), 1 − s = sigmoid(−x) = 1/(1 + eˣ).</summary>
public readonly struct SiluDerivativeOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke(T x) { T s = T.One / (T.One + T.Exp(-x)); T t = T.One / (T.One + T.Exp(x)); return s * (T.One + x * t); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x) { Vector128<T> s = Vector128<T>.One / (Vector128<T>.One + ActivationMath.Exp(-x)); Vector128<T> t = Vector128<T>.One / (Vector128<T>.One + ActivationMath.Exp(x)); return s * (Vector128<T>.One + x * t); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x) { Vector256<T> s = Vector256<T>.One / (Vector256<T>.One + ActivationMath.Exp(-x)); Vector256<T> t = Vector256<T>.One / (Vector256<T>.One + ActivationMath.Exp(x)); return s * (Vector256<T>.One + x * t); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x) { Vector512<T> s = Vector512<T>.One / (Vector512<T>.One + ActivationMath.Exp(-x)); Vector512<T> t = Vector512<T>.One / (Vector512<T>.One + ActivationMath.Exp(x)); return s * (Vector512<T>.One + x * t); }
}

/// <summary>elu(x) = x for x &gt; 0, A·expm1(x) otherwise (A is the driver's scalar argument).</summary>
public readonly struct EluOp<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T a) => x > T.Zero ? x : a * SmoothMath.Expm1(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), x, a * SmoothMath.Expm1(Vector128.Min(x, Vector128<T>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, a * SmoothMath.Expm1(Vector256.Min(x, Vector256<T>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, a * SmoothMath.Expm1(Vector512.Min(x, Vector512<T>.Zero)));
}

/// <summary>elu'(x) = 1 for x &gt; 0, A·eˣ otherwise (so elu'(0) = A, torch).</summary>
public readonly struct EluDerivativeOp<T> : IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x, T a) => x > T.Zero ? T.One : a * T.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> a) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), Vector128<T>.One, a * ActivationMath.Exp(Vector128.Min(x, Vector128<T>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> a) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), Vector256<T>.One, a * ActivationMath.Exp(Vector256.Min(x, Vector256<T>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> a) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), Vector512<T>.One, a * ActivationMath.Exp(Vector512.Min(x, Vector512<T>.Zero)));
}

/// <summary>gelu(x) = x·Φ(x) (exact, erfc-based).</summary>
public readonly struct GeluOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T Half => T.CreateTruncating(0.5);
    private static T InvSqrt2 => T.CreateTruncating(SpecialFunctions.InvSqrt2);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) { double d = double.CreateTruncating(x); return T.CreateTruncating(d * SpecialFunctions.Phi(d)); }
    // Vector lanes: x·(½·erfc(−x/√2)) in double (float lanes widened), the scalar's expression with fdlibm's erfc.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => x * (Vector128.Create(Half) * ActivationMath.Erfc(-x * Vector128.Create(InvSqrt2)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => x * (Vector256.Create(Half) * ActivationMath.Erfc(-x * Vector256.Create(InvSqrt2)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => x * (Vector512.Create(Half) * ActivationMath.Erfc(-x * Vector512.Create(InvSqrt2)));
}

/// <summary>gelu'(x) = Φ(x) + x·φ(x).</summary>
public readonly struct GeluDerivativeOp<T> : IUnaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static T Half => T.CreateTruncating(0.5);
    private static T InvSqrt2 => T.CreateTruncating(SpecialFunctions.InvSqrt2);
    private static T InvSqrt2Pi => T.CreateTruncating(SpecialFunctions.InvSqrt2Pi);
    public static bool Vectorizable => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Invoke(T x) { double d = double.CreateTruncating(x); return T.CreateTruncating(SpecialFunctions.Phi(d) + d * SpecialFunctions.PhiDensity(d)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Create(Half) * ActivationMath.Erfc(-x * Vector128.Create(InvSqrt2)) + x * (Vector128.Create(InvSqrt2Pi) * ActivationMath.Exp(Vector128.Create(-Half) * x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Create(Half) * ActivationMath.Erfc(-x * Vector256.Create(InvSqrt2)) + x * (Vector256.Create(InvSqrt2Pi) * ActivationMath.Exp(Vector256.Create(-Half) * x * x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Create(Half) * ActivationMath.Erfc(-x * Vector512.Create(InvSqrt2)) + x * (Vector512.Create(InvSqrt2Pi) * ActivationMath.Exp(Vector512.Create(-Half) * x * x));
}
