using NtkFast.Quadrature;
using Xunit;

namespace NtkFast.Tests.Quadrature;

public class GaussRuleTests
{
    private static double DoubleFactorial(int k)
    {
        double p = 1;
        for (int i = k; i > 1; i -= 2) p *= i;
        return p;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(100)]
    [InlineData(256)]
    [InlineData(512)]
    public void Hermite_weights_sum_to_one_nodes_symmetric_and_moments_exact(int n)
    {
        GaussRule r = GaussHermite.Get(n);
        Assert.Equal(n, r.Degree);
        double sum = 0;
        foreach (double w in r.Weights) sum += w;
        Assert.Equal(1.0, sum, 1e-14);
        for (int i = 0; i < n; i++) Assert.Equal(-r.Nodes[i], r.Nodes[n - 1 - i]);
        if (n % 2 == 1) Assert.Equal(0.0, r.Nodes[n / 2]);
        for (int i = 1; i < n; i++) Assert.True(r.Nodes[i] > r.Nodes[i - 1]);
        // E[z^k] = (k−1)!! for even k, 0 for odd k, exact for k ≤ 2n − 1.
        for (int k = 0; k <= Math.Min(2 * n - 1, 40); k++)
        {
            double m = 0, mag = 0;
            for (int i = 0; i < n; i++)
            {
                m += r.Weights[i] * Math.Pow(r.Nodes[i], k);
                mag += r.Weights[i] * Math.Abs(Math.Pow(r.Nodes[i], k));
            }
            double exact = k % 2 == 1 ? 0.0 : DoubleFactorial(k - 1);
            // Rounding bound: a few ulps of Σ w|z|^k (odd moments cancel to 0 only to that level).
            Assert.True(Math.Abs(m - exact) <= 1e-14 * mag * (1 + k), $"n={n} k={k}: {m} vs {exact}");
        }
        foreach (double lw in GaussHermite.LogWeights(n)) Assert.True(double.IsFinite(lw));
    }

    [Fact]
    public void Hermite_is_exact_for_random_polynomials_of_degree_2q_minus_1_and_not_beyond()
    {
        var rng = new Random(5);
        foreach (int q in new[] { 1, 2, 4, 9 })
        {
            int deg = 2 * q - 1;
            double[] coef = new double[deg + 2];
            for (int i = 0; i < coef.Length; i++) coef[i] = rng.NextDouble() * 2 - 1;
            double exact = 0;
            for (int k = 0; k <= deg; k += 2) exact += coef[k] * DoubleFactorial(k - 1);
            double quad = GaussHermite.Get(q).Integrate(z => { double s = 0; for (int k = deg; k >= 0; k--) s = s * z + coef[k]; return s; });
            Assert.True(Math.Abs(exact - quad) <= 1e-13 * Math.Max(1, Math.Abs(exact)), $"q={q}: {quad} vs {exact}");
            // z^{2q} is not integrated exactly: the rule gives less than (2q−1)!!.
            double m2q = GaussHermite.Get(q).Integrate(z => Math.Pow(z, 2 * q));
            Assert.True(m2q < DoubleFactorial(2 * q - 1) - 1e-9);
        }
    }

    [Fact]
    public void Hermite_known_small_rules()
    {
        GaussRule r2 = GaussHermite.Get(2);
        Assert.Equal(1.0, r2.Nodes[1], 15);
        Assert.Equal(0.5, r2.Weights[0], 15);
        GaussRule r3 = GaussHermite.Get(3);
        Assert.Equal(Math.Sqrt(3), r3.Nodes[2], 14);
        Assert.Equal(2.0 / 3, r3.Weights[1], 14);
        Assert.Equal(1.0 / 6, r3.Weights[0], 14);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(12)]
    [InlineData(64)]
    public void Legendre_integrates_monomials_exactly(int n)
    {
        GaussRule r = GaussLegendre.Get(n);
        for (int k = 0; k <= 2 * n - 1; k++)
        {
            double m = r.Integrate(x => Math.Pow(x, k));
            double exact = k % 2 == 1 ? 0 : 2.0 / (k + 1);
            Assert.Equal(exact, m, 13);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(20)]
    [InlineData(40)]
    public void Half_line_rules_match_their_moments(int n)
    {
        GaussRule radial = HalfLineRules.Radial(n);
        GaussRule half = HalfLineRules.HalfNormal(n);
        GaussRule lag = GaussLaguerre.Get(n);
        for (int k = 0; k <= Math.Min(2 * n - 1, 30); k++)
        {
            // ∫ r^k r e^{−r²/2} dr = 2^{k/2} Γ(k/2 + 1);  E|z|^k = 2^{k/2} Γ((k+1)/2)/√π;  ∫ s^k e^{−s} = k!.
            double er = Math.Pow(2, k / 2.0) * Gamma(k / 2.0 + 1);
            double eh = Math.Pow(2, k / 2.0) * Gamma((k + 1) / 2.0) / Math.Sqrt(Math.PI);
            double el = Gamma(k + 1);
            Assert.True(Math.Abs(radial.Integrate(r => Math.Pow(r, k)) - er) <= 1e-12 * er, $"radial k={k}");
            Assert.True(Math.Abs(half.Integrate(r => Math.Pow(r, k)) - eh) <= 1e-12 * eh, $"half k={k}");
            Assert.True(Math.Abs(lag.Integrate(r => Math.Pow(r, k)) - el) <= 1e-12 * el, $"laguerre k={k}");
        }
    }

    // Γ for half-integers and integers (exact recurrences).
    private static double Gamma(double x)
    {
        double g = x % 1 == 0 ? 1 : Math.Sqrt(Math.PI);
        double start = x % 1 == 0 ? 1 : 0.5;
        for (double t = start; t < x - 1e-9; t += 1) g *= t;
        return g;
    }

    [Fact]
    public void Degrees_out_of_range_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussHermite.Get(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussHermite.Get(513));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussLegendre.Get(0));
    }

    [Fact]
    public void Rules_are_cached_and_thread_safe()
    {
        GaussRule[] got = new GaussRule[8];
        Parallel.For(0, 8, i => got[i] = GaussHermite.Get(77));
        Assert.All(got, r => Assert.Same(got[0], r));
    }
}
