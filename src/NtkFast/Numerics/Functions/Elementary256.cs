using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

// MASTER COPY. Elementary128.cs and Elementary512.cs are generated from this file by
// scripts/gen-elementary.sh (Vector256 → Vector128/Vector512); edit here, then regenerate.

/// <summary>
/// Deterministic vector exp, log, sin and cos (double lanes; float lanes are widened to double and
/// narrowed back). Why not the runtime's Vector256.Exp/Log/Sin/Cos: they are written with
/// MultiplyAddEstimate, which is fused or not depending on the hardware and on whether the caller runs
/// precompiled (ReadyToRun) or re-jitted code, so the same call could return different last bits
/// within one process (seen as a flaky test) and across machines. Here every step is an IEEE operation
/// or an explicit fused multiply-add, so a lane's result depends only on its input: the same on every
/// vector width, instruction set, JIT tier and thread. Accuracy: ≤ 1–2 ulp against the C runtime
/// (exp: Taylor degree 13 on |r| ≤ ln2/2; log: fdlibm's minimax; sin/cos: fdlibm's kernels after a
/// three-part FMA reduction by π/2, lanes beyond 2^20 handed to Math.Sin/Cos).
/// </summary>
internal static class Elementary256
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
    private static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);

    /// <summary>eˣ per lane: +∞ above 709.78, 0 below −745.13, NaN kept, subnormal results rounded once.</summary>
    public static Vector256<double> Exp(Vector256<double> x)
    {
        Vector256<double> xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-746.0)), Vector256.Create(710.0));
        Vector256<double> t = Fma(xc, Vector256.Create(Log2E), Vector256.Create(Shifter));
        Vector256<double> n = t - Vector256.Create(Shifter);
        Vector256<double> r = Fma(n, Vector256.Create(-Ln2Hi), xc);
        r = Fma(n, Vector256.Create(-Ln2Lo), r);
        // Taylor to degree 13 on |r| ≤ 0.3466: truncation 0.3466^14/14! < 3e−18.
        Vector256<double> p = Vector256.Create(1.0 / 6227020800.0);
        p = Fma(p, r, Vector256.Create(1.0 / 479001600.0));
        p = Fma(p, r, Vector256.Create(1.0 / 39916800.0));
        p = Fma(p, r, Vector256.Create(1.0 / 3628800.0));
        p = Fma(p, r, Vector256.Create(1.0 / 362880.0));
        p = Fma(p, r, Vector256.Create(1.0 / 40320.0));
        p = Fma(p, r, Vector256.Create(1.0 / 5040.0));
        p = Fma(p, r, Vector256.Create(1.0 / 720.0));
        p = Fma(p, r, Vector256.Create(1.0 / 120.0));
        p = Fma(p, r, Vector256.Create(1.0 / 24.0));
        p = Fma(p, r, Vector256.Create(1.0 / 6.0));
        p = Fma(p, r, Vector256.Create(0.5));
        p = Fma(p, r, Vector256<double>.One);
        p = Fma(p, r, Vector256<double>.One);
        // 2^k as two factors 2^(k>>1)·2^(k−(k>>1)) so k down to −1076 and up to 1025 stay representable.
        Vector256<long> k = t.AsInt64() - Vector256.Create(Shifter).AsInt64();
        Vector256<long> k1 = Vector256.ShiftRightArithmetic(k, 1), k2 = k - k1;
        Vector256<double> s1 = Vector256.ShiftLeft(k1 + Vector256.Create(1023L), 52).AsDouble();
        Vector256<double> s2 = Vector256.ShiftLeft(k2 + Vector256.Create(1023L), 52).AsDouble();
        Vector256<double> y = p * s1 * s2;
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(709.782712893384)), Vector256.Create(double.PositiveInfinity), y);
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(-745.1332191019412)), Vector256<double>.Zero, y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>ln x per lane (fdlibm's reduction and minimax): −∞ at ±0, NaN below 0, +∞ at +∞, subnormals exact.</summary>
    public static Vector256<double> Log(Vector256<double> x)
    {
        Vector256<double> sub = Vector256.LessThan(x, Vector256.Create(2.2250738585072014e-308));
        Vector256<double> xs = Vector256.ConditionalSelect(sub, x * Vector256.Create(18014398509481984.0), x); // 2^54
        Vector256<long> bits = xs.AsInt64();
        Vector256<long> e = Vector256.ShiftRightArithmetic(bits, 52) - Vector256.Create(1023L);
        e -= Vector256.ConditionalSelect(sub.AsInt64(), Vector256.Create(54L), Vector256<long>.Zero);
        Vector256<double> m = ((bits & Vector256.Create(0x000FFFFFFFFFFFFFL)) | Vector256.Create(0x3FF0000000000000L)).AsDouble();
        Vector256<double> big = Vector256.GreaterThan(m, Vector256.Create(1.4142135623730951));
        m = Vector256.ConditionalSelect(big, m * Vector256.Create(0.5), m);
        e += Vector256.ConditionalSelect(big.AsInt64(), Vector256<long>.One, Vector256<long>.Zero);
        // e → double exactly through the shifter's mantissa (no int64→double instruction before AVX-512DQ).
        Vector256<double> kd = (e + Vector256.Create(Shifter).AsInt64()).AsDouble() - Vector256.Create(Shifter);
        Vector256<double> f = m - Vector256<double>.One;
        Vector256<double> s = f / (Vector256.Create(2.0) + f);
        Vector256<double> z = s * s, w = z * z;
        Vector256<double> t1 = w * Fma(w, Fma(w, Vector256.Create(1.531383769920937332e-01), Vector256.Create(2.222219843214978396e-01)), Vector256.Create(3.999999999940941908e-01));
        Vector256<double> t2 = z * Fma(w, Fma(w, Fma(w, Vector256.Create(1.479819860511658591e-01), Vector256.Create(1.818357216161805012e-01)), Vector256.Create(2.857142874366239149e-01)), Vector256.Create(6.666666666666735130e-01));
        Vector256<double> rr = t2 + t1;
        Vector256<double> hfsq = Vector256.Create(0.5) * f * f;
        // fdlibm: k·ln2_hi − ((hfsq − (s·(hfsq + R) + k·ln2_lo)) − f), with ln2_hi's trailing zeros making k·ln2_hi exact.
        Vector256<double> y = kd * Vector256.Create(6.93147180369123816490e-01)
            - ((hfsq - (s * (hfsq + rr) + kd * Vector256.Create(1.90821492927058770002e-10))) - f);
        y = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256<double>.Zero), Vector256.Create(double.NegativeInfinity), y);
        y = Vector256.ConditionalSelect(Vector256.Equals(x, Vector256.Create(double.PositiveInfinity)), x, y);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<double>.Zero) | ~Vector256.Equals(x, x), Vector256.Create(double.NaN), y);
    }

    /// <summary>sin x per lane.</summary>
    public static Vector256<double> Sin(Vector256<double> x) => SinCos(x, 0);

    /// <summary>cos x per lane.</summary>
    public static Vector256<double> Cos(Vector256<double> x) => SinCos(x, 1);

    private static Vector256<double> SinCos(Vector256<double> x, long quadrantShift)
    {
        Vector256<double> t = Fma(x, Vector256.Create(TwoOverPi), Vector256.Create(Shifter));
        Vector256<double> n = t - Vector256.Create(Shifter);
        Vector256<double> r = Fma(n, Vector256.Create(-PiO2A), x);
        r = Fma(n, Vector256.Create(-PiO2B), r);
        r = Fma(n, Vector256.Create(-PiO2C), r);
        Vector256<long> q = (t.AsInt64() - Vector256.Create(Shifter).AsInt64() + Vector256.Create(quadrantShift)) & Vector256.Create(3L);
        Vector256<double> z = r * r;
        // fdlibm __kernel_sin / __kernel_cos on |r| ≤ π/4.
        Vector256<double> ps = Fma(z, Fma(z, Fma(z, Fma(z, Vector256.Create(1.58969099521155010221e-10), Vector256.Create(-2.50507602534068634195e-08)),
            Vector256.Create(2.75573137070700676789e-06)), Vector256.Create(-1.98412698298579493134e-04)), Vector256.Create(8.33333333332248946124e-03));
        Vector256<double> sinr = Fma(r * z, Fma(z, ps, Vector256.Create(-1.66666666666666324348e-01)), r);
        Vector256<double> pc = z * Fma(z, Fma(z, Fma(z, Fma(z, Fma(z, Vector256.Create(-1.13596475577881948265e-11), Vector256.Create(2.08757232129817482790e-09)),
            Vector256.Create(-2.75573143513906633035e-07)), Vector256.Create(2.48015872894767294178e-05)), Vector256.Create(-1.38888888888741095749e-03)), Vector256.Create(4.16666666666666019037e-02));
        Vector256<double> hz = Vector256.Create(0.5) * z, w = Vector256<double>.One - hz;
        Vector256<double> cosr = w + (((Vector256<double>.One - w) - hz) + z * pc);
        Vector256<double> odd = Vector256.Equals(q & Vector256<long>.One, Vector256<long>.One).AsDouble();
        Vector256<double> neg = Vector256.Equals(q & Vector256.Create(2L), Vector256.Create(2L)).AsDouble();
        Vector256<double> y = Vector256.ConditionalSelect(odd, cosr, sinr);
        y = Vector256.ConditionalSelect(neg, -y, y);
        Vector256<double> far = Vector256.GreaterThan(Vector256.Abs(x), Vector256.Create(TrigLimit)) | ~Vector256.Equals(x, x);
        if (far == Vector256<double>.Zero) return y;
        for (int i = 0; i < Vector256<double>.Count; i++)
        {
            double xi = x.GetElement(i);
            if (!(Math.Abs(xi) <= TrigLimit)) y = y.WithElement(i, quadrantShift == 0 ? Math.Sin(xi) : Math.Cos(xi));
        }
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x) { (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x); return Vector256.Narrow(Exp(lo), Exp(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Log(Vector256<float> x) { (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x); return Vector256.Narrow(Log(lo), Log(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sin(Vector256<float> x) { (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x); return Vector256.Narrow(Sin(lo), Sin(hi)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Cos(Vector256<float> x) { (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x); return Vector256.Narrow(Cos(lo), Cos(hi)); }
}
