using NtkFast.Dynamics;
using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Dynamics;

public class EnsembleTests
{
    /// <summary>Plain scalar Cholesky (test-local reference, lower triangle).</summary>
    private static double[,] ScalarCholesky(Matrix a)
    {
        int n = a.Rows;
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[i, j];
                for (int p = 0; p < j; p++) s -= l[i, p] * l[j, p];
                l[i, j] = i == j ? Math.Sqrt(s) : s / l[j, j];
            }
        return l;
    }

    /// <summary>Gauss–Jordan inverse (test-local reference).</summary>
    private static Matrix Inverse(Matrix a)
    {
        int n = a.Rows;
        var aug = new double[n, 2 * n];
        for (int i = 0; i < n; i++) { for (int j = 0; j < n; j++) aug[i, j] = a[i, j]; aug[i, n + i] = 1; }
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(aug[r, c]) > Math.Abs(aug[p, c])) p = r;
            for (int j = 0; j < 2 * n; j++) (aug[c, j], aug[p, j]) = (aug[p, j], aug[c, j]);
            double d = aug[c, c];
            for (int j = 0; j < 2 * n; j++) aug[c, j] /= d;
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = aug[r, c];
                for (int j = 0; j < 2 * n; j++) aug[r, j] -= f * aug[c, j];
            }
        }
        var inv = new Matrix(n, n);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) inv[i, j] = aug[i, n + j];
        return inv;
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(double.PositiveInfinity)]
    public void MeanAndCovariance_MatchMonteCarloOverInitialisations(double t)
    {
        int n = 6, m = 3, samples = 40000;
        var (theta, thetaCross, _) = Kernel(n, m, 31);
        var (sigma, sigmaCross, sigmaTest) = Kernel(n, m, 31, lengthScale: 0.7, scale: 0.8); // same points, another kernel
        Matrix y = Random(n, 1, 32);
        var dyn = new KernelDynamics(theta, y);
        EnsemblePrediction ens = dyn.Ensemble(t, thetaCross, sigma, sigmaCross, sigmaTest);
        Assert.NotNull(ens.Covariance);

        // Sample f0 ~ N(0, Σ_joint) on X ∪ X*; train all samples at once as K = samples outputs.
        var joint = new Matrix(n + m, n + m);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) joint[i, j] = sigma[i, j];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) { joint[n + i, j] = sigmaCross[i, j]; joint[j, n + i] = sigmaCross[i, j]; }
        for (int i = 0; i < m; i++) for (int j = 0; j < m; j++) joint[n + i, n + j] = sigmaTest[i, j];
        double[,] l = ScalarCholesky(joint);
        var rng = new Random(33);
        var f0 = new Matrix(n, samples);
        var f0t = new Matrix(m, samples);
        var ys = new Matrix(n, samples);
        var z = new double[n + m];
        for (int s = 0; s < samples; s++)
        {
            for (int i = 0; i < n + m; i++) z[i] = NtkFast.Tests.Numerics.LinearAlgebra.LinearAlgebraTestUtil.Gaussian(rng);
            for (int i = 0; i < n + m; i++)
            {
                double v = 0;
                for (int p = 0; p <= i; p++) v += l[i, p] * z[p];
                if (i < n) f0[i, s] = v; else f0t[i - n, s] = v;
            }
            for (int i = 0; i < n; i++) ys[i, s] = y[i, 0];
        }
        Matrix ft = new KernelDynamics(theta, ys).PredictTest(t, thetaCross, f0, f0t);
        for (int i = 0; i < m; i++)
        {
            double mean = 0;
            for (int s = 0; s < samples; s++) mean += ft[i, s];
            mean /= samples;
            double sd = Math.Sqrt(ens.Variance[i]);
            Assert.True(Math.Abs(mean - ens.Mean[i, 0]) <= 5 * sd / Math.Sqrt(samples) + 1e-12, $"mean {i}: MC {mean} vs {ens.Mean[i, 0]}");
            for (int j = 0; j < m; j++)
            {
                double meanJ = 0;
                for (int s = 0; s < samples; s++) meanJ += ft[j, s];
                meanJ /= samples;
                double c = 0;
                for (int s = 0; s < samples; s++) c += (ft[i, s] - mean) * (ft[j, s] - meanJ);
                c /= samples - 1;
                double expected = ens.Covariance![i, j];
                double se = Math.Sqrt((ens.Variance[i] * ens.Variance[j] + expected * expected) / samples);
                Assert.True(Math.Abs(c - expected) <= 5 * se + 1e-12, $"cov({i},{j}): MC {c} vs {expected} (se {se})");
            }
        }
        // The variance-only path agrees with the full covariance's diagonal.
        var diag = new Matrix(m, 1);
        for (int i = 0; i < m; i++) diag[i, 0] = sigmaTest[i, i];
        EnsemblePrediction vOnly = dyn.Ensemble(t, thetaCross, sigma, sigmaCross, diag);
        Assert.Null(vOnly.Covariance);
        for (int i = 0; i < m; i++) Assert.Equal(ens.Variance[i], vOnly.Variance[i], 1e-12);
    }

    [Fact]
    public void EnsembleAtTimeZero_IsThePrior_AtInfinityOnTrainingPointsIsExact()
    {
        int n = 8, m = 4;
        var (theta, thetaCross, _) = Kernel(n, m, 41);
        var (sigma, sigmaCross, sigmaTest) = Kernel(n, m, 41, 0.5, 2.0);
        Matrix y = Random(n, 2, 42);
        var dyn = new KernelDynamics(theta, y);
        EnsemblePrediction e0 = dyn.Ensemble(0, thetaCross, sigma, sigmaCross, sigmaTest);
        for (int i = 0; i < m; i++)
        {
            Assert.Equal(0, e0.Mean[i, 0], 1e-14);
            for (int j = 0; j < m; j++) Assert.Equal(sigmaTest[i, j], e0.Covariance![i, j], 1e-13);
        }
        // On the training points at t = ∞ every member interpolates Y: mean Y, zero variance.
        EnsemblePrediction eInf = dyn.Ensemble(double.PositiveInfinity, theta, sigma, sigma, sigma);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(y[i, 1], eInf.Mean[i, 1], 1e-8);
            Assert.True(eInf.Variance[i] < 1e-8);
        }
    }

    [Fact]
    public void NngpPosterior_MatchesExplicitInverse()
    {
        int n = 12, m = 5;
        var (sigma, cross, test) = Kernel(n, m, 51);
        Matrix y = Random(n, 2, 52);
        EnsemblePrediction p = NngpPosterior.Predict(sigma, cross, test, y);
        Matrix inv = Inverse(sigma);
        for (int i = 0; i < m; i++)
        {
            for (int c = 0; c < 2; c++)
            {
                double mean = 0;
                for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) mean += cross[i, a] * inv[a, b] * y[b, c];
                Assert.Equal(mean, p.Mean[i, c], 1e-7 * (1 + Math.Abs(mean)));
            }
            for (int j = 0; j < m; j++)
            {
                double cov = test[i, j];
                for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) cov -= cross[i, a] * inv[a, b] * cross[j, b];
                Assert.Equal(cov, p.Covariance![i, j], 1e-7);
            }
        }
        // Regularisation = observation noise: the posterior at the training points no longer interpolates.
        EnsemblePrediction noisy = NngpPosterior.Predict(sigma, sigma, sigma, y, Regularization.Absolute(0.1));
        Assert.True(noisy.Variance[0] > 1e-4);
        var singular = new Matrix(3, 3);
        Assert.Throws<SingularKernelException>(() => NngpPosterior.Predict(singular, new Matrix(1, 3), new Matrix(1, 1), new Matrix(3, 1)));
    }
}
