using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

// GENERATED from Elementary256.cs by scripts/gen-elementary.sh — do not edit.

/// <summary>
/// Deterministic vector exp, log, sin and cos (double lanes; float lanes are widened to double and
/// narrowed back). Why not the runtime's Vector512.Exp/Log/Sin/Cos: they are written with
/// MultiplyAddEstimate, which is fused or not depending on the hardware and on whether the caller runs
/// precompiled (ReadyToRun) or re-jitted code, so the same call could return different last bits
/// within one process (seen as a flaky test) and across machines. Here every step is an IEEE operation
/// or an explicit fused multiply-add, so a lane's result depends only on its input: the same on every
/// vector width, instruction set, JIT tier and thread. Accuracy: ≤ 1–2 ulp against the C runtime
/// (exp: Taylor degree 13 on |r| ≤ ln2/2; log: fdlibm's minimax; sin/cos: fdlibm's kernels after a
/// three-part FMA reduction by π/2, lanes beyond 2^20 handed to Math.Sin/Cos).
/// </summary>
internal static class Elementary512
{
    private const double Shifter = 6755399441055744.0; // 1.5·2^52: adding it rounds to an integer kept in the low mantissa bits.
    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 0.6931471805599453;
    private const double Ln2Lo = 2.3190468138462996e-17;
    private const double TwoOverPi = 0.63661977236758138;
    private const double PiO2A = 1.5707963267948966;      // π/2 in three doubles (sum exact to ~160 bits)
    private const double PiO2B = 6.123233995736766e-17;
    private const double PiO2C = -1.4973849048591698e-33;
    private const double TrigLimit = 1048576.0;           // 2^20

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Fma(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);

    /// <summary>eˣ per lane: +∞ above 709.78, 0 below −745.13, NaN kept, subnormal results rounded once.</summary>
    public static Vector512<double> Exp(Vector512<double> x)
    {
        Vector512<double> xc = Vector512.Min(Vector512.Max(x, Vector512.Create(-746.0)), Vector512.Create(710.0));
        Vector512<double> t = Fma(xc, Vector512.Create(Log2E), Vector512.Create(Shifter));
        Vector512<double> n = t - Vector512.Create(Shifter);
        Vector512<double> r = Fma(n, Vector512.Create(-Ln2Hi), xc);
        r = Fma(n, Vector512.Create(-Ln2Lo), r);
        // Taylor to degree 13 on |r| ≤ 0.3466: truncation 0.3466^14/14! < 3e−18.
        Vector512<double> p = Vector512.Create(1.0 / 6227020800.0);
        p = Fma(p, r, Vector512.Create(1.0 / 479001600.0));
        p = Fma(p, r, Vector512.Create(1.0 / 39916800.0));
        p = Fma(p, r, Vector512.Create(1.0 / 3628800.0));
        p = Fma(p, r, Vector512.Create(1.0 / 362880.0));
        p = Fma(p, r, Vector512.Create(1.0 / 40320.0));
        p = Fma(p, r, Vector512.Create(1.0 / 5040.0));
        p = Fma(p, r, Vector512.Create(1.0 / 720.0));
        p = Fma(p, r, Vector512.Create(1.0 / 120.0));
        p = Fma(p, r, Vector512.Create(1.0 / 24.0));
        p = Fma(p, r, Vector512.Create(1.0 / 6.0));
        p = Fma(p, r, Vector512.Create(0.5));
        p = Fma(p, r, Vector512<double>.One);
        p = Fma(p, r, Vector512<double>.One);
        // 2^k as two factors 2^(k>>1)·2^(k−(k>>1)) so k down to −1076 and up to 1025 stay representable.
        Vector512<long> k = t.AsInt64() - Vector512.Create(Shifter).AsInt64();
        Vector512<long> k1 = Vector512.ShiftRightArithmetic(k, 1), k2 = k - k1;
        Vector512<double> s1 = Vector512.ShiftLeft(k1 + Vector512.Create(1023L), 52).AsDouble();
        Vector512<double> s2 = Vector512.ShiftLeft(k2 + Vector512.Create(1023L), 52).AsDouble();
        Vector512<double> y = p * s1 * s2;
        y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(709.782712893384)), Vector512.Create(double.PositiveInfinity), y);
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(-745.1332191019412)), Vector512<double>.Zero, y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>ln x per lane (fdlibm's reduction and minimax): −∞ at ±0, NaN below 0, +∞ at +∞, subnormals exact.</summary>
    public static Vector512<double> Log(Vector512<double> x)
    {
        Vector512<double> sub = Vector512.LessThan(x, Vector512.Create(2.2250738585072014e-308));
        Vector512<double> xs = Vector512.ConditionalSelect(sub, x * Vector512.Create(18014398509481984.0), x); // 2^54
        Vector512<long> bits = xs.AsInt64();
        Vector512<long> e = Vector512.ShiftRightArithmetic(bits, 52) - Vector512.Create(1023L);
        e -= Vector512.ConditionalSelect(sub.AsInt64(), Vector512.Create(54L), Vector512<long>.Zero);
        Vector512<double> m = ((bits & Vector512.Create(0x000FFFFFFFFFFFFFL)) | Vector512.Create(0x3FF0000000000000L)).AsDouble();
        Vector512<double> big = Vector512.GreaterThan(m, Vector512.Create(1.4142135623730951));
        m = Vector512.ConditionalSelect(big, m * Vector512.Create(0.5), m);
        e += Vector512.ConditionalSelect(big.AsInt64(), Vector512<long>.One, Vector512<long>.Zero);
        // e → double exactly through the shifter's mantissa (no int64→double instruction before AVX-512DQ).
        Vector512<double> kd = (e + Vector512.Create(Shifter).AsInt64()).AsDouble() - Vector512.Create(Shifter);
        Vector512<double> f = m - Vector512<double>.One;
        Vector512<double> s = f / (Vector512.Create(2.0) + f);
        Vector512<double> z = s * s, w = z * z;
        Vector512<double> t1 = w * Fma(w, Fma(w, Vector512.Create(1.531383769920937332e-01), Vector512.Create(2.222219843214978396e-01)), Vector512.Create(3.999999999940941908e-01));
        Vector512<double> t2 = z * Fma(w, Fma(w, Fma(w, Vector512.Create(1.479819860511658591e-01), Vector512.Create(1.818357216161805012e-01)), Vector512.Create(2.857142874366239149e-01)), Vector512.Create(6.666666666666735130e-01));
        Vector512<double> rr = t2 + t1;
        Vector512<double> hfsq = Vector512.Create(0.5) * f * f;
        // fdlibm: k·ln2_hi − ((hfsq − (s·(hfsq + R) + k·ln2_lo)) − f), with ln2_hi's trailing zeros making k·ln2_hi exact.
        Vector512<double> y = kd * Vector512.Create(6.93147180369123816490e-01)
            - ((hfsq - (s * (hfsq + rr) + kd * Vector512.Create(1.90821492927058770002e-10))) - f);
        y = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<double>.Zero), Vector512.Create(double.NegativeInfinity), y);
        y = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(double.PositiveInfinity)), x, y);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<double>.Zero) | ~Vector512.Equals(x, x), Vector512.Create(double.NaN), y);
    }

    /// <summary>sin x per lane.</summary>
    public static Vector512<double> Sin(Vector512<double> x) => SinCos(x, 0);

    /// <summary>cos x per lane.</summary>
    public static Vector512<double> Cos(Vector512<double> x) => SinCos(x, 1);

    private static Vector512<double> SinCos(Vector512<double> x, long quadrantShift)
    {
        Vector512<double> t = Fma(x, Vector512.Create(TwoOverPi), Vector512.Create(Shifter));
        Vector512<double> n = t - Vector512.Create(Shifter);
        Vector512<double> r = Fma(n, Vector512.Create(-PiO2A), x);
        r = Fma(n, Vector512.Create(-PiO2B), r);
        r = Fma(n, Vector512.Create(-PiO2C), r);
        Vector512<long> q = (t.AsInt64() - Vector512.Create(Shifter).AsInt64() + Vector512.Create(quadrantShift)) & Vector512.Create(3L);
        Vector512<double> z = r * r;
        // fdlibm __kernel_sin / __kernel_cos on |r| ≤ π/4.
        Vector512<double> ps = Fma(z, Fma(z, Fma(z, Fma(z, Vector512.Create(1.58969099521155010221e-10), Vector512.Create(-2.50507602534068634195e-08)),
            Vector512.Create(2.75573137070700676789e-06)), Vector512.Create(-1.98412698298579493134e-04)), Vector512.Create(8.33333333332248946124e-03));
        Vector512<double> sinr = Fma(r * z, Fma(z, ps, Vector512.Create(-1.66666666666666324348e-01)), r);
        Vector512<double> pc = z * Fma(z, Fma(z, Fma(z, Fma(z, Fma(z, Vector512.Create(-1.13596475577881948265e-11), Vector512.Create(2.08757232129817482790e-09)),
            Vector512.Create(-2.75573143513906633035e-07)), Vector512.Create(2.48015872894767294178e-05)), Vector512.Create(-1.38888888888741095749e-03)), Vector512.Create(4.16666666666666019037e-02));
        Vector512<double> hz = Vector512.Create(0.5) * z, w = Vector512<double>.One - hz;
        Vector512<double> cosr = w + (((Vector512<double>.One - w) - hz) + z * pc);
        Vector512<double> odd = Vector512.Equals(q & Vector512<long>.One, Vector512<long>.One).AsDouble();
        Vector512<double> neg = Vector512.Equals(q & Vector512.Create(2L), Vector512.Create(2L)).AsDouble();
        Vector512<double> y = Vector512.ConditionalSelect(odd, cosr, sinr);
        y = Vector512.ConditionalSelect(neg, -y, y);
        Vector512<double> far = Vector512.GreaterThan(Vector512.Abs(x), Vector512.Create(TrigLimit)) | ~Vector512.Equals(x, x);
        if (far == Vector512<double>.Zero) return y;
        for (int i = 0; i < Vector512<double>.Count; i++)
        {
            double xi = x.GetElement(i);
            if (!(Math.Abs(xi) <= TrigLimit)) y = y.WithElement(i, quadrantShift == 0 ? Math.Sin(xi) : Math.Cos(xi));
        }
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x) { (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x); return Vector512.Narrow(Exp(lo), Exp(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Log(Vector512<float> x) { (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x); return Vector512.Narrow(Log(lo), Log(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sin(Vector512<float> x) { (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x); return Vector512.Narrow(Sin(lo), Sin(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Cos(Vector512<float> x) { (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x); return Vector512.Narrow(Cos(lo), Cos(hi)); }
}
