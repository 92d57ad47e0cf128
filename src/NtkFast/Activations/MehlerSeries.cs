using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NtkFast.Numerics;
using NtkFast.Quadrature;

namespace NtkFast.Activations;

/// <summary>
/// Hermite coefficients of σ and σ' at one variance v, for the Mehler series of the dual kernel:
/// α_k = E[σ(√v z) h_k(z)], β_k = E[σ'(√v z) h_k(z)] (h_k the orthonormal probabilists' Hermite
/// polynomials), k &lt; <see cref="MehlerSeries.MaxTerms"/>, with the Parseval tails
/// T(K) = E[σ²] − Σ_{k≤K} α_k² at every multiple of 8 terms (plus a rounding slack, so they bound the true
/// tails). Immutable and a pure function of (activation, v): computed by any thread, the bits are the same.
/// </summary>
internal sealed class MehlerRecord
{
    /// <summary>The variance.</summary>
    public readonly double Variance;
    /// <summary>Terms whose coefficients are trusted (a multiple of 8; 0: the series is not used for v).</summary>
    public readonly int Terms;
    /// <summary>Least multiple of 8 terms after which both tails are ≤ <see cref="MehlerSeries.Tolerance"/>·E (0 if none within <see cref="Terms"/>): the terms ρ = ±1 needs.</summary>
    public readonly int FullTerms;
    /// <summary>
    /// Coefficients and tails in one array (null when not eligible), laid out for the per-triple loop: block m of
    /// 8 terms at [16m, 16m + 16) holds α_{8m…8m+7} then β_{8m…8m+7}; then, from 2M (M = <see cref="MehlerSeries.MaxTerms"/>),
    /// Tα after 8, 16, …, M terms, then Tβ likewise: bounds on the tails (true tails plus a rounding slack).
    /// </summary>
    public readonly double[]? Data;

    public MehlerRecord(double variance, int terms, int fullTerms, double[]? data)
    {
        Variance = variance;
        Terms = terms;
        FullTerms = fullTerms;
        Data = data;
    }

    /// <summary>α_k (k &lt; MaxTerms) of an eligible record.</summary>
    public double Alpha(int k) => Data![16 * (k >> 3) + (k & 7)];

    /// <summary>β_k (k &lt; MaxTerms) of an eligible record.</summary>
    public double Beta(int k) => Data![16 * (k >> 3) + 8 + (k & 7)];

    public static MehlerRecord Ineligible(double variance) => new(variance, 0, 0, null);

    public bool Eligible => Terms > 0;
}

/// <summary>
/// The dual kernel of a smooth activation as a Mehler (Hermite) series with a rigorous truncation bound:
/// for ρ = b/√(ac), E[σ(u)σ(v)] = Σ_k α_k(a)α_k(c)ρ^k and E[σ'(u)σ'(v)] = Σ_k β_k(a)β_k(c)ρ^k, and by
/// Cauchy–Schwarz |Σ_{k≥K} α_k(a)α_k(c)ρ^k| ≤ |ρ|^K·√(Tα_a(K)·Tα_c(K)) with the Parseval tails
/// T(K) = E[σ²] − Σ_{k&lt;K} α_k². The coefficients come from the trapezoid and midpoint rules of step
/// <see cref="Step"/> on the real line (exponentially convergent for smooth σ); only the leading coefficients on
/// which both agree to <see cref="Agreement"/>·√E are trusted (none for a kinked σ: both converge like h² there).
/// Per triple, terms are added 16 at a time until the bound is ≤ <see cref="Certificate"/> of the sum;
/// when the trusted terms run out first (large variances, ρ ≈ ±1 with slowly decaying coefficients), or a
/// variance is 0 or not eligible, the caller falls back to the polar rule, so the series never makes a dual
/// less accurate than before.
/// </summary>
/// <remarks>
/// The sum over k runs as a dot product in steps of 8 lanes (two Vector256 accumulators, or the same eight lanes
/// in one Vector512 where AVX-512 is on; powers of ρ by repeated multiplication) with a fixed reduction order:
/// the same arithmetic on every instruction set (software Vector256 with FMA otherwise), a pure function of (record(a), b, record(c)) whether called per triple or
/// batched, and symmetric in (a, c) bit for bit (α_k(a)·α_k(c) commutes). docs/notes/quad.md has the
/// measurements behind the constants.
/// </remarks>
[SkipLocalsInit]
internal static class MehlerSeries
{
    /// <summary>Coefficients kept per variance (a multiple of 16).</summary>
    public const int MaxTerms = 256;
    /// <summary>Step h of the trapezoid and midpoint rules for the coefficients (their mean: step h/2).</summary>
    public const double Step = 0.125;
    /// <summary>Tail target relative to E[σ²] (resp. E[σ'²]) for <see cref="MehlerRecord.FullTerms"/> (diagnostics).</summary>
    public const double Tolerance = 1e-13;
    /// <summary>
    /// Agreement of the trapezoid and midpoint rules required to trust a coefficient (relative to √E). Their
    /// difference is the error of each; the mean used (step h/2) is far more accurate (exponential convergence:
    /// its error is about the square of theirs), so this only has to exclude unresolved coefficients.
    /// </summary>
    public const double Agreement = 1e-12;
    /// <summary>
    /// Slack added to every tail (relative to E): rounding of E − Σα² over up to 256 terms and of the
    /// coefficients themselves (the mean rule's error is far below the 1e−12 agreement of the two rules).
    /// </summary>
    public const double Slack = 5e-13;
    /// <summary>A triple is accepted when its truncation bound is at most this fraction of the sum.</summary>
    public const double Certificate = 1e-11;
    /// <summary>Variances outside [MinVariance, MaxVariance] (and 0) are left to the polar rule.</summary>
    public const double MinVariance = 1e-300, MaxVariance = 1e6;

    private const int Blocks = MaxTerms / 8;
    // bound ≤ C'·|partial| with C' = C/(1 + C) gives bound ≤ C·|sum| (|sum| ≥ |partial| − bound).
    private const double CertificateSquared = Certificate / (1 + Certificate) * (Certificate / (1 + Certificate));

    /// <summary>Coefficients of <paramref name="act"/> at variance <paramref name="v"/> (eligible or not).</summary>
    public static MehlerRecord Compute(Activation act, double v) => Compute(act, v, Step);

    /// <summary>As <see cref="Compute(Activation, double)"/> with an explicit trapezoid step (measurements).</summary>
    public static MehlerRecord Compute(Activation act, double v, double step)
    {
        if (!(v >= MinVariance && v <= MaxVariance)) return MehlerRecord.Ineligible(v);
        // Taken from the thread for the duration (a user σ that itself evaluates a dual gets fresh arrays).
        Scratch ws = t_scratch ?? new Scratch();
        t_scratch = null;
        double[] ca = ws.Ca, cb = ws.Cb;
        (double ea, double eda, double eb, double edb) = Coefficients(act, v, step, ca, cb, ws);
        t_scratch = ws;
        double e = 0.5 * (ea + eb), ed = 0.5 * (eda + edb);
        if (!(e > 0 && ed > 0 && double.IsFinite(e) && double.IsFinite(ed))) return MehlerRecord.Ineligible(v);
        if (!(Math.Abs(ea - eb) <= Agreement * e && Math.Abs(eda - edb) <= Agreement * ed)) return MehlerRecord.Ineligible(v);
        // Trusted terms: the leading blocks of 8 on which every coefficient of both rules agrees.
        double se = Math.Sqrt(e), sed = Math.Sqrt(ed);
        int terms = 0;
        for (int k = 0; k < MaxTerms; k++)
        {
            if (!(Math.Abs(ca[k] - cb[k]) <= Agreement * se && Math.Abs(ca[MaxTerms + k] - cb[MaxTerms + k]) <= Agreement * sed)) break;
            if ((k & 7) == 7) terms = k + 1;
        }
        if (terms == 0) return MehlerRecord.Ineligible(v);
        // The coefficients used: the trapezoid rule of step h/2, the mean of the two.
        Span<double> c = stackalloc double[2 * MaxTerms];
        for (int k = 0; k < 2 * MaxTerms; k++) c[k] = 0.5 * (ca[k] + cb[k]);
        double[] data = new double[2 * MaxTerms + 2 * Blocks];
        for (int k = 0; k < MaxTerms; k++)
        {
            data[16 * (k >> 3) + (k & 7)] = c[k];
            data[16 * (k >> 3) + 8 + (k & 7)] = c[MaxTerms + k];
        }
        Span<double> tails = data.AsSpan(2 * MaxTerms);
        int needA = TailsOf(c[..MaxTerms], e, tails[..Blocks], terms);
        int needB = TailsOf(c[MaxTerms..], ed, tails[Blocks..], terms);
        int full = needA > 0 && needB > 0 ? Math.Max(needA, needB) : 0;
        return new MehlerRecord(v, terms, full, data);
    }

    /// <summary>Tail bounds after 8m terms (m ≤ terms/8); returns the least multiple of 8 whose tail is ≤ Tolerance·E (0 if none).</summary>
    private static int TailsOf(ReadOnlySpan<double> coef, double e, Span<double> tails, int terms)
    {
        double sum = 0;
        int need = 0;
        for (int m = 0; m < terms / 8; m++)
        {
            for (int k = 8 * m; k < 8 * m + 8; k++) sum = Math.FusedMultiplyAdd(coef[k], coef[k], sum);
            double t = Math.Max(e - sum, 0.0);
            // Keep the sequence non-increasing (the true tails are), then add the slack.
            if (m > 0) t = Math.Min(t, tails[m - 1] - Slack * e);
            tails[m] = t + Slack * e;
            if (need == 0 && t <= Tolerance * e) need = 8 * (m + 1);
        }
        return need;
    }

    /// <summary>
    /// α_k, β_k for k &lt; MaxTerms by two rules for ∫ g(z)φ(z)dz on the real line: the trapezoid rule on the nodes
    /// i·h into <paramref name="ca"/>, the midpoint rule on (i + ½)·h into <paramref name="cb"/> (α in [0, M), β in
    /// [M, 2M)). The integrands σ(√v z)h_k(z)φ(z) are analytic in a strip (up to σ's nearest complex singularity) and
    /// decay like a Gaussian, where both rules converge exponentially in 1/h (unlike Gauss–Hermite, whose
    /// convergence for a near-step σ is slow); their mean is the rule of step h/2, and their difference bounds its
    /// error by far. The integrands are cut at |z| = 14: |h_k(z)|·φ(z) ≲ e^{−z²/4} for every k (the Hermite functions
    /// are bounded), e^{−49} there — below rounding for σ of at most polynomial growth (cutting at 20 instead
    /// gives the same bits for the built-in activations; an exponentially growing custom σ at large variance
    /// would need a wider cut).
    /// Returns (E[σ²], E[σ'²]) by each rule.
    /// Pairs of symmetric nodes are folded (h_k(−z) = (−1)^k h_k(z)).
    /// </summary>
    private static (double Ea, double Eda, double Eb, double Edb) Coefficients(Activation act, double v, double step, double[] ca, double[] cb, Scratch ws)
    {
        const double ZMax = 14.0, InvSqrt2Pi = 0.39894228040143267794;
        int na = (int)(ZMax / step) + 1;           // trapezoid nodes i·h, i = 0…na−1 (i = 0 unpaired)
        int nb = (int)(ZMax / step - 0.5) + 1;     // midpoint nodes (i + ½)h, i = 0…nb−1
        int pa = (na + 7) & ~7, pb = (nb + 7) & ~7, nv = pa + pb;
        ws.Ensure(nv);
        double[] zz = ws.Z, ww = ws.W;
        for (int i = 0; i < na; i++) { zz[i] = i * step; ww[i] = step * InvSqrt2Pi * Math.Exp(-0.5 * zz[i] * zz[i]); }
        for (int i = 0; i < nb; i++) { zz[pa + i] = (i + 0.5) * step; ww[pa + i] = step * InvSqrt2Pi * Math.Exp(-0.5 * zz[pa + i] * zz[pa + i]); }
        // σ and σ' at ±√v·z (padding lanes: z = 0, weight 0).
        double sv = Math.Sqrt(v);
        double[] x = ws.X, s = ws.S, d = ws.D;
        for (int i = 0; i < nv; i++) { x[i] = sv * zz[i]; x[nv + i] = -x[i]; }
        act.Forward(x.AsSpan(0, 2 * nv), s.AsSpan(0, 2 * nv));
        act.Derivative(x.AsSpan(0, 2 * nv), d.AsSpan(0, 2 * nv));
        double[] sp = ws.Sp, sm = ws.Sm, dp = ws.Dp, dm = ws.Dm;
        double ea = 0, eda = 0, eb = 0, edb = 0;
        for (int i = 0; i < nv; i++)
        {
            double w = ww[i];
            if (i == 0) w *= 0.5; // the trapezoid node z = 0 appears once in the folded sum
            double s1 = s[i], s2 = s[nv + i], d1 = d[i], d2 = d[nv + i];
            sp[i] = w * (s1 + s2);
            sm[i] = w * (s1 - s2);
            dp[i] = w * (d1 + d2);
            dm[i] = w * (d1 - d2);
            double es = w * (s1 * s1 + s2 * s2), eds = w * (d1 * d1 + d2 * d2);
            if (i < pa) { ea += es; eda += eds; }
            else { eb += es; edb += eds; }
        }
        // Hermite recurrence over the nodes, eight at a time; per k one fixed-order reduction per rule.
        double[] hPrev = ws.HPrev, hCur = ws.HCur;
        Array.Clear(hPrev);
        Array.Fill(hCur, 1.0);
        ref double rz = ref MemoryMarshal.GetArrayDataReference(zz);
        ref double rsp = ref MemoryMarshal.GetArrayDataReference(sp), rsm = ref MemoryMarshal.GetArrayDataReference(sm);
        ref double rdp = ref MemoryMarshal.GetArrayDataReference(dp), rdm = ref MemoryMarshal.GetArrayDataReference(dm);
        ref double hp = ref MemoryMarshal.GetArrayDataReference(hPrev), hc = ref MemoryMarshal.GetArrayDataReference(hCur);
        for (int k = 0; k < MaxTerms; k++)
        {
            ref double ps = ref (k & 1) == 0 ? ref rsp : ref rsm;
            ref double pd = ref (k & 1) == 0 ? ref rdp : ref rdm;
            // h_{k+1} = (z h_k − √k h_{k−1}) / √(k+1), in the same pass.
            Vector256<double> rk = Vector256.Create(Math.Sqrt(k)), inv = Vector256.Create(1.0 / Math.Sqrt(k + 1));
            (ca[k], ca[MaxTerms + k]) = Pass(ref rz, ref ps, ref pd, ref hp, ref hc, 0, (nuint)pa, rk, inv);
            (cb[k], cb[MaxTerms + k]) = Pass(ref rz, ref ps, ref pd, ref hp, ref hc, (nuint)pa, (nuint)nv, rk, inv);
        }
        return (ea, eda, eb, edb);
    }

    /// <summary>Per-thread work arrays of <see cref="Coefficients"/> (so a record allocates only its own arrays).</summary>
    private sealed class Scratch
    {
        public readonly double[] Ca = new double[2 * MaxTerms], Cb = new double[2 * MaxTerms];
        public double[] Z = [], W = [], X = [], S = [], D = [], Sp = [], Sm = [], Dp = [], Dm = [], HPrev = [], HCur = [];

        /// <summary>Arrays of exactly nv (and 2·nv) elements, zeroed where the node loops do not write.</summary>
        public void Ensure(int nv)
        {
            if (Z.Length != nv)
            {
                Z = new double[nv]; W = new double[nv]; Sp = new double[nv]; Sm = new double[nv]; Dp = new double[nv]; Dm = new double[nv];
                HPrev = new double[nv]; HCur = new double[nv];
                X = new double[2 * nv]; S = new double[2 * nv]; D = new double[2 * nv];
            }
            Array.Clear(Z); Array.Clear(W);
        }
    }

    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>
    /// Σ_i p_i·h_k(z_i) for the nodes [lo, hi) (a multiple of 8 long) for σ and σ', and h_{k+1} in place:
    /// two interleaved accumulators per sum, reduced in a fixed order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double S, double D) Pass(ref double z, ref double ps, ref double pd, ref double hp, ref double hc,
        nuint lo, nuint hi, Vector256<double> rk, Vector256<double> inv)
    {
        if (Vector512.IsHardwareAccelerated && Isa.Active == IsaPath.Vector512)
        {
            // The same eight lanes in one register: bitwise the Vector256 pair below.
            Vector512<double> s8 = Vector512<double>.Zero, d8 = s8, rk8 = Vector512.Create(rk, rk), inv8 = Vector512.Create(inv, inv);
            for (nuint i = lo; i < hi; i += 8)
            {
                Vector512<double> h = Vector512.LoadUnsafe(ref hc, i), h0 = Vector512.LoadUnsafe(ref hp, i);
                s8 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ps, i), h, s8);
                d8 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pd, i), h, d8);
                Vector512<double> next = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref z, i), h, -(rk8 * h0)) * inv8;
                h.StoreUnsafe(ref hp, i);
                next.StoreUnsafe(ref hc, i);
            }
            return (Reduce(s8.GetLower() + s8.GetUpper()), Reduce(d8.GetLower() + d8.GetUpper()));
        }
        Vector256<double> s0 = Vector256<double>.Zero, s1 = s0, d0 = s0, d1 = s0;
        for (nuint i = lo; i < hi; i += 8)
        {
            Vector256<double> h = Vector256.LoadUnsafe(ref hc, i), g = Vector256.LoadUnsafe(ref hc, i + 4);
            Vector256<double> h0 = Vector256.LoadUnsafe(ref hp, i), g0 = Vector256.LoadUnsafe(ref hp, i + 4);
            s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ps, i), h, s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ps, i + 4), g, s1);
            d0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pd, i), h, d0);
            d1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pd, i + 4), g, d1);
            Vector256<double> next = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref z, i), h, -(rk * h0)) * inv;
            Vector256<double> next1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref z, i + 4), g, -(rk * g0)) * inv;
            h.StoreUnsafe(ref hp, i);
            g.StoreUnsafe(ref hp, i + 4);
            next.StoreUnsafe(ref hc, i);
            next1.StoreUnsafe(ref hc, i + 4);
        }
        return (Reduce(s0 + s1), Reduce(d0 + d1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Reduce(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));

    /// <summary>
    /// The series dual at (a, b, c) from the records of a and c, or false when the certificate does not
    /// hold within the trusted terms (the caller then uses the polar rule).
    /// </summary>
    public static bool TryEvaluate(MehlerRecord ra, MehlerRecord rc, double b, out double ess, out double edd)
    {
        ess = edd = 0;
        if (!ra.Eligible || !rc.Eligible || double.IsNaN(b)) return false;
        double sa = Math.Sqrt(ra.Variance), sc = Math.Sqrt(rc.Variance);
        double rho = Math.Clamp(b / (sa * sc), -1.0, 1.0);
        int limit = Math.Min(ra.Terms, rc.Terms);
        ref double ca = ref MemoryMarshal.GetArrayDataReference(ra.Data!);
        ref double cc = ref MemoryMarshal.GetArrayDataReference(rc.Data!);
        ref double ta = ref Unsafe.Add(ref ca, 2 * MaxTerms);
        ref double tc = ref Unsafe.Add(ref cc, 2 * MaxTerms);
        double r2 = rho * rho, r4 = r2 * r2;
        if (Vector512.IsHardwareAccelerated && Isa.Active == IsaPath.Vector512) return Evaluate512(ref ca, ref cc, ref ta, ref tc, rho, r2, r4, limit, out ess, out edd);
        Vector256<double> p0 = Vector256.Create(1.0, rho, r2, r2 * rho);
        Vector256<double> p1 = p0 * r4;
        Vector256<double> r8 = Vector256.Create(r4 * r4);
        Vector256<double> s0 = Vector256<double>.Zero, s1 = s0, d0 = s0, d1 = s0;
        for (int k = 0; k < limit; k += 8)
        {
            nuint o = (nuint)(2 * k); // block k/8: α at [o, o + 8), β at [o + 8, o + 16)
            Vector256<double> a0 = Vector256.LoadUnsafe(ref ca, o), a1 = Vector256.LoadUnsafe(ref ca, o + 4);
            Vector256<double> c0 = Vector256.LoadUnsafe(ref cc, o), c1 = Vector256.LoadUnsafe(ref cc, o + 4);
            s0 = Vector256.FusedMultiplyAdd(a0 * c0, p0, s0);
            s1 = Vector256.FusedMultiplyAdd(a1 * c1, p1, s1);
            Vector256<double> b0 = Vector256.LoadUnsafe(ref ca, o + 8), b1 = Vector256.LoadUnsafe(ref ca, o + 12);
            Vector256<double> e0 = Vector256.LoadUnsafe(ref cc, o + 8), e1 = Vector256.LoadUnsafe(ref cc, o + 12);
            d0 = Vector256.FusedMultiplyAdd(b0 * e0, p0, d0);
            d1 = Vector256.FusedMultiplyAdd(b1 * e1, p1, d1);
            p0 *= r8;
            p1 *= r8;
            if ((k & 8) == 0 && k + 8 < limit) continue; // check after every 16 terms and at the limit
            // |ρ|^{k+8} is |lane 0 of p0|; the tails after k + 8 terms sit at block k/8.
            double rk = p0.GetElement(0), rk2 = rk * rk;
            int m = k >> 3;
            ess = Reduce(s0 + s1);
            edd = Reduce(d0 + d1);
            if (rk2 * (Unsafe.Add(ref ta, m) * Unsafe.Add(ref tc, m)) <= CertificateSquared * (ess * ess)
                && rk2 * (Unsafe.Add(ref ta, Blocks + m) * Unsafe.Add(ref tc, Blocks + m)) <= CertificateSquared * (edd * edd))
                return true;
        }
        return false;
    }

    /// <summary><see cref="TryEvaluate"/>'s loop with the eight lanes of the two Vector256 accumulators in one Vector512 (bitwise the same).</summary>
    private static bool Evaluate512(ref double ca, ref double cc, ref double ta, ref double tc, double rho, double r2, double r4, int limit,
        out double ess, out double edd)
    {
        ess = edd = 0;
        Vector256<double> q0 = Vector256.Create(1.0, rho, r2, r2 * rho);
        Vector512<double> p = Vector512.Create(q0, q0 * r4);
        Vector512<double> r8 = Vector512.Create(r4 * r4);
        Vector512<double> s = Vector512<double>.Zero, d = s;
        for (int k = 0; k < limit; k += 8)
        {
            nuint o = (nuint)(2 * k);
            s = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ca, o) * Vector512.LoadUnsafe(ref cc, o), p, s);
            d = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref ca, o + 8) * Vector512.LoadUnsafe(ref cc, o + 8), p, d);
            p *= r8;
            if ((k & 8) == 0 && k + 8 < limit) continue;
            double rk = p.GetElement(0), rk2 = rk * rk;
            int m = k >> 3;
            ess = Reduce(s.GetLower() + s.GetUpper());
            edd = Reduce(d.GetLower() + d.GetUpper());
            if (rk2 * (Unsafe.Add(ref ta, m) * Unsafe.Add(ref tc, m)) <= CertificateSquared * (ess * ess)
                && rk2 * (Unsafe.Add(ref ta, Blocks + m) * Unsafe.Add(ref tc, Blocks + m)) <= CertificateSquared * (edd * edd))
                return true;
        }
        return false;
    }
}
