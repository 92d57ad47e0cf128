using NtkFast.Dynamics;
using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Dynamics;

/// <summary>
/// KernelPrediction.NtkCovariance and the streamed KernelPrediction.Nngp: full M×M covariances and the NNGP posterior with the
/// test blocks read a block at a time (intermediates spilled to a temporary file) are bit for bit the in-memory overloads,
/// at awkward sizes and block sizes that do not divide M; progress is cumulative and ends at the total work.
/// </summary>
public class KernelPredictionCovarianceStreamedTests
{
    private static Matrix Rows(Matrix a, int start, int count) => new(count, a.Cols, a.Data.AsSpan(start * a.Cols, count * a.Cols).ToArray());

    private sealed class Recorder : IProgress<long>
    {
        public List<long> Values { get; } = [];
        public void Report(long value) => Values.Add(value);
    }

    public static TheoryData<int, int> Sizes()
    {
        var d = new TheoryData<int, int>();
        foreach (int m in (int[])[1, 7, 65])
            foreach (int n in (int[])[1, 9, 64])
                d.Add(m, n);
        return d;
    }

    private static void Monotone(Recorder rec, long total)
    {
        for (int i = 1; i < rec.Values.Count; i++) Assert.True(rec.Values[i] > rec.Values[i - 1]);
        Assert.Equal(total, rec.Values[^1]);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void NtkCovariance_IsBitwiseInMemory(int m, int n)
    {
        var (theta, thetaX, _) = Kernel(n, m, 90 + m);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 95 + n, lengthScale: 0.6, scale: 0.7);
        Matrix y = Random(n, 2, 99);
        double[] times = [0.5, double.PositiveInfinity];
        var reg = Regularization.Relative(1e-9);
        TimePrediction[] mem = KernelPrediction.Ntk(new PredictionKernels(theta, thetaX, sigma, sigmaX, sigmaXX), y, times, reg, train: true, covariance: true);
        foreach (int b in (int[])[1, 4, 64, 256])
        {
            var rec = new Recorder();
            TimePrediction[] s = KernelPrediction.NtkCovariance(theta, sigma, m, (s0, c) => new TestRowBlock(Rows(thetaX, s0, c), Rows(sigmaX, s0, c)),
                (s0, c) => Rows(sigmaXX, s0, c), y, times, reg, train: true, blockRows: b, progress: rec);
            for (int q = 0; q < times.Length; q++)
            {
                Assert.Equal(mem[q].Mean.Data, s[q].Mean.Data);
                Assert.Equal(mem[q].Variance, s[q].Variance);
                Assert.Equal(mem[q].Covariance!.Data, s[q].Covariance!.Data);
                Assert.Equal(mem[q].Train!.Data, s[q].Train!.Data);
            }
            Monotone(rec, KernelPrediction.NtkCovarianceWork(m, n, times.Length));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Nngp_IsBitwiseInMemory(int m, int n)
    {
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 120 + n + m, lengthScale: 0.8);
        Matrix y = Random(n, 3, 121);
        var reg = Regularization.Absolute(1e-6);
        var diag = new Matrix(m, 1);
        for (int i = 0; i < m; i++) diag[i, 0] = sigmaXX[i, i];
        TimePrediction meanOnly = KernelPrediction.Nngp(new PredictionKernels(null, null, sigma, sigmaX), y, reg, train: true);
        TimePrediction variances = KernelPrediction.Nngp(new PredictionKernels(null, null, sigma, sigmaX, diag), y, reg);
        TimePrediction full = KernelPrediction.Nngp(new PredictionKernels(null, null, sigma, sigmaX, sigmaXX), y, reg, covariance: true);
        foreach (int b in (int[])[1, 4, 64, 256])
        {
            var rec = new Recorder();
            TimePrediction s0 = KernelPrediction.Nngp(sigma, m, (s, c) => Rows(sigmaX, s, c), null, null, y, reg, train: true, blockRows: b);
            TimePrediction s1 = KernelPrediction.Nngp(sigma, m, (s, c) => Rows(sigmaX, s, c), (s, c) => Rows(diag, s, c), null, y, reg, blockRows: b);
            TimePrediction s2 = KernelPrediction.Nngp(sigma, m, (s, c) => Rows(sigmaX, s, c), null, (s, c) => Rows(sigmaXX, s, c), y, reg,
                covariance: true, blockRows: b, progress: rec);
            Assert.Equal(meanOnly.Mean.Data, s0.Mean.Data);
            Assert.Equal(meanOnly.Train!.Data, s0.Train!.Data);
            Assert.Null(s0.Variance);
            Assert.Equal(variances.Mean.Data, s1.Mean.Data);
            Assert.Equal(variances.Variance, s1.Variance);
            Assert.Null(s1.Covariance);
            Assert.Equal(full.Mean.Data, s2.Mean.Data);
            Assert.Equal(full.Variance, s2.Variance);
            Assert.Equal(full.Covariance!.Data, s2.Covariance!.Data);
            Monotone(rec, KernelPrediction.NngpWork(m, n, covariance: true));
        }
    }

    [Fact]
    public void Streamed_NonFiniteRows_Throw_AndLeaveNoSpillFile()
    {
        var (theta, thetaX, _) = Kernel(5, 6, 3);
        var (sigma, sigmaX, sigmaXX) = Kernel(5, 6, 4, lengthScale: 0.6);
        Matrix y = Random(5, 1, 5);
        string dir = Directory.CreateTempSubdirectory("ntk-spill-").FullName;
        try
        {
            Matrix badXX = MatrixProducts.Copy(sigmaXX);
            badXX[4, 1] = double.NaN;
            Assert.Throws<ArgumentException>(() => KernelPrediction.NtkCovariance(theta, sigma, 6, (s, c) => new TestRowBlock(Rows(thetaX, s, c), Rows(sigmaX, s, c)),
                (s, c) => Rows(badXX, s, c), y, [1.0], blockRows: 4, scratchDirectory: dir));
            Assert.Throws<ArgumentException>(() => KernelPrediction.Nngp(sigma, 6, (s, c) => Rows(sigmaX, s, c), null, (s, c) => Rows(badXX, s, c), y,
                covariance: true, blockRows: 4, scratchDirectory: dir));
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
