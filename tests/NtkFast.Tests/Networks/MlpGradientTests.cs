using NtkFast.Activations;
using NtkFast.Networks;
using Xunit;

namespace NtkFast.Tests.Networks;

public class MlpGradientTests
{
    private static readonly int[][] Shapes =
    [
        [3, 2],            // depth 1, two outputs
        [4, 5, 3],         // depth 2, three outputs
        [2, 7, 1, 2],      // depth 3 with a width-1 bottleneck
        [5, 6, 4, 3, 2],   // depth 4
        [1, 9, 8, 1],      // one input, one output
    ];

    public static IEnumerable<object[]> Activations() => NetTestUtil.DifferentiableActivations();

    public static IEnumerable<object[]> AllActivations() => NetTestUtil.AllActivations();

    [Theory]
    [MemberData(nameof(AllActivations))]
    public void Forward_matches_a_scalar_per_point_reference(string activation)
    {
        foreach (int[] widths in Shapes)
        {
            var arch = new MlpArchitecture(widths, ActivationRegistry.Parse(activation), beta: 0.3, weightStd: 1.3);
            var net = Mlp<double>.Initialize(arch, 11);
            const int n = 7;
            double[] x = NetTestUtil.RandomArray(n * widths[0], 3, 2.0);
            double[] f = net.Predict(x);
            double[] r = NetTestUtil.ReferenceForward(arch, net.Parameters, x, n);
            for (int i = 0; i < f.Length; i++)
                Assert.True(Math.Abs(f[i] - r[i]) <= 1e-12 * (1 + Math.Abs(r[i])), $"{activation} {string.Join('-', widths)}: f[{i}] = {f[i]}, reference {r[i]}");
        }
    }

    /// <summary>∂/∂θ_p of Φ = Σ G·f against central differences, for every parameter.</summary>
    [Theory]
    [MemberData(nameof(Activations))]
    public void Gradient_of_any_cotangent_matches_central_differences(string activation)
    {
        foreach (int[] widths in Shapes)
        {
            var arch = new MlpArchitecture(widths, ActivationRegistry.Parse(activation), beta: 0.4, weightStd: 1.1);
            var net = Mlp<double>.Initialize(arch, 5);
            const int n = 6;
            double[] x = NetTestUtil.RandomArray(n * widths[0], 17, 1.5);
            double[] g = NetTestUtil.RandomArray(n * arch.OutputWidth, 23);
            var ws = net.CreateWorkspace(n);
            var grad = new double[arch.ParameterCount];
            net.Gradient(x, g, ws, grad);

            double Phi()
            {
                double[] f = NetTestUtil.ReferenceForward(arch, net.Parameters, x, n);
                double s = 0;
                for (int i = 0; i < f.Length; i++) s += g[i] * f[i];
                return s;
            }
            double scale = 1 + grad.Max(Math.Abs);
            const double h = 1e-6;
            for (int p = 0; p < arch.ParameterCount; p++)
            {
                double t = net.Parameters[p];
                net.Parameters[p] = t + h; double up = Phi();
                net.Parameters[p] = t - h; double dn = Phi();
                net.Parameters[p] = t;
                double fd = (up - dn) / (2 * h);
                Assert.True(Math.Abs(fd - grad[p]) <= 2e-7 * scale, $"{activation} {string.Join('-', widths)}: θ[{p}] analytic {grad[p]}, finite difference {fd}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Activations))]
    public void Mse_gradient_matches_central_differences_of_the_cost(string activation)
    {
        var arch = new MlpArchitecture([4, 6, 5, 3], ActivationRegistry.Parse(activation), beta: 0.1, weightStd: 1.0);
        var net = Mlp<double>.Initialize(arch, 8);
        const int n = 9;
        double[] x = NetTestUtil.RandomArray(n * 4, 1, 2.0);
        double[] y = NetTestUtil.RandomArray(n * 3, 2);
        var ws = net.CreateWorkspace(n);
        var grad = new double[arch.ParameterCount];
        double cost = net.MseGradient(x, y, ws, grad);

        double Cost()
        {
            double[] f = NetTestUtil.ReferenceForward(arch, net.Parameters, x, n);
            double s = 0;
            for (int i = 0; i < f.Length; i++) s += (f[i] - y[i]) * (f[i] - y[i]);
            return s / (2 * n);
        }
        Assert.Equal(Cost(), cost, 1e-12);
        double scale = 1 + grad.Max(Math.Abs);
        const double h = 1e-6;
        for (int p = 0; p < arch.ParameterCount; p++)
        {
            double t = net.Parameters[p];
            net.Parameters[p] = t + h; double up = Cost();
            net.Parameters[p] = t - h; double dn = Cost();
            net.Parameters[p] = t;
            Assert.True(Math.Abs((up - dn) / (2 * h) - grad[p]) <= 2e-7 * scale, $"{activation}: θ[{p}]");
        }
    }

    [Fact]
    public void Frozen_layers_get_zero_gradient_and_the_rest_is_unchanged()
    {
        var arch = new MlpArchitecture([3, 5, 4, 4, 2], Identity.Instance);
        var net = Mlp<double>.Initialize(arch, 1);
        const int n = 5;
        double[] x = NetTestUtil.RandomArray(n * 3, 4);
        double[] y = NetTestUtil.RandomArray(n * 2, 5);
        var ws = net.CreateWorkspace(n);
        var full = new double[arch.ParameterCount];
        net.MseGradient(x, y, ws, full);
        for (int k = 1; k < arch.Depth; k++)
        {
            var part = NetTestUtil.RandomArray(arch.ParameterCount, 99); // garbage must be overwritten
            net.MseGradient(x, y, ws, part, trainableFrom: k);
            int off = arch.LayerOffset(k);
            Assert.All(part[..off], v => Assert.Equal(0.0, v));
            Assert.Equal(full[off..], part[off..]);
        }
    }

    [Fact]
    public void Cotangents_in_the_trace_are_derivatives_of_the_output_wrt_preactivations()
    {
        // δ(l)_k(x) = ∂f_k/∂α~(l): perturb one pre-activation of one point through a
        // hand-written partial forward pass and compare.
        var act = ActivationRegistry.Parse("tanh");
        var arch = new MlpArchitecture([3, 4, 5, 2], act, beta: 0.2);
        var net = Mlp<double>.Initialize(arch, 3);
        const int n = 3;
        double[] x = NetTestUtil.RandomArray(n * 3, 6);
        var ws = net.CreateWorkspace(n);
        for (int k = 0; k < arch.OutputWidth; k++)
        {
            net.Forward(x, ws);
            ws.SetUnitCotangent(k);
            for (int i = 0; i < n; i++)
                for (int kk = 0; kk < arch.OutputWidth; kk++)
                    Assert.Equal(kk == k ? 1.0 : 0.0, ws.Cotangent(arch.Depth)[i * arch.OutputWidth + kk]);
            net.BackpropagateCotangents(ws);
            for (int l = 1; l <= arch.Depth; l++)
            {
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < arch.Width(l); j++)
                    {
                        double fd = (OutputFromLayer(net, ws.PreActivation(l).ToArray(), l, i, j, 1e-6, k)
                                   - OutputFromLayer(net, ws.PreActivation(l).ToArray(), l, i, j, -1e-6, k)) / 2e-6;
                        Assert.Equal(fd, ws.Cotangent(l)[i * arch.Width(l) + j], 1e-7);
                    }
                }
            }
        }
    }

    /// <summary>f_k(x_i) recomputed from α~(l) with entry (i, j) shifted by h.</summary>
    private static double OutputFromLayer(Mlp<double> net, double[] pre, int l, int i, int j, double h, int k)
    {
        MlpArchitecture a = net.Architecture;
        double[] z = pre.AsSpan(i * a.Width(l), a.Width(l)).ToArray();
        z[j] += h;
        for (int m = l; m < a.Depth; m++)
        {
            double[] alpha = Array.ConvertAll(z, a.Activation.Value);
            int nIn = a.Width(m), nOut = a.Width(m + 1);
            z = new double[nOut];
            for (int r = 0; r < nOut; r++)
            {
                double s = 0;
                for (int c = 0; c < nIn; c++) s += net.Weights(m)[r * nIn + c] * alpha[c];
                z[r] = a.WeightScale(m) * s + a.Beta * net.Bias(m)[r];
            }
        }
        return z[k];
    }
}
