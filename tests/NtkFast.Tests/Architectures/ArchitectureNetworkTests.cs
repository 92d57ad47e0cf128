using NtkFast.Activations;
using NtkFast.Architectures;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Architectures;

/// <summary>
/// Finite networks of architectures (issue 16 item 3): back-propagation against central finite
/// differences for every layer kind, dense layers against today's MLP bit for bit in meaning (same
/// parameters, same empirical kernels), gradient descent, and Monte Carlo of wide finite CNNs against
/// the infinite-width kernels, with the spread shrinking as 1/√width.
/// </summary>
public class ArchitectureNetworkTests
{
    private static ImageSet Images(int n, int h, int w, int c, int seed)
    {
        var rng = new Random(seed);
        var d = new double[n * h * w * c];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2 - 1;
        return new ImageSet(d, n, h, w, c);
    }

    public static TheoryData<string, int, int, int> GradientCases() => new()
    {
        { "dense:5 tanh dense:2", 1, 1, 3 },
        { "conv:3,3x3,same tanh avgpool:2 conv:4,2x2,valid erf flatten dense:2", 5, 5, 2 },
        { "conv:3,3x3,same tanh res{ conv:3,3x3,same tanh } gap dense:1", 4, 4, 2 },
        { "conv:3,3x3,s2,same erf sum{ conv:3,1x1 | id | conv:3,3x3,same tanh } gap dense:2,w=1.3,b=0.4", 5, 4, 1 },
        { "param:standard conv1d:4,3 tanh flatten dense:3,b=0.5", 1, 6, 2 },
        { "param:standard conv:2,2x2,valid,b=0 softplus res{ conv:2,3x3,same gelu } flatten dense:1", 3, 3, 2 },
        { "conv:3,3x3,same tanh maxpool:2 flatten dense:2", 5, 5, 2 },
        { "conv:2,3x3,same erf maxpool:3x2,s1 conv:2,2x2,valid tanh gap dense:1", 5, 4, 1 },
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradient_matches_central_finite_differences(string spec, int h, int w, int c)
    {
        Architecture arch = Architecture.Parse(spec, weightStd: 1.2, beta: 0.3);
        ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, h, w, c, seed: 5);
        ImageSet x = Images(1, h, w, c, 3);
        var ws = net.CreateWorkspace();
        var weights = new double[net.Outputs];
        for (int k = 0; k < weights.Length; k++) weights[k] = 0.7 - 0.45 * k;
        var grad = new double[net.ParameterCount];
        net.Gradient(x.Data, weights, grad, ws);

        double Objective()
        {
            var f = new double[net.Outputs];
            net.Forward(x.Data, f, ws);
            double s = 0;
            for (int k = 0; k < f.Length; k++) s += weights[k] * f[k];
            return s;
        }
        const double step = 1e-5;
        double maxErr = 0, scale = 0;
        for (int p = 0; p < net.ParameterCount; p++)
        {
            double keep = net.Parameters[p];
            net.Parameters[p] = keep + step; double up = Objective();
            net.Parameters[p] = keep - step; double down = Objective();
            net.Parameters[p] = keep;
            double fd = (up - down) / (2 * step);
            maxErr = Math.Max(maxErr, Math.Abs(fd - grad[p]));
            scale = Math.Max(scale, Math.Abs(fd));
        }
        Assert.True(scale > 1e-3, "the gradient is not all zero");
        Assert.True(maxErr < 1e-7 * Math.Max(1, scale), $"max |fd − backprop| = {maxErr:g3} (scale {scale:g3}) for {spec}");
    }

    [Fact]
    public void Standard_parameterisation_does_not_train_a_zero_bias()
    {
        Architecture arch = Architecture.Parse("param:standard dense:4,b=0 relu dense:1", beta: 0.2);
        ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, 1, 1, 3, seed: 1);
        var grad = new double[net.ParameterCount];
        net.Gradient(Images(1, 1, 1, 3, 2).Data, [1.0], grad, net.CreateWorkspace());
        // θ: W0 (3×4), b0 (4, β = 0: fixed at 0), W1 (4×1), b1 (1)
        Assert.All(net.Parameters.AsSpan(12, 4).ToArray(), v => Assert.Equal(0, v));
        Assert.All(grad.AsSpan(12, 4).ToArray(), v => Assert.Equal(0, v));
        Assert.Equal(1, grad[^1]); // ∂f/∂b of the readout, standard: z = W·h + b
    }

    [Theory]
    [InlineData("relu", 0.1, 1.0)]
    [InlineData("tanh", 0.3, 1.4)]
    public void Dense_layers_are_todays_mlp_with_the_same_parameters(string activation, double beta, double weightStd)
    {
        int[] widths = [3, 7, 5, 2];
        Architecture arch = Architecture.Parse($"dense:7 {activation} dense:5 {activation} dense:2", weightStd, beta);
        ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, 1, 1, 3, seed: 9);
        var mlpArch = new MlpArchitecture(widths, ActivationRegistry.Parse(activation), beta, weightStd);
        var theta = new double[mlpArch.ParameterCount];
        var mlp = new Mlp<double>(mlpArch, theta);
        // ours: W[c_in, c_out] then b per layer; the MLP's: W(l) n(l+1)×n(l) row-major then b(l)
        int off = 0;
        for (int l = 0; l < 3; l++)
        {
            int nin = widths[l], nout = widths[l + 1];
            Span<double> wl = mlp.Weights(l);
            for (int i = 0; i < nin; i++) for (int o = 0; o < nout; o++) wl[o * nin + i] = net.Parameters[off + i * nout + o];
            off += nin * nout;
            net.Parameters.AsSpan(off, nout).CopyTo(mlp.Bias(l));
            off += nout;
        }
        ImageSet x = Images(6, 1, 1, 3, 4);
        var xm = new Matrix(6, 3, x.Data);
        (Matrix ntk, Matrix? nngp) = net.EmpiricalKernel(x);
        EmpiricalKernelResult reference = EmpiricalKernel.Compute(mlp, xm);
        Matrix refNtk = reference.TraceMatrix();
        for (int i = 0; i < ntk.Data.Length; i++)
        {
            Assert.Equal(refNtk.Data[i], ntk.Data[i], 1e-12 * Math.Max(1, Math.Abs(refNtk.Data[i])));
            Assert.Equal(reference.Nngp![i], nngp!.Data[i], 1e-12 * Math.Max(1, Math.Abs(reference.Nngp[i])));
        }
        Matrix f = net.Forward(x);
        var ws = mlp.CreateWorkspace(6);
        mlp.Forward(x.Data, ws);
        double[] fm = ws.Output.ToArray();
        for (int i = 0; i < fm.Length; i++) Assert.Equal(fm[i], f.Data[i], 1e-13);
    }

    [Fact]
    public void Gradient_descent_lowers_the_cost_and_its_gradient_is_the_costs()
    {
        Architecture arch = Architecture.Parse("conv:32,3x3,same tanh gap dense:2");
        ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, 4, 4, 1, seed: 2);
        ImageSet x = Images(5, 4, 4, 1, 8);
        var y = new Matrix(5, 2);
        for (int i = 0; i < 10; i++) y.Data[i] = Math.Sin(i);
        double Cost()
        {
            Matrix f = net.Forward(x);
            double s = 0;
            for (int i = 0; i < f.Data.Length; i++) s += (f.Data[i] - y.Data[i]) * (f.Data[i] - y.Data[i]);
            return s / (2 * 5);
        }
        double c0 = Cost();
        // the step taken is −η∇C: compare it with finite differences of C on a few parameters
        double[] before = (double[])net.Parameters.Clone();
        double reported = net.TrainStep(x, y, learningRate: 1e-3);
        Assert.Equal(c0, reported, 1e-14);
        double[] after = (double[])net.Parameters.Clone();
        before.CopyTo(net.Parameters, 0);
        foreach (int p in new[] { 0, 7, 30, net.ParameterCount - 3, net.ParameterCount - 1 })
        {
            double keep = net.Parameters[p];
            net.Parameters[p] = keep + 1e-6; double up = Cost();
            net.Parameters[p] = keep - 1e-6; double down = Cost();
            net.Parameters[p] = keep;
            double grad = (before[p] - after[p]) / 1e-3;
            Assert.Equal((up - down) / 2e-6, grad, 1e-7);
        }
        after.CopyTo(net.Parameters, 0);
        double last = c0;
        for (int s = 0; s < 200; s++)
        {
            double c = net.TrainStep(x, y, 1.0);
            Assert.True(c <= last + 1e-12, $"step {s}: cost rose from {last} to {c}");
            last = c;
        }
        Assert.True(last < 0.5 * c0, $"cost {c0} → {last}");
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count()
    {
        Architecture arch = Architecture.Parse("conv:8,3x3,same relu res{ conv:8,3x3,same relu } avgpool:2 flatten dense:3");
        ImageSet x = Images(7, 4, 4, 2, 1);
        var y = new Matrix(7, 3);
        int keep = NtkParallel.MaxThreads;
        try
        {
            double[][] runs = new double[2][];
            for (int r = 0; r < 2; r++)
            {
                NtkParallel.MaxThreads = r == 0 ? 1 : 4;
                ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, 4, 4, 2, seed: 3);
                net.TrainStep(x, y, 0.1);
                (Matrix ntk, Matrix? nngp) = net.EmpiricalKernel(x);
                runs[r] = [.. net.Parameters, .. ntk.Data, .. nngp!.Data];
            }
            Assert.Equal(runs[0], runs[1]);
        }
        finally { NtkParallel.MaxThreads = keep; }
    }

    /// <summary>Mean and standard deviation over seeds of the empirical kernels, entry by entry.</summary>
    private static (double[] MeanNtk, double[] StdNtk, double[] MeanNngp) MonteCarlo(Architecture arch, ImageSet x, int seeds)
    {
        int len = x.Count * x.Count;
        var sum = new double[len]; var sq = new double[len]; var sumS = new double[len];
        for (int s = 0; s < seeds; s++)
        {
            ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, x.Height, x.Width, x.Channels, (ulong)(100 + s));
            (Matrix ntk, Matrix? nngp) = net.EmpiricalKernel(x);
            for (int i = 0; i < len; i++) { sum[i] += ntk.Data[i]; sq[i] += ntk.Data[i] * ntk.Data[i]; sumS[i] += nngp!.Data[i]; }
        }
        var mean = new double[len]; var std = new double[len]; var meanS = new double[len];
        for (int i = 0; i < len; i++)
        {
            mean[i] = sum[i] / seeds;
            std[i] = Math.Sqrt(Math.Max(0, sq[i] / seeds - mean[i] * mean[i]) * seeds / (seeds - 1));
            meanS[i] = sumS[i] / seeds;
        }
        return (mean, std, meanS);
    }

    [Theory]
    [InlineData("conv:{n},3x3,same relu gap dense:1", "ntk")]
    [InlineData("conv:{n},3x3,same erf flatten dense:1", "ntk")]
    [InlineData("param:standard conv:{n},2x2,valid relu gap dense:1", "standard")]
    public void Monte_carlo_of_wide_cnns_converges_to_the_analytic_kernel_at_rate_one_over_sqrt_width(string spec, string what)
    {
        ImageSet x = Images(3, 3, 3, 2, 11);
        const int seeds = 12;
        Architecture Wide(int n) => Architecture.Parse(spec.Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), 1.3, 0.2);
        // NTK parameterisation: the limit does not depend on the width. Standard: Θ grows with the width
        // (the fan-in term), so compare each width with its own analytic kernel and relative spreads.
        KernelResultPair analytic = Analytic(Wide(1024), x), analytic64 = Analytic(Wide(64), x);
        (double[] m64, double[] s64, _) = MonteCarlo(Wide(64), x, seeds);
        (double[] m1k, double[] s1k, double[] n1k) = MonteCarlo(Wide(1024), x, seeds);
        double spread64 = s64.Average() / analytic64.Ntk.Select(Math.Abs).Average(), spread1k = s1k.Average() / analytic.Ntk.Select(Math.Abs).Average();
        // the fluctuations of Θ̂ shrink as 1/√width: ×16 channels → ÷4 (a generous band for 12 seeds)
        double ratio = spread64 / spread1k;
        Assert.True(ratio is > 2.4 and < 6.5, $"{what}: spread {spread64:g3} at 64 channels, {spread1k:g3} at 1024: ratio {ratio:g3}, expected ≈ 4");
        for (int i = 0; i < m1k.Length; i++)
        {
            // the mean of 12 nets is within a few standard errors (plus the O(1/n) bias) of the limit
            double tol = 4 * s1k[i] / Math.Sqrt(seeds) + 0.01 * Math.Abs(analytic.Ntk[i]);
            Assert.True(Math.Abs(m1k[i] - analytic.Ntk[i]) < tol, $"{what} entry {i}: MC {m1k[i]:g6} vs Θ {analytic.Ntk[i]:g6} (tol {tol:g3})");
            Assert.True(Math.Abs(n1k[i] - analytic.Nngp[i]) < 0.06 * Math.Abs(analytic.Nngp[i]) + 0.01, $"{what} NNGP entry {i}: MC {n1k[i]:g6} vs Σ {analytic.Nngp[i]:g6}");
        }
        // and the narrow nets' mean is further from the limit than the wide ones' on average
        double e64 = m64.Select((v, i) => Math.Abs(v - analytic64.Ntk[i]) / Math.Abs(analytic64.Ntk[i])).Average();
        double e1k = m1k.Select((v, i) => Math.Abs(v - analytic.Ntk[i]) / Math.Abs(analytic.Ntk[i])).Average();
        Assert.True(e1k < e64 * 0.8 || e1k < 0.003, $"{what}: mean relative error {e64:g3} at 64, {e1k:g3} at 1024");
    }

    private sealed record KernelResultPair(double[] Ntk, double[] Nngp);

    private static KernelResultPair Analytic(Architecture arch, ImageSet x)
    {
        var k = ArchitectureKernels.Compute(arch, x);
        return new KernelResultPair(k.Ntk!.Data, k.Nngp!.Data);
    }

    [Theory]
    [InlineData("avgpool:5 gap dense:1", 4, 4, "larger than its 4×4 input")]
    [InlineData("conv:2,3x3 relu dense:1", 4, 4, "add flatten or gap")]
    [InlineData("conv:2,3x3 relu", 4, 4, "add flatten or gap")]
    public void Bad_shapes_are_one_line(string spec, int h, int w, string message)
    {
        var e = Assert.Throws<ArchitectureException>(() => ArchitectureNetwork.Initialize(Architecture.Parse(spec), h, w, 1, 0));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
