using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// Closed forms of the piecewise-linear family σ(x) = x for x &gt; 0, A·x for x &lt; 0
/// (relu: A = 0, leaky_relu: A, abs: A = −1), i.e. the arc-cosine kernels of Cho &amp; Saul.
/// σ(x) = relu(x) − A·relu(−x), so with k(b) = E[relu(u)relu(v)] = (S + (π − θ)·b)/(2π):
///   E[σ(u)σ(v)]   = (1 + A²)·k(b) − 2A·k(−b)
///   E[σ'(u)σ'(v)] = A + (1 − A)²·(π − θ)/(2π)   (= (1 + A)²/4 + (1 − A)²·asin(ρ)/(2π))
/// where S = √(ac − b²) is Kahan's discriminant (exactly 0 on the diagonal b = a = c) and every angle
/// comes from atan2 of (S, ±b) — never acos of a rounded ρ, which loses half the digits near |ρ| = 1.
/// Near ρ = −1, k(b) = √(ac)·(sin δ − δ cos δ) with δ = π − θ small is summed as a series, so the
/// result keeps its relative accuracy where the formula would cancel.
/// Zero variance: u = 0 exactly, so E[σ(u)σ(v)] = 0 and E[σ'(u)σ'(v)] = σ'(0)·E[σ'(v)].
/// </summary>
internal static class ArcCosine
{
    private const double InvTwoPi = 0.15915494309189533577;

    public static DualValue Dual(double slope, double derivAtZero, double a, double b, double c)
    {
        if (!(a > 0) || !(c > 0))
        {
            // u or v is exactly 0.
            double ea = a > 0 ? 0.5 * (1 + slope) : derivAtZero;
            double ec = c > 0 ? 0.5 * (1 + slope) : derivAtZero;
            return new DualValue(0.0, ea * ec);
        }
        double sac = Math.Sqrt(a) * Math.Sqrt(c);
        // S from the unclipped b: clipping first would replace b = a = c by √a·√c, which can round
        // one ulp below a and leave S ≈ 3e−9·a instead of exactly 0 on the diagonal.
        double s = Math.Sqrt(SpecialFunctions.Discriminant(a, b, c));
        if (b > sac) b = sac;
        else if (b < -sac) b = -sac;
        double ess = K(b, s, sac);
        if (slope != 0) ess = (1 + slope * slope) * ess - 2 * slope * K(-b, s, sac);
        double oma = 1 - slope;
        double edd = slope >= 0
            ? slope + oma * oma * Math.Atan2(s, -b) * InvTwoPi
            : 0.25 * (1 + slope) * (1 + slope) + oma * oma * Math.Atan2(b, s) * InvTwoPi;
        return new DualValue(ess, edd);
    }

    /// <summary>E[relu(u)relu(v)] = (S + (π − θ)·b)/(2π), θ the angle between u and v.</summary>
    internal static double K(double b, double s, double sac)
    {
        double delta = Math.Atan2(s, -b); // π − θ
        if (b >= 0 || delta > 0.25) return Math.FusedMultiplyAdd(delta, b, s) * InvTwoPi;
        // sin δ − δ cos δ = Σ_{k≥1} (−1)^{k+1} 2k δ^{2k+1}/(2k+1)!  (δ ≤ 0.25: 9 terms reach 1e−19).
        double d2 = delta * delta;
        double term = delta * d2 / 3.0; // k = 1: 2δ³/3! = δ³/3
        double sum = term;
        for (int k = 2; k <= 10; k++)
        {
            // term_k / term_{k-1} = −δ²·k/((k−1)(2k)(2k+1))
            term *= -d2 * k / ((k - 1) * (2.0 * k) * (2 * k + 1));
            sum += term;
        }
        return sac * sum * InvTwoPi;
    }
}
