using NtkFast.Activations;
using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Infinite-width NNGP Σ(L) and NTK Θ(L) (docs/design.md §1) between two point sets, from the
/// library's tiled kernel assembly (<see cref="InfiniteWidth"/>); the one call the experiments make.
/// </summary>
public static class AnalyticKernel
{
    /// <summary>(Θ(L), Σ(L)) between the rows of x1 (N×n0) and x2 (M×n0), each N×M.</summary>
    public static (Matrix Ntk, Matrix Nngp) Compute(Activation activation, int depth, double beta, double weightStd, Matrix x1, Matrix x2)
    {
        var spec = new KernelSpec(depth, activation, beta, weightStd);
        KernelResult k = InfiniteWidth.Compute(spec, x1, ReferenceEquals(x1, x2) ? null : x2, KernelOutputs.Both);
        return (k.Ntk!, k.Nngp!);
    }
}
