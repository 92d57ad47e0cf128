using NtkFast.Activations;

namespace NtkFast.Kernels;

/// <summary>Which matrices a kernel computation fills.</summary>
[Flags]
public enum KernelOutputs
{
    None = 0,
    /// <summary>The NNGP kernel Σ(L).</summary>
    Nngp = 1,
    /// <summary>The neural tangent kernel Θ(L) (of the layers from <see cref="KernelSpec.TrainableFrom"/> on).</summary>
    Ntk = 2,
    /// <summary>Both Σ(L) and Θ(L).</summary>
    Both = Nngp | Ntk,
    /// <summary>
    /// The L per-layer terms of the NTK, Σ(l)·Π_{k&gt;l} Σ̇(k) for l = 1…L (term l comes from the
    /// parameters of weight layer l−1; their sum is Θ(L) of the fully trainable network).
    /// </summary>
    LayerContributions = 4,
}

/// <summary>
/// An infinite-width fully connected network in the NTK parameterisation (docs/design.md §1):
/// depth L (number of weight layers), nonlinearity σ, bias std β, weight std σw, and the
/// first trainable weight layer K (layers 0 … K−1 frozen; 0 = all trainable).
/// </summary>
/// <remarks>
/// Networks with nL outputs have kernels Σ(L) ⊗ Id and Θ(L) ⊗ Id: NtkFast computes the scalar
/// kernels; the output dimension only repeats them on the diagonal blocks.
/// </remarks>
public sealed class KernelSpec
{
    /// <param name="depth">Number of weight layers L ≥ 1 (L = 1 is a linear model: Σ = Θ = σw²·xᵀx'/n0 + β²).</param>
    /// <param name="activation">The nonlinearity σ (e.g. <c>ActivationRegistry.Parse("relu")</c>).</param>
    /// <param name="beta">Bias standard deviation β ≥ 0 (the paper's default 0.1).</param>
    /// <param name="weightStd">Weight standard deviation σw ≥ 0 (default 1).</param>
    /// <param name="trainableFrom">First trainable weight layer K in [0, L−1]; the NTK keeps the terms l &gt; K.</param>
    /// <param name="quadratureDegree">
    /// Degree of the bivariate quadrature (<see cref="NtkFast.Quadrature.BivariateQuadrature.Degree"/>, 2…64) for
    /// activations whose dual kernel is numerical (ignored by closed forms); null = the activation's default.
    /// </param>
    public KernelSpec(int depth, Activation activation, double beta = DefaultBeta, double weightStd = DefaultWeightStd,
        int trainableFrom = 0, int? quadratureDegree = null)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth (number of weight layers) must be at least 1.");
        if (!(beta >= 0) || !double.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be finite and non-negative.");
        if (!(weightStd >= 0) || !double.IsFinite(weightStd)) throw new ArgumentOutOfRangeException(nameof(weightStd), weightStd, "weightStd must be finite and non-negative.");
        if (trainableFrom < 0 || trainableFrom > depth - 1)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom must be in [0, depth − 1] = [0, {depth - 1}].");
        if (quadratureDegree is < MinQuadratureDegree or > MaxQuadratureDegree)
            throw new ArgumentOutOfRangeException(nameof(quadratureDegree), quadratureDegree, $"quadratureDegree must be in [{MinQuadratureDegree}, {MaxQuadratureDegree}].");
        Depth = depth;
        Activation = activation;
        Beta = beta;
        WeightStd = weightStd;
        TrainableFrom = trainableFrom;
        QuadratureDegree = quadratureDegree;
        DualActivation = ActivationDuals.WithQuadratureDegree(activation, quadratureDegree);
    }

    /// <summary>Bias standard deviation β when none is given (the paper's experiments use 0.1).</summary>
    public const double DefaultBeta = 0.1;

    /// <summary>Weight standard deviation σw when none is given.</summary>
    public const double DefaultWeightStd = 1.0;

    /// <summary>Accepted range of <see cref="QuadratureDegree"/> (that of <see cref="NtkFast.Quadrature.BivariateQuadrature"/>).</summary>
    public const int MinQuadratureDegree = 2, MaxQuadratureDegree = 64;

    public int Depth { get; }
    public Activation Activation { get; }
    public double Beta { get; }
    public double WeightStd { get; }
    public int TrainableFrom { get; }
    public int? QuadratureDegree { get; }

    /// <summary>The activation whose dual kernel the recursion evaluates (the quadrature degree applied).</summary>
    internal Activation DualActivation { get; }

    public override string ToString() =>
        $"depth {Depth}, {Activation.Name}, beta {Beta}, weight std {WeightStd}, trainable from {TrainableFrom}"
        + (QuadratureDegree is int q ? $", quadrature degree {q}" : "");
}
