using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Numerics.LinearAlgebra.LinearAlgebraTestUtil;

namespace NtkFast.Tests.Numerics.LinearAlgebra;

public class SymmetricEigenTests
{
    public static TheoryData<int> Sizes => [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129, 193, 226, 257, 600];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RandomSpd_ResidualAndOrthogonality(int n)
    {
        Matrix a = RandomSpd(n, 1000 + n);
        EigenDecomposition e = SymmetricEigen.Decompose(a);
        for (int i = 1; i < n; i++) Assert.True(e.Values[i - 1] <= e.Values[i]);
        Assert.True(EigenResidual(a, e.Values, e.Vectors) <= 1e-10 / Math.Sqrt(n) , $"residual {EigenResidual(a, e.Values, e.Vectors):E3}");
        Assert.True(OrthogonalityError(e.Vectors) <= 1e-10, $"orthogonality {OrthogonalityError(e.Vectors):E3}");
        double[] only = SymmetricEigen.Eigenvalues(a);
        double scale = Math.Abs(e.Values[n - 1]);
        for (int i = 0; i < n; i++) Assert.Equal(e.Values[i], only[i], 1e-12 * Math.Max(1, scale));
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; would post them to a context).</summary>
    private sealed class Recorder : IProgress<double>
    {
        public List<double> Values { get; } = [];
        public void Report(double value) => Values.Add(value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(193)]
    [InlineData(600)]
    public void Progress_IsMonotoneFromInsideTheStages_EndsAtOne_AndChangesNoBit(int n)
    {
        Matrix a = RandomSpd(n, 3000 + n);
        EigenDecomposition plain = SymmetricEigen.Decompose(a);
        var rec = new Recorder();
        EigenDecomposition reported = SymmetricEigen.Decompose(a, rec);
        Assert.Equal(plain.Values, reported.Values);
        Assert.Equal(plain.Vectors.Data, reported.Vectors.Data);
        Assert.NotEmpty(rec.Values);
        for (int i = 1; i < rec.Values.Count; i++) Assert.True(rec.Values[i] >= rec.Values[i - 1], string.Join(", ", rec.Values));
        Assert.All(rec.Values, v => Assert.InRange(v, 0.0, 1.0));
        Assert.Equal(1.0, rec.Values[^1]);
        // 600 = 13 panels of the blocked reduction and 19 blocks of the back-transformation: many reports strictly inside (0, 1).
        if (n == 600) Assert.True(rec.Values.Count(v => v > 0 && v < 1) >= 20, string.Join(", ", rec.Values));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(40)]
    [InlineData(97)]
    public void KnownSpectrum_IsRecovered(int n)
    {
        var lambda = new double[n];
        for (int i = 0; i < n; i++) lambda[i] = Math.Pow(-1, i) * (1 + i * 0.37);
        Matrix a = WithSpectrum(RandomOrthogonal(n, n), lambda);
        double[] sorted = (double[])lambda.Clone();
        Array.Sort(sorted);
        EigenDecomposition e = SymmetricEigen.Decompose(a);
        for (int i = 0; i < n; i++) Assert.Equal(sorted[i], e.Values[i], 1e-11 * n);
        Assert.True(EigenResidual(a, e.Values, e.Vectors) <= 1e-12 * n);
    }

    [Fact]
    public void RepeatedAndZeroEigenvalues()
    {
        int n = 60;
        var lambda = new double[n];
        for (int i = 0; i < n; i++) lambda[i] = i < 20 ? 0 : i < 45 ? 2.5 : 7; // multiplicities 20, 25, 15
        Matrix a = WithSpectrum(RandomOrthogonal(n, 4), lambda);
        EigenDecomposition e = SymmetricEigen.Decompose(a);
        for (int i = 0; i < n; i++) Assert.Equal(lambda[i], e.Values[i], 1e-12);
        Assert.True(EigenResidual(a, e.Values, e.Vectors) <= 1e-13);
        Assert.True(OrthogonalityError(e.Vectors) <= 1e-12);
    }

    [Theory]
    [InlineData(101)]
    [InlineData(257)]
    public void WilkinsonMatrix_NearlyEqualPairs_StayOrthogonal(int n)
    {
        // W⁺: d_i = |m − i|, off-diagonal 1 — pairs of eigenvalues equal to many digits, the
        // classic stress test for divide and conquer's deflation and Gu–Eisenstat vectors.
        int m = n / 2;
        var a = new Matrix(n, n);
        for (int i = 0; i < n; i++)
        {
            a[i, i] = Math.Abs(m - i);
            if (i + 1 < n) { a[i, i + 1] = 1; a[i + 1, i] = 1; }
        }
        EigenDecomposition e = SymmetricEigen.Decompose(a);
        Assert.True(EigenResidual(a, e.Values, e.Vectors) <= 1e-14 * n, $"residual {EigenResidual(a, e.Values, e.Vectors):E3}");
        Assert.True(OrthogonalityError(e.Vectors) <= 1e-12, $"orthogonality {OrthogonalityError(e.Vectors):E3}");
        double[] values = SymmetricEigen.Eigenvalues(a); // QL path
        for (int i = 0; i < n; i++) Assert.Equal(values[i], e.Values[i], 1e-12 * m);
    }

    [Fact]
    public void GeometricSpectrum_LikeAKernel()
    {
        int n = 200;
        var lambda = new double[n];
        for (int i = 0; i < n; i++) lambda[i] = Math.Pow(10, -14.0 * i / n);
        Matrix a = WithSpectrum(RandomOrthogonal(n, 12), lambda);
        EigenDecomposition e = SymmetricEigen.Decompose(a);
        Assert.True(EigenResidual(a, e.Values, e.Vectors) <= 1e-14);
        Assert.True(OrthogonalityError(e.Vectors) <= 1e-12);
        Array.Sort(lambda);
        for (int i = 0; i < n; i++) Assert.Equal(lambda[i], e.Values[i], 1e-14);
    }

    [Fact]
    public void IdentityDiagonalAndZeroMatrices()
    {
        foreach (int n in new[] { 1, 6, 33 })
        {
            var id = new Matrix(n, n);
            for (int i = 0; i < n; i++) id[i, i] = 1;
            EigenDecomposition e = SymmetricEigen.Decompose(id);
            Assert.All(e.Values, v => Assert.Equal(1.0, v));
            Assert.True(OrthogonalityError(e.Vectors) <= 1e-15);

            var diag = new Matrix(n, n);
            for (int i = 0; i < n; i++) diag[i, i] = n - i;
            e = SymmetricEigen.Decompose(diag);
            for (int i = 0; i < n; i++) Assert.Equal(i + 1.0, e.Values[i]);

            e = SymmetricEigen.Decompose(new Matrix(n, n));
            Assert.All(e.Values, v => Assert.Equal(0.0, v));
            Assert.True(OrthogonalityError(e.Vectors) <= 1e-15);
        }
    }

    [Fact]
    public void TwoByTwo_ClosedForm()
    {
        var a = Matrix.FromArray(new double[,] { { 2, 1 }, { 1, 2 } });
        EigenDecomposition e = SymmetricEigen.Decompose(a);
        Assert.Equal(1.0, e.Values[0], 1e-15);
        Assert.Equal(3.0, e.Values[1], 1e-15);
        Assert.Equal(1 / Math.Sqrt(2), Math.Abs(e.Vectors[0, 1]), 1e-15);
    }

    [Fact]
    public void ReadsOnlyLowerTriangle()
    {
        Matrix a = RandomSpd(20, 3);
        var lower = new Matrix(20, 20);
        for (int i = 0; i < 20; i++) for (int j = 0; j <= i; j++) lower[i, j] = a[i, j];
        for (int i = 0; i < 20; i++) for (int j = i + 1; j < 20; j++) lower[i, j] = 999;
        Assert.Equal(SymmetricEigen.Eigenvalues(a), SymmetricEigen.Eigenvalues(lower));
    }

    [Fact]
    public void ResultDoesNotDependOnThreadCount()
    {
        // 700 > 512: the per-column passes of the tridiagonalisation and the D&C GEMMs run in parallel.
        Matrix a = RandomSpd(700, 9);
        int saved = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = 1;
            EigenDecomposition e1 = SymmetricEigen.Decompose(a);
            NtkParallel.MaxThreads = 3;
            EigenDecomposition e3 = SymmetricEigen.Decompose(a);
            Assert.Equal(e1.Values, e3.Values);
            Assert.Equal(e1.Vectors.Data, e3.Vectors.Data);
        }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [Fact]
    public void WorkspacePath_AllocatesNothing_OnOneThread()
    {
        // Parallel loops allocate their dispatch closures; the arithmetic itself allocates nothing.
        int saved = NtkParallel.MaxThreads;
        NtkParallel.MaxThreads = 1;
        try { AllocationCheck(); }
        finally { NtkParallel.MaxThreads = saved; }
    }

    private static void AllocationCheck()
    {
        int n = 50;
        Matrix a = RandomSpd(n, 1);
        var copy = new double[n * n];
        var values = new double[n];
        var vectors = new double[n * n];
        var ws = new double[SymmetricEigen.GetWorkspaceLength(n, true)];
        Assert.Equal(0, Allocations.PerCall(() =>
        {
            a.Data.CopyTo(copy, 0);
            SymmetricEigen.Decompose(n, copy, n, values, vectors, n, ws);
        }));
    }

    [Fact]
    public void BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(new Matrix(3, 2)));
        var nan = new Matrix(2, 2);
        nan[1, 0] = double.NaN;
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(nan));
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(3, new double[9], 3, new double[3], new double[9], 3, new double[5]));
    }
}
