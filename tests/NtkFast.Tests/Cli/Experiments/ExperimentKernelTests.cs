using NtkFast.Activations;
using NtkFast.Cli.Experiments;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli.Experiments;

/// <summary>The two kernels the experiments draw, against independent references.</summary>
public class ExperimentKernelTests
{
    /// <summary>Arc-cosine closed forms of ReLU (Cho &amp; Saul), written out here independently of the activation code.</summary>
    private static (double Ntk, double Nngp) ReluReference(double[] x, double[] y, int depth, double beta)
    {
        double b2 = beta * beta;
        double a = Dot(x, x) / x.Length + b2, c = Dot(y, y) / y.Length + b2, s = Dot(x, y) / x.Length + b2;
        double theta = s;
        for (int l = 1; l < depth; l++)
        {
            double cos = Math.Clamp(s / Math.Sqrt(a * c), -1, 1);
            double phi = Math.Acos(cos);
            double ess = Math.Sqrt(a * c) / (2 * Math.PI) * (Math.Sin(phi) + (Math.PI - phi) * cos);
            double edd = (Math.PI - phi) / (2 * Math.PI);
            s = ess + b2;
            theta = theta * edd + s;
            a = a / 2 + b2;
            c = c / 2 + b2;
        }
        return (theta, s);
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Analytic_relu_kernel_matches_the_arc_cosine_recursion(int depth)
    {
        var rng = new Random(5);
        var x1 = new Matrix(7, 3);
        var x2 = new Matrix(5, 3);
        for (int i = 0; i < x1.Data.Length; i++) x1.Data[i] = rng.NextDouble() * 2 - 1;
        for (int i = 0; i < x2.Data.Length; i++) x2.Data[i] = rng.NextDouble() * 2 - 1;
        x2.Row(0).Clear();                       // x = 0: zero variance up to β²
        x1.Row(1).CopyTo(x2.Row(1));             // identical points: correlation exactly 1
        (Matrix ntk, Matrix nngp) = AnalyticKernel.Compute(ActivationRegistry.Parse("relu"), depth, 0.1, 1.0, x1, x2);
        for (int i = 0; i < 7; i++)
            for (int j = 0; j < 5; j++)
            {
                (double t, double s) = ReluReference(x1.Row(i).ToArray(), x2.Row(j).ToArray(), depth, 0.1);
                Assert.Equal(t, ntk[i, j], 1e-9 * Math.Max(1, Math.Abs(t)));
                Assert.Equal(s, nngp[i, j], 1e-9 * Math.Max(1, Math.Abs(s)));
            }
    }

    [Theory]
    [InlineData("relu", 1)]
    [InlineData("relu", 9)]
    [InlineData("identity", 17)]
    public void Empirical_kernel_equals_sum_of_per_sample_gradient_products(string activation, int m)
    {
        var arch = new MlpArchitecture([3, 7, 5, 1], ActivationRegistry.Parse(activation), beta: 0.3, weightStd: 1.2);
        var net = Mlp<float>.Initialize(arch, 11);
        var rng = new Random(3);
        var x = new float[m * 3];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);

        Matrix k = NetworkNtk.Gram(net, x);

        // Reference: J (m × P), one gradient per point, then J·Jᵀ in double.
        var jac = new float[m][];
        MlpWorkspace<float> ws = net.CreateWorkspace(1);
        for (int i = 0; i < m; i++)
        {
            jac[i] = new float[arch.ParameterCount];
            net.Gradient(x.AsSpan(i * 3, 3), [1f], ws, jac[i]);
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                double r = 0;
                for (int p = 0; p < arch.ParameterCount; p++) r += (double)jac[i][p] * jac[j][p];
                Assert.Equal(r, k[i, j], 2e-5 * Math.Max(1, Math.Abs(r)));
                Assert.Equal(k[i, j], k[j, i]);
            }
    }

    [Fact]
    public void Quantile_interpolates_linearly()
    {
        double[] s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(1.9, RegressionExperiment.Quantile(s, 0.1), 12);
        Assert.Equal(5.5, RegressionExperiment.Quantile(s, 0.5), 12);
        Assert.Equal(9.1, RegressionExperiment.Quantile(s, 0.9), 12);
        Assert.Equal(3.0, RegressionExperiment.Quantile([3.0], 0.9));
    }
}
