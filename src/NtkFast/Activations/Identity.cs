namespace NtkFast.Activations;

/// <summary>σ(x) = x; dual kernel E[uv] = b, E[1·1] = 1.</summary>
public sealed class Identity : Activation
{
    public static Identity Instance { get; } = new();
    public override string Name => "identity";
    public override bool HasClosedFormDual => true;
    public override double Value(double x) => x;
    public override double Derivative(double x) => 1.0;
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => x.CopyTo(y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => x.CopyTo(y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) => d[..x.Length].Fill(1.0);
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) => d[..x.Length].Fill(1.0f);
    public override DualValue Dual(double a, double b, double c) => new(b, 1.0);
}
