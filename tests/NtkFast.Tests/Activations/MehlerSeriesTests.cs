using NtkFast.Activations;
using NtkFast.Tiling;
using NtkFast.Kernels;
using NtkFast.Numerics;
using NtkFast.Tests.Kernels;
using NtkFast.Tests.Numerics;
using Xunit;

namespace NtkFast.Tests.Activations;

/// <summary>
/// The Mehler-series fast path of the numeric duals (<see cref="MehlerSeries"/>): accuracy against the polar rule
/// and the independent adaptive integration, refusal for kinked σ, and bitwise agreement of the scalar,
/// batched and prepared entry points and of kernels across thread counts and blocks.
/// </summary>
[Collection(SerialNumericsCollection.Name)]
public class MehlerSeriesTests
{
    public static readonly string[] SmoothNames = ActivationRegistry.All.Where(e => e.Kind == DualKind.Smooth).SelectMany(e => e.Examples).ToArray();
    public static TheoryData<string> Smooth() { var d = new TheoryData<string>(); foreach (var n in SmoothNames) d.Add(n); return d; }

    // Variances from tiny to the edge of eligibility (tanh is trusted up to v ≈ 3, the others further).
    private static readonly double[] Variances = [1e-6, 0.05, 0.7, 1.9, 2.8, 4.5];
    private static readonly double[] Correlations = [-1, -0.97, -0.4, 0, 0.3, 0.9, 0.999999, 1];

    private static double RelErr(double got, double want, double floor) => got == want ? 0 : Math.Abs(got - want) / Math.Max(Math.Abs(want), floor);

    private static Activation SmoothCustom() =>
        Activation.Custom("softsign_smooth", x => x / Math.Sqrt(1 + x * x), x => 1 / ((1 + x * x) * Math.Sqrt(1 + x * x)));

    /// <summary>Where the certificate accepts, the series agrees with the polar rule to 1e−9 (floors as in DualKernelTests).</summary>
    [Theory]
    [MemberData(nameof(Smooth))]
    [InlineData("custom")]
    public void Series_matches_the_polar_rule_where_accepted(string name)
    {
        Activation act = name == "custom" ? SmoothCustom() : ActivationRegistry.Parse(name);
        int accepted = 0, small = 0;
        foreach (double a in Variances)
            foreach (double c in Variances)
            {
                MehlerRecord ra = MehlerSeries.Compute(act, a), rc = MehlerSeries.Compute(act, c);
                DualValue da = act.NumericDual(a, a, a), dc = act.NumericDual(c, c, c);
                double floorS = 1e-3 * Math.Sqrt(da.Ess * dc.Ess), floorD = 1e-3 * Math.Sqrt(da.Edd * dc.Edd);
                foreach (double rho in Correlations)
                {
                    double b = rho * Math.Sqrt(a) * Math.Sqrt(c);
                    if (!MehlerSeries.TryEvaluate(ra, rc, b, out double ess, out double edd)) continue;
                    accepted++;
                    if (a <= 0.7 && c <= 0.7) small++;
                    DualValue p = act.NumericDual(a, b, c);
                    Assert.True(RelErr(ess, p.Ess, floorS) < 1e-9, $"{name} Ess a={a} c={c} ρ={rho}: {ess} vs polar {p.Ess}");
                    Assert.True(RelErr(edd, p.Edd, floorD) < 1e-9, $"{name} Edd a={a} c={c} ρ={rho}: {edd} vs polar {p.Edd}");
                    // The public dual is this series value, bit for bit.
                    DualValue d = act.Dual(a, b, c);
                    Assert.Equal((ess, edd), (d.Ess, d.Edd));
                }
            }
        // Not vacuous: every triple with both variances ≤ 0.7 takes the series.
        Assert.Equal(3 * 3 * Correlations.Length, small);
        if (name != "custom") Assert.True(accepted >= 4 * 4 * Correlations.Length, $"{name}: only {accepted} triples accepted");
    }

    /// <summary>Against the independent nested adaptive Gauss–Kronrod integration at a few points near the edge of eligibility.</summary>
    [Theory]
    [InlineData("tanh", 1.9, 2.8, 0.999)]
    [InlineData("tanh", 0.05, 2.8, -0.6)]
    [InlineData("tanh", 1.4, 1.4, 1.0)]
    [InlineData("gelu", 4.5, 4.5, -0.95)]
    [InlineData("softplus", 4.5, 1e-6, 0.3)]
    [InlineData("silu", 1.3, 2.2, 0.8)]
    public void Series_matches_adaptive_integration(string name, double a, double c, double rho)
    {
        Activation act = ActivationRegistry.Parse(name);
        double b = rho * Math.Sqrt(a) * Math.Sqrt(c);
        Assert.True(MehlerSeries.TryEvaluate(MehlerSeries.Compute(act, a), MehlerSeries.Compute(act, c), b, out double ess, out double edd),
            $"{name} ({a}, {rho}, {c}) should take the series");
        double rs = ReferenceIntegrator.Expect(act.Value, act.Value, a, b, c);
        double rd = ReferenceIntegrator.Expect(act.Derivative, act.Derivative, a, b, c);
        Assert.True(RelErr(ess, rs, 1e-300) < 1e-9, $"Ess {ess} vs {rs}");
        Assert.True(RelErr(edd, rd, 1e-300) < 1e-9, $"Edd {edd} vs {rd}");
    }

    /// <summary>
    /// Kinked σ (and σ' with a kink: elu) have slowly converging coefficients: the two coefficient rules disagree,
    /// no variance is eligible, and the forced-numeric dual is exactly the polar rule (still accurate).
    /// </summary>
    [Theory]
    [InlineData("relu")]
    [InlineData("abs")]
    [InlineData("leaky_relu:0.2")]
    [InlineData("sign")]
    [InlineData("elu")]
    [InlineData("elu:0.5")]
    public void Kinked_activations_are_declined(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        Activation numeric = act.HasClosedFormDual ? act.WithNumericDual() : act;
        foreach (double v in new[] { 1e-4, 0.5, 3.0 })
            Assert.False(MehlerSeries.Compute(numeric, v).Eligible, $"{name} at v = {v}");
        (double a, double b, double c) = (0.5, 0.3, 1.2);
        DualValue d = numeric.Dual(a, b, c), p = numeric.NumericDual(a, b, c);
        Assert.Equal((p.Ess, p.Edd), (d.Ess, d.Edd));
        if (act.HasClosedFormDual)
        {
            DualValue cf = act.Dual(a, b, c);
            Assert.True(RelErr(d.Ess, cf.Ess, 1e-300) < 1e-10 && RelErr(d.Edd, cf.Edd, 1e-300) < 1e-10, $"{name}: {d} vs {cf}");
        }
        Activation customRelu = Activation.Custom("my_relu", x => Math.Max(x, 0), x => x > 0 ? 1 : 0);
        Assert.False(MehlerSeries.Compute(customRelu, 1.0).Eligible);
    }

    /// <summary>Scalar, batched and prepared duals return the same bits, for every length 0…67 (fallback entries included).</summary>
    [Theory]
    [InlineData("tanh")]
    [InlineData("gelu")]
    public void Scalar_batched_and_prepared_agree_bitwise(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        var rng = new Random(3);
        // Index 5 (v = 40) is beyond the series: those triples take the polar rule on every path.
        double[] v = [0.3, 1.3, 0.01, 2.2, 1e-6, 40.0, 0.8, 0.0];
        PreparedDual prepared = act.PrepareDual(v);
        Assert.Equal(v.Length, prepared.Count);
        for (int i = 0; i < v.Length; i++)
        {
            DualValue dd = prepared.Diagonal(i), sd = act.DualDiagonal(v[i]);
            Assert.Equal((sd.Ess, sd.Edd), (dd.Ess, dd.Edd));
            Assert.True(double.IsFinite(dd.Ess) && double.IsFinite(dd.Edd));
        }
        for (int n = 0; n <= 67; n++)
        {
            int row = rng.Next(v.Length);
            if (row == 5) row = 1;
            double a = v[row];
            int[] cols = new int[n];
            double[] b = new double[n], c = new double[n], e1 = new double[n], e2 = new double[n], f1 = new double[n], f2 = new double[n];
            for (int j = 0; j < n; j++)
            {
                int k = rng.Next(v.Length);
                cols[j] = j % 29 == 11 ? 5 : k == 5 ? 6 : k;
                c[j] = v[cols[j]];
                double s = Math.Sqrt(a) * Math.Sqrt(c[j]);
                b[j] = (j % 13) switch { 0 => s, 1 => -s, 2 => 0.0, _ => (2 * rng.NextDouble() - 1) * s };
            }
            act.Dual(a, b, c, e1, e2);
            prepared.Row(row, cols, b, c, f1, f2);
            for (int j = 0; j < n; j++)
            {
                DualValue s = act.Dual(a, b[j], c[j]);
                Assert.Equal(s.Ess, e1[j]);
                Assert.Equal(s.Edd, e2[j]);
                Assert.Equal(s.Ess, f1[j]);
                Assert.Equal(s.Edd, f2[j]);
                Assert.True(double.IsFinite(s.Ess) && double.IsFinite(s.Edd), $"{name} ({a}, {b[j]}, {c[j]})");
            }
        }
    }

    [Fact]
    public void Degenerate_covariances_are_finite_and_accurate()
    {
        Activation act = ActivationRegistry.Parse("tanh");
        DualValue zero = act.Dual(0, 0, 0);
        Assert.Equal(0.0, zero.Ess);
        Assert.True(Math.Abs(zero.Edd - 1.0) < 1e-15, $"{zero.Edd}"); // a = c = 0: the polar rule's 1-D path
        // b² = ac exactly (0.25·1 = 0.5²), both signs: the series at ρ = ±1.
        foreach (double b in new[] { 0.5, -0.5 })
        {
            Assert.True(MehlerSeries.TryEvaluate(MehlerSeries.Compute(act, 0.25), MehlerSeries.Compute(act, 1.0), b, out _, out _));
            DualValue d = act.Dual(0.25, b, 1.0), p = act.NumericDual(0.25, b, 1.0);
            Assert.True(RelErr(d.Ess, p.Ess, 1e-300) < 1e-10 && RelErr(d.Edd, p.Edd, 1e-300) < 1e-10, $"{d} vs {p}");
        }
        DualValue one = act.Dual(0, 0, 1.0);
        Assert.True(double.IsFinite(one.Ess) && double.IsFinite(one.Edd));
        Assert.Equal(0.0, one.Ess);
    }

    [Fact]
    public void Prepared_rows_check_their_arguments()
    {
        PreparedDual p = ActivationRegistry.Parse("tanh").PrepareDual([0.5, 1.0]);
        double[] o = new double[1];
        Assert.Throws<ArgumentException>("c", () => p.Row(0, [1], [0.1], [0.5], o, o));
        Assert.Throws<ArgumentException>("cols", () => p.Row(0, [2], [0.1], [0.5], o, o));
        Assert.Throws<ArgumentException>("row", () => p.Row(-1, [1], [0.1], [1.0], o, o));
        PreparedDual r = ActivationRegistry.Parse("relu").PrepareDual([0.5, 1.0]);
        Assert.Throws<ArgumentException>("c", () => r.Row(0, [1], [0.1], [0.5], o, o));
    }

    /// <summary>
    /// A tanh kernel (the prepared path) is bitwise independent of the thread count, its blocks are bitwise the
    /// full matrix, and it agrees with the plain per-pair recursion on the scalar dual.
    /// </summary>
    [Fact]
    public void Tanh_kernel_is_deterministic_blockwise_and_matches_the_reference()
    {
        Activation tanh = ActivationRegistry.Parse("tanh");
        Matrix x = TestData.Random(70, 6, 31);
        Matrix y = TestData.Random(9, 6, 32);
        var spec = new KernelSpec(3, tanh, 0.1, 1.0);
        int saved = NtkParallel.MaxThreads;
        KernelResult one, two, cross;
        try
        {
            NtkParallel.MaxThreads = 1;
            one = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Both);
            NtkParallel.MaxThreads = 2;
            two = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Both);
            cross = InfiniteWidth.Compute(spec, x, y, KernelOutputs.Both);
        }
        finally { NtkParallel.MaxThreads = saved; }
        Assert.Equal(one.Ntk!.Data, two.Ntk!.Data);
        Assert.Equal(one.Nngp!.Data, two.Nngp!.Data);

        var source = new AnalyticKernelSource(spec, x, null, ntk: true, nngp: false);
        double[] block = new double[13 * 29];
        source.ComputeBlock(17, 13, 3, 29, block);
        for (int i = 0; i < 13; i++)
            for (int j = 0; j < 29; j++)
                Assert.Equal(one.Ntk.Data[(17 + i) * 70 + 3 + j], block[i * 29 + j]);

        (double[,] sigma, double[,] theta) = ReferenceKernel.Full(x, y, 3, (a, b, c) => { DualValue d = tanh.Dual(a, b, c); return (d.Ess, d.Edd); }, 0.1, 1.0);
        for (int i = 0; i < x.Rows; i++)
            for (int j = 0; j < y.Rows; j++)
            {
                Assert.True(RelErr(cross.Nngp!.Data[i * y.Rows + j], sigma[i, j], 1e-300) < 1e-12);
                Assert.True(RelErr(cross.Ntk!.Data[i * y.Rows + j], theta[i, j], 1e-300) < 1e-12);
            }
    }
}
