namespace NtkFast.Quadrature;

/// <summary>
/// An n-point Gauss rule Σ w[i]·f(x[i]) for some weight on an interval. Immutable, shared by
/// every thread (the rule classes cache one instance per degree).
/// </summary>
public sealed class GaussRule
{
    internal readonly double[] X;
    internal readonly double[] W;

    internal GaussRule(double[] nodes, double[] weights)
    {
        X = nodes;
        W = weights;
    }

    /// <summary>Number of nodes.</summary>
    public int Degree => X.Length;
    /// <summary>The nodes, ascending.</summary>
    public ReadOnlySpan<double> Nodes => X;
    /// <summary>The weights (they sum to the total mass of the weight function).</summary>
    public ReadOnlySpan<double> Weights => W;

    /// <summary>Σ w[i]·f(x[i]).</summary>
    public double Integrate(Func<double, double> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        double s = 0;
        for (int i = 0; i < X.Length; i++) s += W[i] * f(X[i]);
        return s;
    }
}

/// <summary>
/// Building blocks for Gauss rules: Golub–Welsch from a three-term recurrence (implicit QL on the
/// Jacobi matrix, tracking only the first components of the eigenvectors) and the discretised
/// Stieltjes procedure that turns a fine discrete measure into recurrence coefficients.
/// </summary>
internal static class GaussRuleBuilder
{
    /// <summary>
    /// Eigenvalues of the symmetric tridiagonal matrix (diag alpha, off-diagonal beta[1..n-1], beta[0]
    /// unused) and the squares of the first components of its normalised eigenvectors, scaled by mu0:
    /// the nodes and weights of the Gauss rule (Golub–Welsch). Sorted ascending.
    /// </summary>
    public static (double[] Nodes, double[] Weights) GolubWelsch(double[] alpha, double[] beta, double mu0)
    {
        int n = alpha.Length;
        double[] d = (double[])alpha.Clone();
        double[] e = new double[n];
        for (int i = 1; i < n; i++) e[i - 1] = beta[i];
        double[] z = new double[n];
        z[0] = 1.0;
        // Implicit QL with Wilkinson shifts (Numerical Recipes tqli), rotations applied to the first row only.
        for (int l = 0; l < n; l++)
        {
            int iter = 0;
            int m;
            do
            {
                for (m = l; m < n - 1; m++)
                {
                    double dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= 1e-17 * dd) break;
                }
                if (m != l)
                {
                    if (++iter > 60) throw new InvalidOperationException("Golub–Welsch: QL did not converge.");
                    double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                    double r = Hypot(g, 1.0);
                    g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.Abs(r) : -Math.Abs(r)));
                    double s = 1.0, c = 1.0, p = 0.0;
                    int i;
                    for (i = m - 1; i >= l; i--)
                    {
                        double f = s * e[i];
                        double b = c * e[i];
                        r = Hypot(f, g);
                        e[i + 1] = r;
                        if (r == 0.0)
                        {
                            d[i + 1] -= p;
                            e[m] = 0.0;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2.0 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                        double zf = z[i + 1];
                        z[i + 1] = s * z[i] + c * zf;
                        z[i] = c * z[i] - s * zf;
                    }
                    if (r == 0.0 && i >= l) continue;
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0.0;
                }
            } while (m != l);
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (p, q) => d[p].CompareTo(d[q]));
        double[] x = new double[n];
        double[] w = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = d[order[i]];
            w[i] = mu0 * z[order[i]] * z[order[i]];
        }
        return (x, w);
    }

    private static double Hypot(double a, double b)
    {
        a = Math.Abs(a);
        b = Math.Abs(b);
        if (a < b) (a, b) = (b, a);
        if (a == 0) return 0;
        double t = b / a;
        return a * Math.Sqrt(1 + t * t);
    }

    /// <summary>
    /// Recurrence coefficients (alpha[0..n-1], beta[1..n-1] as off-diagonals of the Jacobi matrix,
    /// i.e. square roots) of the orthonormal polynomials of the discrete measure Σ w[k] δ(x[k]),
    /// by the Stieltjes procedure (Lanczos without re-orthogonalisation; stable for discrete measures
    /// much finer than n). Returns the total mass mu0.
    /// </summary>
    public static double Stieltjes(double[] x, double[] w, int n, out double[] alpha, out double[] beta)
    {
        int m = x.Length;
        alpha = new double[n];
        beta = new double[n];
        double[] pPrev = new double[m];
        double[] p = new double[m];
        double mu0 = 0;
        for (int k = 0; k < m; k++) mu0 += w[k];
        double inv = 1.0 / Math.Sqrt(mu0);
        for (int k = 0; k < m; k++) p[k] = inv;
        for (int j = 0; j < n; j++)
        {
            double a = 0;
            for (int k = 0; k < m; k++) a += w[k] * x[k] * p[k] * p[k];
            alpha[j] = a;
            if (j == n - 1) break;
            double norm = 0;
            double[] q = new double[m];
            for (int k = 0; k < m; k++)
            {
                q[k] = (x[k] - a) * p[k] - (j > 0 ? beta[j] * pPrev[k] : 0.0);
                norm += w[k] * q[k] * q[k];
            }
            double bnext = Math.Sqrt(norm);
            beta[j + 1] = bnext;
            for (int k = 0; k < m; k++) q[k] /= bnext;
            pPrev = p;
            p = q;
        }
        return mu0;
    }

    /// <summary>
    /// A fine discretisation of the weight <paramref name="weight"/> on [lo, hi]: composite
    /// Gauss–Legendre with <paramref name="panels"/> panels of <paramref name="perPanel"/> points.
    /// </summary>
    public static (double[] X, double[] W) Discretise(Func<double, double> weight, double lo, double hi, int panels, int perPanel)
    {
        GaussRule gl = GaussLegendre.Get(perPanel);
        double[] x = new double[panels * perPanel];
        double[] w = new double[panels * perPanel];
        double h = (hi - lo) / panels;
        int idx = 0;
        for (int p = 0; p < panels; p++)
        {
            double mid = lo + (p + 0.5) * h;
            for (int i = 0; i < perPanel; i++)
            {
                double xi = mid + 0.5 * h * gl.X[i];
                x[idx] = xi;
                w[idx] = 0.5 * h * gl.W[i] * weight(xi);
                idx++;
            }
        }
        return (x, w);
    }
}
