using System.Globalization;
using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// leaky_relu(x) = x for x &gt; 0, A·x otherwise (default A = 0.01); leaky_relu'(0) = A (torch).
/// Dual kernel: (1 + A²)·k(b) − 2A·k(−b) and A + (1 − A)²(π − θ)/(2π) (see <see cref="ArcCosine"/>).
/// </summary>
public sealed class LeakyRelu : Activation
{
    public const double DefaultSlope = 0.01;

    public LeakyRelu(double slope = DefaultSlope)
    {
        if (!double.IsFinite(slope)) throw new ArgumentException($"leaky_relu slope must be finite, got {slope}.", nameof(slope));
        Slope = slope;
    }

    /// <summary>The negative-side slope A.</summary>
    public double Slope { get; }
    public override string Name => "leaky_relu:" + Slope.ToString("R", CultureInfo.InvariantCulture);
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => x > 0 ? x : x * Slope;
    public override double Derivative(double x) => x > 0 ? 1.0 : Slope;
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<double>, double>(x, Slope, y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.MapScalar<PiecewiseLinearOp<float>, float>(x, (float)Slope, y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.MapScalar<PiecewiseLinearDerivativeOp<double>, double>(x, Slope, d);
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.MapScalar<PiecewiseLinearDerivativeOp<float>, float>(x, (float)Slope, d);
    public override DualValue Dual(double a, double b, double c) => ArcCosine.Dual(Slope, Slope, a, b, c);
    /// <summary>Vectorised over j (see <see cref="BatchedDual"/>).</summary>
    public override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        BatchedDual.ArcCosineRow(Slope, Slope, a, b, c, ess, edd);
    }
}
