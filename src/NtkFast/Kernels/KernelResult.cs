using NtkFast.Numerics;

namespace NtkFast.Kernels;

/// <summary>Result of <see cref="InfiniteWidth.Compute(KernelSpec, Matrix, Matrix?, KernelOutputs)"/>: the matrices asked for, others null.</summary>
public sealed class KernelResult
{
    internal KernelResult(Matrix? nngp, Matrix? ntk, Matrix[]? layerContributions)
    {
        Nngp = nngp;
        Ntk = ntk;
        LayerContributions = layerContributions;
    }

    /// <summary>Σ(L)(x_i, x2_j), or null when not requested.</summary>
    public Matrix? Nngp { get; }

    /// <summary>Θ(L)(x_i, x2_j) (layers from TrainableFrom on), or null when not requested.</summary>
    public Matrix? Ntk { get; }

    /// <summary>
    /// Element l−1 is the term Σ(l)·Π_{k&gt;l} Σ̇(k) of weight layer l−1 (l = 1…L), or null when not requested.
    /// </summary>
    public IReadOnlyList<Matrix>? LayerContributions { get; }
}

/// <summary>Per-point diagonals Σ(L)(x, x) and Θ(L)(x, x).</summary>
public sealed class KernelDiagonal
{
    internal KernelDiagonal(double[] nngp, double[] ntk)
    {
        Nngp = nngp;
        Ntk = ntk;
    }

    public double[] Nngp { get; }
    public double[] Ntk { get; }
}
