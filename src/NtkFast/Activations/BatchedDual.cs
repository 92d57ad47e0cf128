using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Activations;

/// <summary>
/// Vectorised closed-form dual kernels over one row (a fixed, b[j], c[j] varying): the arc-cosine family
/// (relu, leaky_relu, abs) and erf. Four triples per Vector256 step with FMA, sqrt and a polynomial atan2;
/// the tail is padded into one more vector, so every j gets the same arithmetic wherever it sits in the span
/// and the results do not depend on the span length. Vector256 rather than Vector512: Zen 4 executes a
/// 512-bit FMA as two 256-bit halves, and the software fallback (no AVX) runs the same lane arithmetic,
/// so results are identical on every instruction set. They agree with the scalar
/// <see cref="Activation.Dual(double, double, double)"/> to a few ulps (Math.Atan2 vs the polynomial).
/// </summary>
internal static class BatchedDual
{
    private const double InvTwoPi = 0.15915494309189533577;
    private const double HalfPi = Math.PI / 2;
    private const double Tan15 = 0.26794919243112270;   // tan(π/12)
    private const double Sqrt3 = 1.7320508075688772;

    // atan(r) = r·Σ_{k=0}^{15} (−1)^k r^{2k}/(2k+1) for |r| ≤ tan(π/12): truncation < 0.268^33/33 ≈ 4e−21.
    private static readonly double[] s_atan = BuildAtan();
    // sin δ − δ cos δ = δ³·Σ_{k≥1} (−1)^{k+1} 2k δ^{2k−2}/(2k+1)!, 10 terms (δ ≤ 0.25).
    private static readonly double[] s_kSeries = BuildKSeries();

    private static double[] BuildAtan()
    {
        double[] c = new double[16];
        for (int k = 0; k < 16; k++) c[k] = (k % 2 == 0 ? 1.0 : -1.0) / (2 * k + 1);
        return c;
    }

    private static double[] BuildKSeries()
    {
        double[] c = new double[10];
        double fact = 1; // (2k+1)!
        for (int k = 1; k <= 10; k++)
        {
            fact *= (2 * k) * (2 * k + 1);
            c[k - 1] = (k % 2 == 1 ? 1.0 : -1.0) * 2 * k / fact;
        }
        return c;
    }

    /// <summary>atan2(y, x) for double lanes, accurate to a few ulps (argument reduction to |r| ≤ tan 15°).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<double> Atan2(Vector256<double> y, Vector256<double> x)
    {
        Vector256<double> ax = Vector256.Abs(x), ay = Vector256.Abs(y);
        Vector256<double> num = Vector256.Min(ax, ay), den = Vector256.Max(ax, ay);
        Vector256<double> t = Vector256.ConditionalSelect(Vector256.Equals(den, Vector256<double>.Zero), Vector256<double>.Zero, num / den);
        Vector256<double> big = Vector256.GreaterThan(t, Vector256.Create(Tan15));
        Vector256<double> rBig = Vector256.FusedMultiplyAdd(t, Vector256.Create(Sqrt3), Vector256.Create(-1.0)) / (t + Vector256.Create(Sqrt3));
        Vector256<double> r = Vector256.ConditionalSelect(big, rBig, t);
        Vector256<double> r2 = r * r;
        ref double c = ref MemoryMarshal.GetArrayDataReference(s_atan);
        Vector256<double> p = Vector256.Create(Unsafe.Add(ref c, 15));
        for (int k = 14; k >= 0; k--) p = Vector256.FusedMultiplyAdd(p, r2, Vector256.Create(Unsafe.Add(ref c, k)));
        Vector256<double> a = Vector256.FusedMultiplyAdd(r, p, Vector256.ConditionalSelect(big, Vector256.Create(Math.PI / 6), Vector256<double>.Zero));
        a = Vector256.ConditionalSelect(Vector256.GreaterThan(ay, ax), Vector256.Create(HalfPi) - a, a);
        a = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero), Vector256.Create(Math.PI) - a, a);
        return Vector256.CopySign(a, y);
    }

    /// <summary>E[relu(u)relu(v)] lanes: (S + δ b)/(2π), δ = atan2(S, −b) (passed in: relu's E[σ'σ'] reuses it), with the series near ρ = −1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> K(Vector256<double> b, Vector256<double> s, Vector256<double> sac, Vector256<double> delta)
    {
        Vector256<double> direct = Vector256.FusedMultiplyAdd(delta, b, s);
        Vector256<double> d2 = delta * delta;
        ref double c = ref MemoryMarshal.GetArrayDataReference(s_kSeries);
        Vector256<double> p = Vector256.Create(Unsafe.Add(ref c, 9));
        for (int k = 8; k >= 0; k--) p = Vector256.FusedMultiplyAdd(p, d2, Vector256.Create(Unsafe.Add(ref c, k)));
        Vector256<double> series = sac * (delta * d2 * p);
        Vector256<double> useSeries = Vector256.LessThan(b, Vector256<double>.Zero) & Vector256.LessThanOrEqual(delta, Vector256.Create(0.25));
        return Vector256.ConditionalSelect(useSeries, series, direct) * Vector256.Create(InvTwoPi);
    }

    /// <summary>Clipped b, S = √(ac − b²) (Kahan) and √a√c for lanes with c ≥ 0 (negative c treated as 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Geometry(Vector256<double> a, Vector256<double> sa, ref Vector256<double> b, ref Vector256<double> c, out Vector256<double> s, out Vector256<double> sac)
    {
        c = Vector256.Max(c, Vector256<double>.Zero);
        sac = sa * Vector256.Sqrt(c);
        // S from the unclipped b (see ArcCosine: clipping first breaks S = 0 on the diagonal).
        Vector256<double> w = b * b;
        Vector256<double> d = Vector256.FusedMultiplyAdd(a, c, -w) + Vector256.FusedMultiplyAdd(-b, b, w);
        s = Vector256.Sqrt(Vector256.Max(d, Vector256<double>.Zero));
        b = Vector256.Min(Vector256.Max(b, -sac), sac);
    }

    public static void ArcCosineRow(double slope, double derivAtZero, double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        int n = b.Length;
        if (!(a > 0))
        {
            for (int j = 0; j < n; j++)
            {
                DualValue v = ArcCosine.Dual(slope, derivAtZero, a, b[j], c[j]);
                ess[j] = v.Ess;
                edd[j] = v.Edd;
            }
            return;
        }
        var va = Vector256.Create(a);
        var sa = Vector256.Create(Math.Sqrt(a));
        double oma = 1 - slope, opa = 1 + slope;
        double edgeEdd = 0.5 * opa * derivAtZero;
        ref double br = ref MemoryMarshal.GetReference(b);
        ref double cr = ref MemoryMarshal.GetReference(c);
        ref double er = ref MemoryMarshal.GetReference(ess);
        ref double dr = ref MemoryMarshal.GetReference(edd);
        int j0 = 0;
        for (; j0 <= n - 4; j0 += 4)
            ArcCosine4(slope, oma, opa, edgeEdd, va, sa, Vector256.LoadUnsafe(ref br, (nuint)j0), Vector256.LoadUnsafe(ref cr, (nuint)j0), ref er, ref dr, j0);
        if (j0 < n)
        {
            Span<double> tb = stackalloc double[4], tc = stackalloc double[4], te = stackalloc double[4], td = stackalloc double[4];
            tc.Fill(1.0);
            tb.Clear();
            for (int j = j0; j < n; j++) { tb[j - j0] = b[j]; tc[j - j0] = c[j]; }
            ArcCosine4(slope, oma, opa, edgeEdd, va, sa, Vector256.Create<double>(tb), Vector256.Create<double>(tc), ref te[0], ref td[0], 0);
            for (int j = j0; j < n; j++) { ess[j] = te[j - j0]; edd[j] = td[j - j0]; }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ArcCosine4(double slope, double oma, double opa, double edgeEdd, Vector256<double> va, Vector256<double> sa,
        Vector256<double> b, Vector256<double> c, ref double er, ref double dr, int j)
    {
        Geometry(va, sa, ref b, ref c, out Vector256<double> s, out Vector256<double> sac);
        Vector256<double> delta = Atan2(s, -b);
        Vector256<double> e = K(b, s, sac, delta);
        Vector256<double> d;
        if (slope == 0)
        {
            d = delta * Vector256.Create(InvTwoPi);
        }
        else
        {
            e = Vector256.Create(1 + slope * slope) * e - Vector256.Create(2 * slope) * K(-b, s, sac, Atan2(s, b));
            d = slope > 0
                ? Vector256.Create(slope) + Vector256.Create(oma * oma * InvTwoPi) * delta
                : Vector256.Create(0.25 * opa * opa) + Vector256.Create(oma * oma * InvTwoPi) * Atan2(b, s);
        }
        Vector256<double> zero = Vector256.LessThanOrEqual(c, Vector256<double>.Zero);
        Vector256.ConditionalSelect(zero, Vector256<double>.Zero, e).StoreUnsafe(ref er, (nuint)j);
        Vector256.ConditionalSelect(zero, Vector256.Create(edgeEdd), d).StoreUnsafe(ref dr, (nuint)j);
    }

    public static void ErfRow(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        int n = b.Length;
        a = a > 0 ? a : 0.0;
        var va = Vector256.Create(a);
        var sa = Vector256.Create(Math.Sqrt(a));
        var one2a = Vector256.Create(1.0 + 2.0 * a);
        ref double br = ref MemoryMarshal.GetReference(b);
        ref double cr = ref MemoryMarshal.GetReference(c);
        ref double er = ref MemoryMarshal.GetReference(ess);
        ref double dr = ref MemoryMarshal.GetReference(edd);
        int j0 = 0;
        for (; j0 <= n - 4; j0 += 4)
            Erf4(va, sa, one2a, Vector256.LoadUnsafe(ref br, (nuint)j0), Vector256.LoadUnsafe(ref cr, (nuint)j0), ref er, ref dr, j0);
        if (j0 < n)
        {
            Span<double> tb = stackalloc double[4], tc = stackalloc double[4], te = stackalloc double[4], td = stackalloc double[4];
            tb.Clear();
            tc.Clear();
            for (int j = j0; j < n; j++) { tb[j - j0] = b[j]; tc[j - j0] = c[j]; }
            Erf4(va, sa, one2a, Vector256.Create<double>(tb), Vector256.Create<double>(tc), ref te[0], ref td[0], 0);
            for (int j = j0; j < n; j++) { ess[j] = te[j - j0]; edd[j] = td[j - j0]; }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Erf4(Vector256<double> va, Vector256<double> sa, Vector256<double> one2a, Vector256<double> b, Vector256<double> c, ref double er, ref double dr, int j)
    {
        Geometry(va, sa, ref b, ref c, out Vector256<double> s, out _);
        // q = 1 + 2(a + c) + 4D, written as (1 + 2a) + 2c + 4S² to keep every term ≥ 0.
        Vector256<double> q = Vector256.FusedMultiplyAdd(Vector256.Create(4.0), s * s, Vector256.FusedMultiplyAdd(Vector256.Create(2.0), c, one2a));
        Vector256<double> r = Vector256.Sqrt(q);
        (Vector256.Create(2.0 / Math.PI) * Atan2(b + b, r)).StoreUnsafe(ref er, (nuint)j);
        (Vector256.Create(4.0 / Math.PI) / r).StoreUnsafe(ref dr, (nuint)j);
    }
}
