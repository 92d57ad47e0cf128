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

    /// <summary>One log of both reports, in order: the factorisation's fractions and the entries.</summary>
    private sealed class Both
    {
        public List<(bool Factor, double Value)> Log { get; } = [];
        public IProgress<double> Factor => new P<double>(v => Log.Add((true, v)));
        public IProgress<long> Entries => new P<long>(v => Log.Add((false, v)));

        private sealed class P<T>(Action<T> a) : IProgress<T>
        {
            public void Report(T value) => a(value);
        }

        /// <summary>Factor reports first, non-decreasing to 1 (several: N = 300 is 3 blocks of 128 columns, or several eigen stages), then entries only.</summary>
        public void FactorFirst()
        {
            int f = Log.FindLastIndex(e => e.Factor);
            Assert.True(f >= 2, $"{f + 1} factor reports");
            Assert.True(Log.Take(f + 1).All(e => e.Factor));
            Assert.True(Log.Skip(f + 1).Any() && Log.Skip(f + 1).All(e => !e.Factor));
            for (int i = 1; i <= f; i++) Assert.True(Log[i].Value >= Log[i - 1].Value);
            Assert.Equal(1.0, Log[f].Value);
        }
    }

    /// <summary>
    /// The streamed paths report the factorisation of the training block (the O(N³) step, taken with the first block) through
    /// factorProgress, before the first block's entries, and the results are the same bit for bit with it as without.
    /// </summary>
    [Theory]
    [InlineData("ntk-inf")]
    [InlineData("ntk-time")]
    [InlineData("ntk-spread")]
    [InlineData("ntk-cov")]
    [InlineData("nngp")]
    [InlineData("nngp-cov")]
    public void Streamed_ReportTheFactorisationFirst(string path)
    {
        int n = 300, m = 40;
        var (theta, thetaX, _) = Kernel(n, m, 31);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 32, lengthScale: 0.6);
        Matrix y = Random(n, 2, 33);
        var reg = Regularization.Relative(1e-6);
        Matrix diag = new(m, 1);
        for (int i = 0; i < m; i++) diag[i, 0] = sigmaXX[i, i];
        double[] times = path == "ntk-inf" ? [double.PositiveInfinity] : [1.0, double.PositiveInfinity];
        var both = new Both();
        TimePrediction[] Run(Both? b) => path switch
        {
            "ntk-inf" or "ntk-time" => KernelPrediction.Ntk(theta, null, m, (s0, c) => new TestRowBlock(Rows(thetaX, s0, c)), y, times, reg,
                train: true, blockRows: 16, progress: b?.Entries, factorProgress: b?.Factor),
            "ntk-spread" => KernelPrediction.Ntk(theta, sigma, m, (s0, c) => new TestRowBlock(Rows(thetaX, s0, c), Rows(sigmaX, s0, c), Rows(diag, s0, c)),
                y, times, reg, train: true, blockRows: 16, progress: b?.Entries, factorProgress: b?.Factor),
            "ntk-cov" => KernelPrediction.NtkCovariance(theta, sigma, m, (s0, c) => new TestRowBlock(Rows(thetaX, s0, c), Rows(sigmaX, s0, c)),
                (s0, c) => Rows(sigmaXX, s0, c), y, times, reg, train: true, blockRows: 16, progress: b?.Entries, factorProgress: b?.Factor),
            _ => [KernelPrediction.Nngp(sigma, m, (s0, c) => Rows(sigmaX, s0, c), (s0, c) => Rows(diag, s0, c), (s0, c) => Rows(sigmaXX, s0, c), y, reg,
                train: true, covariance: path == "nngp-cov", blockRows: 16, progress: b?.Entries, factorProgress: b?.Factor)],
        };
        TimePrediction[] plain = Run(null), reported = Run(both);
        both.FactorFirst();
        for (int q = 0; q < plain.Length; q++)
        {
            Assert.Equal(plain[q].Mean.Data, reported[q].Mean.Data);
            Assert.Equal(plain[q].Variance, reported[q].Variance);
            Assert.Equal(plain[q].Covariance?.Data, reported[q].Covariance?.Data);
            Assert.Equal(plain[q].Train!.Data, reported[q].Train!.Data);
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
    /// <summary>Collects the rows a sink receives (in order) into full matrices.</summary>
    private sealed class RowsCollector(int times, int m)
    {
        public Matrix[] Full { get; } = Enumerable.Range(0, times).Select(_ => new Matrix(m, m)).ToArray();
        private long _next;

        public void Take(int q, int start, Matrix rows)
        {
            Assert.Equal(_next, (long)q * m + start);
            Assert.Equal(m, rows.Cols);
            rows.Data.CopyTo(Full[q].Data, (long)start * m);
            _next += rows.Rows;
        }

        public long Received => _next;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 9)]
    [InlineData(65, 64)]
    public void CovarianceRows_ArriveInOrder_BitwiseTheHeldMatrix_AndNoneIsHeld(int m, int n)
    {
        var (theta, thetaX, _) = Kernel(n, m, 190 + m);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 195 + n, lengthScale: 0.6, scale: 0.7);
        Matrix y = Random(n, 2, 199);
        double[] times = [0.5, double.PositiveInfinity];
        foreach (int b in (int[])[1, 4, 64])
        {
            TimePrediction[] held = KernelPrediction.NtkCovariance(theta, sigma, m, (s0, c) => new TestRowBlock(Rows(thetaX, s0, c), Rows(sigmaX, s0, c)),
                (s0, c) => Rows(sigmaXX, s0, c), y, times, blockRows: b);
            var got = new RowsCollector(times.Length, m);
            TimePrediction[] sunk = KernelPrediction.NtkCovariance(theta, sigma, m, (s0, c) => new TestRowBlock(Rows(thetaX, s0, c), Rows(sigmaX, s0, c)),
                (s0, c) => Rows(sigmaXX, s0, c), y, times, blockRows: b, covarianceRows: got.Take);
            Assert.Equal(times.Length * (long)m, got.Received);
            for (int q = 0; q < times.Length; q++)
            {
                Assert.Null(sunk[q].Covariance);
                Assert.Equal(held[q].Covariance!.Data, got.Full[q].Data);
                Assert.Equal(held[q].Variance, sunk[q].Variance);
                Assert.Equal(held[q].Mean.Data, sunk[q].Mean.Data);
            }

            TimePrediction nHeld = KernelPrediction.Nngp(sigma, m, (s, c) => Rows(sigmaX, s, c), null, (s, c) => Rows(sigmaXX, s, c), y,
                covariance: true, blockRows: b);
            var nGot = new RowsCollector(1, m);
            TimePrediction nSunk = KernelPrediction.Nngp(sigma, m, (s, c) => Rows(sigmaX, s, c), null, (s, c) => Rows(sigmaXX, s, c), y,
                covariance: true, blockRows: b, covarianceRows: nGot.Take);
            Assert.Null(nSunk.Covariance);
            Assert.Equal(nHeld.Covariance!.Data, nGot.Full[0].Data);
            Assert.Equal(nHeld.Variance, nSunk.Variance);
        }
        Assert.Throws<ArgumentException>(() => KernelPrediction.Nngp(sigma, m, (s, c) => Rows(sigmaX, s, c), null, null, y,
            covarianceRows: (_, _, _) => { }));
    }

    [Fact]
    public void CovarianceRows_AllocateABlockNotTheMatrix()
    {
        // M = 1200: the held covariance alone is 11.5 MB; with a sink the pass holds blocks of 64 rows (0.6 MB). Readers reuse
        // their matrices, so what the call allocates is the library's own.
        const int m = 1200, n = 16, b = 64;
        var (theta, thetaX, _) = Kernel(n, m, 7);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 8, lengthScale: 0.6, scale: 0.7);
        Matrix y = Random(n, 1, 9);
        var blocks = new Dictionary<int, (Matrix T, Matrix S, Matrix XX)>();
        TestRowBlock Read(int s0, int c)
        {
            (Matrix T, Matrix S, Matrix XX) e = Buffers(c);
            thetaX.Data.AsSpan(s0 * n, c * n).CopyTo(e.T.Data);
            sigmaX.Data.AsSpan(s0 * n, c * n).CopyTo(e.S.Data);
            return new TestRowBlock(e.T, e.S);
        }
        Matrix ReadXX(int s0, int c)
        {
            Matrix xx = Buffers(c).XX;
            sigmaXX.Data.AsSpan(s0 * m, c * m).CopyTo(xx.Data);
            return xx;
        }
        (Matrix T, Matrix S, Matrix XX) Buffers(int c)
        {
            if (!blocks.TryGetValue(c, out var e)) blocks[c] = e = (new Matrix(c, n), new Matrix(c, n), new Matrix(c, m));
            return e;
        }
        long sum = 0;
        void Sink(int q, int s0, Matrix rows) => sum += rows.Rows;
        long Measure(CovarianceRowsSink? sink)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            _ = KernelPrediction.NtkCovariance(theta, sigma, m, Read, ReadXX, y, [1.0], blockRows: b, covarianceRows: sink);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        _ = Measure(Sink); // warm-up: the readers' buffers
        long held = Measure(null), sunk = Measure(Sink);
        Assert.True(held > 8L * m * m, $"held {held}");
        Assert.True(sunk < 8L * m * m / 4, $"with a sink {sunk} bytes, the matrix is {8L * m * m}");
    }
}
