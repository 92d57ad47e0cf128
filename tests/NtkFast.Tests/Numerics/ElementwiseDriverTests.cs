using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

public class ElementwiseDriverTests
{
    private static IEnumerable<int> Lengths()
    {
        for (int n = 0; n <= 256; n++) yield return n;
        yield return 6 * 512 + 7;
    }

    private static double[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.NextDouble() * 4 - 2;
        return x;
    }

    private static float[] ToFloat(double[] x) => Array.ConvertAll(x, v => (float)v);

    [Fact]
    public void Unary_matches_scalar_reference_at_every_length_double_and_float()
    {
        foreach (int n in Lengths())
        {
            double[] x = Random(n, n);
            var y = new double[n + 3];
            y[n] = y[n + 1] = y[n + 2] = 42;
            ElementwiseDriver.Map<ReluOperator<double>, double>(x, y);
            for (int i = 0; i < n; i++) Assert.Equal(Math.Max(x[i], 0), y[i]);
            Assert.Equal(42, y[n]);
            Assert.Equal(42, y[n + 2]);

            float[] xf = ToFloat(x);
            var yf = new float[n];
            ElementwiseDriver.Map<SquareOperator<float>, float>(xf, yf);
            for (int i = 0; i < n; i++) Assert.Equal((float)((double)xf[i] * xf[i]), yf[i]);
        }
    }

    [Fact]
    public void Unary_in_place_gives_the_same_result_as_out_of_place()
    {
        foreach (int n in Lengths())
        {
            double[] x = Random(n, 7 * n + 1);
            var expected = new double[n];
            ElementwiseDriver.Map<SquareOperator<double>, double>(x, expected);
            ElementwiseDriver.Map<SquareOperator<double>, double>(x, x);
            Assert.Equal(expected, x);
        }
    }

    [Fact]
    public void Relu_keeps_nan_and_maps_negative_zero_to_zero()
    {
        double[] x = [double.NaN, -0.0, -1, 2, double.NegativeInfinity, double.PositiveInfinity, 0.5, -3, double.NaN, 1];
        var y = new double[x.Length];
        ElementwiseDriver.Map<ReluOperator<double>, double>(x, y);
        Assert.True(double.IsNaN(y[0]) && double.IsNaN(y[8]));
        Assert.Equal([0.0, 0, 2, 0, double.PositiveInfinity, 0.5, 0], y[1..8]);
        Assert.False(double.IsNegative(y[1]));
    }

    [Fact]
    public void Binary_ternary_and_scalar_maps_match_reference()
    {
        foreach (int n in Lengths())
        {
            double[] x = Random(n, n + 1000), y = Random(n, n + 2000), z = Random(n, n + 3000);
            var w = new double[n];
            ElementwiseDriver.Map<AddOperator<double>, double>(x, y, w);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] + y[i], w[i]);
            ElementwiseDriver.Map<MultiplyAddOperator<double>, double>(x, y, z, w);
            for (int i = 0; i < n; i++) Assert.Equal(Math.FusedMultiplyAdd(x[i], y[i], z[i]), w[i]);
            ElementwiseDriver.MapScalar<MultiplyOperator<double>, double>(x, 0.3, w);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] * 0.3, w[i]);

            float[] xf = ToFloat(x), yf = ToFloat(y), zf = ToFloat(z);
            var wf = new float[n];
            ElementwiseDriver.Map<MultiplyAddOperator<float>, float>(xf, yf, zf, wf);
            for (int i = 0; i < n; i++) Assert.Equal(MathF.FusedMultiplyAdd(xf[i], yf[i], zf[i]), wf[i]);
            // in place on the second input
            ElementwiseDriver.Map<MultiplyOperator<float>, float>(xf, yf, yf);
            for (int i = 0; i < n; i++) Assert.Equal(xf[i] * (float)y[i], yf[i]);
        }
    }

    /// <summary>The documented order, written independently: partial sum i mod L, then a pairwise tree.</summary>
    private static double FixedOrderDot(double[] x, double[] y, bool fused)
    {
        const int L = 32;
        var s = new double[L];
        for (int i = 0; i < x.Length; i++)
            s[i % L] = fused ? Math.FusedMultiplyAdd(x[i], y[i], s[i % L]) : s[i % L] + x[i];
        for (int h = L / 2; h >= 1; h /= 2)
            for (int l = 0; l < h; l++) s[l] += s[l + h];
        return s[0];
    }

    private static float FixedOrderDot(float[] x, float[] y)
    {
        const int L = 64;
        var s = new float[L];
        for (int i = 0; i < x.Length; i++) s[i % L] = MathF.FusedMultiplyAdd(x[i], y[i], s[i % L]);
        for (int h = L / 2; h >= 1; h /= 2)
            for (int l = 0; l < h; l++) s[l] += s[l + h];
        return s[0];
    }

    [Fact]
    public void Sum_and_dot_follow_the_documented_fixed_order_bitwise()
    {
        foreach (int n in Lengths())
        {
            double[] x = Random(n, 5 * n), y = Random(n, 5 * n + 1);
            double dot = ElementwiseDriver.Dot<double>(x, y);
            Assert.Equal(FixedOrderDot(x, y, fused: true), dot);
            Assert.Equal(FixedOrderDot(x, y, fused: false), ElementwiseDriver.Sum<double>(x));
            double exact = 0;
            for (int i = 0; i < n; i++) exact += x[i] * y[i];
            Assert.True(Math.Abs(dot - exact) <= 1e-13 * Math.Max(1, n), $"n={n}");

            float[] xf = ToFloat(x), yf = ToFloat(y);
            Assert.Equal(FixedOrderDot(xf, yf), ElementwiseDriver.Dot<float>(xf, yf));
        }
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument()
    {
        var x = new double[10];
        var e = Assert.Throws<ArgumentException>(() => ElementwiseDriver.Map<SquareOperator<double>, double>(x, new double[9]));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ElementwiseDriver.Map<AddOperator<double>, double>(x, new double[9], new double[10]));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ElementwiseDriver.Map<MultiplyAddOperator<double>, double>(x, x, new double[9], new double[10]));
        Assert.Equal("z", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ElementwiseDriver.Map<SquareOperator<double>, double>(x.AsSpan(0, 9), x.AsSpan(1, 9)));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ElementwiseDriver.Dot<double>(x, new double[3]));
        Assert.Equal("y", e.ParamName);
    }

    [Fact]
    public void Smooth_unary_maps_give_an_element_the_same_bits_at_every_span_length()
    {
        double[] x = Random(67, 7);
        for (int i = 0; i < x.Length; i++) x[i] *= 6;
        var whole = new double[x.Length];
        ElementwiseDriver.Map<NtkFast.Activations.TanhOp<double>, double>(x, whole);
        foreach (int len in (int[])[1, 2, 3, 5, 7, 9, 17])
            for (int start = 0; start + len <= x.Length; start += len)
            {
                var part = new double[len];
                ElementwiseDriver.Map<NtkFast.Activations.TanhOp<double>, double>(x.AsSpan(start, len), part);
                Assert.Equal(whole.AsSpan(start, len).ToArray(), part);
            }
        float[] xf = Array.ConvertAll(x, v => (float)v);
        var wf = new float[xf.Length];
        ElementwiseDriver.Map<NtkFast.Activations.TanhOp<float>, float>(xf, wf);
        var one = new float[1];
        for (int i = 0; i < xf.Length; i++)
        {
            ElementwiseDriver.Map<NtkFast.Activations.TanhOp<float>, float>(xf.AsSpan(i, 1), one);
            Assert.Equal(wf[i], one[0]);
        }
    }

    [Fact]
    public void Drivers_do_not_allocate()
    {
        double[] x = Random(1000, 1), y = Random(1000, 2), z = new double[1000];
        double d = 0;
        Assert.Equal(0, Allocations.PerCall(() =>
        {
            ElementwiseDriver.Map<ReluOperator<double>, double>(x, z);
            ElementwiseDriver.Map<AddOperator<double>, double>(x, y, z);
            d = ElementwiseDriver.Dot<double>(x, y);
        }));
        Assert.True(double.IsFinite(d));
    }
}
