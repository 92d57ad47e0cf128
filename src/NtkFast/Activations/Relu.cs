using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// relu(x) = max(x, 0); relu'(0) = 0 (torch). Dual kernel: the degree-1 and degree-0 arc-cosine
/// kernels, (S + (π − θ)b)/(2π) and (π − θ)/(2π) (see <see cref="ArcCosine"/>).
/// </summary>
public sealed class Relu : Activation
{
    public static Relu Instance { get; } = new();
    public override string Name => "relu";
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => x > 0 ? x : x * 0.0;
    public override double Derivative(double x) => x > 0 ? 1.0 : 0.0;
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<double>, double>(x, 0.0, y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<float>, float>(x, 0f, y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.MapScalar<PiecewiseLinearDerivativeOp<double>, double>(x, 0.0, d);
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.MapScalar<PiecewiseLinearDerivativeOp<float>, float>(x, 0f, d);
    public override DualValue Dual(double a, double b, double c) => ArcCosine.Dual(0.0, 0.0, a, b, c);
    /// <summary>Vectorised over j (see <see cref="BatchedDual"/>).</summary>
    public override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        BatchedDual.ArcCosineRow(0.0, 0.0, a, b, c, ess, edd);
    }
}
