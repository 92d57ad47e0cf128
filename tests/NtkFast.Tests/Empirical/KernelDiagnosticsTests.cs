using NtkFast.Activations;
using NtkFast.Empirical;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Empirical;

public class KernelDiagnosticsTests
{
    private static Matrix RandomPsd(int n, int seed)
    {
        double[] a = EmpiricalKernelTests.Random(n * (n + 2), seed);
        var g = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < n + 2; t++) s += a[i * (n + 2) + t] * a[j * (n + 2) + t];
                g[i, j] = s;
            }
        return g;
    }

    /// <summary>‖K‖_op and ‖A − B‖_op (Lanczos) = the dense symmetric eigensolver's extreme eigenvalues / N.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(17)]
    [InlineData(65)]
    public void OperatorNormsMatchDenseEigensolver(int n)
    {
        Matrix a = RandomPsd(n, n), b = RandomPsd(n, n + 1000);
        double[] ea = SymmetricEigen.Eigenvalues(a);
        Assert.Equal(ea.Max() / n, KernelDiagnostics.OperatorNormOf(a, n), 1e-9 * ea.Max() / n);
        var d = new Matrix(n, n);
        for (int i = 0; i < d.Data.Length; i++) d.Data[i] = a.Data[i] - b.Data[i];
        double[] ed = SymmetricEigen.Eigenvalues(d);
        double expected = Math.Max(Math.Abs(ed.Min()), Math.Abs(ed.Max())) / n;
        Assert.Equal(expected, KernelDiagnostics.DifferenceOperatorNorm(a, b, n), 1e-9 * expected);
    }

    [Fact]
    public void FullKernelComparedWithKroneckerIdentity()
    {
        var arch = new MlpArchitecture([4, 64, 3], ActivationRegistry.Parse("relu"), beta: 0.1);
        var net = Mlp<double>.Initialize(arch, 2);
        var x = new Matrix(5, 4, EmpiricalKernelTests.Random(20, 5));
        Matrix theta = InfiniteWidth.Compute(new KernelSpec(2, arch.Activation, 0.1), x).Ntk!;
        EmpiricalKernelResult full = EmpiricalKernel.Compute<double>(net, x, null, EmpiricalOutputs.Full);
        Matrix g = KernelDiagnostics.FullToGram(full.Ntk, 5, 3);
        Matrix ti = KernelDiagnostics.KroneckerIdentity(theta, 3);
        KernelComparison c = KernelDiagnostics.Compare(full, theta);
        Assert.Equal(KernelDiagnostics.RelativeFrobenius(g.Data, ti.Data), c.RelativeFrobenius);
        double[] eg = SymmetricEigen.Eigenvalues(g);
        Assert.Equal(eg.Max() / 5, c.EmpiricalOp, 1e-9 * c.EmpiricalOp);
        // Θ ⊗ Id has Θ's spectrum, each eigenvalue nL times
        Assert.Equal(SymmetricEigen.Eigenvalues(theta).Max() / 5, c.AnalyticOp, 1e-9 * c.AnalyticOp);
        Assert.True(c.RelativeFrobenius < 0.5);
        // Gram entry (i·nL + k, j·nL + k') is Θ̂_kk'(x_i, x_j)
        Assert.Equal(full.Ntk[((2 * 5 + 3) * 3 + 1) * 3 + 2], g[2 * 3 + 1, 3 * 3 + 2]);
    }
}
