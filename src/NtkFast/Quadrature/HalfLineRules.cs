namespace NtkFast.Quadrature;

/// <summary>
/// Gauss rules on [0, ∞) for the two weights the bivariate engine needs, built once per degree by
/// discretised Stieltjes (composite Gauss–Legendre discretisation of the weight on [0, R], R far
/// enough that the neglected mass is below 1e−40 for every polynomial degree the rule integrates)
/// followed by Golub–Welsch:
/// <list type="bullet">
/// <item><see cref="Radial"/>: weight r·e^{−r²/2} (mass 1), the radial part of a standard 2-D Gaussian
/// in polar coordinates;</item>
/// <item><see cref="HalfNormal"/>: weight 2φ(z) = √(2/π)·e^{−z²/2} (mass 1), the half-line
/// normal, for 1-D expectations split at 0.</item>
/// </list>
/// Cached per degree (1…128), thread-safe.
/// </summary>
public static class HalfLineRules
{
    public const int MaxDegree = 128;
    private static readonly GaussRule?[] s_radial = new GaussRule?[MaxDegree + 1];
    private static readonly GaussRule?[] s_half = new GaussRule?[MaxDegree + 1];

    /// <summary>n-point Gauss rule for ∫₀^∞ f(r)·r·e^{−r²/2} dr.</summary>
    public static GaussRule Radial(int n) => Get(s_radial, n, static r => r * Math.Exp(-0.5 * r * r));

    /// <summary>n-point Gauss rule for ∫₀^∞ f(z)·√(2/π)·e^{−z²/2} dz.</summary>
    public static GaussRule HalfNormal(int n) => Get(s_half, n, static z => 0.79788456080286535588 * Math.Exp(-0.5 * z * z));

    private static GaussRule Get(GaussRule?[] cache, int n, Func<double, double> weight)
    {
        if (n < 1 || n > MaxDegree) throw new ArgumentOutOfRangeException(nameof(n), n, $"Half-line rule degree must be in 1…{MaxDegree}.");
        GaussRule? r = Volatile.Read(ref cache[n]);
        if (r is not null) return r;
        // Polynomials up to degree 2n times the weight are negligible beyond √(4n) + 12.
        double hi = Math.Sqrt(4.0 * n) + 12.0;
        int panels = (int)Math.Ceiling(hi / 0.125);
        (double[] x, double[] w) = GaussRuleBuilder.Discretise(weight, 0.0, hi, panels, 20);
        double mu0 = GaussRuleBuilder.Stieltjes(x, w, n, out double[] alpha, out double[] beta);
        (double[] nodes, double[] weights) = GaussRuleBuilder.GolubWelsch(alpha, beta, mu0);
        // The exact masses are 1; renormalise away the discretisation's last-bit error.
        double sum = 0;
        foreach (double v in weights) sum += v;
        for (int i = 0; i < weights.Length; i++) weights[i] /= sum;
        var rule = new GaussRule(nodes, weights);
        return Interlocked.CompareExchange(ref cache[n], rule, null) ?? rule;
    }
}

/// <summary>Gauss–Laguerre rules for ∫₀^∞ f(s)·e^{−s} ds (Golub–Welsch: α_k = 2k + 1, β_k = k), cached per degree.</summary>
public static class GaussLaguerre
{
    public const int MaxDegree = 128;
    private static readonly GaussRule?[] s_cache = new GaussRule?[MaxDegree + 1];

    public static GaussRule Get(int n)
    {
        if (n < 1 || n > MaxDegree) throw new ArgumentOutOfRangeException(nameof(n), n, $"Gauss–Laguerre degree must be in 1…{MaxDegree}.");
        GaussRule? r = Volatile.Read(ref s_cache[n]);
        if (r is not null) return r;
        double[] alpha = new double[n];
        double[] beta = new double[n];
        for (int k = 0; k < n; k++) alpha[k] = 2 * k + 1;
        for (int k = 1; k < n; k++) beta[k] = k;
        (double[] x, double[] w) = GaussRuleBuilder.GolubWelsch(alpha, beta, 1.0);
        var rule = new GaussRule(x, w);
        return Interlocked.CompareExchange(ref s_cache[n], rule, null) ?? rule;
    }
}
