using NtkFast.Numerics;
using System.Runtime.Intrinsics;
using NtkFast.Activations;
using Xunit;

namespace NtkFast.Tests.Activations;

/// <summary>
/// The vectorised closed-form dual kernels (<see cref="BatchedDual"/>): the polynomial atan2 against
/// Math.Atan2, and bitwise equality of the Vector256 and Vector512 paths, of every tail length and of an
/// element computed alone vs inside a row (the per-vector branches for clipping and the ρ → −1 series
/// must not change any lane's result). Vector512 runs in software where it is not accelerated, so both
/// paths are compared on every instruction set.
/// </summary>
public class BatchedDualTests
{
    private static double UlpDistance(double got, double want)
    {
        if (got == want) return 0;
        if (double.IsNaN(got) || double.IsNaN(want)) return double.PositiveInfinity;
        double ulp = Math.BitIncrement(Math.Abs(want)) - Math.Abs(want);
        return Math.Abs(got - want) / ulp;
    }

    private static double[] Atan2Both(double[] y, double[] x)
    {
        int n = y.Length;
        double[] r256 = new double[n], r512 = new double[n];
        Span<double> ty = stackalloc double[8], tx = stackalloc double[8];
        for (int i = 0; i < n; i += 8)
        {
            ty.Fill(1); tx.Fill(1);
            int m = Math.Min(8, n - i);
            y.AsSpan(i, m).CopyTo(ty);
            x.AsSpan(i, m).CopyTo(tx);
            Vector512<double> v = BatchedDual.Atan2(Vector512.Create<double>(ty), Vector512.Create<double>(tx));
            Vector256<double> lo = BatchedDual.Atan2(Vector256.Create<double>(ty[..4]), Vector256.Create<double>(tx[..4]));
            Vector256<double> hi = BatchedDual.Atan2(Vector256.Create<double>(ty[4..]), Vector256.Create<double>(tx[4..]));
            for (int k = 0; k < m; k++)
            {
                r512[i + k] = v[k];
                r256[i + k] = k < 4 ? lo[k] : hi[k - 4];
            }
        }
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(r256[i]) == BitConverter.DoubleToInt64Bits(r512[i]), $"atan2({y[i]:R}, {x[i]:R}): Vector256 {r256[i]:R} vs Vector512 {r512[i]:R}");
        return r256;
    }

    private static double MaxUlp(double[] y, double[] x)
    {
        double[] got = Atan2Both(y, x);
        double worst = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double want = Math.Atan2(y[i], x[i]);
            double u = UlpDistance(got[i], want);
            Assert.True(u <= 2, $"atan2({y[i]:R}, {x[i]:R}) = {got[i]:R}, Math.Atan2 {want:R}: {u} ulp");
            worst = Math.Max(worst, u);
        }
        return worst;
    }

    [Fact]
    public void Series_constants_are_the_coefficients_of_sin_minus_delta_cos()
    {
        // sin δ − δ cos δ = Σ_{k≥1} (−1)^{k+1} 2k δ^{2k+1}/(2k+1)!, rebuilt in double as the constants document.
        double[] want = new double[10];
        double fact = 1;
        for (int k = 1; k <= 10; k++)
        {
            fact *= (2 * k) * (2 * k + 1);
            want[k - 1] = (k % 2 == 1 ? 1.0 : -1.0) * 2 * k / fact;
        }
        double[] got = [BatchedDual.K0, BatchedDual.K1, BatchedDual.K2, BatchedDual.K3, BatchedDual.K4,
            BatchedDual.K5, BatchedDual.K6, BatchedDual.K7, BatchedDual.K8, BatchedDual.K9];
        Assert.Equal(want, got);
        // And the series they make agrees with the direct form (which loses ~2 digits to cancellation at δ ≤ 0.25).
        foreach (double d in new[] { 0.1, 0.25 })
        {
            double d2 = d * d, p = 0;
            for (int i = 9; i >= 0; i--) p = p * d2 + got[i];
            Assert.Equal(Math.Sin(d) - d * Math.Cos(d), d * d2 * p, 1e-13 * d * d2);
        }
    }

    [Fact]
    public void Atan2_is_within_two_ulps_of_Math_Atan2_on_a_dense_angle_grid()
    {
        // Every angle in (−π, π] at 2^18 points, radius 1 and radius varied over 1e±200, plus a dense sweep of
        // the ratio across both reduction break points (tan 15°, tan 30°, 1) in every quadrant.
        const int n = 1 << 18;
        var rng = new Random(11);
        double[] y = new double[n], x = new double[n];
        for (int i = 0; i < n; i++)
        {
            double phi = -Math.PI + 2 * Math.PI * (i + 0.5) / n;
            double rad = i % 3 == 0 ? 1 : Math.Pow(10, 400 * rng.NextDouble() - 200);
            y[i] = rad * Math.Sin(phi);
            x[i] = rad * Math.Cos(phi);
        }
        double worst = MaxUlp(y, x);
        var y2 = new List<double>();
        var x2 = new List<double>();
        foreach (double t0 in new[] { 0.2679491924311227, 0.5773502691896258, 1.0 })
            for (int k = -2000; k <= 2000; k++)
            {
                double t = t0 * (1 + k * 1e-14 * (k % 7 == 0 ? 1e6 : 1));
                foreach (var (sy, sx) in new[] { (1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0) })
                {
                    y2.Add(sy * t); x2.Add(sx * 1.0);
                    y2.Add(sy * 3.0); x2.Add(sx * 3.0 * t);
                }
            }
        worst = Math.Max(worst, MaxUlp([.. y2], [.. x2]));
        Assert.True(worst <= 2, $"max {worst} ulp");
    }

    [Fact]
    public void Atan2_handles_signed_zeros_subnormals_and_huge_ratios_like_Math_Atan2()
    {
        double sub = double.Epsilon, sub2 = 3e-310, tiny = 1e-300, huge = 1e300;
        double[] vals = [0.0, -0.0, sub, -sub, sub2, -sub2, tiny, -tiny, 1e-160, -1e-160, 1.0, -1.0, 0.75, -3.5, 1e160, -1e160, huge, -huge];
        var y = new List<double>();
        var x = new List<double>();
        foreach (double u in vals)
            foreach (double v in vals)
            {
                y.Add(u); x.Add(v);
            }
        double[] got = Atan2Both([.. y], [.. x]);
        for (int i = 0; i < got.Length; i++)
        {
            double want = Math.Atan2(y[i], x[i]);
            // Exact where Math.Atan2 is exact (±0, ±π/2 and ±π up to rounding of the constants); sign of zero too.
            if (want == 0) Assert.True(BitConverter.DoubleToInt64Bits(got[i]) == BitConverter.DoubleToInt64Bits(want), $"atan2({y[i]:R}, {x[i]:R}) = {got[i]:R}, want {want:R}");
            else Assert.True(UlpDistance(got[i], want) <= 2, $"atan2({y[i]:R}, {x[i]:R}) = {got[i]:R}, Math.Atan2 {want:R}");
        }
    }

    private static readonly string[] Names = ["relu", "leaky_relu:0.2", "leaky_relu:-0.3", "abs", "erf", "sign"];

    private static void RunPath(string name, double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd, IsaPath? path)
    {
        switch (ActivationRegistry.Parse(name))
        {
            case Relu: BatchedDual.ArcCosineRow(0.0, 0.0, a, b, c, ess, edd, path); break;
            case LeakyRelu l: BatchedDual.ArcCosineRow(l.Slope, l.Slope, a, b, c, ess, edd, path); break;
            case Abs: BatchedDual.ArcCosineRow(-1.0, 0.0, a, b, c, ess, edd, path); break;
            case Erf: BatchedDual.ErfRow(a, b, c, ess, edd, path); break;
            case Sign: BatchedDual.SignRow(a, b, c, ess, edd, path); break;
            default: throw new InvalidOperationException(name);
        }
    }

    /// <summary>A row of 67 awkward triples: ρ = ±1 exactly, near −1 (series), the diagonal, c = 0, negative c, b slightly outside ±√(ac), tiny and huge variances.</summary>
    private static (double[] b, double[] c) AwkwardRow(double a, int seed)
    {
        var rng = new Random(seed);
        const int n = 67;
        double[] b = new double[n], c = new double[n];
        for (int j = 0; j < n; j++)
        {
            c[j] = (j % 11) switch
            {
                0 => 0.0,
                1 => a,
                2 => 1e-8 * (1 + rng.NextDouble()),
                3 => 1e4 * (1 + rng.NextDouble()),
                10 => -0.5,
                _ => 0.1 + 3 * rng.NextDouble(),
            };
            double sac = Math.Sqrt(a) * Math.Sqrt(Math.Max(c[j], 0));
            double rho = (j % 9) switch
            {
                0 => 1,
                1 => -1,
                2 => -1 + 1e-3 * rng.NextDouble(),
                3 => -0.99,
                4 => 1 - 1e-12,
                5 => 0,
                _ => 2 * rng.NextDouble() - 1,
            };
            b[j] = (j % 11) == 1 && j % 2 == 0 ? a : rho * sac;
            if (j % 13 == 5) b[j] = Math.BitIncrement(sac);
            if (j % 13 == 6) b[j] = -Math.BitIncrement(sac);
        }
        return (b, c);
    }

    [Fact]
    public void Vector512_and_Vector256_paths_and_every_tail_length_give_bitwise_identical_results()
    {
        foreach (string name in Names)
            foreach (double a in new[] { 0.7, 1e-6, 30.0, 0.0 })
            {
                var (b, c) = AwkwardRow(a > 0 ? a : 1.0, name.Length + (int)(a * 10));
                double[] fullE = new double[67], fullD = new double[67];
                RunPath(name, a, b, c, fullE, fullD, IsaPath.Vector256);
                Activation act = ActivationRegistry.Parse(name);
                for (int j = 0; j < 67; j++)
                {
                    Assert.True(double.IsFinite(fullE[j]) && double.IsFinite(fullD[j]), $"{name} a={a} j={j}: {fullE[j]}, {fullD[j]}");
                    // Sanity against the scalar closed form (few ulps; the contract the kernel assembly relies on).
                    DualValue v = act.Dual(a, b[j], c[j]);
                    double scale = name is "erf" or "sign" ? 1 : Math.Sqrt(a * Math.Max(c[j], 0));
                    Assert.True(Math.Abs(fullE[j] - v.Ess) <= 1e-14 * Math.Abs(v.Ess) + 1e-16 * scale, $"{name} a={a} j={j} b={b[j]:R} c={c[j]:R}: {fullE[j]:R} vs scalar {v.Ess:R}");
                    Assert.True(Math.Abs(fullD[j] - v.Edd) <= 1e-14 * Math.Max(1, Math.Abs(v.Edd)), $"{name} a={a} j={j}: {fullD[j]:R} vs scalar {v.Edd:R}");
                }
                for (int n = 0; n <= 67; n++)
                {
                    foreach (IsaPath? path in new IsaPath?[] { IsaPath.Vector256, IsaPath.Vector512, null })
                    {
                        double[] e = new double[n + 1], d = new double[n + 1];
                        e[n] = d[n] = 12345; // past the end: untouched
                        RunPath(name, a, b.AsSpan(0, n), c.AsSpan(0, n), e, d, path);
                        for (int j = 0; j < n; j++)
                        {
                            Assert.True(BitConverter.DoubleToInt64Bits(e[j]) == BitConverter.DoubleToInt64Bits(fullE[j]), $"{name} a={a} {path} n={n} j={j}: ess {e[j]:R} vs {fullE[j]:R}");
                            Assert.True(BitConverter.DoubleToInt64Bits(d[j]) == BitConverter.DoubleToInt64Bits(fullD[j]), $"{name} a={a} {path} n={n} j={j}: edd {d[j]:R} vs {fullD[j]:R}");
                        }
                        Assert.Equal(12345, e[n]);
                        Assert.Equal(12345, d[n]);
                    }
                }
                // Each element alone (padded with neutral lanes) equals its value inside the row, whatever its neighbours needed.
                for (int j = 0; j < 67; j++)
                {
                    double[] e = new double[1], d = new double[1];
                    RunPath(name, a, b.AsSpan(j, 1), c.AsSpan(j, 1), e, d, IsaPath.Vector512);
                    Assert.Equal(BitConverter.DoubleToInt64Bits(fullE[j]), BitConverter.DoubleToInt64Bits(e[0]));
                    Assert.Equal(BitConverter.DoubleToInt64Bits(fullD[j]), BitConverter.DoubleToInt64Bits(d[0]));
                }
            }
    }

    [Fact]
    public void Public_batched_dual_uses_the_same_arithmetic_as_the_forced_paths()
    {
        var (b, c) = AwkwardRow(1.3, 5);
        foreach (string name in Names)
        {
            double[] e1 = new double[67], d1 = new double[67], e2 = new double[67], d2 = new double[67];
            ActivationRegistry.Parse(name).Dual(1.3, b, c, e1, d1);
            RunPath(name, 1.3, b, c, e2, d2, IsaPath.Vector256);
            Assert.Equal(e2, e1);
            Assert.Equal(d2, d1);
        }
    }
}
