using System.Globalization;

namespace NtkFast.Activations;

/// <summary>
/// leaky_relu(x) = x for x &gt; 0, A·x otherwise (default A = 0.01); leaky_relu'(0) = A (torch).
/// Dual kernel: (1 + A²)·k(b) − 2A·k(−b) and A + (1 − A)²(π − θ)/(2π) (see <see cref="ArcCosine"/>).
/// </summary>
public sealed class LeakyRelu(double slope = LeakyRelu.DefaultSlope) : PiecewiseLinearActivation(slope)
{
    public const double DefaultSlope = 0.01;
    public override string Name => "leaky_relu:" + Slope.ToString("R", CultureInfo.InvariantCulture);
}
