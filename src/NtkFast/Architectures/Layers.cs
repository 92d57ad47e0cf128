using NtkFast.Activations;

namespace NtkFast.Architectures;

/// <summary>How weights and biases are scaled (docs/notes/arch.md).</summary>
public enum Parameterization
{
    /// <summary>The paper's: W ~ N(0, 1) scaled by σw/√fan_in in the forward pass, bias β·b (docs/design.md §1).</summary>
    Ntk,
    /// <summary>Standard: W ~ N(0, σw²/fan_in), b ~ N(0, β²) are the trained parameters (the NNGP is the same, the NTK is not).</summary>
    Standard,
}

/// <summary>Padding of a convolution: SAME (output size ⌈n/stride⌉, zeros around) or VALID (no padding).</summary>
public enum Padding { Same, Valid }

/// <summary>One layer of an <see cref="Architecture"/>.</summary>
public abstract record Layer;

/// <summary>A fully connected layer of <paramref name="Width"/> outputs; σw and β default to the architecture's.</summary>
public sealed record DenseLayer(int Width, double? WeightStd = null, double? Beta = null) : Layer;

/// <summary>
/// A convolution with <paramref name="Channels"/> output channels, filter FilterH×FilterW, strides, padding
/// (Conv1D is FilterH = StrideH = 1 on inputs of height 1); σw and β default to the architecture's.
/// </summary>
public sealed record ConvLayer(int Channels, int FilterH, int FilterW, int StrideH = 1, int StrideW = 1,
    Padding Padding = Padding.Same, double? WeightStd = null, double? Beta = null) : Layer;

/// <summary>An elementwise nonlinearity (any activation of <see cref="ActivationRegistry"/>, or a custom one).</summary>
public sealed record ActivationLayer(Activation Activation) : Layer;

/// <summary>Average pooling over WindowH×WindowW windows with the given strides, VALID.</summary>
public sealed record AvgPoolLayer(int WindowH, int WindowW, int StrideH, int StrideW) : Layer;

/// <summary>
/// Max pooling over WindowH×WindowW windows with the given strides, VALID. Finite networks only: the maximum of
/// correlated Gaussians has no closed-form kernel, so its NTK/NNGP come from Monte Carlo (<c>ntk empirical --arch</c>).
/// </summary>
public sealed record MaxPoolLayer(int WindowH, int WindowW, int StrideH, int StrideW) : Layer;

/// <summary>Global average pooling: the mean over all pixels of each channel.</summary>
public sealed record GlobalAvgPoolLayer : Layer;

/// <summary>Flattens H×W×C into H·W·C features (for a dense layer after convolutions).</summary>
public sealed record FlattenLayer : Layer;

/// <summary>The identity.</summary>
public sealed record IdentityLayer : Layer;

/// <summary>
/// Fan-out and sum: every branch gets the input, their outputs (same shape) are added. A residual block
/// x + f(x) is two branches, one of them empty (an empty branch is the identity).
/// </summary>
public sealed record SumLayer(IReadOnlyList<IReadOnlyList<Layer>> Branches) : Layer;
