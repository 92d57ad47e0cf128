using NtkFast.Activations;
using Xunit;

namespace NtkFast.Tests.Activations;

public class ActivationValueTests
{
    public static TheoryData<string> All()
    {
        var d = new TheoryData<string>();
        foreach (var n in DualKernelTests.ClosedFormNames.Concat(DualKernelTests.NumericNames)) d.Add(n);
        return d;
    }

    private static double[] Inputs(int n, int seed)
    {
        var rng = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (i % 9) switch
            {
                0 => 0.0,
                1 => 1e-9 * (rng.NextDouble() - 0.5),
                2 => 40 * (rng.NextDouble() - 0.5),
                3 => -700 * rng.NextDouble(),
                _ => 8 * (rng.NextDouble() - 0.5),
            };
        }
        return x;
    }

    /// <summary>SIMD (whatever width the driver picks for this length) and scalar paths agree, every length 0…256.</summary>
    [Theory]
    [MemberData(nameof(All))]
    public void Span_paths_agree_with_scalar_for_every_length(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        for (int n = 0; n <= 256; n++)
        {
            double[] x = Inputs(n, n);
            double[] y = new double[n], d = new double[n];
            act.Forward(x, y);
            act.Derivative(x, d);
            float[] xf = Array.ConvertAll(x, v => (float)v);
            float[] yf = new float[n], df = new float[n];
            act.Forward(xf, yf);
            act.Derivative(xf, df);
            for (int i = 0; i < n; i++)
            {
                Close(act.Value(x[i]), y[i], 4e-15, $"{name} value n={n} x={x[i]}");
                Close(act.Derivative(x[i]), d[i], 4e-15, $"{name} derivative n={n} x={x[i]}");
                CloseFloat(act.Value(xf[i]), yf[i], $"{name} float value n={n} x={xf[i]}");
                CloseFloat(act.Derivative(xf[i]), df[i], $"{name} float derivative n={n} x={xf[i]}");
            }
            // In place.
            double[] z = (double[])x.Clone();
            act.Forward(z, z);
            Assert.Equal(y, z);
        }
    }

    private static void Close(double want, double got, double rel, string what)
    {
        // Relative, plus 2e−16 absolute for results that cancel (silu' near x = −1.28 where 1 + x·sigmoid(−x) → 0).
        double tol = rel * Math.Abs(want) + 2e-16;
        Assert.True(Math.Abs(got - want) <= tol || (double.IsNaN(want) && double.IsNaN(got)), $"{what}: {want} vs {got}");
    }

    // Float paths compute in float: allow ~100 float ulps relative (exp(−x²) amplifies the rounding of x²
    // by x², silu' cancels in 1 + x·sigmoid(−x)) plus 1e−7 absolute.
    private static void CloseFloat(double want, float got, string what)
        => Assert.True(Math.Abs(got - want) <= 1e-5 * Math.Abs(want) + 1e-7, $"{what}: {want} vs {got}");

    [Fact]
    public void Short_destination_throws()
    {
        foreach (string name in new[] { "relu", "tanh", "erf", "sign", "gelu" })
        {
            Activation act = ActivationRegistry.Parse(name);
            Assert.Throws<ArgumentException>(() => act.Forward(new double[5], new double[4]));
            Assert.Throws<ArgumentException>(() => act.Derivative(new float[5], new float[4]));
        }
    }

    [Fact]
    public void Derivatives_match_finite_differences_away_from_kinks()
    {
        foreach (string name in DualKernelTests.ClosedFormNames.Concat(DualKernelTests.NumericNames))
        {
            Activation act = ActivationRegistry.Parse(name);
            if (name == "sign") continue;
            foreach (double x in new[] { -3.1, -0.7, 0.4, 1.3, 2.9 })
            {
                double h = 1e-5;
                double fd = (act.Value(x + h) - act.Value(x - h)) / (2 * h);
                Assert.True(Math.Abs(fd - act.Derivative(x)) < 1e-8, $"{name} at {x}: {fd} vs {act.Derivative(x)}");
            }
        }
    }

    [Fact]
    public void Special_values_are_accurate()
    {
        // Independent references: known values of erf, softplus and gelu tails.
        Assert.Equal(0.8427007929497149, Erf.Instance.Value(1.0), 15);
        Assert.Equal(0.9999779095030014, Erf.Instance.Value(3.0), 15);
        Assert.Equal(-0.5204998778130465, Erf.Instance.Value(-0.5), 14);
        Assert.Equal(Math.Log(2), Softplus.Instance.Value(0), 15);
        Assert.True(Math.Abs(Softplus.Instance.Value(-50) / Math.Exp(-50) - 1) < 1e-14);
        Assert.True(Math.Abs(Softplus.Instance.Value(50) - 50) < 1e-14);
        // gelu(−10) = −10·Φ(−10) = −10·7.6198530241605e−24.
        Assert.True(Math.Abs(Gelu.Instance.Value(-10) / (-7.6198530241605e-23) - 1) < 1e-12);
        Assert.Equal(0.8413447460685429 * 1.0, Gelu.Instance.Value(1.0), 14);
        Assert.True(Math.Abs(new Elu().Value(-1e-10) / -1e-10 - 1) < 1e-9);
        Assert.Equal(Math.Tanh(1e-8), Tanh.Instance.Value(1e-8));
    }
}
