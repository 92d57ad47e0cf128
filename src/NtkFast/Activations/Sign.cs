using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// sign(x) ∈ {−1, 0, 1} (sign(0) = 0); sign' = 0 everywhere (torch), so E[σ'σ'] = 0.
/// Dual kernel: E[sign u · sign v] = (2/π)·asin ρ = (2/π)·atan2(b, √(ac − b²)); 0 if a variance is 0.
/// </summary>
public sealed class Sign : Activation
{
    public static Sign Instance { get; } = new();
    public override string Name => "sign";
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => x > 0 ? 1.0 : x < 0 ? -1.0 : x;
    public override double Derivative(double x) => 0.0;
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.Map<SignOp<double>, double>(x, y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.Map<SignOp<float>, float>(x, y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) { CheckLength(x.Length, d.Length); d[..x.Length].Clear(); }
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) { CheckLength(x.Length, d.Length); d[..x.Length].Clear(); }

    public override DualValue Dual(double a, double b, double c)
    {
        if (!(a > 0) || !(c > 0)) return new DualValue(0.0, 0.0);
        double sac = Math.Sqrt(a) * Math.Sqrt(c);
        double s = Math.Sqrt(SpecialFunctions.Discriminant(a, b, c)); // unclipped b (see ArcCosine)
        b = Math.Clamp(b, -sac, sac);
        return new DualValue(Math.Atan2(b, s) * (2.0 / Math.PI), 0.0);
    }

    /// <summary>Vectorised over j (see <see cref="BatchedDual"/>).</summary>
    public override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        BatchedDual.SignRow(a, b, c, ess, edd);
    }
}
