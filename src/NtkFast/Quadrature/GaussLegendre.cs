namespace NtkFast.Quadrature;

/// <summary>
/// Gauss–Legendre rules on [−1, 1] (weight 1), any degree 1…1024, by Newton's method on the
/// Legendre recurrence from Tricomi's initial guesses; symmetric by construction. Cached per degree,
/// thread-safe.
/// </summary>
public static class GaussLegendre
{
    public const int MaxDegree = 1024;
    private static readonly GaussRule?[] s_cache = new GaussRule?[MaxDegree + 1];

    /// <summary>The n-point rule on [−1, 1].</summary>
    public static GaussRule Get(int n)
    {
        if (n < 1 || n > MaxDegree) throw new ArgumentOutOfRangeException(nameof(n), n, $"Gauss–Legendre degree must be in 1…{MaxDegree}.");
        return Volatile.Read(ref s_cache[n]) ?? Interlocked.CompareExchange(ref s_cache[n], Build(n), null) ?? s_cache[n]!;
    }

    private static GaussRule Build(int n)
    {
        double[] x = new double[n];
        double[] w = new double[n];
        int half = (n + 1) / 2;
        for (int i = 0; i < half; i++)
        {
            // Tricomi's approximation of the i-th largest root, then Newton.
            double theta = Math.PI * (4 * i + 3) / (4.0 * n + 2);
            double z = (1 - (n - 1) / (8.0 * n * n * n)) * Math.Cos(theta);
            double dp = 0;
            for (int it = 0; it < 100; it++)
            {
                (double p, double d) = Legendre(n, z);
                dp = d;
                double dz = p / d;
                z -= dz;
                if (Math.Abs(dz) <= 1e-16 * Math.Abs(z) + 1e-300) break;
            }
            dp = Legendre(n, z).D;
            double wi = 2.0 / ((1 - z * z) * dp * dp);
            if (2 * i + 1 == n) z = 0.0;
            x[n - 1 - i] = z;
            x[i] = -z;
            w[i] = wi;
            w[n - 1 - i] = wi;
        }
        return new GaussRule(x, w);
    }

    private static (double P, double D) Legendre(int n, double z)
    {
        double p0 = 1, p1 = z;
        if (n == 0) return (1, 0);
        for (int k = 2; k <= n; k++)
        {
            double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
            p0 = p1;
            p1 = p2;
        }
        double d = n * (z * p1 - p0) / (z * z - 1);
        return (p1, d);
    }
}
