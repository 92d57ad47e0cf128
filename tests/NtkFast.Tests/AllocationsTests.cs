using Xunit;

namespace NtkFast.Tests;

public class AllocationsTests
{
    private static object? s_sink;

    [Fact]
    public void PerCall_sees_an_allocation_made_on_every_call()
    {
        Assert.True(Allocations.PerCall(() => s_sink = new byte[1000]) >= 1000);
        Assert.NotNull(s_sink);
    }

    [Fact]
    public void PerCall_is_zero_for_arithmetic()
    {
        double[] x = [1, 2, 3];
        Assert.Equal(0, Allocations.PerCall(() => x[0] = x[1] * x[2]));
    }
}
