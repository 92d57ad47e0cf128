using NtkFast.Activations;
using NtkFast.Networks;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Networks;

/// <summary>
/// Theorem 2 in miniature: a wide network trained by gradient descent moves its function as its
/// linearisation around θ0 predicts, f_(t+1) = f_t − (η/N)·Θ̂(·, X)·(f_t(X) − Y) with the empirical
/// NTK Θ̂ = J·Jᵀ fixed at initialisation (J from the library's backward pass, one cotangent per
/// point and output). The mismatch shrinks with width (O(1/√n)).
/// </summary>
public class LinearisationTests(ITestOutputHelper output)
{
    private static double RelativeMismatch(int width, int seed, Activation act, out double moved)
    {
        const int n = 6, m = 4, n0 = 3, nL = 2, steps = 20;
        const double eta = 1.0;
        // one hidden layer keeps J small ((N+M)·nL rows × ~6·width parameters)
        var arch = new MlpArchitecture([n0, width, nL], act, beta: 0.1);
        var net = Mlp<double>.Initialize(arch, (ulong)seed);
        double[] xAll = NetTestUtil.RandomArray((n + m) * n0, seed + 100, 1.5);
        double[] y = NetTestUtil.RandomArray(n * nL, seed + 200);
        double[] xTrain = xAll[..(n * n0)];
        int rows = (n + m) * nL, p = arch.ParameterCount;

        // J: one row per (point, output), by back-propagating unit cotangents.
        var ws = net.CreateWorkspace(n + m);
        var j = new double[rows][];
        var g = new double[(n + m) * nL];
        for (int r = 0; r < rows; r++)
        {
            Array.Clear(g);
            g[r] = 1;
            j[r] = new double[p];
            net.Gradient(xAll, g, ws, j[r]);
        }
        var theta = new double[rows, rows];
        for (int a = 0; a < rows; a++)
            for (int b = 0; b <= a; b++)
            {
                double s = 0;
                for (int q = 0; q < p; q++) s += j[a][q] * j[b][q];
                theta[a, b] = theta[b, a] = s;
            }

        double[] f0 = net.Predict(xAll);
        double[] lin = (double[])f0.Clone();
        var trainWs = net.CreateWorkspace(n);
        for (int t = 0; t < steps; t++)
        {
            net.TrainStep(xTrain, y, eta, trainWs);
            var residual = new double[n * nL];
            for (int i = 0; i < n * nL; i++) residual[i] = lin[i] - y[i];
            var next = new double[rows];
            for (int a = 0; a < rows; a++)
            {
                double s = 0;
                for (int b = 0; b < n * nL; b++) s += theta[a, b] * residual[b];
                next[a] = lin[a] - eta / n * s;
            }
            lin = next;
        }
        double[] ft = net.Predict(xAll);
        double err = 0, move = 0;
        for (int a = 0; a < rows; a++)
        {
            err += (ft[a] - lin[a]) * (ft[a] - lin[a]);
            move += (ft[a] - f0[a]) * (ft[a] - f0[a]);
        }
        moved = Math.Sqrt(move);
        return Math.Sqrt(err / move);
    }

    [Fact]
    public void Wide_network_follows_its_ntk_linearisation()
    {
        Activation act = ActivationRegistry.Parse("relu");
        double wide = RelativeMismatch(4096, 1, act, out double movedWide);
        double narrow = RelativeMismatch(64, 1, act, out double movedNarrow);
        output.WriteLine($"{act.Name}: relative mismatch width 4096: {wide:E3} (moved {movedWide:F3}), width 64: {narrow:E3} (moved {movedNarrow:F3})");
        Assert.True(movedWide > 0.1, "training moved the function noticeably");
        Assert.True(wide < 0.03, $"width 4096: |f_t − f_lin| / |f_t − f_0| = {wide}");
        Assert.True(narrow > 2 * wide, $"mismatch should shrink with width: 64 → {narrow}, 4096 → {wide}");
    }
}
