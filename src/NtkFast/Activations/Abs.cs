using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// abs(x) = |x|; abs'(x) = sign(x), so abs'(0) = 0 (torch). Dual kernel: (2/π)(S + b·asin ρ) and
/// (2/π)·asin ρ (the A = −1 member of <see cref="ArcCosine"/>).
/// </summary>
public sealed class Abs : Activation
{
    public static Abs Instance { get; } = new();
    public override string Name => "abs";
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => Math.Abs(x);
    public override double Derivative(double x) => x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<double>, double>(x, -1.0, y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<float>, float>(x, -1f, y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.Map<SignOp<double>, double>(x, d);
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.Map<SignOp<float>, float>(x, d);
    public override DualValue Dual(double a, double b, double c) => ArcCosine.Dual(-1.0, 0.0, a, b, c);
    /// <summary>Vectorised over j (see <see cref="BatchedDual"/>).</summary>
    public override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        BatchedDual.ArcCosineRow(-1.0, 0.0, a, b, c, ess, edd);
    }
}
