namespace NtkFast.Activations;

/// <summary>
/// relu(x) = max(x, 0); relu'(0) = 0 (torch). Dual kernel: the degree-1 and degree-0 arc-cosine
/// kernels, (S + (π − θ)b)/(2π) and (π − θ)/(2π) (see <see cref="ArcCosine"/>).
/// </summary>
public sealed class Relu : PiecewiseLinearActivation
{
    private Relu() : base(0.0) { }
    public static Relu Instance { get; } = new();
    public override string Name => "relu";
}
