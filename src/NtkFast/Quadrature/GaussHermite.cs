namespace NtkFast.Quadrature;

/// <summary>
/// Gauss–Hermite rules for the standard normal weight φ(z) = e^{−z²/2}/√(2π): Σ w[i]·f(z[i]) ≈ E[f(Z)],
/// Z ~ N(0, 1); weights sum to 1. Any degree 1…512. Nodes: Golub–Welsch eigenvalues of the Jacobi
/// matrix (off-diagonal √k) as initial guesses, polished by Newton on the orthonormal recurrence;
/// weights w = 1/(n·p_{n−1}(z)²) evaluated in log space with a rescaled recurrence, so they are
/// accurate to a few ulps and never overflow on the way (the outer weights of large rules underflow
/// to 0 only at the very end, which is their correct double value; <see cref="LogWeights"/> keeps them).
/// Symmetric by construction (z[n−1−i] = −z[i], middle node exactly 0). Cached per degree, thread-safe.
/// </summary>
public static class GaussHermite
{
    public const int MaxDegree = 512;
    private static readonly GaussRule?[] s_cache = new GaussRule?[MaxDegree + 1];
    private static readonly double[]?[] s_logW = new double[]?[MaxDegree + 1];

    /// <summary>The n-point rule for E[f(Z)], Z ~ N(0, 1).</summary>
    public static GaussRule Get(int n)
    {
        Check(n);
        GaussRule? r = Volatile.Read(ref s_cache[n]);
        if (r is not null) return r;
        (GaussRule rule, double[] logW) = Build(n);
        Interlocked.CompareExchange(ref s_logW[n], logW, null);
        return Interlocked.CompareExchange(ref s_cache[n], rule, null) ?? rule;
    }

    /// <summary>Natural logarithms of the weights of the n-point rule (finite even where the weight underflows).</summary>
    public static ReadOnlySpan<double> LogWeights(int n)
    {
        Get(n);
        return s_logW[n]!;
    }

    /// <summary>E[f(Z)] for Z ~ N(0, 1) with the n-point rule.</summary>
    public static double Expect(Func<double, double> f, int n) => Get(n).Integrate(f);

    private static void Check(int n)
    {
        if (n < 1 || n > MaxDegree) throw new ArgumentOutOfRangeException(nameof(n), n, $"Gauss–Hermite degree must be in 1…{MaxDegree}.");
    }

    private static (GaussRule, double[]) Build(int n)
    {
        double[] alpha = new double[n];
        double[] beta = new double[n];
        for (int k = 1; k < n; k++) beta[k] = Math.Sqrt(k);
        double[] guess = GaussRuleBuilder.GolubWelsch(alpha, beta, 1.0).Nodes;
        double[] x = new double[n];
        double[] lw = new double[n];
        int half = n / 2;
        for (int i = 0; i < half; i++)
        {
            // Largest nodes first: guess[n-1-i] > 0.
            double z = guess[n - 1 - i];
            for (int it = 0; it < 10; it++)
            {
                // Newton on p_n: p_n' = √n p_{n−1}; the ratio is scale-free.
                Eval(n, z, out double pn, out double pn1, out _);
                double dz = pn / (Math.Sqrt(n) * pn1);
                z -= dz;
                if (Math.Abs(dz) <= 2e-16 * Math.Abs(z)) break;
            }
            Eval(n, z, out _, out double q, out double logScale);
            // w = 1/(n p_{n−1}²), p_{n−1} = q·e^{logScale}.
            double l = -Math.Log(n) - 2.0 * (Math.Log(Math.Abs(q)) + logScale);
            x[n - 1 - i] = z;
            x[i] = -z;
            lw[n - 1 - i] = l;
            lw[i] = l;
        }
        if ((n & 1) == 1)
        {
            Eval(n, 0.0, out _, out double q, out double logScale);
            x[half] = 0.0;
            lw[half] = -Math.Log(n) - 2.0 * (Math.Log(Math.Abs(q)) + logScale);
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = Math.Exp(lw[i]);
        return (new GaussRule(x, w), lw);
    }

    /// <summary>
    /// Orthonormal probabilists' Hermite p_n(z) and p_{n−1}(z), both scaled by e^{−logScale}
    /// (rescaled whenever they grow large, so nothing overflows).
    /// </summary>
    private static void Eval(int n, double z, out double pn, out double pn1, out double logScale)
    {
        double p0 = 0.0, p1 = 1.0; // p_{-1}, p_0
        logScale = 0;
        for (int k = 0; k < n; k++)
        {
            // p_{k+1} = (z p_k − √k p_{k−1}) / √(k+1)
            double p2 = (z * p1 - Math.Sqrt(k) * p0) / Math.Sqrt(k + 1);
            p0 = p1;
            p1 = p2;
            double m = Math.Abs(p1);
            if (m > 1e100)
            {
                p0 *= 1e-100;
                p1 *= 1e-100;
                logScale += 100 * Math.Log(10);
            }
        }
        pn = p1;
        pn1 = p0;
    }
}
