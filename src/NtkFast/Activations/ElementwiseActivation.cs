using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// An activation with a closed-form dual whose value and derivative are element-wise operator structs
/// (<see cref="IUnaryOperator{T}"/>, one per precision): the scalar and span members come from the
/// operators, so a new activation writes only its operators and <see cref="Activation.Dual(double, double, double)"/>.
/// </summary>
/// <typeparam name="TValue">σ in double.</typeparam>
/// <typeparam name="TValueF">σ in float.</typeparam>
/// <typeparam name="TDerivative">σ' in double.</typeparam>
/// <typeparam name="TDerivativeF">σ' in float.</typeparam>
public abstract class ElementwiseActivation<TValue, TValueF, TDerivative, TDerivativeF> : Activation
    where TValue : struct, IUnaryOperator<double>
    where TValueF : struct, IUnaryOperator<float>
    where TDerivative : struct, IUnaryOperator<double>
    where TDerivativeF : struct, IUnaryOperator<float>
{
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => TValue.Invoke(x);
    public override double Derivative(double x) => TDerivative.Invoke(x);
    public sealed override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.Map<TValue, double>(x, y);
    public sealed override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.Map<TValueF, float>(x, y);
    public sealed override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.Map<TDerivative, double>(x, d);
    public sealed override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.Map<TDerivativeF, float>(x, d);
}

/// <summary>
/// A smooth activation from element-wise operator structs whose dual kernel comes from quadrature
/// (<see cref="QuadratureActivation"/>: the Mehler series where certified). A new smooth activation is
/// its operators plus <c>public sealed class Name : SmoothActivation&lt;…&gt; { Instance, Name }</c>.
/// </summary>
/// <inheritdoc cref="ElementwiseActivation{TValue, TValueF, TDerivative, TDerivativeF}"/>
public abstract class SmoothActivation<TValue, TValueF, TDerivative, TDerivativeF> : QuadratureActivation
    where TValue : struct, IUnaryOperator<double>
    where TValueF : struct, IUnaryOperator<float>
    where TDerivative : struct, IUnaryOperator<double>
    where TDerivativeF : struct, IUnaryOperator<float>
{
    public override double Value(double x) => TValue.Invoke(x);
    public override double Derivative(double x) => TDerivative.Invoke(x);
    public sealed override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.Map<TValue, double>(x, y);
    public sealed override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.Map<TValueF, float>(x, y);
    public sealed override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.Map<TDerivative, double>(x, d);
    public sealed override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.Map<TDerivativeF, float>(x, d);
}

/// <summary>
/// A piecewise-linear activation x for x &gt; 0, A·x otherwise, with the arc-cosine closed form
/// (<see cref="ArcCosine"/>, batched in <see cref="BatchedDual"/>); relu is A = 0, leaky_relu any A.
/// Derivative at 0 is A (torch).
/// </summary>
public abstract class PiecewiseLinearActivation : Activation
{
    protected PiecewiseLinearActivation(double slope)
    {
        if (!double.IsFinite(slope)) throw new ArgumentException($"leaky_relu slope must be finite, got {slope}.", nameof(slope));
        Slope = slope;
    }

    /// <summary>The negative-side slope A.</summary>
    public double Slope { get; }
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => x > 0 ? x : x * Slope;
    public override double Derivative(double x) => x > 0 ? 1.0 : Slope;
    public sealed override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<double>, double>(x, Slope, y);
    public sealed override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<float>, float>(x, (float)Slope, y);
    public sealed override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.MapScalar<PiecewiseLinearDerivativeOp<double>, double>(x, Slope, d);
    public sealed override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.MapScalar<PiecewiseLinearDerivativeOp<float>, float>(x, (float)Slope, d);
    public sealed override DualValue Dual(double a, double b, double c) => ArcCosine.Dual(Slope, Slope, a, b, c);
    /// <summary>Vectorised over j (see <see cref="BatchedDual"/>).</summary>
    public sealed override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        BatchedDual.ArcCosineRow(Slope, Slope, a, b, c, ess, edd);
    }
}
