using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>
/// Scalar special functions the activations need and .NET lacks (erf, erfc, Φ, expm1, log1p), plus the
/// accurate 2×2 discriminant ac − b² (Kahan's FMA trick) the closed-form dual kernels are built on.
/// erf/erfc are the vector implementation's lane 0 (fdlibm, under 1 ulp, bitwise the span paths); the
/// series / continued-fraction versions stay as an independent test reference.
/// </summary>
internal static class SpecialFunctions
{
    public const double TwoOverSqrtPi = 1.1283791670955126;      // 2/√π
    public const double InvSqrt2 = 0.70710678118654752440;       // 1/√2
    public const double InvSqrt2Pi = 0.39894228040143267794;     // 1/√(2π)

    /// <summary>ac − b² with one rounding error in total (Kahan), clamped at 0.</summary>
    public static double Discriminant(double a, double b, double c)
    {
        double w = b * b;
        double d = Math.FusedMultiplyAdd(a, c, -w) + Math.FusedMultiplyAdd(-b, b, w);
        return d > 0 ? d : 0.0;
    }

    /// <summary>erf(x) = (2/√π)∫₀ˣ e^{−t²} dt: lane 0 of <see cref="ErrorFunction128"/> (fdlibm), so scalar and vector agree bit for bit.</summary>
    public static double Erf(double x) => ErrorFunction128.Erf(Vector128.CreateScalar(x)).ToScalar();

    /// <summary>erfc(x) = 1 − erf(x), relative accuracy in the upper tail; lane 0 of <see cref="ErrorFunction128"/>.</summary>
    public static double Erfc(double x) => ErrorFunction128.Erfc(Vector128.CreateScalar(x)).ToScalar();

    /// <summary>
    /// Independent reference erf (tests only): the positive Taylor series below 2, the continued fraction
    /// above. A few ulps for erf; its erfc is 1 − erf below 2 (≤ 1e−13 relative on [0.5, 2)).
    /// </summary>
    internal static double SeriesErf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.0) r = ErfSeries(ax);
        else if (ax < 6.0) r = 1.0 - ErfcFraction(ax);
        else r = 1.0;
        return x < 0 ? -r : r;
    }

    /// <summary>Independent reference erfc (tests only), see <see cref="SeriesErf"/>.</summary>
    internal static double SeriesErfc(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x < 0.5) return 1.0 - SeriesErf(x);
        if (x < 2.0) return 1.0 - ErfSeries(x);
        if (x > 27.3) return 0.0;
        return ErfcFraction(x);
    }

    /// <summary>Standard normal CDF Φ(x) = erfc(−x/√2)/2.</summary>
    public static double Phi(double x) => 0.5 * Erfc(-x * InvSqrt2);

    /// <summary>Standard normal density φ(x).</summary>
    public static double PhiDensity(double x) => InvSqrt2Pi * Math.Exp(-0.5 * x * x);

    /// <summary>
    /// erf for 0 ≤ x &lt; 2 from the positive series erf x = (2/√π)·x·e^{−x²}·Σ (2x²)ⁿ/(1·3·…·(2n+1)):
    /// no cancellation, so a few ulps.
    /// </summary>
    private static double ErfSeries(double x)
    {
        double x2 = x * x;
        double term = 1.0, sum = 1.0;
        for (int n = 1; n < 200; n++)
        {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return TwoOverSqrtPi * x * Math.Exp(-x2) * sum;
    }

    /// <summary>
    /// erfc for x ≥ 2 from the continued fraction e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
    /// evaluated by the modified Lentz method.
    /// </summary>
    private static double ErfcFraction(double x)
    {
        const double tiny = 1e-300;
        double f = x, c = x, d = 0.0;
        for (int k = 1; k < 500; k++)
        {
            double ak = 0.5 * k;
            d = x + ak * d;
            if (d == 0) d = tiny;
            c = x + ak / c;
            if (c == 0) c = tiny;
            d = 1.0 / d;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1.0) < 1e-16) break;
        }
        return Math.Exp(-x * x) / (f * 1.7724538509055160273);
    }

    /// <summary>
    /// eˣ − 1 without cancellation near 0: the Taylor polynomial to x¹⁶/16! on |x| &lt; 0.5 (truncation
    /// &lt; 0.5¹⁷/17! ≈ 2e−20, so within an ulp or two), exp(x) − 1 outside (no cancellation there). The one
    /// scalar expm1 of the library (activations, kernel dynamics' gains 1 − e^(−ηλt)).
    /// </summary>
    public static double Expm1(double x)
    {
        if (Math.Abs(x) < 0.5)
        {
            double s = s_invFactorial[16];
            for (int k = 16; k >= 2; k--) s = Math.FusedMultiplyAdd(s, x, s_invFactorial[k - 1]);
            return s * x;
        }
        return Math.Exp(x) - 1.0;
    }

    // 1/k! for k = 0…17 (k! is exact in double up to 22!).
    private static readonly double[] s_invFactorial = BuildInverseFactorials();

    private static double[] BuildInverseFactorials()
    {
        double[] r = new double[18];
        double f = 1;
        for (int k = 0; k < r.Length; k++) { if (k > 1) f *= k; r[k] = 1.0 / f; }
        return r;
    }

    /// <summary>log(1 + y) without cancellation for small y (y &gt; −1).</summary>
    public static double Log1p(double y)
    {
        double u = 1.0 + y;
        if (u == 1.0) return y;
        return Math.Log(u) * (y / (u - 1.0));
    }
}
