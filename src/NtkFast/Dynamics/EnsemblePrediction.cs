using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>Mean (M×K) and variance (per test point, shared by all outputs) of an infinite ensemble.</summary>
public sealed class EnsemblePrediction
{
    public EnsemblePrediction(Matrix mean, double[] variance, Matrix? covariance)
    {
        Mean = mean;
        Variance = variance;
        Covariance = covariance;
    }

    public Matrix Mean { get; }

    /// <summary>Var f_t(x*ᵢ), clipped at 0 against round-off.</summary>
    public double[] Variance { get; }

    /// <summary>Full M×M covariance when the full Σ(x*, x*) was given, else null.</summary>
    public Matrix? Covariance { get; }

    /// <summary>Standard deviations √Variance.</summary>
    public double[] StandardDeviation => Array.ConvertAll(Variance, Math.Sqrt);
}
