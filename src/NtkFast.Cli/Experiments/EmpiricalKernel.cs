using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Empirical NTK Θ̂(x, x') = Σ_p ∂f(x)/∂θ_p·∂f(x')/∂θ_p of a finite network with one output,
/// by the layer-wise formula of design.md §1 from one forward and one backward pass
/// (unit output cotangent) over the batch:
/// Θ̂ = Σ_l [σw²/n_l·A(l)A(l)ᵀ + β²] ⊙ [Δ(l+1)Δ(l+1)ᵀ], A(l) = α(l) rows, Δ(l+1) = δ(l+1) rows.
/// The Gram products run as float32 GEMMs (the network's precision) and are summed in float64.
/// </summary>
public static class EmpiricalKernel
{
    /// <summary>Θ̂ on the M points of <paramref name="x"/> (M×n0 row-major): an M×M symmetric matrix.</summary>
    public static Matrix Gram(Mlp<float> net, ReadOnlySpan<float> x)
    {
        ArgumentNullException.ThrowIfNull(net);
        MlpArchitecture arch = net.Architecture;
        if (arch.OutputWidth != 1) throw new ArgumentException("the experiments' empirical kernel needs one output", nameof(net));
        int n0 = arch.InputWidth;
        if (x.Length % n0 != 0) throw new ArgumentException($"x length {x.Length} is not a multiple of n0 = {n0}", nameof(x));
        int m = x.Length / n0;
        var result = new Matrix(m, m);
        if (m == 0) return result;
        MlpWorkspace<float> ws = net.CreateWorkspace(m);
        net.Forward(x, ws);
        ws.SetUnitCotangent(0);
        net.BackpropagateCotangents(ws);
        var ga = new float[m * m];
        var gd = new float[m * m];
        double s2 = arch.WeightStd * arch.WeightStd, b2 = arch.Beta * arch.Beta;
        for (int l = 0; l < arch.Depth; l++)
        {
            int nl = arch.Width(l), nd = arch.Width(l + 1);
            Gemm.Multiply(Op.None, Op.Transpose, m, m, nl, 1f, ws.Activation(l, x), nl, ws.Activation(l, x), nl, 0f, ga, m);
            Gemm.Multiply(Op.None, Op.Transpose, m, m, nd, 1f, ws.Cotangent(l + 1), nd, ws.Cotangent(l + 1), nd, 0f, gd, m);
            double scale = s2 / nl;
            double[] r = result.Data;
            for (int i = 0; i < r.Length; i++) r[i] += (scale * ga[i] + b2) * gd[i];
        }
        // The float GEMM need not be exactly symmetric; the kernel is.
        for (int i = 0; i < m; i++)
            for (int j = 0; j < i; j++)
            {
                double v = 0.5 * (result[i, j] + result[j, i]);
                result[i, j] = v;
                result[j, i] = v;
            }
        return result;
    }
}
