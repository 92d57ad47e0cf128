using NtkFast.Activations;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Networks;

public class MlpTrainingTests
{
    private static Activation Smooth() =>
        ActivationRegistry.Parse("tanh");

    private static Activation Relu() =>
        ActivationRegistry.Parse("relu");

    [Fact]
    public void Initialization_is_the_documented_gaussian_stream_in_layer_order()
    {
        var arch = new MlpArchitecture([3, 4, 2], Identity.Instance);
        var net = Mlp<double>.Initialize(arch, 77);
        var expect = new double[arch.ParameterCount];
        GaussianStream.Fill(77, 0, expect);
        Assert.Equal(expect, net.Parameters);
        Assert.Equal(expect[0], net.Weights(0)[0]);
        Assert.Equal(expect[12], net.Bias(0)[0]);           // W0 is 4×3 = 12 entries
        Assert.Equal(expect[16], net.Weights(1)[0]);        // after b0 (4)
        Assert.Equal(expect[24], net.Bias(1)[0]);           // W1 is 2×4
        var f = Mlp<float>.Initialize(arch, 77);
        Assert.Equal(Array.ConvertAll(expect, v => (float)v), f.Parameters);
        Assert.NotEqual(expect, Mlp<double>.Initialize(arch, 78).Parameters);
    }

    [Fact]
    public void One_small_step_changes_the_cost_as_the_first_order_prediction_says()
    {
        var arch = new MlpArchitecture([5, 16, 16, 2], Smooth(), beta: 0.1);
        const int n = 12;
        double[] x = NetTestUtil.RandomArray(n * 5, 31);
        double[] y = NetTestUtil.RandomArray(n * 2, 32);
        var net0 = Mlp<double>.Initialize(arch, 3);
        var ws = net0.CreateWorkspace(n);
        var grad = new double[arch.ParameterCount];
        double c0 = net0.MseGradient(x, y, ws, grad);
        double g2 = grad.Sum(v => v * v);

        double Error(double eta)
        {
            var net = net0.Clone();
            net.TrainStep(x, y, eta, ws);
            net.Forward(x, ws);
            double c1 = net.MseCost(y, ws);
            return Math.Abs(c1 - (c0 - eta * g2));
        }
        double e1 = Error(1e-3), e2 = Error(5e-4);
        // the remainder of the first-order prediction is O(η²): relative to ηg² it is small,
        // and halving η divides it by ~4
        Assert.True(e1 < 1e-2 * 1e-3 * g2, $"remainder {e1} vs predicted change {1e-3 * g2}");
        Assert.InRange(e1 / e2, 3.5, 4.5);
    }

    [Fact]
    public void Train_step_is_theta_minus_eta_gradient_and_frozen_layers_do_not_move()
    {
        var arch = new MlpArchitecture([4, 9, 7, 3], Relu(), beta: 0.5);
        const int n = 10;
        double[] x = NetTestUtil.RandomArray(n * 4, 41);
        double[] y = NetTestUtil.RandomArray(n * 3, 42);
        var net = Mlp<double>.Initialize(arch, 9);
        var ws = net.CreateWorkspace(n);
        for (int k = 0; k < arch.Depth; k++)
        {
            var grad = new double[arch.ParameterCount];
            double c = net.MseGradient(x, y, ws, grad, k);
            var stepped = net.Clone();
            Assert.Equal(c, stepped.TrainStep(x, y, 0.7, ws, k));
            for (int p = 0; p < grad.Length; p++)
            {
                double expect = net.Parameters[p] - 0.7 * grad[p];
                if (p < arch.LayerOffset(k)) Assert.Equal(net.Parameters[p], stepped.Parameters[p]);
                else Assert.True(Math.Abs(stepped.Parameters[p] - expect) <= 1e-14 * (1 + Math.Abs(expect)), $"K={k} θ[{p}]");
            }
        }
    }

    [Fact]
    public void Gradient_descent_reduces_the_cost()
    {
        var arch = new MlpArchitecture([3, 32, 32, 1], Relu(), beta: 0.1);
        const int n = 20;
        double[] x = NetTestUtil.RandomArray(n * 3, 51);
        double[] y = NetTestUtil.RandomArray(n, 52);
        var net = Mlp<double>.Initialize(arch, 4);
        var ws = net.CreateWorkspace(n);
        double first = net.TrainStep(x, y, 0.5, ws), last = first;
        for (int s = 0; s < 100; s++) last = net.TrainStep(x, y, 0.5, ws);
        Assert.True(last < 0.5 * first, $"cost {first} → {last}");
    }

    [Fact]
    public void Float_and_double_agree_to_float_tolerance()
    {
        var arch = new MlpArchitecture([6, 33, 17, 3], Smooth(), beta: 0.1);
        const int n = 19;
        double[] x = NetTestUtil.RandomArray(n * 6, 61);
        double[] y = NetTestUtil.RandomArray(n * 3, 62);
        var d = Mlp<double>.Initialize(arch, 12);
        var f = Mlp<float>.Initialize(arch, 12);
        var wd = d.CreateWorkspace(n);
        var wf = f.CreateWorkspace(n);
        var gd = new double[arch.ParameterCount];
        var gf = new float[arch.ParameterCount];
        double cd = d.MseGradient(x, y, wd, gd);
        double cf = f.MseGradient(NetTestUtil.ToFloat(x), NetTestUtil.ToFloat(y), wf, gf);
        Assert.Equal(cd, cf, 1e-5 * (1 + cd));
        double scale = gd.Max(Math.Abs);
        for (int p = 0; p < gd.Length; p++) Assert.True(Math.Abs(gd[p] - gf[p]) <= 1e-5 * scale, $"θ[{p}]: {gd[p]} vs {gf[p]}");
        for (int s = 0; s < 5; s++) { d.TrainStep(x, y, 0.5, wd); f.TrainStep(NetTestUtil.ToFloat(x), NetTestUtil.ToFloat(y), 0.5f, wf); }
        for (int p = 0; p < gd.Length; p++) Assert.True(Math.Abs(d.Parameters[p] - f.Parameters[p]) <= 1e-4 * (1 + Math.Abs(d.Parameters[p])), $"θ[{p}] after training");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Results_are_bitwise_independent_of_the_thread_count(bool single)
    {
        // large enough that the GEMMs (≥ 2M multiply-adds) and the bias column sums (≥ 2^18
        // elements) of the step are split over threads
        var arch = new MlpArchitecture([37, 300, 257, 5], Relu(), beta: 0.1);
        const int n = 901;
        double[] x = NetTestUtil.RandomArray(n * 37, 71);
        double[] y = NetTestUtil.RandomArray(n * 5, 72);
        int saved = NtkParallel.MaxThreads;
        try
        {
            object[] Run(int threads)
            {
                NtkParallel.MaxThreads = threads;
                if (single)
                {
                    var net = Mlp<float>.Initialize(arch, 21);
                    var ws = net.CreateWorkspace(n);
                    float[] xf = NetTestUtil.ToFloat(x), yf = NetTestUtil.ToFloat(y);
                    for (int s = 0; s < 3; s++) net.TrainStep(xf, yf, 0.3, ws);
                    return [net.Parameters, ws.Cotangent(1).ToArray()];
                }
                else
                {
                    var net = Mlp<double>.Initialize(arch, 21);
                    var ws = net.CreateWorkspace(n);
                    for (int s = 0; s < 3; s++) net.TrainStep(x, y, 0.3, ws);
                    return [net.Parameters, ws.Cotangent(1).ToArray()];
                }
            }
            object[] one = Run(1), two = Run(2);
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [Fact]
    public void Train_step_allocates_nothing_after_warm_up()
    {
        // big enough for the GEMMs to run on several threads (the parallel path must not allocate either)
        var arch = new MlpArchitecture([20, 256, 200, 3], Relu(), beta: 0.1);
        const int n = 64;
        double[] x = NetTestUtil.RandomArray(n * 20, 81);
        double[] y = NetTestUtil.RandomArray(n * 3, 82);
        float[] xf = NetTestUtil.ToFloat(x), yf = NetTestUtil.ToFloat(y);
        var d = Mlp<double>.Initialize(arch, 1);
        var f = Mlp<float>.Initialize(arch, 1);
        var wd = d.CreateWorkspace(n);
        var wf = f.CreateWorkspace(n);
        var grad = new double[arch.ParameterCount];
        for (int s = 0; s < 3; s++)
        {
            d.TrainStep(x, y, 0.1, wd, s % 2);
            f.TrainStep(xf, yf, 0.1, wf, s % 2);
            d.MseGradient(x, y, wd, grad);
        }
        // Measured in rounds of 5 steps (15 passes). A per-step allocation shows in every round. The
        // runtime allocates a little exactly once, at moments that depend on timing, so warm-up cannot
        // force them: the first time the calling thread really blocks on the worker pool's event (88 B,
        // its lazily created lock) and the first contended lock (seen in CI: 200 B in one run on the
        // vector128 path). So at least 4 of 6 rounds must allocate exactly 0 bytes.
        int clean = 0;
        var report = new System.Text.StringBuilder();
        for (int round = 0; round < 6; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int s = 0; s < 5; s++)
            {
                d.TrainStep(x, y, 0.1, wd, s % 2);
                f.TrainStep(xf, yf, 0.1, wf, s % 2);
                d.MseGradient(x, y, wd, grad);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0) clean++;
            report.Append($"[{allocated} B] ");
        }
        Assert.True(clean >= 4, $"bytes allocated per round of 15 passes: {report}");
    }

    [Fact]
    public void Bad_arguments_throw_argument_exceptions_naming_the_argument()
    {
        Assert.Equal("widths", Assert.Throws<ArgumentException>(() => new MlpArchitecture([3, 0, 1], Identity.Instance)).ParamName);
        Assert.Equal("widths", Assert.Throws<ArgumentException>(() => new MlpArchitecture([3, -2, 1], Identity.Instance)).ParamName);
        Assert.Equal("widths", Assert.Throws<ArgumentException>(() => new MlpArchitecture([3], Identity.Instance)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => new MlpArchitecture([3, 1], Identity.Instance, double.NaN)).ParamName);
        Assert.Equal("weightStd", Assert.Throws<ArgumentException>(() => new MlpArchitecture([3, 1], Identity.Instance, 0.1, -1)).ParamName);
        var arch = new MlpArchitecture([3, 4, 2], Identity.Instance);
        var net = Mlp<double>.Initialize(arch, 1);
        var ws = net.CreateWorkspace(4);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => new Mlp<double>(arch, new double[3])).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => net.Forward(new double[10], ws)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => net.Forward(new double[15], ws)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => net.TrainStep(new double[12], new double[6], 0.1, ws)).ParamName);
        foreach (double lr in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
            Assert.Equal("learningRate", Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(new double[12], new double[8], lr, ws)).ParamName);
        Assert.Equal("trainableFrom", Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(new double[12], new double[8], 0.1, ws, 2)).ParamName);
        var other = new MlpWorkspace<double>(new MlpArchitecture([3, 5, 2], Identity.Instance), 4);
        Assert.Equal("workspace", Assert.Throws<ArgumentException>(() => net.Forward(new double[12], other)).ParamName);
    }
}
