using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

// GENERATED from Elementary256.cs by scripts/gen-elementary.sh — do not edit.

/// <summary>
/// Deterministic vector exp, log, sin and cos (double lanes; float lanes are widened to double and
/// narrowed back). Why not the runtime's Vector128.Exp/Log/Sin/Cos: they are written with
/// MultiplyAddEstimate, which is fused or not depending on the hardware and on whether the caller runs
/// precompiled (ReadyToRun) or re-jitted code, so the same call could return different last bits
/// within one process (seen as a flaky test) and across machines. Here every step is an IEEE operation
/// or an explicit fused multiply-add, so a lane's result depends only on its input: the same on every
/// vector width, instruction set, JIT tier and thread. Accuracy: ≤ 1–2 ulp against the C runtime
/// (exp: Taylor degree 13 on |r| ≤ ln2/2; log: fdlibm's minimax; sin/cos: fdlibm's kernels after a
/// three-part FMA reduction by π/2, lanes beyond 2^20 handed to Math.Sin/Cos).
/// </summary>
internal static class Elementary128
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
    private static Vector128<double> Fma(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.FusedMultiplyAdd(a, b, c);

    /// <summary>eˣ per lane: +∞ above 709.78, 0 below −745.13, NaN kept, subnormal results rounded once.</summary>
    public static Vector128<double> Exp(Vector128<double> x)
    {
        Vector128<double> xc = Vector128.Min(Vector128.Max(x, Vector128.Create(-746.0)), Vector128.Create(710.0));
        Vector128<double> t = Fma(xc, Vector128.Create(Log2E), Vector128.Create(Shifter));
        Vector128<double> n = t - Vector128.Create(Shifter);
        Vector128<double> r = Fma(n, Vector128.Create(-Ln2Hi), xc);
        r = Fma(n, Vector128.Create(-Ln2Lo), r);
        // Taylor to degree 13 on |r| ≤ 0.3466: truncation 0.3466^14/14! < 3e−18.
        Vector128<double> p = Vector128.Create(1.0 / 6227020800.0);
        p = Fma(p, r, Vector128.Create(1.0 / 479001600.0));
        p = Fma(p, r, Vector128.Create(1.0 / 39916800.0));
        p = Fma(p, r, Vector128.Create(1.0 / 3628800.0));
        p = Fma(p, r, Vector128.Create(1.0 / 362880.0));
        p = Fma(p, r, Vector128.Create(1.0 / 40320.0));
        p = Fma(p, r, Vector128.Create(1.0 / 5040.0));
        p = Fma(p, r, Vector128.Create(1.0 / 720.0));
        p = Fma(p, r, Vector128.Create(1.0 / 120.0));
        p = Fma(p, r, Vector128.Create(1.0 / 24.0));
        p = Fma(p, r, Vector128.Create(1.0 / 6.0));
        p = Fma(p, r, Vector128.Create(0.5));
        p = Fma(p, r, Vector128<double>.One);
        p = Fma(p, r, Vector128<double>.One);
        // 2^k as two factors 2^(k>>1)·2^(k−(k>>1)) so k down to −1076 and up to 1025 stay representable.
        Vector128<long> k = t.AsInt64() - Vector128.Create(Shifter).AsInt64();
        Vector128<long> k1 = Vector128.ShiftRightArithmetic(k, 1), k2 = k - k1;
        Vector128<double> s1 = Vector128.ShiftLeft(k1 + Vector128.Create(1023L), 52).AsDouble();
        Vector128<double> s2 = Vector128.ShiftLeft(k2 + Vector128.Create(1023L), 52).AsDouble();
        Vector128<double> y = p * s1 * s2;
        y = Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(709.782712893384)), Vector128.Create(double.PositiveInfinity), y);
        y = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(-745.1332191019412)), Vector128<double>.Zero, y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    /// <summary>ln x per lane (fdlibm's reduction and minimax): −∞ at ±0, NaN below 0, +∞ at +∞, subnormals exact.</summary>
    public static Vector128<double> Log(Vector128<double> x)
    {
        Vector128<double> sub = Vector128.LessThan(x, Vector128.Create(2.2250738585072014e-308));
        Vector128<double> xs = Vector128.ConditionalSelect(sub, x * Vector128.Create(18014398509481984.0), x); // 2^54
        Vector128<long> bits = xs.AsInt64();
        Vector128<long> e = Vector128.ShiftRightArithmetic(bits, 52) - Vector128.Create(1023L);
        e -= Vector128.ConditionalSelect(sub.AsInt64(), Vector128.Create(54L), Vector128<long>.Zero);
        Vector128<double> m = ((bits & Vector128.Create(0x000FFFFFFFFFFFFFL)) | Vector128.Create(0x3FF0000000000000L)).AsDouble();
        Vector128<double> big = Vector128.GreaterThan(m, Vector128.Create(1.4142135623730951));
        m = Vector128.ConditionalSelect(big, m * Vector128.Create(0.5), m);
        e += Vector128.ConditionalSelect(big.AsInt64(), Vector128<long>.One, Vector128<long>.Zero);
        // e → double exactly through the shifter's mantissa (no int64→double instruction before AVX-512DQ).
        Vector128<double> kd = (e + Vector128.Create(Shifter).AsInt64()).AsDouble() - Vector128.Create(Shifter);
        Vector128<double> f = m - Vector128<double>.One;
        Vector128<double> s = f / (Vector128.Create(2.0) + f);
        Vector128<double> z = s * s, w = z * z;
        Vector128<double> t1 = w * Fma(w, Fma(w, Vector128.Create(1.531383769920937332e-01), Vector128.Create(2.222219843214978396e-01)), Vector128.Create(3.999999999940941908e-01));
        Vector128<double> t2 = z * Fma(w, Fma(w, Fma(w, Vector128.Create(1.479819860511658591e-01), Vector128.Create(1.818357216161805012e-01)), Vector128.Create(2.857142874366239149e-01)), Vector128.Create(6.666666666666735130e-01));
        Vector128<double> rr = t2 + t1;
        Vector128<double> hfsq = Vector128.Create(0.5) * f * f;
        // fdlibm: k·ln2_hi − ((hfsq − (s·(hfsq + R) + k·ln2_lo)) − f), with ln2_hi's trailing zeros making k·ln2_hi exact.
        Vector128<double> y = kd * Vector128.Create(6.93147180369123816490e-01)
            - ((hfsq - (s * (hfsq + rr) + kd * Vector128.Create(1.90821492927058770002e-10))) - f);
        y = Vector128.ConditionalSelect(Vector128.Equals(x, Vector128<double>.Zero), Vector128.Create(double.NegativeInfinity), y);
        y = Vector128.ConditionalSelect(Vector128.Equals(x, Vector128.Create(double.PositiveInfinity)), x, y);
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<double>.Zero) | ~Vector128.Equals(x, x), Vector128.Create(double.NaN), y);
    }

    /// <summary>sin x per lane.</summary>
    public static Vector128<double> Sin(Vector128<double> x) => SinCos(x, 0);

    /// <summary>cos x per lane.</summary>
    public static Vector128<double> Cos(Vector128<double> x) => SinCos(x, 1);

    private static Vector128<double> SinCos(Vector128<double> x, long quadrantShift)
    {
        Vector128<double> t = Fma(x, Vector128.Create(TwoOverPi), Vector128.Create(Shifter));
        Vector128<double> n = t - Vector128.Create(Shifter);
        Vector128<double> r = Fma(n, Vector128.Create(-PiO2A), x);
        r = Fma(n, Vector128.Create(-PiO2B), r);
        r = Fma(n, Vector128.Create(-PiO2C), r);
        Vector128<long> q = (t.AsInt64() - Vector128.Create(Shifter).AsInt64() + Vector128.Create(quadrantShift)) & Vector128.Create(3L);
        Vector128<double> z = r * r;
        // fdlibm __kernel_sin / __kernel_cos on |r| ≤ π/4.
        Vector128<double> ps = Fma(z, Fma(z, Fma(z, Fma(z, Vector128.Create(1.58969099521155010221e-10), Vector128.Create(-2.50507602534068634195e-08)),
            Vector128.Create(2.75573137070700676789e-06)), Vector128.Create(-1.98412698298579493134e-04)), Vector128.Create(8.33333333332248946124e-03));
        Vector128<double> sinr = Fma(r * z, Fma(z, ps, Vector128.Create(-1.66666666666666324348e-01)), r);
        Vector128<double> pc = z * Fma(z, Fma(z, Fma(z, Fma(z, Fma(z, Vector128.Create(-1.13596475577881948265e-11), Vector128.Create(2.08757232129817482790e-09)),
            Vector128.Create(-2.75573143513906633035e-07)), Vector128.Create(2.48015872894767294178e-05)), Vector128.Create(-1.38888888888741095749e-03)), Vector128.Create(4.16666666666666019037e-02));
        Vector128<double> hz = Vector128.Create(0.5) * z, w = Vector128<double>.One - hz;
        Vector128<double> cosr = w + (((Vector128<double>.One - w) - hz) + z * pc);
        Vector128<double> odd = Vector128.Equals(q & Vector128<long>.One, Vector128<long>.One).AsDouble();
        Vector128<double> neg = Vector128.Equals(q & Vector128.Create(2L), Vector128.Create(2L)).AsDouble();
        Vector128<double> y = Vector128.ConditionalSelect(odd, cosr, sinr);
        y = Vector128.ConditionalSelect(neg, -y, y);
        Vector128<double> far = Vector128.GreaterThan(Vector128.Abs(x), Vector128.Create(TrigLimit)) | ~Vector128.Equals(x, x);
        if (far == Vector128<double>.Zero) return y;
        for (int i = 0; i < Vector128<double>.Count; i++)
        {
            double xi = x.GetElement(i);
            if (!(Math.Abs(xi) <= TrigLimit)) y = y.WithElement(i, quadrantShift == 0 ? Math.Sin(xi) : Math.Cos(xi));
        }
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x) { (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x); return Vector128.Narrow(Exp(lo), Exp(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Log(Vector128<float> x) { (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x); return Vector128.Narrow(Log(lo), Log(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sin(Vector128<float> x) { (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x); return Vector128.Narrow(Sin(lo), Sin(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Cos(Vector128<float> x) { (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x); return Vector128.Narrow(Cos(lo), Cos(hi)); }
}
