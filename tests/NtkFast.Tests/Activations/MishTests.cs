using NtkFast.Activations;
using Xunit;

namespace NtkFast.Tests.Activations;

/// <summary>
/// mish against independent references. The table-driven theories (span vs scalar at every length, finite
/// differences, dual vs adaptive integration, Mehler series vs polar rule, zero variance) cover it from its
/// registry row; these pin the scalar values themselves.
/// </summary>
public class MishTests
{
    // x·tanh(softplus x) in the textbook form, softplus by log1p: accurate where tanh does not saturate.
    private static double Reference(double x)
    {
        double sp = x > 0 ? x + Log1p(Math.Exp(-x)) : Log1p(Math.Exp(x));
        return x * Math.Tanh(sp);
    }

    // log(1 + y) = 2·atanh(s), s = y/(2 + y) ≤ 1/3 for 0 ≤ y ≤ 1: the odd series, independent of the
    // library's log1p trick, accurate to rounding.
    private static double Log1p(double y)
    {
        double s = y / (2 + y), s2 = s * s, term = s, sum = 0;
        for (int k = 1; k < 80 && term != 0; k += 2) { sum += term / k; term *= s2; }
        return 2 * sum;
    }

    [Theory]
    [InlineData(-30.0)]
    [InlineData(-8.0)]
    [InlineData(-1.2)]
    [InlineData(-0.3)]
    [InlineData(1e-9)]
    [InlineData(0.5)]
    [InlineData(2.0)]
    [InlineData(7.5)]
    [InlineData(19.9)]
    [InlineData(25.0)]
    [InlineData(1e6)]
    public void Value_matches_textbook_formula(double x)
    {
        double want = Reference(x), got = Mish.Instance.Value(x);
        Assert.True(Math.Abs(got - want) <= 4e-15 * Math.Abs(want), $"mish({x}) = {got:R}, reference {want:R}");
    }

    [Fact]
    public void Known_values_and_tails()
    {
        Assert.Equal(0.0, Mish.Instance.Value(0.0));
        Assert.Equal(0.6, Mish.Instance.Derivative(0.0), 15);        // tanh(log 2) = 3/5, the second term is 0·…
        Assert.Equal(0.8650983882673103, Mish.Instance.Value(1.0), 15); // tanh(log(1 + e)), 1 + e = 3.718…
        Assert.Equal(100.0, Mish.Instance.Value(100.0));
        Assert.Equal(1.0, Mish.Instance.Derivative(100.0));
        // x → −∞: mish ≈ x·eˣ (relative accuracy kept, no underflow to 0 before eˣ does).
        double x = -40;
        Assert.True(Math.Abs(Mish.Instance.Value(x) / (x * Math.Exp(x)) - 1) < 1e-15);
        Assert.False(double.IsNaN(Mish.Instance.Value(-1000)));
    }

    [Fact]
    public void Derivative_matches_central_differences_on_a_fine_grid()
    {
        for (double x = -12; x <= 22; x += 0.173)
        {
            double h = 1e-4 * Math.Max(1, Math.Abs(x));
            // Fourth-order central difference: error ~h⁴·f⁽⁵⁾, rounding ~1e−16/h.
            double fd = (-Mish.Instance.Value(x + 2 * h) + 8 * Mish.Instance.Value(x + h) - 8 * Mish.Instance.Value(x - h) + Mish.Instance.Value(x - 2 * h)) / (12 * h);
            Assert.True(Math.Abs(fd - Mish.Instance.Derivative(x)) < 1e-10, $"mish'({x}) = {Mish.Instance.Derivative(x):R}, differences {fd:R}");
        }
    }
}
