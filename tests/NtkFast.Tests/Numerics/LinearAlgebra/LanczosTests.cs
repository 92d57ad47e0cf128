using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Numerics.LinearAlgebra.LinearAlgebraTestUtil;

namespace NtkFast.Tests.Numerics.LinearAlgebra;

public class LanczosTests
{
    /// <summary>An RBF kernel Gram matrix on random points: the spectrum kernel PCA sees.</summary>
    private static Matrix RbfGram(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n * 3];
        for (int i = 0; i < x.Length; i++) x[i] = Gaussian(rng);
        var k = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double d = 0;
                for (int p = 0; p < 3; p++) d += (x[i * 3 + p] - x[j * 3 + p]) * (x[i * 3 + p] - x[j * 3 + p]);
                k[i, j] = Math.Exp(-0.5 * d);
            }
        return k;
    }

    [Theory]
    [InlineData(300, 1)]
    [InlineData(300, 8)]
    [InlineData(401, 20)]
    public void TopK_MatchesDenseEigensolver(int n, int k)
    {
        Matrix a = RbfGram(n, n + k);
        EigenDecomposition dense = SymmetricEigen.Decompose(a);
        var values = new double[k];
        var vectors = new double[n * k];
        var ws = new double[Lanczos.GetWorkspaceLength(n, n)];
        int steps = Lanczos.Run(n, a.Data, n, k, 0, values, vectors, Span<double>.Empty, 1e-10, n, ws);
        Assert.True(steps < n, "should converge before the full basis");
        var v = new Matrix(n, k, vectors);
        double lmax = dense.Values[n - 1];
        for (int c = 0; c < k; c++)
        {
            Assert.True(Math.Abs(dense.Values[n - 1 - c] - values[c]) <= 1e-10 * lmax, $"λ{c}: {values[c]} vs {dense.Values[n - 1 - c]}");
            Assert.True(values[c] <= dense.Values[n - 1 - c] + 1e-12 * lmax); // Ritz values interlace from below
        }
        Assert.True(EigenResidual(a, values, v) <= 1e-9);
        Assert.True(OrthogonalityError(v) <= 1e-10);
    }

    [Fact]
    public void TopEigenpairs_Convenience_SmallUsesDense_LargeUsesLanczos()
    {
        Matrix a = RbfGram(120, 3);
        EigenDecomposition top = Lanczos.TopEigenpairs(a, 5);
        EigenDecomposition dense = SymmetricEigen.Decompose(a);
        for (int c = 0; c < 5; c++) Assert.Equal(dense.Values[119 - c], top.Values[c], 1e-12);
        Matrix b = RbfGram(520, 4);
        EigenDecomposition topB = Lanczos.TopEigenpairs(b, 6);
        Assert.True(EigenResidual(b, topB.Values, topB.Vectors) <= 1e-9);
        double[] all = SymmetricEigen.Eigenvalues(b);
        for (int c = 0; c < 6; c++) Assert.Equal(all[519 - c], topB.Values[c], 1e-9 * all[519]);
    }

    [Fact]
    public void Breakdown_LowRankAndIdentity()
    {
        // Rank-3 matrix: the Krylov space is exhausted after 3–4 steps; restarts must still give
        // the exact top eigenvalues and zeros after them.
        int n = 50;
        var lambda = new double[n];
        lambda[0] = 5; lambda[1] = 3; lambda[2] = 1;
        Matrix a = WithSpectrum(RandomOrthogonal(n, 8), lambda);
        var vals = new double[5];
        var vecs = new double[n * 5];
        var ws = new double[Lanczos.GetWorkspaceLength(n, n)];
        Lanczos.Run(n, a.Data, n, 5, 0, vals, vecs, Span<double>.Empty, 1e-12, n, ws);
        Assert.Equal(5.0, vals[0], 1e-12);
        Assert.Equal(3.0, vals[1], 1e-12);
        Assert.Equal(1.0, vals[2], 1e-12);
        Assert.Equal(0.0, vals[3], 1e-12);
        Assert.True(OrthogonalityError(new Matrix(n, 5, vecs)) <= 1e-10);

        var id = new Matrix(30, 30);
        for (int i = 0; i < 30; i++) id[i, i] = 2;
        Assert.Equal(2.0, OperatorNorm.LargestEigenvalue(id), 1e-14);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(90)]
    public void OperatorNorm_AgreesWithDenseEigensolver(int n)
    {
        Matrix spd = RandomSpd(n, 50 + n);
        double[] ev = SymmetricEigen.Eigenvalues(spd);
        Assert.Equal(ev[n - 1], OperatorNorm.LargestEigenvalue(spd), 1e-10 * ev[n - 1]);
        Assert.Equal(ev[n - 1] / n, OperatorNorm.Kernel(spd), 1e-10 * ev[n - 1] / n);

        // Indefinite (a difference of two kernels): the norm is max |λ|.
        Matrix other = RandomSpd(n, 70 + n, shift: 1.5);
        var diff = new Matrix(n, n);
        for (int i = 0; i < n * n; i++) diff.Data[i] = spd.Data[i] - other.Data[i];
        double[] ed = SymmetricEigen.Eigenvalues(diff);
        double expect = Math.Max(Math.Abs(ed[0]), Math.Abs(ed[n - 1]));
        Assert.Equal(expect, OperatorNorm.SymmetricNorm(diff), 1e-10 * expect);
    }

    [Fact]
    public void OperatorNorm_OfKernelWithTinyEigenvalueCluster_ConvergesOnTheTop()
    {
        // A smooth kernel's spectrum ends in a cluster of ~0 eigenvalues; max|λ| must not wait for it.
        Matrix a = RbfGram(500, 9);
        double[] ev = SymmetricEigen.Eigenvalues(a);
        Assert.Equal(ev[499], OperatorNorm.SymmetricNorm(a), 1e-10 * ev[499]);
        Assert.Equal(ev[499] / 500, OperatorNorm.Kernel(a), 1e-10 * ev[499] / 500);
        var neg = new Matrix(500, 500);
        for (int i = 0; i < neg.Data.Length; i++) neg.Data[i] = -a.Data[i];
        Assert.Equal(ev[499], OperatorNorm.SymmetricNorm(neg), 1e-10 * ev[499]);
    }

    [Fact]
    public void Kernel_WithOutputs_DividesByPoints()
    {
        Matrix a = RandomSpd(12, 3);
        double lmax = SymmetricEigen.Eigenvalues(a)[11];
        Assert.Equal(lmax / 4, OperatorNorm.Kernel(a, outputs: 3), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => OperatorNorm.Kernel(a, outputs: 5));
    }

    [Fact]
    public void ThreadCountDoesNotChangeResult()
    {
        Matrix a = RbfGram(400, 1);
        int saved = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = 1;
            EigenDecomposition e1 = Lanczos.TopEigenpairs(a, 4);
            NtkParallel.MaxThreads = 2;
            EigenDecomposition e2 = Lanczos.TopEigenpairs(a, 4);
            Assert.Equal(e1.Values, e2.Values);
            Assert.Equal(e1.Vectors.Data, e2.Vectors.Data);
        }
        finally { NtkParallel.MaxThreads = saved; }
    }
}
