using NtkFast.Dynamics;
using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Dynamics;

public class KernelPcaAndClassificationTests
{
    [Fact]
    public void Pca_ValuesAreEigenvaluesOverN_AndResidualFollowsDynamics()
    {
        int n = 50, k = 6;
        var (theta, _, _) = Kernel(n, 1, 61);
        KernelPca pca = KernelPca.Compute(theta, k);
        double[] all = SymmetricEigen.Eigenvalues(theta);
        for (int i = 0; i < k; i++) Assert.Equal(all[n - 1 - i] / n, pca.Values[i], 1e-12);

        Matrix y = Random(n, 2, 62), f0 = Random(n, 2, 63);
        double[] times = [0, 3, 30, double.PositiveInfinity];
        Matrix proj = pca.ResidualOverTime(y, times, f0, output: 1);
        var dyn = new KernelDynamics(theta, y);
        Matrix[] ft = dyn.PredictTrain(times, f0);
        for (int q = 0; q < times.Length; q++)
        {
            var r = new Matrix(n, 1);
            for (int i = 0; i < n; i++) r[i, 0] = ft[q][i, 1] - y[i, 1];
            Matrix c = pca.Project(r);
            for (int i = 0; i < k; i++) Assert.Equal(c[i, 0], proj[q, i], 1e-9);
        }
        // Leading components decay fastest.
        Assert.True(Math.Abs(proj[1, 0] / proj[0, 0]) < Math.Abs(proj[1, k - 1] / proj[0, k - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelPca.Compute(theta, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelPca.Compute(theta, n + 1));
    }

    [Fact]
    public void Pca_LargeDataSet_UsesLanczos()
    {
        int n = 400;
        var (theta, _, _) = Kernel(n, 1, 64);
        KernelPca pca = KernelPca.Compute(theta, 5);
        double[] all = SymmetricEigen.Eigenvalues(theta);
        for (int i = 0; i < 5; i++) Assert.Equal(all[n - 1 - i] / n, pca.Values[i], 1e-10 * all[n - 1] / n);
    }

    [Fact]
    public void OneHotArgMaxAccuracy()
    {
        int[] labels = [2, 0, 1, 2];
        Matrix y = Classification.OneHot(labels);
        Assert.Equal(4, y.Rows);
        Assert.Equal(3, y.Cols);
        Assert.Equal([0.0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1], y.Data);
        Assert.Equal(labels, Classification.ArgMax(y));
        Assert.Equal(0.75, Classification.Accuracy([2, 0, 1, 0], labels));
        Assert.Equal(5, Classification.OneHot(labels, 5).Cols);
        Assert.Throws<ArgumentException>(() => Classification.OneHot([-1]));
        Assert.Throws<ArgumentException>(() => Classification.OneHot([3], 3));
        Assert.Throws<ArgumentException>(() => Classification.Accuracy([1], [1, 2]));
        Assert.Equal([1, 0], Classification.LabelsFromColumn(Matrix.FromArray(new double[,] { { 1 }, { 0 } })));
        Assert.Throws<ArgumentException>(() => Classification.LabelsFromColumn(Matrix.FromArray(new double[,] { { 1.5 } })));
    }

    [Fact]
    public void KernelRegression_ClassifiesSeparableClusters()
    {
        // Two well separated clusters in 2-D with an RBF-like kernel: t = ∞ prediction is perfect.
        var rng = new Random(70);
        int n = 40, m = 20;
        var pts = new double[(n + m) * 2];
        var lab = new int[n + m];
        for (int i = 0; i < n + m; i++)
        {
            lab[i] = i % 2;
            pts[2 * i] = (lab[i] == 0 ? -2 : 2) + 0.3 * (rng.NextDouble() - 0.5);
            pts[2 * i + 1] = 0.3 * (rng.NextDouble() - 0.5);
        }
        double K(int i, int j) => Math.Exp(-((pts[2 * i] - pts[2 * j]) * (pts[2 * i] - pts[2 * j]) + (pts[2 * i + 1] - pts[2 * j + 1]) * (pts[2 * i + 1] - pts[2 * j + 1])));
        var train = new Matrix(n, n);
        var cross = new Matrix(m, n);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) train[i, j] = K(i, j);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) cross[i, j] = K(n + i, j);
        Matrix y = Classification.OneHot(lab.AsSpan(0, n));
        Matrix pred = new KernelDynamics(train, y, Regularization.Relative(1e-8)).PredictTest(double.PositiveInfinity, cross);
        Assert.Equal(1.0, Classification.Accuracy(Classification.ArgMax(pred), lab.AsSpan(n)));
    }
}
