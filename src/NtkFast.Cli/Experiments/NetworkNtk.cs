using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// The empirical NTK Θ̂ of a finite network on one point set, as the experiments use it: the
/// library's structured layer-wise formula (<see cref="EmpiricalKernel"/>, docs/design.md §1), traced
/// over outputs, as a float64 matrix.
/// </summary>
public static class NetworkNtk
{
    /// <summary>Θ̂ on the M points of <paramref name="x"/> (M×n0 row-major): an M×M symmetric matrix.</summary>
    public static Matrix Gram(Mlp<float> net, ReadOnlySpan<float> x) =>
        EmpiricalKernel.Compute(net, x, default, EmpiricalOutputs.Trace, nngp: false).TraceMatrix();
}
