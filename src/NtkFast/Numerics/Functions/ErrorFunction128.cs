using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

// GENERATED from Elementary256.cs by scripts/gen-elementary.sh — do not edit.

/// <summary>
/// Vector erf and erfc (double lanes; float lanes widened), deterministic like <see cref="Elementary128"/>.
/// The approximations are Sun's fdlibm minimax rationals (s_erf.c, under 1 ulp): |x| &lt; 0.84375 a rational in
/// x²; [0.84375, 1.25) erx + P(|x|−1)/Q(|x|−1); [1.25, 28) erfc = e^{−z²−0.5625}·e^{(z−|x|)(z+|x|)+R/S}/|x| with
/// z = |x| cut to 21 mantissa bits (so z² is exact) and R/S rationals in 1/x² on [1.25, 1/0.35) and
/// [1/0.35, 28). Every lane computes each range it might need (a range is skipped when no lane is in it),
/// then selects, so a lane's result depends only on its input. Independent of the scalar
/// <see cref="SpecialFunctions.Erf"/> (series and continued fraction), against which it is tested.
/// </summary>
internal static class ErrorFunction128
{
    private const double Erx = 8.45062911510467529297e-01;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> C(double v) => Vector128.Create(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> Fma(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.FusedMultiplyAdd(a, b, c);

    /// <summary>erf(x) per lane.</summary>
    public static Vector128<double> Erf(Vector128<double> x)
    {
        Vector128<double> ax = Vector128.Abs(x);
        Vector128<double> small = Vector128.LessThan(ax, C(0.84375));
        Vector128<double> mid = Vector128.LessThan(ax, C(1.25)) & ~small;
        Vector128<double> tail = Vector128.GreaterThanOrEqual(ax, C(1.25)) & Vector128.LessThan(ax, C(6.0));
        Vector128<double> y = Vector128<double>.One;                       // |x| ≥ 6 (and ±∞): erf = ±1
        if (tail != Vector128<double>.Zero) y = Vector128.ConditionalSelect(tail, Vector128<double>.One - ErfcTail(ax), y);
        if (mid != Vector128<double>.Zero) y = Vector128.ConditionalSelect(mid, C(Erx) + MidRatio(ax), y);
        y = Vector128.CopySign(y, x);
        if (small != Vector128<double>.Zero) y = Vector128.ConditionalSelect(small, Fma(x, SmallRatio(x), x), y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>erfc(x) = 1 − erf(x) per lane, accurate in the upper tail (relative), 0 beyond 27.3, 2 below −6.</summary>
    public static Vector128<double> Erfc(Vector128<double> x)
    {
        Vector128<double> ax = Vector128.Abs(x);
        Vector128<double> neg = Vector128.LessThan(x, Vector128<double>.Zero);
        Vector128<double> small = Vector128.LessThan(ax, C(0.84375));
        Vector128<double> mid = Vector128.LessThan(ax, C(1.25)) & ~small;
        Vector128<double> tail = Vector128.GreaterThanOrEqual(ax, C(1.25)) & Vector128.LessThan(ax, C(28.0));
        Vector128<double> y = Vector128.ConditionalSelect(neg, C(2.0), Vector128<double>.Zero); // |x| ≥ 28
        if (tail != Vector128<double>.Zero)
        {
            Vector128<double> t = ErfcTail(ax);
            y = Vector128.ConditionalSelect(tail, Vector128.ConditionalSelect(neg, C(2.0) - t, t), y);
        }
        if (mid != Vector128<double>.Zero)
        {
            Vector128<double> pq = MidRatio(ax);
            y = Vector128.ConditionalSelect(mid, Vector128.ConditionalSelect(neg, Vector128<double>.One + (C(Erx) + pq), C(1.0 - Erx) - pq), y);
        }
        if (small != Vector128<double>.Zero)
        {
            Vector128<double> xy = x * SmallRatio(x);
            // fdlibm: 1 − (x + x·y) for x < 1/4, else 0.5 − (x − 0.5 + x·y) (no cancellation in the leading digits).
            Vector128<double> lo = Vector128<double>.One - (x + xy), hi = C(0.5) - (x - C(0.5) + xy);
            y = Vector128.ConditionalSelect(small, Vector128.ConditionalSelect(Vector128.LessThan(x, C(0.25)), lo, hi), y);
        }
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>y with erf(x) = x + x·y for |x| &lt; 0.84375.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> SmallRatio(Vector128<double> x)
    {
        Vector128<double> z = x * x;
        Vector128<double> r = Fma(z, Fma(z, Fma(z, Fma(z, C(-2.37630166566501626084e-05), C(-5.77027029648944159157e-03)),
            C(-2.84817495755985104766e-02)), C(-3.25042107247001499370e-01)), C(1.28379167095512558561e-01));
        Vector128<double> s = Fma(z, Fma(z, Fma(z, Fma(z, Fma(z, C(-3.96022827877536812320e-06), C(1.32494738004321644526e-04)),
            C(5.08130628187576562776e-03)), C(6.50222499887672944485e-02)), C(3.97917223959155352819e-01)), Vector128<double>.One);
        return r / s;
    }

    /// <summary>P/Q with erf(|x|) = erx + P/Q on [0.84375, 1.25).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> MidRatio(Vector128<double> ax)
    {
        Vector128<double> s = ax - Vector128<double>.One;
        Vector128<double> p = Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, C(-2.16637559486879084300e-03), C(3.54783043256182359371e-02)),
            C(-1.10894694282396677476e-01)), C(3.18346619901161753674e-01)), C(-3.72207876035701323847e-01)), C(4.14856118683748331666e-01)),
            C(-2.36211856075265944077e-03));
        Vector128<double> q = Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, C(1.19844998467991074170e-02), C(1.36370839120290507362e-02)),
            C(1.26171219808761642112e-01)), C(7.18286544141962662868e-02)), C(5.40397917702171048937e-01)), C(1.06420880400844228286e-01)),
            Vector128<double>.One);
        return p / q;
    }

    /// <summary>erfc(|x|) for |x| in [1.25, 28).</summary>
    private static Vector128<double> ErfcTail(Vector128<double> ax)
    {
        Vector128<double> s = Vector128<double>.One / (ax * ax);
        Vector128<double> near = Vector128.LessThan(ax, C(1.0 / 0.35));
        Vector128<double> ra = Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, C(-9.81432934416914548592e+00), C(-8.12874355063065934246e+01)),
            C(-1.84605092906711035994e+02)), C(-1.62396669462573470355e+02)), C(-6.23753324503260060396e+01)), C(-1.05586262253232909814e+01)),
            C(-6.93858572707181764372e-01)), C(-9.86494403484714822705e-03));
        Vector128<double> sa = Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, C(-6.04244152148580987438e-02), C(6.57024977031928170135e+00)),
            C(1.08635005541779435134e+02)), C(4.29008140027567833386e+02)), C(6.45387271733267880336e+02)), C(4.34565877475229228821e+02)),
            C(1.37657754143519042600e+02)), C(1.96512716674392571292e+01)), Vector128<double>.One);
        Vector128<double> rb = Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, C(-4.83519191608651397019e+02), C(-1.02509513161107724954e+03)),
            C(-6.37566443368389627722e+02)), C(-1.60636384855821916062e+02)), C(-1.77579549177547519889e+01)), C(-7.99283237680523006574e-01)),
            C(-9.86494292470009928597e-03));
        Vector128<double> sb = Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, Fma(s, C(-2.24409524465858183362e+01), C(4.74528541206955367215e+02)),
            C(2.55305040643316442583e+03)), C(3.19985821950859553908e+03)), C(1.53672958608443695994e+03)), C(3.25792512996573918826e+02)),
            C(3.03380607434824582924e+01)), Vector128<double>.One);
        Vector128<double> rs = Vector128.ConditionalSelect(near, ra / sa, rb / sb);
        Vector128<double> z = (ax.AsInt64() & Vector128.Create(unchecked((long)0xFFFFFFFF00000000UL))).AsDouble();
        Vector128<double> e = Elementary128.Exp(-(z * z) - C(0.5625)) * Elementary128.Exp((z - ax) * (z + ax) + rs);
        return e / ax;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Erf(Vector128<float> x) { (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x); return Vector128.Narrow(Erf(lo), Erf(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Erfc(Vector128<float> x) { (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x); return Vector128.Narrow(Erfc(lo), Erfc(hi)); }
}
