using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>
/// The library's one scalar expm1 (used by the smooth activations and by the kernel dynamics' gains)
/// against an independent reference: the Taylor series summed in System.Decimal (28 digits), so the
/// reference itself is exact to far below a double ulp on |x| ≤ 4.
/// </summary>
public class SpecialFunctionsTests
{
    private static double DecimalExpm1(double x)
    {
        // Below 1e−20 decimal underflows; there x + x²/2 rounds to x exactly.
        if (Math.Abs(x) < 1e-20) return x;
        decimal dx = (decimal)x, term = dx, sum = dx;
        for (int k = 2; k < 200 && term != 0m; k++)
        {
            term = term * dx / k;
            sum += term;
        }
        return (double)sum;
    }

    public static TheoryData<double> Points() =>
    [
        0.0, 1e-300, -1e-300, 1e-17, -1e-17, 1e-9, -1e-9, 1e-5, -3e-4, 0.01, -0.01, 0.1, -0.1, 0.25, -0.3,
        0.4999999, -0.4999999, 0.5, -0.5, 0.75, -0.9, 1.0, -1.0, 2.5, -3.0, 4.0, -4.0,
    ];

    [Theory]
    [MemberData(nameof(Points))]
    public void Expm1_is_within_two_ulps_of_a_28_digit_reference(double x)
    {
        double want = DecimalExpm1(x), got = SpecialFunctions.Expm1(x);
        double ulp = Math.Max(Math.BitIncrement(Math.Abs(want)) - Math.Abs(want), double.Epsilon);
        Assert.True(Math.Abs(got - want) <= 2 * ulp, $"expm1({x:R}) = {got:R}, reference {want:R} ({Math.Abs(got - want) / ulp:F1} ulp)");
        if (x == 0) Assert.Equal(0.0, got);
        Assert.Equal(Math.Sign(x), Math.Sign(got));
    }

    [Fact]
    public void Expm1_at_the_ends_of_the_line()
    {
        Assert.Equal(-1.0, SpecialFunctions.Expm1(-800));
        Assert.Equal(-1.0, SpecialFunctions.Expm1(double.NegativeInfinity));
        Assert.Equal(double.PositiveInfinity, SpecialFunctions.Expm1(800));
        Assert.Equal(double.PositiveInfinity, SpecialFunctions.Expm1(double.PositiveInfinity));
        Assert.True(double.IsNaN(SpecialFunctions.Expm1(double.NaN)));
        // Large |x|: relative error of exp(x) − 1 is exp's own.
        Assert.Equal(Math.Exp(30) - 1, SpecialFunctions.Expm1(30));
    }
}
