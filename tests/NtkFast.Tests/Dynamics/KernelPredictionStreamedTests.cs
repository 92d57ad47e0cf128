using NtkFast.Dynamics;
using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Dynamics;

/// <summary>KernelPrediction.Ntk with the test blocks in row blocks: bit for bit the in-memory overload, cumulative progress.</summary>
public class KernelPredictionStreamedTests
{
    private static Matrix Rows(Matrix a, int start, int count) => new(count, a.Cols, a.Data.AsSpan(start * a.Cols, count * a.Cols).ToArray());

    private sealed class Recorder : IProgress<long>
    {
        public List<long> Values { get; } = [];
        public void Report(long value) => Values.Add(value);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 9)]
    [InlineData(65, 64)]
    [InlineData(65, 1)]
    [InlineData(1, 64)]
    public void Streamed_IsBitwiseInMemory(int m, int n)
    {
        var (theta, thetaX, _) = Kernel(n, m, 60 + m);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 70 + n, lengthScale: 0.6, scale: 0.7);
        Matrix y = Random(n, 3, 80);
        double[] times = [0, 0.5, double.PositiveInfinity];
        var diag = new Matrix(m, 1);
        for (int i = 0; i < m; i++) diag[i, 0] = sigmaXX[i, i];
        TimePrediction[] plain = KernelPrediction.Ntk(new PredictionKernels(theta, thetaX), y, times, train: true);
        TimePrediction[] spread = KernelPrediction.Ntk(new PredictionKernels(theta, thetaX, sigma, sigmaX, sigmaXX), y, times);
        foreach (int b in (int[])[1, 4, 64, 256])
        {
            var rec = new Recorder();
            TimePrediction[] sp = KernelPrediction.Ntk(theta, null, m, (s, c) => new TestRowBlock(Rows(thetaX, s, c)), y, times, train: true, blockRows: b, progress: rec);
            TimePrediction[] ss = KernelPrediction.Ntk(theta, sigma, m, (s, c) => new TestRowBlock(Rows(thetaX, s, c), Rows(sigmaX, s, c), Rows(diag, s, c)), y, times, blockRows: b);
            for (int q = 0; q < times.Length; q++)
            {
                Assert.Equal(plain[q].Mean.Data, sp[q].Mean.Data);
                Assert.Equal(plain[q].Train!.Data, sp[q].Train!.Data);
                Assert.Null(sp[q].Variance);
                Assert.Equal(spread[q].Mean.Data, ss[q].Mean.Data);
                Assert.Equal(spread[q].Variance, ss[q].Variance);
                Assert.Null(ss[q].Covariance);
            }
            Assert.Equal((long)m * n, rec.Values[^1]);
            Assert.Equal((m + b - 1) / b, rec.Values.Count);
        }
    }

    [Fact]
    public void Streamed_BadBlock_Throws()
    {
        var (theta, thetaX, _) = Kernel(5, 4, 1);
        Matrix y = Random(5, 1, 2);
        Assert.Throws<ArgumentException>(() => KernelPrediction.Ntk(theta, null, 4, (s, c) => new TestRowBlock(new Matrix(c, 4)), y, [1.0], blockRows: 2));
        Assert.Throws<ArgumentException>(() => KernelPrediction.Ntk(theta, null, 4, (s, c) =>
        {
            Matrix r = Rows(thetaX, s, c);
            if (s > 0) r[0, 0] = double.NaN;
            return new TestRowBlock(r);
        }, y, [1.0], blockRows: 2));
    }
}
