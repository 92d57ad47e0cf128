using NtkFast.Activations;
using NtkFast.Dynamics;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Dynamics;

/// <summary>
/// The paper's Theorem 2 end to end: a wide network trained by gradient descent ends where the
/// infinite-width kernel dynamics (with the network's own f_0) says it will, and the wider the
/// closer.
/// </summary>
public class NetworkVersusKernelTests(ITestOutputHelper output)
{
    private static Matrix Points(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var x = new Matrix(n, d);
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < d; j++) { x[i, j] = rng.NextDouble() * 2 - 1; s += x[i, j] * x[i, j]; }
            for (int j = 0; j < d; j++) x[i, j] *= Math.Sqrt(d / s); // ‖x‖² = d, as for the paper's unit-sphere data
        }
        return x;
    }

    /// <summary>‖f_net − f_kernel‖ / ‖f_kernel − f_0‖ on the test points after training to time t.</summary>
    private static double Deviation(int width, ulong seed, Matrix x, Matrix y, Matrix xt, double lr, int steps)
    {
        var arch = new MlpArchitecture([x.Cols, width, 1], ActivationRegistry.Parse("relu"), beta: 0.1);
        Mlp<double> net = Mlp<double>.Initialize(arch, seed);
        var f0 = new Matrix(x.Rows, 1, net.Predict(x.Data));
        var f0t = new Matrix(xt.Rows, 1, net.Predict(xt.Data));
        var spec = new KernelSpec(2, arch.Activation, 0.1, 1.0);
        Matrix theta = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Ntk).Ntk!;
        Matrix cross = InfiniteWidth.Compute(spec, xt, x, KernelOutputs.Ntk).Ntk!;
        Matrix predicted = new KernelDynamics(theta, y).PredictTest(steps * lr, cross, f0, f0t);
        MlpWorkspace<double> ws = net.CreateWorkspace(x.Rows);
        for (int s = 0; s < steps; s++) net.TrainStep(x.Data, y.Data, lr, ws);
        double[] trained = net.Predict(xt.Data);
        double num = 0, den = 0;
        for (int i = 0; i < xt.Rows; i++)
        {
            num += Math.Pow(trained[i] - predicted[i, 0], 2);
            den += Math.Pow(predicted[i, 0] - f0t[i, 0], 2);
        }
        return Math.Sqrt(num / den);
    }

    [Fact]
    public void Width2048_EndsWithinAFewPercentOfTheKernelPrediction_AndCloserThanWidth256()
    {
        Matrix x = Points(10, 4, 1), xt = Points(5, 4, 2);
        var y = new Matrix(10, 1);
        for (int i = 0; i < 10; i++) y[i, 0] = Math.Sin(2 * x[i, 0]) + 0.5 * x[i, 1];
        double wide = 0, narrow = 0;
        ulong[] seeds = [11, 12, 13];
        foreach (ulong seed in seeds)
        {
            wide += Deviation(2048, seed, x, y, xt, lr: 1.0, steps: 100) / seeds.Length;
            narrow += Deviation(256, seed, x, y, xt, lr: 1.0, steps: 100) / seeds.Length;
        }
        output.WriteLine($"mean relative deviation from the kernel prediction: width 2048 {wide:P2}, width 256 {narrow:P2}");
        Assert.True(wide < 0.05, $"width 2048 deviates {wide:P2}");
        Assert.True(wide < narrow, $"width 2048 ({wide:P2}) should be closer than width 256 ({narrow:P2})");
    }
}
