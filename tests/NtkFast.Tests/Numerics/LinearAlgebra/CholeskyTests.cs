using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Numerics.LinearAlgebra.LinearAlgebraTestUtil;

namespace NtkFast.Tests.Numerics.LinearAlgebra;

[Collection(SerialNumericsCollection.Name)]
public class CholeskyTests
{
    public static TheoryData<int> Sizes => [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 130, 200, 257, 300, 600];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Factor_ReconstructsMatrix(int n)
    {
        Matrix a = RandomSpd(n, 100 + n);
        Matrix l = Cholesky.Factor(a);
        for (int i = 0; i < n; i++)
        {
            Assert.True(l[i, i] > 0);
            for (int j = i + 1; j < n; j++) Assert.Equal(0.0, l[i, j]);
        }
        Matrix llt = Multiply(l, l, transposeB: true);
        double err = 0;
        for (int i = 0; i < n * n; i++) err = Math.Max(err, Math.Abs(llt.Data[i] - a.Data[i]));
        Assert.True(err <= 1e-12 * Math.Max(1, n), $"n={n}: max |LLᵀ − A| = {err:E3}");
    }

    private sealed class Recorder : IProgress<double>
    {
        public List<double> Values { get; } = [];
        public void Report(double value) => Values.Add(value);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(128, 1)]
    [InlineData(129, 2)]
    [InlineData(600, 5)]
    public void Factor_ReportsIncreasingFractionsPerBlock_EndingAtOne_FactorUnchanged(int n, int reports)
    {
        Matrix a = RandomSpd(n, 300 + n);
        var rec = new Recorder();
        Matrix withProgress = Cholesky.Factor(a, default, rec);
        Assert.Equal(Cholesky.Factor(a).Data, withProgress.Data);
        Assert.Equal(reports, rec.Values.Count);
        for (int i = 1; i < rec.Values.Count; i++) Assert.True(rec.Values[i] > rec.Values[i - 1]);
        if (reports > 0)
        {
            Assert.Equal(1.0, rec.Values[^1], 15);
            Assert.True(rec.Values[0] > 0);
        }
        if (n == 600) Assert.Equal(3 * (128.0 / 600) * (128.0 / 600) - 2 * Math.Pow(128.0 / 600, 3), rec.Values[0], 12); // 3r² − 2r³ of the columns done
    }

    [Fact]
    public void Factor_LeavesStrictUpperTriangleUntouched_AndHonoursLeadingDimension()
    {
        int n = 150, lda = 161;
        Matrix a = RandomSpd(n, 7);
        var buf = new double[(n - 1) * lda + n + 5];
        Array.Fill(buf, 123.0);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) buf[i * lda + j] = a[i, j];
        Cholesky.Factor(n, buf, lda);
        Matrix l = Cholesky.Factor(a);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < lda && i * lda + j < buf.Length; j++)
            {
                if (j < n && j <= i) Assert.Equal(l[i, j], buf[i * lda + j], 1e-13);
                else Assert.Equal(123.0, buf[i * lda + j]);
            }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 3)]
    [InlineData(130, 5)]
    [InlineData(257, 64)]
    public void Solve_MatchesResidual(int n, int nrhs)
    {
        Matrix a = RandomSpd(n, 3 * n + nrhs);
        var rng = new Random(n);
        var b = new Matrix(n, nrhs);
        for (int i = 0; i < b.Data.Length; i++) b.Data[i] = Gaussian(rng);
        Matrix x = Cholesky.Solve(Cholesky.Factor(a), b);
        Matrix ax = Multiply(a, x);
        double err = 0, nb = FrobeniusNorm(b);
        for (int i = 0; i < ax.Data.Length; i++) err += (ax.Data[i] - b.Data[i]) * (ax.Data[i] - b.Data[i]);
        Assert.True(Math.Sqrt(err) <= 1e-11 * nb, $"‖AX − B‖ = {Math.Sqrt(err):E3}");
    }

    [Fact]
    public void TriangularSolves_MatchSubstitutionReference()
    {
        int n = 70, r = 3;
        Matrix l = Cholesky.Factor(RandomSpd(n, 5));
        var rng = new Random(1);
        var b = new double[n * r];
        for (int i = 0; i < b.Length; i++) b[i] = Gaussian(rng);
        var x = (double[])b.Clone();
        Triangular.SolveLower(n, r, l.Data, n, x, r);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < r; c++)
            {
                double s = 0;
                for (int p = 0; p <= i; p++) s += l[i, p] * x[p * r + c];
                Assert.Equal(b[i * r + c], s, 1e-11);
            }
        var y = (double[])b.Clone();
        Triangular.SolveLowerTransposed(n, r, l.Data, n, y, r);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < r; c++)
            {
                double s = 0;
                for (int p = i; p < n; p++) s += l[p, i] * y[p * r + c];
                Assert.Equal(b[i * r + c], s, 1e-11);
            }
    }

    [Fact]
    public void NotPositiveDefinite_ReportsFailingPivot()
    {
        // Leading 4×4 block is PD; row 4 duplicates row 2 → zero (or slightly negative) pivot at 4,
        // then make it clearly negative.
        Matrix a = RandomSpd(9, 11);
        for (int j = 0; j < 9; j++) { a[4, j] = a[2, j]; a[j, 4] = a[j, 2]; }
        a[4, 4] = a[2, 2] - 0.25;
        var ex = Assert.Throws<NotPositiveDefiniteException>(() => Cholesky.Factor(a));
        Assert.Equal(4, ex.Pivot);
        Assert.True(ex.PivotValue < 0);
        Assert.Contains("pivot 4", ex.Message);

        var bad = new Matrix(3, 3);
        bad[0, 0] = -1;
        Assert.Equal(0, Assert.Throws<NotPositiveDefiniteException>(() => Cholesky.Factor(bad)).Pivot);
        var nan = Matrix.FromArray(new double[,] { { 1, 0 }, { 0, double.NaN } });
        Assert.Equal(1, Assert.Throws<NotPositiveDefiniteException>(() => Cholesky.Factor(nan)).Pivot);
    }

    [Fact]
    public void Regularization_MakesSingularMatrixFactorable()
    {
        int n = 40;
        Matrix a = RandomSpd(n, 2, shift: 0, rank: 10); // rank 10: singular
        Assert.Throws<NotPositiveDefiniteException>(() => Cholesky.Factor(a));
        Matrix l = Cholesky.Factor(a, Regularization.Relative(1e-6));
        double mean = 0;
        for (int i = 0; i < n; i++) mean += a[i, i];
        mean /= n;
        Matrix llt = Multiply(l, l, transposeB: true);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(a[i, j] + (i == j ? 1e-6 * mean : 0), llt[i, j], 1e-12);
        Matrix l2 = Cholesky.Factor(a, Regularization.Absolute(0.5));
        Assert.Equal(Math.Sqrt(a[0, 0] + 0.5), l2[0, 0], 1e-14);
        Assert.Throws<ArgumentOutOfRangeException>(() => Regularization.Absolute(-1));
    }

    [Fact]
    public void BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => Cholesky.Factor(new Matrix(2, 3)));
        Assert.Throws<ArgumentException>(() => Cholesky.Factor(3, new double[8], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cholesky.Factor(3, new double[9], 2));
        Assert.Throws<ArgumentException>(() => Cholesky.Solve(Cholesky.Factor(RandomSpd(3, 1)), new Matrix(4, 1)));
    }

    /// <summary>
    /// The panel's triangular solve is split among threads in chunks of 256 rows (and the GEMMs run on every
    /// thread): 1, 2, 3 and 5 threads give the same bits, with a leading dimension wider than n. 777 and 1100
    /// have panels of 1–4 chunks with a ragged last one.
    /// </summary>
    [Theory]
    [InlineData(300)]
    [InlineData(777)]
    [InlineData(1100)]
    public void ResultDoesNotDependOnThreadCount(int n)
    {
        Matrix a = RandomSpd(n, 9);
        int lda = n + 3;
        double[] Run(int threads)
        {
            var buf = new double[n * lda];
            for (int i = 0; i < n; i++) a.Row(i).CopyTo(buf.AsSpan(i * lda, n));
            int saved = NtkParallel.MaxThreads;
            try
            {
                NtkParallel.MaxThreads = threads;
                Cholesky.Factor(n, buf, lda);
            }
            finally { NtkParallel.MaxThreads = saved; }
            return buf;
        }
        double[] l1 = Run(1);
        Assert.Equal(l1, Run(2));
        Assert.Equal(l1, Run(3));
        Assert.Equal(l1, Run(5));
    }

    /// <summary>The span API allocates nothing, on one thread or many (the parallel panel runs a struct action).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Factor_allocates_nothing(int threads)
    {
        const int n = 700;
        Matrix a = RandomSpd(n, 4);
        var w = new double[n * n];
        int saved = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = threads;
            Assert.Equal(0, Allocations.PerCall(() =>
            {
                a.Data.CopyTo(w, 0);
                Cholesky.Factor(n, w, n);
            }));
        }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [Fact]
    public void LogDeterminantAndCondition()
    {
        var a = Matrix.FromArray(new double[,] { { 4, 2 }, { 2, 5 } });
        Matrix l = Cholesky.Factor(a);
        Assert.Equal(Math.Log(16), Cholesky.LogDeterminant(2, l.Data, 2), 1e-14);
        Assert.True(Cholesky.ConditionLowerBound(2, l.Data, 2) >= 1);
    }
}
