using System.Runtime.Intrinsics;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>
/// The deterministic vector exp/log/sin/cos: within 2 ulp of the C runtime's scalar functions on dense
/// and special inputs, and bitwise the same on every vector width (the lane arithmetic is identical).
/// </summary>
public class ElementaryVectorTests
{
    private static double[] Inputs(Func<Random, double> draw, params double[] special)
    {
        var rng = new Random(17);
        var x = new List<double>(special);
        for (int i = 0; i < 20000; i++) x.Add(draw(rng));
        while (x.Count % 8 != 0) x.Add(0.5);
        return x.ToArray();
    }

    private static long Ulps(double want, double got)
    {
        if (double.IsNaN(want) || double.IsNaN(got)) return double.IsNaN(want) && double.IsNaN(got) ? 0 : long.MaxValue;
        if (want == got) return 0;
        if (double.IsInfinity(want) || double.IsInfinity(got)) return long.MaxValue;
        long a = BitConverter.DoubleToInt64Bits(want), b = BitConverter.DoubleToInt64Bits(got);
        if ((a < 0) != (b < 0)) return Math.Abs(want - got) <= double.Epsilon * 4 ? 1 : long.MaxValue;
        return Math.Abs(a - b);
    }

    private static double[] Map256(double[] x, Func<Vector256<double>, Vector256<double>> f)
    {
        double[] y = new double[x.Length];
        for (int i = 0; i < x.Length; i += 4) f(Vector256.Create(x.AsSpan(i, 4))).CopyTo(y.AsSpan(i, 4));
        return y;
    }

    private static double[] Map128(double[] x, Func<Vector128<double>, Vector128<double>> f)
    {
        double[] y = new double[x.Length];
        for (int i = 0; i < x.Length; i += 2) f(Vector128.Create(x.AsSpan(i, 2))).CopyTo(y.AsSpan(i, 2));
        return y;
    }

    private static double[] Map512(double[] x, Func<Vector512<double>, Vector512<double>> f)
    {
        double[] y = new double[x.Length];
        for (int i = 0; i < x.Length; i += 8) f(Vector512.Create(x.AsSpan(i, 8))).CopyTo(y.AsSpan(i, 8));
        return y;
    }

    private static void Check(string name, double[] x, Func<double, double> reference, long maxUlps,
        Func<Vector128<double>, Vector128<double>> f128, Func<Vector256<double>, Vector256<double>> f256, Func<Vector512<double>, Vector512<double>> f512,
        double absFloor = 0)
    {
        double[] y256 = Map256(x, f256), y128 = Map128(x, f128), y512 = Map512(x, f512);
        for (int i = 0; i < x.Length; i++)
        {
            double want = reference(x[i]);
            long u = Ulps(want, y256[i]);
            Assert.True(u <= maxUlps || Math.Abs(want - y256[i]) <= absFloor, $"{name}({x[i]:R}) = {y256[i]:R}, want {want:R} ({u} ulp)");
            Assert.Equal(BitConverter.DoubleToInt64Bits(y256[i]), BitConverter.DoubleToInt64Bits(y128[i]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(y256[i]), BitConverter.DoubleToInt64Bits(y512[i]));
        }
    }

    [Fact]
    public void Exp_is_within_two_ulp_and_width_independent()
    {
        double[] x = Inputs(r => (r.NextDouble() - 0.5) * (r.Next(3) switch { 0 => 2, 1 => 60, _ => 1490 }),
            0, -0.0, 1, -1, 1e-300, -1e-300, 709.78, 709.79, 710, 1000, -745.13, -745.14, -746, -1000, -708.5, -720, -740,
            double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0.34657359027997264, -0.34657359027997264);
        // Subnormal results (below e^−708.4) carry one rounding of a value already within an ulp: compare absolutely there.
        Check("exp", x, Math.Exp, 2, Elementary128.Exp, Elementary256.Exp, Elementary512.Exp, absFloor: 2 * double.Epsilon);
    }

    [Fact]
    public void Log_is_within_two_ulp_and_width_independent()
    {
        double[] x = Inputs(r => r.Next(3) switch { 0 => r.NextDouble() * 4, 1 => Math.Exp((r.NextDouble() - 0.5) * 1400), _ => 1 + (r.NextDouble() - 0.5) * 1e-6 },
            0, -0.0, 1, -1, 2, 0.5, Math.Sqrt(2), 1.4142135623730951, 1.4142135623730954, double.Epsilon, 1e-310, 2.2250738585072014e-308,
            double.MaxValue, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1 + 1e-16, 1 - 1e-16);
        Check("log", x, Math.Log, 2, Elementary128.Log, Elementary256.Log, Elementary512.Log);
    }

    [Fact]
    public void Sin_and_cos_are_within_two_ulp_and_width_independent()
    {
        double[] x = Inputs(r => (r.NextDouble() - 0.5) * (r.Next(4) switch { 0 => 7, 1 => 100, 2 => 2e6, _ => 1e-3 }),
            0, -0.0, Math.PI, -Math.PI, Math.PI / 2, Math.PI / 4, 3 * Math.PI / 4, 1e6, 1048576, 1048577, -3e7, 1e300,
            double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e-300, 355, 710, 103993);
        // Near a zero of sin/cos the value is tiny and ulps shrink with it: also accept 2e−16·max(1, |x|·2⁻⁵²·…) absolute.
        Check("sin", x, Math.Sin, 2, Elementary128.Sin, Elementary256.Sin, Elementary512.Sin, absFloor: 1e-22);
        Check("cos", x, Math.Cos, 2, Elementary128.Cos, Elementary256.Cos, Elementary512.Cos, absFloor: 1e-22);
    }

    [Fact]
    public void Erf_and_erfc_match_the_independent_scalar_series_and_are_width_independent()
    {
        // Reference: SpecialFunctions (Taylor series below 2, continued fraction above) — a different algorithm.
        double[] x = Inputs(r => (r.NextDouble() - 0.5) * (r.Next(4) switch { 0 => 2, 1 => 6, 2 => 14, _ => 60 }),
            0, -0.0, 0.84375, -0.84375, 0.8437499999999999, 1.25, -1.25, 1.2499999999999998, 1 / 0.35, 2.857142857142857, 6, -6, 5.999999999999999,
            27.3, 28, -28, 1e-300, -1e-300, 1e-10, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 0.25, -0.25);
        Check("erf", x, SpecialFunctions.SeriesErf, 10, ErrorFunction128.Erf, ErrorFunction256.Erf, ErrorFunction512.Erf, absFloor: 1e-300);
        // erfc: relative in the upper tail; the series reference's own error is ≤ 1e−13 relative on [0.5, 2), a few 1e−15 beyond.
        double[] y256 = Map256(x, ErrorFunction256.Erfc), y128 = Map128(x, ErrorFunction128.Erfc), y512 = Map512(x, ErrorFunction512.Erfc);
        for (int i = 0; i < x.Length; i++)
        {
            double want = SpecialFunctions.SeriesErfc(x[i]);
            // (the reference's e^{−x²} carries x²'s rounding: ~2x²·ε relative)
            double tol = (x[i] >= 0.5 && x[i] < 2 ? 2e-13 : 1e-14 + 4e-16 * x[i] * x[i]) * Math.Abs(want) + 1e-300;
            Assert.True(Math.Abs(y256[i] - want) <= tol || (double.IsNaN(want) && double.IsNaN(y256[i])) || (want == 0 && y256[i] < 1e-300),
                $"erfc({x[i]:R}) = {y256[i]:R}, want {want:R}");
            Assert.Equal(BitConverter.DoubleToInt64Bits(y256[i]), BitConverter.DoubleToInt64Bits(y128[i]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(y256[i]), BitConverter.DoubleToInt64Bits(y512[i]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(y256[i]), BitConverter.DoubleToInt64Bits(SpecialFunctions.Erfc(x[i])));
        }
        // Known values (C library erf/erfc, correctly rounded): where the series reference is 7 ulp off.
        Assert.Equal(0.9623596652799349, SpecialFunctions.Erf(1.4698982213017986));
        Assert.Equal(0.008767491893359519, SpecialFunctions.Erfc(1.8533195679965735));
        Assert.Equal(0.15729920705028513, SpecialFunctions.Erfc(1.0));
        Assert.Equal(2.2090496998585438e-05, SpecialFunctions.Erfc(3.0));
        Assert.Equal(2.1519736712499144e-17, SpecialFunctions.Erfc(5.999999999999999));
        Assert.Equal(2.6586369841366694e-158, SpecialFunctions.Erfc(18.955600228605604));
    }

    [Fact]
    public void Float_lanes_round_the_double_result()
    {
        var rng = new Random(3);
        float[] x = new float[4096];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() - 0.5) * 40);
        for (int i = 0; i < x.Length; i += 8)
        {
            var v = Vector256.Create(x.AsSpan(i, 8));
            Vector256<float> e = Elementary256.Exp(v), s = Elementary256.Sin(v), c = Elementary256.Cos(v), l = Elementary256.Log(Vector256.Abs(v));
            for (int j = 0; j < 8; j++)
            {
                double xj = x[i + j];
                Assert.Equal((float)Elementary256.Exp(Vector256.Create(xj)).GetElement(0), e.GetElement(j));
                Assert.True(Math.Abs(e.GetElement(j) - Math.Exp(xj)) <= 6e-8 * Math.Exp(xj), $"exp {xj}");
                Assert.True(Math.Abs(s.GetElement(j) - Math.Sin(xj)) <= 6e-8, $"sin {xj}");
                Assert.True(Math.Abs(c.GetElement(j) - Math.Cos(xj)) <= 6e-8, $"cos {xj}");
                Assert.True(Math.Abs(l.GetElement(j) - Math.Log(Math.Abs(xj))) <= 6e-8 * Math.Max(1, Math.Abs(Math.Log(Math.Abs(xj)))), $"log {xj}");
            }
        }
    }
}
