using NtkFast.Dynamics;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Dynamics;

public class KernelDynamicsTests
{
    /// <summary>Joint RBF + linear kernel on N training and M test points (positive definite).</summary>
    internal static (Matrix train, Matrix cross, Matrix test) Kernel(int n, int m, int seed, double lengthScale = 1.0, double scale = 1.0)
    {
        var rng = new Random(seed);
        int d = 3, all = n + m;
        var x = new double[all * d];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
        double K(int i, int j)
        {
            double s = 0, dot = 0;
            for (int p = 0; p < d; p++)
            {
                double diff = x[i * d + p] - x[j * d + p];
                s += diff * diff;
                dot += x[i * d + p] * x[j * d + p];
            }
            return scale * (Math.Exp(-0.5 * s / (lengthScale * lengthScale)) + 0.3 * dot + 0.05);
        }
        var train = new Matrix(n, n);
        var cross = new Matrix(m, n);
        var test = new Matrix(m, m);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) train[i, j] = K(i, j);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) cross[i, j] = K(n + i, j);
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) test[i, j] = K(n + i, n + j);
        return (train, cross, test);
    }

    internal static Matrix Random(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var a = new Matrix(rows, cols);
        for (int i = 0; i < a.Data.Length; i++) a.Data[i] = rng.NextDouble() * 2 - 1;
        return a;
    }

    [Fact]
    public void TimeZero_ReturnsInitialFunction()
    {
        var (train, cross, _) = Kernel(25, 7, 1);
        Matrix y = Random(25, 2, 2), f0 = Random(25, 2, 3), f0t = Random(7, 2, 4);
        var dyn = new KernelDynamics(train, y);
        Matrix ft = dyn.PredictTrain(0, f0);
        Matrix fs = dyn.PredictTest(0, cross, f0, f0t);
        for (int i = 0; i < ft.Data.Length; i++) Assert.Equal(f0.Data[i], ft.Data[i], 1e-13);
        for (int i = 0; i < fs.Data.Length; i++) Assert.Equal(f0t.Data[i], fs.Data[i], 1e-13);
    }

    [Fact]
    public void TimeInfinity_InterpolatesTrainingTargets_BothPaths()
    {
        var (train, cross, _) = Kernel(30, 6, 5);
        Matrix y = Random(30, 3, 6), f0 = Random(30, 3, 7), f0t = Random(6, 3, 8);
        // Cholesky path (no eigendecomposition yet) and eigen path must agree.
        var viaCholesky = new KernelDynamics(train, y);
        Matrix trainC = viaCholesky.PredictTrain(double.PositiveInfinity, f0);
        Matrix testC = viaCholesky.PredictTest(double.PositiveInfinity, cross, f0, f0t);
        var viaEigen = new KernelDynamics(train, y);
        Matrix[] both = viaEigen.PredictTest([1.0, double.PositiveInfinity], cross, f0, f0t);
        Matrix trainE = viaEigen.PredictTrain(double.PositiveInfinity, f0);
        for (int i = 0; i < y.Data.Length; i++)
        {
            Assert.Equal(y.Data[i], trainC.Data[i], 1e-12);
            Assert.Equal(y.Data[i], trainE.Data[i], 1e-9);
        }
        for (int i = 0; i < testC.Data.Length; i++) Assert.Equal(testC.Data[i], both[1].Data[i], 1e-7 * (1 + Math.Abs(testC.Data[i])));
        // Kernel regression at training points through the test formula is also the targets.
        Matrix atTrain = viaEigen.PredictTest(double.PositiveInfinity, train, f0, f0);
        for (int i = 0; i < y.Data.Length; i++) Assert.Equal(y.Data[i], atTrain.Data[i], 1e-8);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(7.0)]
    [InlineData(60.0)]
    public void MatchesExplicitEulerIntegration(double t)
    {
        int n = 20, m = 5, k = 2;
        var (train, cross, _) = Kernel(n, m, 9);
        Matrix y = Random(n, k, 10), f0 = Random(n, k, 11), f0t = Random(m, k, 12);
        var dyn = new KernelDynamics(train, y);
        Matrix ft = dyn.PredictTrain(t, f0);
        Matrix fs = dyn.PredictTest(t, cross, f0, f0t);

        // ∂f/∂t = −(1/N)·Θ(X,X)(f(X) − Y),  ∂f(x*)/∂t = −(1/N)·Θ(x*,X)(f(X) − Y)
        int steps = 40000;
        double dt = t / steps;
        double[] f = (double[])f0.Data.Clone(), g = (double[])f0t.Data.Clone(), r = new double[n * k];
        for (int s = 0; s < steps; s++)
        {
            for (int i = 0; i < n * k; i++) r[i] = f[i] - y.Data[i];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < k; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += train[i, j] * r[j * k + c];
                    f[i * k + c] -= dt / n * acc;
                }
            for (int i = 0; i < m; i++)
                for (int c = 0; c < k; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += cross[i, j] * r[j * k + c];
                    g[i * k + c] -= dt / n * acc;
                }
        }
        // Euler's global error is O(dt·t·‖Θ/N‖²·‖f0 − Y‖): ≈1e-5 here.
        for (int i = 0; i < n * k; i++) Assert.Equal(f[i], ft.Data[i], 2e-4);
        for (int i = 0; i < m * k; i++) Assert.Equal(g[i], fs.Data[i], 2e-4);
    }

    [Fact]
    public void ManyTimes_EqualSeparateCalls_AndMultiOutputIsColumnwise()
    {
        var (train, cross, _) = Kernel(40, 9, 13);
        Matrix y = Random(40, 3, 14), f0 = Random(40, 3, 15);
        var dyn = new KernelDynamics(train, y);
        double[] times = [0, 0.1, 10, 1000, double.PositiveInfinity];
        Matrix[] all = dyn.PredictTest(times, cross, f0);
        for (int q = 0; q < times.Length; q++)
        {
            Matrix one = new KernelDynamics(train, y).PredictTest(times[q], cross, f0);
            for (int i = 0; i < one.Data.Length; i++) Assert.Equal(one.Data[i], all[q].Data[i], 1e-8 * (1 + Math.Abs(one.Data[i])));
        }
        for (int c = 0; c < 3; c++)
        {
            var yc = new Matrix(40, 1);
            var fc = new Matrix(40, 1);
            for (int i = 0; i < 40; i++) { yc[i, 0] = y[i, c]; fc[i, 0] = f0[i, c]; }
            Matrix single = new KernelDynamics(train, yc).PredictTest(10, cross, fc);
            for (int i = 0; i < 9; i++) Assert.Equal(single[i, 0], all[2][i, c], 1e-12);
        }
    }

    [Fact]
    public void MeanPrediction_ConvergesMonotonicallyOnTraining()
    {
        var (train, _, _) = Kernel(30, 1, 16);
        Matrix y = Random(30, 1, 17);
        var dyn = new KernelDynamics(train, y);
        double prev = double.PositiveInfinity;
        foreach (double t in new[] { 0.0, 1, 10, 100, 1000, 1e5 })
        {
            Matrix f = dyn.PredictTrain(t);
            double loss = 0;
            for (int i = 0; i < 30; i++) loss += (f[i, 0] - y[i, 0]) * (f[i, 0] - y[i, 0]);
            Assert.True(loss <= prev + 1e-15);
            prev = loss;
        }
    }

    [Fact]
    public void SingularKernel_FiniteTimeWorks_InfinityNeedsRegularisation()
    {
        // Duplicate training point → singular Θ.
        var (train, cross, _) = Kernel(10, 3, 18);
        for (int j = 0; j < 10; j++) { train[9, j] = train[8, j]; train[j, 9] = train[j, 8]; }
        train[9, 9] = train[8, 8];
        for (int i = 0; i < 3; i++) cross[i, 9] = cross[i, 8];
        Matrix y = Random(10, 1, 19);
        Assert.Throws<SingularKernelException>(() => new KernelDynamics(train, y).PredictTest(double.PositiveInfinity, cross));
        Assert.Throws<SingularKernelException>(() => new KernelDynamics(train, y).PredictTrain(double.PositiveInfinity));
        var dyn = new KernelDynamics(train, y);
        Matrix finite = dyn.PredictTest(5.0, cross);
        Assert.All(finite.Data, v => Assert.True(double.IsFinite(v)));
        Assert.Throws<SingularKernelException>(() => dyn.PredictTest(double.PositiveInfinity, cross)); // eigen path
        var reg = new KernelDynamics(train, y, Regularization.Relative(1e-6));
        Matrix ok = reg.PredictTest(double.PositiveInfinity, cross);
        Assert.All(ok.Data, v => Assert.True(double.IsFinite(v)));
        // Ridge: with ρ the infinite-time prediction is Θ*X (Θ + ρI)⁻¹ Y, on both paths.
        Matrix viaEig = new KernelDynamics(train, y, Regularization.Relative(1e-6)).PredictTest([1.0, double.PositiveInfinity], cross)[1];
        for (int i = 0; i < ok.Data.Length; i++) Assert.Equal(ok.Data[i], viaEig.Data[i], 1e-6 * (1 + Math.Abs(ok.Data[i])));
    }

    [Fact]
    public void NotPositiveSemidefinite_IsReported()
    {
        var a = Matrix.FromArray(new double[,] { { 1, 2 }, { 2, 1 } });
        var dyn = new KernelDynamics(a, new Matrix(2, 1));
        Assert.Throws<SingularKernelException>(() => dyn.PredictTrain(1.0));
    }

    [Fact]
    public void BadInput_IsRejected()
    {
        var (train, cross, _) = Kernel(8, 2, 20);
        Assert.Throws<ArgumentException>(() => new KernelDynamics(train, new Matrix(7, 1)));
        Assert.Throws<ArgumentException>(() => new KernelDynamics(new Matrix(8, 7), new Matrix(8, 1)));
        var dyn = new KernelDynamics(train, new Matrix(8, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dyn.PredictTrain(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dyn.PredictTrain(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => dyn.PredictTest([1.0, -0.5], cross));
        Assert.Throws<ArgumentException>(() => dyn.PredictTest(1, new Matrix(2, 5)));
        Assert.Throws<ArgumentException>(() => dyn.PredictTrain(1, new Matrix(8, 2)));
        var nan = new Matrix(8, 1);
        nan[3, 0] = double.NaN;
        Assert.Throws<ArgumentException>(() => new KernelDynamics(train, nan));
    }
}
