using NtkFast.Dynamics;
using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Dynamics;

/// <summary>The library entry point from Gram blocks (KernelPrediction, PredictionKernels, KernelMatrices).</summary>
public class KernelPredictionTests
{
    [Fact]
    public void Ntk_IsKernelDynamics_PerTime_WithEnsembleSpread()
    {
        int n = 8, m = 3;
        var (theta, thetaCross, _) = Kernel(n, m, 90);
        var (sigma, sigmaCross, sigmaTest) = Kernel(n, m, 90, lengthScale: 0.6, scale: 0.7);
        Matrix y = Random(n, 2, 91);
        double[] times = [0, 3, double.PositiveInfinity];
        var dyn = new KernelDynamics(theta, y);

        TimePrediction[] plain = KernelPrediction.Ntk(new PredictionKernels(theta, thetaCross), y, times, train: true);
        Matrix[] expectTest = dyn.PredictTest(times, thetaCross), expectTrain = dyn.PredictTrain(times);
        for (int q = 0; q < times.Length; q++)
        {
            Assert.Equal(times[q], plain[q].Time);
            Assert.Equal(expectTest[q].Data, plain[q].Mean.Data);
            Assert.Equal(expectTrain[q].Data, plain[q].Train!.Data);
            Assert.Null(plain[q].Variance);
            Assert.Null(plain[q].Covariance);
        }

        var blocks = new PredictionKernels(theta, thetaCross, sigma, sigmaCross, sigmaTest);
        TimePrediction[] ens = KernelPrediction.Ntk(blocks, y, times, covariance: true);
        for (int q = 0; q < times.Length; q++)
        {
            EnsemblePrediction e = dyn.Ensemble(times[q], thetaCross, sigma, sigmaCross, sigmaTest);
            Assert.Equal(e.Mean.Data, ens[q].Mean.Data);
            Assert.Equal(e.Covariance!.Data, ens[q].Covariance!.Data);
            Assert.Equal(e.Variance, ens[q].Variance);
            Assert.Null(ens[q].Train);
        }
        // Variances only: from the full block without covariance, equal to the diagonal's.
        TimePrediction v = KernelPrediction.Ntk(blocks, y, [3.0])[0];
        Assert.Null(v.Covariance);
        for (int i = 0; i < m; i++) Assert.Equal(ens[1].Covariance![i, i], v.Variance![i], 1e-13);
        Assert.Throws<ArgumentException>(() => KernelPrediction.Ntk(new PredictionKernels(theta, thetaCross), y, [1.0], covariance: true));
        Assert.Throws<ArgumentException>(() => KernelPrediction.Nngp(new PredictionKernels(theta, thetaCross), y));
    }

    [Fact]
    public void Nngp_IsNngpPosterior_TrainMeanInterpolates()
    {
        int n = 7, m = 4;
        var (sigma, cross, test) = Kernel(n, m, 92);
        Matrix y = Random(n, 1, 93);
        TimePrediction p = KernelPrediction.Nngp(new PredictionKernels(null, null, sigma, cross, test), y, train: true, covariance: true);
        EnsemblePrediction e = NngpPosterior.Predict(sigma, cross, test, y);
        Assert.Equal(e.Mean.Data, p.Mean.Data);
        Assert.Equal(e.Covariance!.Data, p.Covariance!.Data);
        Assert.True(double.IsPositiveInfinity(p.Time));
        for (int i = 0; i < n; i++) Assert.Equal(y[i, 0], p.Train![i, 0], 1e-8);
        // The training points' mean reuses the test points' factor: bitwise the separate posterior at X (which factors again).
        Assert.Equal(NngpPosterior.Predict(sigma, sigma, new Matrix(n, 1, Enumerable.Range(0, n).Select(i => sigma[i, i]).ToArray()), y).Mean.Data, p.Train!.Data);
        // Mean only without Σ(X*,X*).
        TimePrediction meanOnly = KernelPrediction.Nngp(new PredictionKernels(null, null, sigma, cross), y);
        Assert.Equal(e.Mean.Data, meanOnly.Mean.Data);
        Assert.Null(meanOnly.Variance);
    }

    [Fact]
    public void Blocks_MissingCompanionsAndWrongShapes_AreRejected()
    {
        var (k, kx, kxx) = Kernel(5, 2, 94);
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, null));
        Assert.Throws<ArgumentException>(() => new PredictionKernels(null, kx));
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, kx, k, null));
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, kx, null, kx));
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, kx, null, null, kxx));
        Assert.Throws<ArgumentException>(() => new PredictionKernels(null, null));
        Assert.Throws<ArgumentException>(() => new PredictionKernels(kx, kx));                       // Θ(X,X) not square
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, new Matrix(2, 4)));          // columns ≠ N
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, kx, k, new Matrix(3, 5)));   // rows ≠ M
        Assert.Throws<ArgumentException>(() => new PredictionKernels(k, kx, k, kx, new Matrix(2, 3)));
        var nan = new Matrix(5, 5, (double[])k.Data.Clone());
        nan[1, 1] = double.NaN;
        Assert.Throws<ArgumentException>(() => new PredictionKernels(nan, kx));
        var ok = new PredictionKernels(k, kx, k, kx, new Matrix(2, 1));
        Assert.False(ok.HasFullTestCovariance);
        Assert.Equal((5, 2), (ok.TrainPoints, ok.TestPoints));
    }

    [Fact]
    public void Asymmetry_FindsTheWorstPair_SymmetrizeAverages()
    {
        var (k, _, _) = Kernel(6, 1, 95);
        Assert.Equal(0.0, KernelMatrices.Asymmetry(k).Relative);
        double[] before = (double[])k.Data.Clone();
        KernelMatrices.Symmetrize(k);
        Assert.Equal(before, k.Data);                 // exactly symmetric: untouched bit for bit
        double max = k.Data.Max(Math.Abs);
        k[4, 1] += 1e-3 * max;
        (double rel, int i, int j) = KernelMatrices.Asymmetry(k);
        Assert.Equal((4, 1), (i, j));
        Assert.Equal(1e-3, rel, 1e-6);
        KernelMatrices.Symmetrize(k);
        Assert.Equal(k[4, 1], k[1, 4]);
        Assert.Equal(before[4 * 6 + 1] + 0.5e-3 * max, k[4, 1], 1e-15);
        Assert.Throws<ArgumentException>(() => KernelMatrices.Asymmetry(new Matrix(2, 3)));
    }
}
