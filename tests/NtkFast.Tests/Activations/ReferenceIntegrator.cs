namespace NtkFast.Tests.Activations;

/// <summary>
/// Brute-force, independent reference for E[g(u)h(v)]: nested adaptive Gauss–Kronrod (7/15) in Cartesian
/// coordinates z₁, z₂ with u = √a z₁, v = √c(ρz₁ + s z₂), split at every kink location (z₁ = 0, and the
/// z₂ where v = 0), domain [−9, 9]² (neglected mass e^{−40}). Slow and simple on purpose.
/// </summary>
internal static class ReferenceIntegrator
{
    private static readonly double[] Xk = [0.991455371120812639, 0.949107912342758525, 0.864864423359769073, 0.741531185599394440, 0.586087235467691130, 0.405845151377397167, 0.207784955007898468, 0.0];
    private static readonly double[] Wk = [0.022935322010529225, 0.063092092629978553, 0.104790010322250184, 0.140653259715525919, 0.169004726639267903, 0.190350578064785410, 0.204432940075298892, 0.209482141084727828];
    private static readonly double[] Wg = [0.129484966168869693, 0.279705391489276668, 0.381830050505118945, 0.417959183673469388];
    private const double L = 9.0;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    public static double Integrate(Func<double, double> f, double lo, double hi, double tol, int depth = 0)
    {
        double mid = 0.5 * (lo + hi), hw = 0.5 * (hi - lo);
        double k = 0, g = 0;
        for (int i = 0; i < 8; i++)
        {
            double x = Xk[i];
            double fs = i == 7 ? f(mid) : f(mid + hw * x) + f(mid - hw * x);
            k += Wk[i] * fs;
            if (i % 2 == 1) g += Wg[i / 2] * fs;
        }
        k *= hw;
        g *= hw;
        if (Math.Abs(k - g) <= tol || depth > 18) return k;
        return Integrate(f, lo, mid, 0.5 * tol, depth + 1) + Integrate(f, mid, hi, 0.5 * tol, depth + 1);
    }

    private static double Piecewise(Func<double, double> f, double[] breaks, double tol)
    {
        double s = 0;
        for (int i = 0; i + 1 < breaks.Length; i++)
            if (breaks[i + 1] > breaks[i]) s += Integrate(f, breaks[i], breaks[i + 1], tol / (breaks.Length - 1));
        return s;
    }

    private static double Phi(double z) => InvSqrt2Pi * Math.Exp(-0.5 * z * z);

    public static double Expect(Func<double, double> g, Func<double, double> h, double a, double b, double c, double tol = 1e-14)
    {
        double sa = Math.Sqrt(a), sc = Math.Sqrt(c);
        double rho = a > 0 && c > 0 ? Math.Clamp(b / (sa * sc), -1, 1) : 0;
        double s = Math.Sqrt(Math.Max(0, (1 - rho) * (1 + rho)));
        if (s == 0 || a == 0 || c == 0)
        {
            double sign = rho < 0 ? -1 : 1;
            return Piecewise(z => Phi(z) * g(sa * z) * h(sign * sc * z), [-L, 0, L], tol);
        }
        double Inner(double z1)
        {
            double zs = -rho * z1 / s;
            double[] br = zs > -L && zs < L ? [-L, zs, L] : [-L, L];
            return Piecewise(z2 => Phi(z2) * h(sc * (rho * z1 + s * z2)), br, tol);
        }
        return Piecewise(z1 => Phi(z1) * g(sa * z1) * Inner(z1), [-L, 0, L], tol);
    }
}
