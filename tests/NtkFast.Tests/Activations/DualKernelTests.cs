using NtkFast.Activations;
using NtkFast.Quadrature;
using Xunit;

namespace NtkFast.Tests.Activations;

public class DualKernelTests
{
    // From the activation table: every row's examples (parameterised rows at the default and one other value).
    public static readonly string[] ClosedFormNames = ActivationRegistry.All.Where(e => e.Kind == DualKind.ClosedForm).SelectMany(e => e.Examples).ToArray();
    public static readonly string[] NumericNames = ActivationRegistry.All.Where(e => e.Kind != DualKind.ClosedForm).SelectMany(e => e.Examples).ToArray();

    public static TheoryData<string> ClosedForms() { var d = new TheoryData<string>(); foreach (var n in ClosedFormNames) d.Add(n); return d; }
    public static TheoryData<string> Numerics() { var d = new TheoryData<string>(); foreach (var n in NumericNames) d.Add(n); return d; }
    public static TheoryData<string> All() { var d = new TheoryData<string>(); foreach (var n in ClosedFormNames.Concat(NumericNames)) d.Add(n); return d; }

    private static readonly double[] Variances = [1e-6, 0.3, 4, 100];
    private static readonly double[] Correlations = [-1, -0.999999, -0.3, 0, 0.99999999, 1];

    private static double RelErr(double got, double want, double floor) => got == want ? 0 : Math.Abs(got - want) / Math.Max(Math.Abs(want), floor);

    /// <summary>
    /// Closed forms against the polar quadrature (an independent method: different coordinates, no
    /// shared formula) over the full grid, to 1e−10 relative. sin/cos only where e^{−(a+c)/2} is not
    /// far below the integrand's size (quadrature cannot resolve cancellation to e^{−100}).
    /// </summary>
    [Theory]
    [MemberData(nameof(ClosedForms))]
    public void Closed_form_matches_kink_aware_quadrature_over_the_grid(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        Assert.True(act.HasClosedFormDual);
        Activation numeric = act.WithNumericDual();
        Assert.False(numeric.HasClosedFormDual);
        foreach (double a in Variances)
            foreach (double c in Variances)
            {
                if ((name is "sin" or "cos") && a + c > 8) continue;
                foreach (double rho in Correlations)
                {
                    double b = rho * Math.Sqrt(a) * Math.Sqrt(c);
                    DualValue cf = act.Dual(a, b, c);
                    DualValue q = numeric.Dual(a, b, c);
                    // Floors: expectations that vanish (ρ = 0 for odd σ) are compared at 1e−3 of their
                    // Cauchy–Schwarz scale √(E[σ(u)²]E[σ(v)²]).
                    double floorS = 1e-3 * Math.Sqrt(Math.Abs(act.DualDiagonal(a).Ess * act.DualDiagonal(c).Ess));
                    double floorD = 1e-3 * Math.Sqrt(Math.Abs(act.DualDiagonal(a).Edd * act.DualDiagonal(c).Edd));
                    Assert.True(RelErr(q.Ess, cf.Ess, floorS) < 1e-10, $"{name} Ess a={a} c={c} ρ={rho}: {cf.Ess} vs {q.Ess}");
                    Assert.True(RelErr(q.Edd, cf.Edd, floorD) < 1e-10, $"{name} Edd a={a} c={c} ρ={rho}: {cf.Edd} vs {q.Edd}");
                }
            }
    }

    /// <summary>Closed forms against brute-force adaptive 2-D integration at a few points (incl. ρ = ±1, tiny and huge variances).</summary>
    [Theory]
    [MemberData(nameof(ClosedForms))]
    public void Closed_form_matches_adaptive_integration(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        (double a, double c, double rho)[] points = [(0.5, 2, -1), (1e-6, 1e-6, 0.3), (30, 100, 0.999)];
        foreach (var (a, c, rho) in points)
        {
            if (name is "sin" or "cos" && a + c > 8) continue;
            double b = rho * Math.Sqrt(a * c);
            DualValue cf = act.Dual(a, b, c);
            double scale = Math.Max(Math.Abs(cf.Ess), 1e-3 * Math.Sqrt(Math.Abs(act.DualDiagonal(a).Ess * act.DualDiagonal(c).Ess)));
            double ess = ReferenceIntegrator.Expect(act.Value, act.Value, a, b, c, 1e-13 * scale);
            double edd = ReferenceIntegrator.Expect(act.Derivative, act.Derivative, a, b, c, 1e-13 * Math.Max(Math.Abs(cf.Edd), 1e-3));
            Assert.True(RelErr(cf.Ess, ess, scale) < 1e-10, $"{name} Ess a={a} c={c} ρ={rho}: {cf.Ess} vs {ess}");
            Assert.True(RelErr(cf.Edd, edd, 1e-3) < 1e-10, $"{name} Edd a={a} c={c} ρ={rho}: {cf.Edd} vs {edd}");
        }
    }

    /// <summary>Quadrature-based kernels against the brute-force adaptive reference, 1e−9 relative.</summary>
    [Theory]
    [MemberData(nameof(Numerics))]
    public void Numeric_dual_matches_adaptive_integration(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        Assert.False(act.HasClosedFormDual);
        (double a, double c, double rho)[] points = [(100, 100, 0.99), (1e-6, 1e-6, -0.4), (30, 0.5, -1), (1, 2, 0.5)];
        foreach (var (a, c, rho) in points)
        {
            double b = rho * Math.Sqrt(a * c);
            DualValue q = act.Dual(a, b, c);
            double fe = 1e-6 * Math.Max(Math.Abs(q.Ess), 1e-300);
            double ess = ReferenceIntegrator.Expect(act.Value, act.Value, a, b, c, 1e-12 * Math.Max(Math.Abs(q.Ess), 1e-30));
            double edd = ReferenceIntegrator.Expect(act.Derivative, act.Derivative, a, b, c, 1e-12 * Math.Max(Math.Abs(q.Edd), 1e-30));
            Assert.True(RelErr(q.Ess, ess, fe) < 1e-9, $"{name} Ess a={a} c={c} ρ={rho}: {q.Ess} vs {ess}");
            Assert.True(RelErr(q.Edd, edd, 1e-300) < 1e-9, $"{name} Edd a={a} c={c} ρ={rho}: {q.Edd} vs {edd}");
        }
    }

    [Fact]
    public void User_activation_gets_an_accurate_numeric_dual()
    {
        // A kinked, asymmetric custom activation: x for x > 0, 0.5·sin(x) otherwise.
        Activation act = Activation.Custom("mine", x => x > 0 ? x : 0.5 * Math.Sin(x), x => x > 0 ? 1 : 0.5 * Math.Cos(x));
        Assert.Equal("mine", act.Name);
        foreach (var (a, c, rho) in new[] { (1.0, 2.0, 0.3), (20.0, 20.0, -0.95), (0.01, 5.0, 1.0) })
        {
            double b = rho * Math.Sqrt(a * c);
            DualValue q = act.Dual(a, b, c);
            double ess = ReferenceIntegrator.Expect(act.Value, act.Value, a, b, c, 1e-12 * Math.Abs(q.Ess));
            double edd = ReferenceIntegrator.Expect(act.Derivative, act.Derivative, a, b, c, 1e-12 * Math.Abs(q.Edd));
            Assert.True(RelErr(q.Ess, ess, 1e-300) < 1e-9, $"Ess a={a} c={c} ρ={rho}: {q.Ess} vs {ess}");
            Assert.True(RelErr(q.Edd, edd, 1e-300) < 1e-9, $"Edd a={a} c={c} ρ={rho}: {q.Edd} vs {edd}");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void No_nan_or_inf_at_degenerate_covariances(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        double[][] cases = [[0, 0, 0], [4, 6, 9], [4, -6, 9], [1, 1, 1], [2, 2, 2], [0, 0, 3], [3, 0, 0], [1e-300, 0, 1], [100, 100, 100], [2, 2.0000001, 2], [1e-6, -1e-6, 1e-6]];
        foreach (double[] t in cases)
        {
            DualValue v = act.Dual(t[0], t[1], t[2]);
            Assert.True(double.IsFinite(v.Ess) && double.IsFinite(v.Edd), $"{name} at ({t[0]}, {t[1]}, {t[2]}): {v}");
            DualValue d = act.DualDiagonal(t[0]);
            Assert.True(double.IsFinite(d.Ess) && double.IsFinite(d.Edd));
        }
    }

    /// <summary>Zero variance: u = 0 exactly, E[g(u)h(v)] = g(0)·E[h(v)] with torch's derivative values at 0.</summary>
    [Theory]
    [MemberData(nameof(All))]
    public void Zero_variance_uses_values_at_zero(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        foreach (double c in new[] { 0.0, 0.7, 50 })
        {
            DualValue v = act.Dual(0, 0, c);
            double eh = c == 0 ? act.Value(0) : ReferenceIntegrator.Expect(_ => 1.0, act.Value, 0, 0, c, 1e-15);
            double ehd = c == 0 ? act.Derivative(0) : ReferenceIntegrator.Expect(_ => 1.0, act.Derivative, 0, 0, c, 1e-15);
            Assert.Equal(act.Value(0) * eh, v.Ess, 1e-12);
            Assert.Equal(act.Derivative(0) * ehd, v.Edd, 1e-12);
        }
    }

    [Fact]
    public void Kink_derivatives_follow_torch()
    {
        Assert.Equal(0.0, Relu.Instance.Derivative(0.0));
        Assert.Equal(0.2, new LeakyRelu(0.2).Derivative(0.0));
        Assert.Equal(0.0, Abs.Instance.Derivative(0.0));
        Assert.Equal(0.5, new Elu(0.5).Derivative(0.0));
        Assert.Equal(0.0, Sign.Instance.Derivative(3.0));
        Assert.Equal(0.0, Sign.Instance.Value(0.0));
        Assert.Equal(0.0, Relu.Instance.Dual(0, 0, 1).Edd);
        Assert.Equal(0.2 * 0.6, new LeakyRelu(0.2).Dual(0, 0, 1).Edd, 15);
    }

    [Fact]
    public void Diagonal_angle_is_exactly_zero()
    {
        // b = a = c: S = 0 exactly, so relu's E[σ'σ'] is exactly 1/2 and E[σσ] exactly a/2.
        // Includes values where √a·√a rounds below a (0.33, 0.7, 1.1, 3.3), which once broke S = 0.
        foreach (double a in new[] { 1e-6, 0.1, 1.0 / 3, 0.33, 0.7, 1.1, 3.3, 7.3, 100 })
        {
            DualValue v = Relu.Instance.Dual(a, a, a);
            Assert.Equal(0.5, v.Edd);
            Assert.Equal(a / 2, v.Ess, 15);
            Assert.Equal(1.0, Sign.Instance.Dual(a, a, a).Ess);
            Assert.Equal(0.0, new LeakyRelu(0.2).Dual(a, a, a).Edd - 1.0 * (0.2 + 0.64 * 0.5), 15);
            // Batched path too.
            double[] ess = new double[5], edd = new double[5];
            Relu.Instance.Dual(a, [a, a, a, a, a], [a, a, a, a, a], ess, edd);
            Assert.All(edd, d => Assert.Equal(0.5, d));
            Erf.Instance.Dual(a, [a], [a], ess, edd);
            Assert.Equal(Erf.Instance.Dual(a, a, a).Edd, edd[0], 14);
        }
    }

    [Fact]
    public void Batched_dual_matches_scalar_dual()
    {
        var rng = new Random(3);
        foreach (string name in new[] { "relu", "leaky_relu:0.1", "abs", "erf", "sign", "identity", "sin", "tanh", "elu" })
        {
            Activation act = ActivationRegistry.Parse(name);
            foreach (int n in new[] { 0, 1, 7, 8, 9, 17, 33 })
            {
                if (!act.HasClosedFormDual && n > 9) continue;
                double a = 0.3 + rng.NextDouble();
                double[] b = new double[n], c = new double[n], ess = new double[n], edd = new double[n];
                for (int j = 0; j < n; j++)
                {
                    c[j] = j % 5 == 0 ? 0 : 0.1 + 3 * rng.NextDouble();
                    double r = j % 7 == 1 ? 1 : j % 7 == 2 ? -1 : 2 * rng.NextDouble() - 1;
                    b[j] = r * Math.Sqrt(a * c[j]);
                }
                act.Dual(a, b, c, ess, edd);
                for (int j = 0; j < n; j++)
                {
                    DualValue v = act.Dual(a, b[j], c[j]);
                    Assert.True(Math.Abs(ess[j] - v.Ess) <= 1e-14 * Math.Max(1, Math.Abs(v.Ess)), $"{name} n={n} j={j}: {ess[j]} vs {v.Ess}");
                    Assert.True(Math.Abs(edd[j] - v.Edd) <= 1e-14 * Math.Max(1, Math.Abs(v.Edd)), $"{name} n={n} j={j}: {edd[j]} vs {v.Edd}");
                }
            }
        }
    }
}
