using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

using NtkFast.Numerics;

namespace NtkFast.Activations;

/// <summary>
/// Vectorised closed-form dual kernels over one row (a fixed, b[j], c[j] varying): the arc-cosine family
/// (relu, leaky_relu, abs), erf and sign. One generic kernel per family over the vector width
/// (<see cref="IDualVector{TV}"/>: Vector512 where accelerated, else Vector256, which also runs in software
/// without AVX); every lane does the same IEEE operations (FMA, sqrt, one division, a minimax atan) on every
/// width and instruction set, and the tail is padded into one more full vector, so a result depends only on
/// its own (a, b, c), not on the path, its position or the span length.
/// Per triple (relu): one sqrt (S), one division (atan2) and about six other vector operations per lane;
/// √c (for clipping b and for the ρ → −1 series) only when a lane of the vector needs it: a vector that may
/// need clipping is recomputed out of line (<c>RunFull</c>), the series is evaluated under a mask test
/// (see docs/notes/dual.md for the measured cost).
/// They agree with the scalar <see cref="Activation.Dual(double, double, double)"/> to a few ulps
/// (Math.Atan2 vs the polynomial).
/// </summary>
internal static class BatchedDual
{
    private const double InvTwoPi = 0.15915494309189533577;
    private const double HalfPi = Math.PI / 2;
    // Double-double constants (hi = the nearest double, lo = the rest; from 50-digit π).
    private const double PiHi = 3.141592653589793, PiLo = 1.2246467991473532e-16;
    private const double HalfPiHi = 1.5707963267948966, HalfPiLo = 6.123233995736766e-17;
    private const double PiOver3Hi = 1.0471975511965979, PiOver3Lo = -1.072081766451091e-16;
    private const double PiOver6Hi = 0.5235987755982989, PiOver6Lo = -5.360408832255455e-17;
    private const double TinyDen = 1.1830521861667747e-271, TinyScale = 4.149515568880993e+180; // 2^-900, 2^600
    private const double Tan15 = 0.26794919243112270;   // tan(π/12)
    private const double Sqrt3 = 1.7320508075688772;
    /// <summary>b² ≤ a·c·(1 − 2⁻⁴⁸) in floating point guarantees |b| &lt; fl(√a·√c), i.e. clipping b is the identity.</summary>
    private const double NoClipMargin = 1.0 - 1.0 / (1L << 48), ClipFloor = 1.0261342003245941e-289; // 2^-960

    // atan(r) = r + r³·q(r²) on |r| ≤ tan(π/12): minimax q of 8 terms (scripts/atan-minimax.py: Remez on the
    // relative error, 1.6e−17 levelled, 1.8e−17 with the coefficients rounded to double).
    private const double A0 = -0.33333333333331033;
    private const double A1 = 0.19999999998955165;
    private const double A2 = -0.14285714123174784;
    private const double A3 = 0.11111098862644499;
    private const double A4 = -0.09090396949858315;
    private const double A5 = 0.07679760663523227;
    private const double A6 = -0.06486345198964984;
    private const double A7 = 0.0444936879027288;

    // sin δ − δ cos δ = δ³·Σ_{k≥1} (−1)^{k+1} 2k δ^{2k−2}/(2k+1)!, 10 terms (δ ≤ 0.25: truncation < 1e−19 relative);
    // K(k−1) = (±1·2·k)/fact with fact = Π (2i)(2i+1) accumulated in double (tests rebuild them that way). Constants,
    // not a static array: the array's class-initialisation check was a call in the loop, so every vector kept
    // live across it was spilled to the stack (and timings then depended on the stack's alignment).
    internal const double K0 = 0.3333333333333333, K1 = -0.03333333333333333, K2 = 0.0011904761904761906;
    internal const double K3 = -2.2045855379188714e-05, K4 = 2.505210838544172e-07, K5 = -1.9270852604185937e-09;
    internal const double K6 = 1.0706029224547743e-11, K7 = -4.498331606952833e-14, K8 = 1.4797143443923793e-16;
    internal const double K9 = -3.9145882126782523e-19;

    /// <summary>
    /// Vector512 when the path (null: the registry's <see cref="Isa.Active"/>) is Vector512, else Vector256, which
    /// runs in software below AVX2; tests pass either width explicitly (bitwise identical results).
    /// </summary>
    private static bool UseVector512(IsaPath? path) => (path ?? Isa.Active) == IsaPath.Vector512;

    /// <summary>
    /// Argument reduction of atan2 for |y|, |x| ≥ 0: t = min/max ∈ [0, 1]; for t &gt; tan 15° the reduced
    /// r = (t√3 − 1)/(t + √3) = (min·√3 − max)/(max·√3 + min), selected before the one division; r² and the
    /// minimax q(r²). Arguments below 2⁻⁹⁰⁰ are scaled by 2⁶⁰⁰ first (exact), so subnormals keep their digits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AtanReduce<TV, TO>(bool scaleTiny, TV ay, TV ax, out TV tail, out TV big, out TV flip) where TO : IDualVector<TV> where TV : struct
    {
        AtanSetup<TV, TO>(scaleTiny, ay, ax, out TV n, out TV d, out TV den, out big, out flip);
        // 0/0 (both zero) → 0; den > 0 otherwise (d ≥ den). Without scaleTiny den ≥ 2⁻⁴⁸¹ > 0 is known.
        TV r = scaleTiny ? TO.Select(TO.Eq(den, TO.Zero), TO.Zero, TO.Div(n, d)) : TO.Div(n, d);
        tail = AtanTail<TV, TO>(r);
    }

    /// <summary>The reduced quotient's numerator n and denominator d (before the division), see <see cref="AtanReduce"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AtanSetup<TV, TO>(bool scaleTiny, TV ay, TV ax, out TV n, out TV d, out TV den, out TV big, out TV flip) where TO : IDualVector<TV> where TV : struct
    {
        flip = TO.Gt(ay, ax);
        TV num = TO.Select(flip, ax, ay);
        den = TO.Select(flip, ay, ax);
        if (scaleTiny)
        {
            TV scale = TO.Select(TO.Lt(den, TO.C(TinyDen)), TO.C(TinyScale), TO.C(1.0));
            num = TO.Mul(num, scale);
            den = TO.Mul(den, scale);
        }
        big = TO.Gt(num, TO.Mul(TO.C(Tan15), den));
        n = TO.Select(big, TO.Fms(num, TO.C(Sqrt3), den), num);
        d = TO.Select(big, TO.Fma(den, TO.C(Sqrt3), num), den);
    }

    /// <summary>atan(r) ≈ r + r³·q(r²) (q the minimax polynomial), one rounding at the end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV AtanTail<TV, TO>(TV r) where TO : IDualVector<TV> where TV : struct
    {
        // Estrin's scheme: 4 dependent steps instead of Horner's 8 (the division before it and this chain are
        // the loop's critical path); on |x| ≤ tan²15° the terms fall by ≥ 14× per power, so q keeps ~1 ulp and
        // r³q ≤ 0.025·r dilutes that far below atan's final rounding.
        TV x = TO.Mul(r, r);
        TV x2 = TO.Mul(x, x);
        TV p01 = TO.Fma(TO.C(A1), x, TO.C(A0));
        TV p23 = TO.Fma(TO.C(A3), x, TO.C(A2));
        TV p45 = TO.Fma(TO.C(A5), x, TO.C(A4));
        TV p67 = TO.Fma(TO.C(A7), x, TO.C(A6));
        TV p03 = TO.Fma(p23, x2, p01);
        TV p47 = TO.Fma(p67, x2, p45);
        TV q = TO.Fma(p47, TO.Mul(x2, x2), p03);
        return TO.Fma(TO.Mul(r, x), q, r);
    }

    /// <summary>
    /// The first-quadrant angle from the reduction: H + (σ·atan(r) + L) with σ = −1 when flipped (π/2 − …) and
    /// (H, L) the double-double constant (0, π/6, π/2 or π/3), so the constants add no rounding of their own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV AtanFinish<TV, TO>(TV tail, TV big, TV flip) where TO : IDualVector<TV> where TV : struct
    {
        TV h = TO.Select(big, TO.Select(flip, TO.C(PiOver3Hi), TO.C(PiOver6Hi)), TO.Select(flip, TO.C(HalfPiHi), TO.Zero));
        TV l = TO.Select(big, TO.Select(flip, TO.C(PiOver3Lo), TO.C(PiOver6Lo)), TO.Select(flip, TO.C(HalfPiLo), TO.Zero));
        TV signed = TO.Xor(tail, TO.And(flip, TO.C(-0.0)));
        return TO.Add(h, TO.Add(signed, l));
    }

    /// <summary>π − a for a ∈ [0, π/2] with π as hi + lo.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV PiMinus<TV, TO>(TV a) where TO : IDualVector<TV> where TV : struct =>
        TO.Add(TO.Sub(TO.C(PiLo), a), TO.C(PiHi));

    /// <summary>
    /// atan2(y, x) lanes, within 2 ulps of Math.Atan2 (tests: dense grids, signed zeros, subnormals, ratios to
    /// 1e±600) for |x|, |y| ≤ 1e300 (max·√3 must not overflow).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Atan2<TV, TO>(TV y, TV x) where TO : IDualVector<TV> where TV : struct => Atan2<TV, TO>(true, y, x);

    /// <summary>
    /// <paramref name="scaleTiny"/> false skips the subnormal scaling: only where max(|x|, |y|) ≥ 2⁻⁹⁰⁰ is known
    /// (the fast paths of the kernels: there a·c ≥ 2⁻⁹⁶⁰ and max(S, |b|)² ≥ a·c/2), where it is the identity.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Atan2<TV, TO>(bool scaleTiny, TV y, TV x) where TO : IDualVector<TV> where TV : struct
    {
        AtanReduce<TV, TO>(scaleTiny, TO.Abs(y), TO.Abs(x), out TV tail, out TV big, out TV flip);
        TV a = AtanFinish<TV, TO>(tail, big, flip);
        // x < 0 or x = −0 (IEEE: atan2(±0, −0) = ±π): the sign bit of x.
        a = TO.Select(TO.Lt(TO.CopySign(TO.C(1.0), x), TO.Zero), PiMinus<TV, TO>(a), a);
        return TO.CopySign(a, y);
    }

    internal static Vector256<double> Atan2(Vector256<double> y, Vector256<double> x) => Atan2<Vector256<double>, V256>(y, x);
    internal static Vector512<double> Atan2(Vector512<double> y, Vector512<double> x) => Atan2<Vector512<double>, V512>(y, x);

    /// <summary>
    /// Lanes that may need b clipped to [−√a√c, √a√c]: all but those with b² + 2⁻⁹⁶⁰ &lt; a·c·(1 − 2⁻⁴⁸) in
    /// floating point, which implies a·c is normal and |b| &lt; fl(√a·√c), so the clip is the identity there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV MayClip<TV, TO>(TV ac, TV w) where TO : IDualVector<TV> where TV : struct =>
        TO.Le(TO.Mul(ac, TO.C(NoClipMargin)), TO.Add(w, TO.C(ClipFloor)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Clip<TV, TO>(TV sac, TV b) where TO : IDualVector<TV> where TV : struct
    {
        b = TO.Select(TO.Gt(b, sac), sac, b);
        return TO.Select(TO.Lt(b, TO.Neg(sac)), TO.Neg(sac), b);
    }

    /// <summary>
    /// Lanes where k(b) needs the series: b &lt; 0 and δ ≤ 0.25 (the direct form cancels there). δ ≤ 0.25 alone
    /// suffices: for b ≥ 0, δ = π − θ ≥ π/2 (and at b = ±0 with S = 0, a zero-variance lane, both forms give 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV UseSeries<TV, TO>(TV delta) where TO : IDualVector<TV> where TV : struct =>
        TO.Le(delta, TO.C(0.25));

    /// <summary>
    /// k(b)·2π = S + δ·b with δ = atan2(S, −b) = π − θ, or √a√c·(sin δ − δ cos δ) by its series in the lanes of
    /// <see cref="UseSeries"/>, computed only when a lane of the vector needs it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV K2Pi<TV, TO>(bool full, TV b, TV s, TV delta, TV sa, TV c0) where TO : IDualVector<TV> where TV : struct
    {
        TV direct = TO.Fma(delta, b, s);
        TV useSeries = UseSeries<TV, TO>(delta);
        if (!full && !TO.Any(useSeries)) return direct;
        TV d2 = TO.Mul(delta, delta);
        TV p = TO.Fma(TO.Fma(TO.Fma(TO.Fma(TO.Fma(TO.Fma(TO.Fma(TO.Fma(TO.Fma(TO.C(K9), d2, TO.C(K8)), d2, TO.C(K7)), d2, TO.C(K6)), d2,
            TO.C(K5)), d2, TO.C(K4)), d2, TO.C(K3)), d2, TO.C(K2)), d2, TO.C(K1)), d2, TO.C(K0));
        TV series = TO.Mul(TO.Mul(sa, TO.Sqrt(c0)), TO.Mul(TO.Mul(delta, d2), p));
        return TO.Select(useSeries, series, direct);
    }

    public static void ArcCosineRow(double slope, double derivAtZero, double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd, IsaPath? path = null)
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
        var p = new ArcCosineParams(slope, derivAtZero, a);
        bool wide = UseVector512(path);
        if (slope == 0)
        {
            if (wide) Row<Vector512<double>, V512, ArcCosineKernel<ZeroSlope>>(in p, b, c, ess, edd);
            else Row<Vector256<double>, V256, ArcCosineKernel<ZeroSlope>>(in p, b, c, ess, edd);
        }
        else if (slope > 0)
        {
            if (wide) Row<Vector512<double>, V512, ArcCosineKernel<PositiveSlope>>(in p, b, c, ess, edd);
            else Row<Vector256<double>, V256, ArcCosineKernel<PositiveSlope>>(in p, b, c, ess, edd);
        }
        else
        {
            if (wide) Row<Vector512<double>, V512, ArcCosineKernel<NegativeSlope>>(in p, b, c, ess, edd);
            else Row<Vector256<double>, V256, ArcCosineKernel<NegativeSlope>>(in p, b, c, ess, edd);
        }
    }

    public static void ErfRow(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd, IsaPath? path = null)
    {
        var p = new ArcCosineParams(0, 0, a > 0 ? a : 0.0);
        if (UseVector512(path)) Row<Vector512<double>, V512, ErfKernel>(in p, b, c, ess, edd);
        else Row<Vector256<double>, V256, ErfKernel>(in p, b, c, ess, edd);
    }

    public static void SignRow(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd, IsaPath? path = null)
    {
        int n = b.Length;
        if (!(a > 0))
        {
            ess[..n].Clear();
            edd[..n].Clear();
            return;
        }
        var p = new ArcCosineParams(0, 0, a);
        if (UseVector512(path)) Row<Vector512<double>, V512, SignKernel>(in p, b, c, ess, edd);
        else Row<Vector256<double>, V256, SignKernel>(in p, b, c, ess, edd);
    }

    /// <summary>Row driver: full vectors, then the tail padded (b = 0, c = 1) into one more full vector.</summary>
    private static void Row<TV, TO, TK>(in ArcCosineParams p, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
        where TO : IDualVector<TV> where TV : struct where TK : IRowKernel
    {
        int n = b.Length;
        int w = TO.Count;
        ref double br = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
        ref double cr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(c);
        ref double er = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(ess);
        ref double dr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(edd);
        int j0 = 0;
        while (j0 <= n - w)
        {
            TV vb = TO.Load(ref br, (nuint)j0), vc = TO.Load(ref cr, (nuint)j0);
            TK.Run<TV, TO>(false, in p, vb, vc, out TV e, out TV d, out bool needFull);
            if (needFull)
            {
                j0 = RunFullFrom<TV, TO, TK>(in p, ref br, ref cr, ref er, ref dr, j0, n - w);
            }
            else
            {
                TO.Store(e, ref er, (nuint)j0);
                TO.Store(d, ref dr, (nuint)j0);
                j0 += w;
            }
        }
        if (j0 < n)
        {
            Span<double> tb = stackalloc double[8], tc = stackalloc double[8], te = stackalloc double[8], td = stackalloc double[8];
            tb.Clear();
            tc.Fill(1.0);
            b[j0..n].CopyTo(tb);
            c[j0..n].CopyTo(tc);
            TV vb = TO.Load(ref tb[0], 0), vc = TO.Load(ref tc[0], 0);
            TK.Run<TV, TO>(false, in p, vb, vc, out TV e, out TV d, out bool needFull);
            if (needFull)
            {
                RunFull<TV, TO, TK>(in p, ref tb[0], ref tc[0], ref te[0], ref td[0], 0);
            }
            else
            {
                TO.Store(e, ref te[0], 0);
                TO.Store(d, ref td[0], 0);
            }
            te[..(n - j0)].CopyTo(ess[j0..]);
            td[..(n - j0)].CopyTo(edd[j0..]);
        }
    }

    /// <summary>
    /// The vector at <paramref name="j"/> again with clipping and the ρ → −1 series in every lane (selected per lane,
    /// so lanes that need neither get exactly the fast path's result), then the vectors after it the same way while
    /// they need it too, up to <paramref name="last"/>; returns the next index for the fast path. Vectors that need
    /// clipping come in runs (the ρ = 1 and zero-variance pixel pairs of blank image borders), and a run costs one
    /// full evaluation per vector instead of a fast attempt plus a full one (plus one full evaluation of the vector
    /// that ends it, whose result is the same either way). Kept out of line so the fast path has no branches; it
    /// loads and stores through the row's references itself: passing vectors in and out would make the fast path's
    /// values address-exposed (kept on the stack).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int RunFullFrom<TV, TO, TK>(in ArcCosineParams p, ref double b, ref double c, ref double ess, ref double edd, int j, int last)
        where TO : IDualVector<TV> where TV : struct where TK : IRowKernel
    {
        bool more;
        do
        {
            TK.Run<TV, TO>(true, in p, TO.Load(ref b, (nuint)j), TO.Load(ref c, (nuint)j), out TV e, out TV d, out more);
            TO.Store(e, ref ess, (nuint)j);
            TO.Store(d, ref edd, (nuint)j);
            j += TO.Count;
        }
        while (more && j <= last);
        return j;
    }

    /// <summary>The tail vector (padded) with clipping and the series in every lane: see <see cref="RunFullFrom"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunFull<TV, TO, TK>(in ArcCosineParams p, ref double b, ref double c, ref double ess, ref double edd, nuint j)
        where TO : IDualVector<TV> where TV : struct where TK : IRowKernel
    {
        TK.Run<TV, TO>(true, in p, TO.Load(ref b, j), TO.Load(ref c, j), out TV e, out TV d, out _);
        TO.Store(e, ref ess, j);
        TO.Store(d, ref edd, j);
    }

    private readonly struct ArcCosineParams(double slope, double derivAtZero, double a)
    {
        public readonly double Slope = slope, A = a, SqrtA = Math.Sqrt(a);
        public readonly double Oma2InvTwoPi = (1 - slope) * (1 - slope) * InvTwoPi;
        public readonly double EdgeEdd = 0.5 * (1 + slope) * derivAtZero;
        public readonly double NegEddBase = 0.25 * (1 + slope) * (1 + slope);
    }

    private interface IRowKernel
    {
        /// <summary>
        /// One vector of triples. Fast (<paramref name="full"/> false): no clipping, no series, and
        /// <paramref name="needFull"/> set when a lane may need either; full: both, selected per lane, and
        /// <paramref name="needFull"/> says whether a lane needed clipping (the next vector probably does too).
        /// </summary>
        static abstract void Run<TV, TO>(bool full, in ArcCosineParams p, TV b, TV c, out TV ess, out TV edd, out bool needFull) where TO : IDualVector<TV> where TV : struct;
    }

    /// <summary>c₀ = max(c, 0), w = b², a·c₀ and S = √max(ac − b², 0) with Kahan's FMA discriminant (from the unclipped b: see ArcCosine).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Discriminant<TV, TO>(bool full, TV va, TV b, TV c0, out TV w, out TV ac) where TO : IDualVector<TV> where TV : struct
    {
        w = TO.Mul(b, b);
        ac = TO.Mul(va, c0);
        TV d = TO.Add(TO.Fms(va, c0, w), TO.Fnma(b, b, w));
        // Fast path: a lane that MayClip does not flag has ac − b² > 2⁻⁴⁹·ac, far above Kahan's error, so d > 0
        // already (flagged vectors are recomputed by the full path, whatever this gives them).
        return full ? TO.Select(TO.Gt(d, TO.Zero), d, TO.Zero) : d;
    }

    private interface ISlopeSign { static abstract int Sign { get; } }
    private readonly struct ZeroSlope : ISlopeSign { public static int Sign => 0; }
    private readonly struct PositiveSlope : ISlopeSign { public static int Sign => 1; }
    private readonly struct NegativeSlope : ISlopeSign { public static int Sign => -1; }

    /// <summary>The arc-cosine family; the sign of the slope is a type argument so relu's kernel carries no leaky/abs code.</summary>
    private readonly struct ArcCosineKernel<TS> : IRowKernel where TS : struct, ISlopeSign
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Run<TV, TO>(bool full, in ArcCosineParams p, TV b, TV c, out TV ess, out TV edd, out bool needFull) where TO : IDualVector<TV> where TV : struct
        {
            // Fast path: c itself — a lane with c ≤ 0 has a·c ≤ 0 ≤ b² + 2⁻⁹⁶⁰, so MayClip sends the vector to
            // the full path, which clamps c to 0 and selects those lanes.
            TV cpos = full ? TO.Gt(c, TO.Zero) : default;
            TV c0 = full ? TO.Select(cpos, c, TO.Zero) : c;
            TV sa = TO.C(p.SqrtA);
            TV s = TO.Sqrt(Discriminant<TV, TO>(full, TO.C(p.A), b, c0, out TV w, out TV ac));
            if (full) b = Clip<TV, TO>(TO.Mul(sa, TO.Sqrt(c0)), b);
            else if (TO.Any(MayClip<TV, TO>(ac, w)))
            {
                ess = edd = TO.Zero;
                needFull = true;
                return;
            }
            needFull = full && TO.Any(MayClip<TV, TO>(ac, w));
            AtanReduce<TV, TO>(full, s, TO.Abs(b), out TV tail, out TV big, out TV flip);
            TV acute = AtanFinish<TV, TO>(tail, big, flip);                           // atan2(S, |b|) ∈ [0, π/2]
            TV obtuse = PiMinus<TV, TO>(acute);
            TV bneg = TO.Lt(b, TO.Zero);
            TV delta = TO.Select(bneg, acute, obtuse);
            TV e = K2Pi<TV, TO>(full, b, s, delta, sa, c0);
            TV d;
            double slope = p.Slope;
            if (TS.Sign == 0)
            {
                d = delta;
            }
            else
            {
                TV deltaNeg = TO.Select(bneg, obtuse, acute);                          // atan2(S, b)
                TV eNeg = K2Pi<TV, TO>(full, TO.Neg(b), s, deltaNeg, sa, c0);
                e = TO.Sub(TO.Mul(TO.C(1 + slope * slope), e), TO.Mul(TO.C(2 * slope), eNeg));
                d = delta;
                if (TS.Sign < 0)
                {
                    // atan2(b, S) = ±atan2(|b|, S) from the same reduction with the opposite flip (|b| > S; at a tie neither flips).
                    d = TO.CopySign(AtanFinish<TV, TO>(tail, big, TO.Gt(TO.Abs(b), s)), b);
                }
            }
            e = TO.Mul(e, TO.C(InvTwoPi));
            d = TS.Sign == 0 ? TO.Mul(d, TO.C(InvTwoPi))
                : TS.Sign > 0 ? TO.Fma(TO.C(p.Oma2InvTwoPi), d, TO.C(slope))
                : TO.Fma(TO.C(p.Oma2InvTwoPi), d, TO.C(p.NegEddBase));
            // c ≤ 0 lanes always take the full path (a·c = 0 ≤ b² + 2⁻⁹⁶⁰ in MayClip), so only it selects them.
            ess = full ? TO.Select(cpos, e, TO.Zero) : e;
            edd = full ? TO.Select(cpos, d, TO.C(p.EdgeEdd)) : d;
        }
    }

    private readonly struct ErfKernel : IRowKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Run<TV, TO>(bool full, in ArcCosineParams p, TV b, TV c, out TV ess, out TV edd, out bool needFull) where TO : IDualVector<TV> where TV : struct
        {
            TV c0 = full ? TO.Select(TO.Gt(c, TO.Zero), c, TO.Zero) : c; // c ≤ 0 lanes take the full path (as in the arc-cosine kernel)
            TV dpos = Discriminant<TV, TO>(full, TO.C(p.A), b, c0, out TV w, out TV ac);
            needFull = TO.Any(MayClip<TV, TO>(ac, w));
            if (full) b = Clip<TV, TO>(TO.Mul(TO.C(p.SqrtA), TO.Sqrt(c0)), b);
            // q = 1 + 2(a + c) + 4D, written as (1 + 2a) + 2c + 4D to keep every term ≥ 0.
            TV q = TO.Fma(TO.C(4.0), dpos, TO.Fma(TO.C(2.0), c0, TO.C(1.0 + 2.0 * p.A)));
            TV rho = TO.Sqrt(q);
            // atan2(2b, ρ) and 1/ρ from one division (ρ ≥ 1 > 0, so the angle is in (−π/2, π/2)):
            // Q = 1/(ρ·d) gives n/d = n·(ρ·Q) and 1/ρ = d·Q (two extra roundings each, a few ulps in all).
            TV yb = TO.Add(b, b);
            AtanSetup<TV, TO>(false, TO.Abs(yb), rho, out TV n, out TV d, out _, out TV big, out TV flip);
            TV qq = TO.Div(TO.C(1.0), TO.Mul(rho, d));
            TV r = TO.Mul(n, TO.Mul(rho, qq));
            TV angle = TO.CopySign(AtanFinish<TV, TO>(AtanTail<TV, TO>(r), big, flip), yb);
            ess = TO.Mul(TO.C(2.0 / Math.PI), angle);
            edd = TO.Mul(TO.C(4.0 / Math.PI), TO.Mul(d, qq));
        }
    }

    private readonly struct SignKernel : IRowKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Run<TV, TO>(bool full, in ArcCosineParams p, TV b, TV c, out TV ess, out TV edd, out bool needFull) where TO : IDualVector<TV> where TV : struct
        {
            TV cpos = TO.Gt(c, TO.Zero);
            TV c0 = TO.Select(cpos, c, TO.Zero);
            TV s = TO.Sqrt(Discriminant<TV, TO>(full, TO.C(p.A), b, c0, out TV w, out TV ac));
            needFull = TO.Any(MayClip<TV, TO>(ac, w));
            if (full) b = Clip<TV, TO>(TO.Mul(TO.C(p.SqrtA), TO.Sqrt(c0)), b);
            ess = TO.Select(cpos, TO.Mul(Atan2<TV, TO>(full, b, s), TO.C(2.0 / Math.PI)), TO.Zero);
            edd = TO.Zero;
        }
    }
}

/// <summary>
/// The lane operations of <see cref="BatchedDual"/>, one implementation per vector width. Only IEEE
/// operations with one defined result per lane (compare-and-select rather than Min/Max, whose ±0 and NaN
/// conventions differ between the hardware instruction and the software fallback).
/// </summary>
internal interface IDualVector<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(ref double src, nuint offset);
    static abstract void Store(TV v, ref double dst, nuint offset);
    static abstract TV C(double x);
    static abstract TV Add(TV x, TV y);
    static abstract TV Sub(TV x, TV y);
    static abstract TV Mul(TV x, TV y);
    static abstract TV Div(TV x, TV y);
    static abstract TV Fma(TV x, TV y, TV z);
    /// <summary>x·y − z, one rounding (= Fma(x, y, −z) bitwise; one instruction where the ISA has it).</summary>
    static abstract TV Fms(TV x, TV y, TV z);
    /// <summary>z − x·y, one rounding (= Fma(−x, y, z) bitwise).</summary>
    static abstract TV Fnma(TV x, TV y, TV z);
    static abstract TV Sqrt(TV x);
    static abstract TV Abs(TV x);
    static abstract TV Neg(TV x);
    static abstract TV CopySign(TV x, TV sign);
    /// <summary>Lane-wise mask ? x : y; <paramref name="mask"/> is always a comparison result (all ones or all zeros per lane).</summary>
    static abstract TV Select(TV mask, TV x, TV y);
    static abstract TV Gt(TV x, TV y);
    static abstract TV Lt(TV x, TV y);
    static abstract TV Le(TV x, TV y);
    static abstract TV Eq(TV x, TV y);
    static abstract TV And(TV x, TV y);
    static abstract TV Or(TV x, TV y);
    static abstract TV Xor(TV x, TV y);
    static abstract bool Any(TV mask);
}

internal readonly struct V256 : IDualVector<Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    public static Vector256<double> Zero => Vector256<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Load(ref double src, nuint offset) => Vector256.LoadUnsafe(ref src, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<double> v, ref double dst, nuint offset) => v.StoreUnsafe(ref dst, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> C(double x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Add(Vector256<double> x, Vector256<double> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Sub(Vector256<double> x, Vector256<double> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Mul(Vector256<double> x, Vector256<double> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Div(Vector256<double> x, Vector256<double> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Fma(Vector256<double> x, Vector256<double> y, Vector256<double> z) => Vector256.FusedMultiplyAdd(x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Fms(Vector256<double> x, Vector256<double> y, Vector256<double> z) =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplySubtract(x, y, z) : Vector256.FusedMultiplyAdd(x, y, -z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Fnma(Vector256<double> x, Vector256<double> y, Vector256<double> z) =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAddNegated(x, y, z) : Vector256.FusedMultiplyAdd(-x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Sqrt(Vector256<double> x) => Vector256.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Abs(Vector256<double> x) => Vector256.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Neg(Vector256<double> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> CopySign(Vector256<double> x, Vector256<double> sign) => Vector256.CopySign(x, sign);
    /// <summary>Every mask here is a comparison result (each lane all ones or all zeros), so a sign-bit blend is the bitwise select: one µop instead of and/andn/or.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Select(Vector256<double> mask, Vector256<double> x, Vector256<double> y) =>
        Avx.IsSupported ? Avx.BlendVariable(y, x, mask) : Vector256.ConditionalSelect(mask, x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Gt(Vector256<double> x, Vector256<double> y) => Vector256.GreaterThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Lt(Vector256<double> x, Vector256<double> y) => Vector256.LessThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Le(Vector256<double> x, Vector256<double> y) => Vector256.LessThanOrEqual(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Eq(Vector256<double> x, Vector256<double> y) => Vector256.Equals(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> And(Vector256<double> x, Vector256<double> y) => x & y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Or(Vector256<double> x, Vector256<double> y) => x | y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Xor(Vector256<double> x, Vector256<double> y) => x ^ y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Vector256<double> mask) => mask.ExtractMostSignificantBits() != 0;
}

internal readonly struct V512 : IDualVector<Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    public static Vector512<double> Zero => Vector512<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Load(ref double src, nuint offset) => Vector512.LoadUnsafe(ref src, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<double> v, ref double dst, nuint offset) => v.StoreUnsafe(ref dst, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> C(double x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Add(Vector512<double> x, Vector512<double> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Sub(Vector512<double> x, Vector512<double> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Mul(Vector512<double> x, Vector512<double> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Div(Vector512<double> x, Vector512<double> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Fma(Vector512<double> x, Vector512<double> y, Vector512<double> z) => Vector512.FusedMultiplyAdd(x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Fms(Vector512<double> x, Vector512<double> y, Vector512<double> z) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplySubtract(x, y, z) : Vector512.FusedMultiplyAdd(x, y, -z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Fnma(Vector512<double> x, Vector512<double> y, Vector512<double> z) =>
        Avx512F.IsSupported ? Avx512F.FusedMultiplyAddNegated(x, y, z) : Vector512.FusedMultiplyAdd(-x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Sqrt(Vector512<double> x) => Vector512.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Abs(Vector512<double> x) => Vector512.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Neg(Vector512<double> x) => -x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> CopySign(Vector512<double> x, Vector512<double> sign) => Vector512.CopySign(x, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Select(Vector512<double> mask, Vector512<double> x, Vector512<double> y) => Vector512.ConditionalSelect(mask, x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Gt(Vector512<double> x, Vector512<double> y) => Vector512.GreaterThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Lt(Vector512<double> x, Vector512<double> y) => Vector512.LessThan(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Le(Vector512<double> x, Vector512<double> y) => Vector512.LessThanOrEqual(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Eq(Vector512<double> x, Vector512<double> y) => Vector512.Equals(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> And(Vector512<double> x, Vector512<double> y) => x & y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Or(Vector512<double> x, Vector512<double> y) => x | y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Xor(Vector512<double> x, Vector512<double> y) => x ^ y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool Any(Vector512<double> mask) => mask.ExtractMostSignificantBits() != 0;
}
