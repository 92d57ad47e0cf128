using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests;

public class SmokeTests
{
    [Fact]
    public void Gemm_2x2()
    {
        double[] a = [1, 2, 3, 4];
        double[] b = [5, 6, 7, 8];
        double[] c = new double[4];
        Gemm.Multiply(Op.None, Op.None, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, c, 2);
        Assert.Equal([19.0, 22, 43, 50], c);
    }
}
