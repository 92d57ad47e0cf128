using NtkFast.Activations;
using NtkFast.Empirical;
using NtkFast.Networks;
using Xunit;

namespace NtkFast.Tests.Empirical;

public class EmpiricalKernelTests
{
    internal static double[] Random(int n, int seed, double scale = 1.0)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = scale * (2 * r.NextDouble() - 1);
        return a;
    }

    /// <summary>max |a − b| / max |b|.</summary>
    internal static double RelErr(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(b.Length, a.Length);
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { num = Math.Max(num, Math.Abs(a[i] - b[i])); den = Math.Max(den, Math.Abs(b[i])); }
        return num / den;
    }

    private static int[] Widths(int depth, int outputs)
    {
        int[] hidden = [9, 7, 17, 8, 5];
        var w = new int[depth + 1];
        w[0] = 6;
        for (int l = 1; l < depth; l++) w[l] = hidden[l - 1];
        w[depth] = outputs;
        return w;
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (int depth in new[] { 1, 2, 3, 4, 5 })
            foreach (int outputs in new[] { 1, 3 })
                foreach (string act in new[] { "relu", "erf", "tanh" })
                    yield return [depth, outputs, act];
    }

    /// <summary>Structured = Jacobian contraction to 1e-10 relative, every frozen prefix K, trace and full, X2 = X and X2 ≠ X.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void StructuredMatchesJacobian_Double(int depth, int outputs, string act)
    {
        var arch = new MlpArchitecture(Widths(depth, outputs), ActivationRegistry.Parse(act), beta: 0.3, weightStd: 1.3);
        var net = Mlp<double>.Initialize(arch, (ulong)(depth * 10 + outputs));
        double[] x = Random(5 * 6, depth), x2 = Random(7 * 6, depth + 100);
        for (int k = 0; k < depth; k++)
            foreach (EmpiricalOutputs o in new[] { EmpiricalOutputs.Trace, EmpiricalOutputs.Full })
                foreach (double[] other in new[] { Array.Empty<double>(), x2 })
                {
                    EmpiricalKernelResult s = EmpiricalKernel.Compute<double>(net, x, other, o, k, nngp: true, EmpiricalMethod.Structured);
                    EmpiricalKernelResult j = EmpiricalKernel.Compute<double>(net, x, other, o, k, nngp: true, EmpiricalMethod.Jacobian);
                    Assert.Equal(j.NtkShape, s.NtkShape);
                    Assert.True(RelErr(s.Ntk, j.Ntk) < 1e-10, $"K={k} {o} cross={other.Length > 0}: {RelErr(s.Ntk, j.Ntk)}");
                    Assert.True(RelErr(s.Nngp, j.Nngp) < 1e-12);
                }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    public void StructuredMatchesJacobian_Float(int depth, int outputs)
    {
        var arch = new MlpArchitecture(Widths(depth, outputs), ActivationRegistry.Parse("relu"), beta: 0.1);
        var net = Mlp<float>.Initialize(arch, 3);
        float[] x = Array.ConvertAll(Random(9 * 6, 1), v => (float)v);
        foreach (EmpiricalOutputs o in new[] { EmpiricalOutputs.Trace, EmpiricalOutputs.Full })
        {
            EmpiricalKernelResult s = EmpiricalKernel.Compute<float>(net, x, [], o);
            EmpiricalKernelResult j = EmpiricalKernel.Compute<float>(net, x, [], o, method: EmpiricalMethod.Jacobian);
            Assert.True(RelErr(s.Ntk, j.Ntk) < 1e-5, $"{RelErr(s.Ntk, j.Ntk)}");
            // and the float kernel is the double network's kernel to float accuracy
            EmpiricalKernelResult dd = EmpiricalKernel.Compute<double>(net.ConvertTo<double>(), Array.ConvertAll(x, v => (double)v), [], o);
            Assert.True(RelErr(s.Ntk, dd.Ntk) < 1e-5);
        }
    }

    /// <summary>Depth 1 (linear model): Θ̂_kk' = δ_kk'·(σw²/n0·x·x' + β²) exactly, and = NNGP.</summary>
    [Fact]
    public void DepthOne_ClosedForm()
    {
        var arch = new MlpArchitecture([4, 3], ActivationRegistry.Parse("relu"), beta: 0.5, weightStd: 2);
        var net = Mlp<double>.Initialize(arch, 1);
        double[] x = Random(3 * 4, 2), x2 = Random(2 * 4, 3);
        EmpiricalKernelResult r = EmpiricalKernel.Compute<double>(net, x, x2, EmpiricalOutputs.Full);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
            {
                double dot = 0;
                for (int t = 0; t < 4; t++) dot += x[i * 4 + t] * x2[j * 4 + t];
                double expected = 4.0 / 4 * dot + 0.25;
                for (int k = 0; k < 3; k++)
                    for (int k2 = 0; k2 < 3; k2++)
                        Assert.Equal(k == k2 ? expected : 0, r.Ntk[((i * 2 + j) * 3 + k) * 3 + k2], 1e-14);
                Assert.Equal(expected, r.Nngp![i * 2 + j], 1e-14);
            }
    }

    /// <summary>Only the last layer trainable: Θ̂ = empirical NNGP; each frozen layer removes a positive diagonal term.</summary>
    [Fact]
    public void FrozenLayers_Telescope()
    {
        var arch = new MlpArchitecture([5, 8, 8, 8, 2], ActivationRegistry.Parse("relu"), beta: 0.1);
        var net = Mlp<double>.Initialize(arch, 9);
        double[] x = Random(6 * 5, 4);
        var ks = new double[4][];
        for (int k = 0; k < 4; k++) ks[k] = EmpiricalKernel.Compute<double>(net, x, [], trainableFrom: k).Ntk;
        EmpiricalKernelResult last = EmpiricalKernel.Compute<double>(net, x, [], trainableFrom: 3);
        // only the last layer trainable: trace kernel = empirical NNGP
        Assert.True(RelErr(last.Ntk, last.Nngp) < 1e-14);
        for (int k = 0; k < 3; k++)
        {
            double removed = 0;
            for (int i = 0; i < 6; i++)
            {
                // a layer's diagonal term is [σw²/n·|α|² + β²]·|δ|² ≥ 0 (0 when relu kills every path)
                Assert.True(ks[k][i * 6 + i] >= ks[k + 1][i * 6 + i] * (1 - 1e-14), "freezing a layer must not add to the diagonal");
                removed += ks[k][i * 6 + i] - ks[k + 1][i * 6 + i];
            }
            Assert.True(removed > 0);
        }
    }

    [Fact]
    public void TraceIsMeanOfFullDiagonal_AndSymmetric()
    {
        var arch = new MlpArchitecture([6, 16, 15, 4], ActivationRegistry.Parse("erf"), beta: 0.2);
        var net = Mlp<double>.Initialize(arch, 5);
        double[] x = Random(9 * 6, 8);
        EmpiricalKernelResult t = EmpiricalKernel.Compute<double>(net, x, []);
        EmpiricalKernelResult f = EmpiricalKernel.Compute<double>(net, x, [], EmpiricalOutputs.Full);
        Assert.True(RelErr(f.TraceMatrix().Data, t.Ntk) < 1e-13);
        // Symmetric path = cross path with X2 a copy of X
        EmpiricalKernelResult c = EmpiricalKernel.Compute<double>(net, x, (double[])x.Clone(), EmpiricalOutputs.Full);
        Assert.True(RelErr(f.Ntk, c.Ntk) < 1e-14);
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 9; j++)
                for (int k = 0; k < 4; k++)
                    for (int k2 = 0; k2 < 4; k2++)
                        Assert.Equal(f.Ntk[((i * 9 + j) * 4 + k) * 4 + k2], f.Ntk[((j * 9 + i) * 4 + k2) * 4 + k], 14);
    }

    [Fact]
    public void StructuredPath_DoesNotAllocate()
    {
        var arch = new MlpArchitecture([6, 33, 17, 2], ActivationRegistry.Parse("relu"));
        var net = Mlp<double>.Initialize(arch, 5);
        double[] x = Random(19 * 6, 8), x2 = Random(11 * 6, 9);
        var ws = new EmpiricalWorkspace<double>(arch, 19, 11);
        var ntk = new double[19 * 11 * 4];
        var g = new double[19 * 11];
        EmpiricalKernel.ComputeStructured<double>(net, x, x2, EmpiricalOutputs.Full, 0, ws, ntk, g);
        Assert.Equal(0, Allocations.PerCall(() =>
        {
            for (int r = 0; r < 5; r++) EmpiricalKernel.ComputeStructured<double>(net, x, x2, EmpiricalOutputs.Full, 0, ws, ntk, g);
        }));
    }

    [Fact]
    public void BadArguments()
    {
        var arch = new MlpArchitecture([3, 4, 1], ActivationRegistry.Parse("relu"));
        var net = Mlp<double>.Initialize(arch, 1);
        Assert.Throws<ArgumentException>(() => EmpiricalKernel.Compute<double>(net, new double[7], []));
        Assert.Throws<ArgumentException>(() => EmpiricalKernel.Compute<double>(net, new double[6], new double[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => EmpiricalKernel.Compute<double>(net, new double[6], [], trainableFrom: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => EmpiricalMonteCarlo.Run<double>(arch, new double[6], [], 0, 1));
    }

    [Fact]
    public void MonteCarlo_WelfordMatchesTwoPass()
    {
        var arch = new MlpArchitecture([3, 10, 2], ActivationRegistry.Parse("tanh"));
        double[] x = Random(4 * 3, 1);
        MonteCarloResult mc = EmpiricalMonteCarlo.Run<double>(arch, x, [], 5, 100, EmpiricalOutputs.Full);
        var all = new double[5][];
        for (int s = 0; s < 5; s++) all[s] = EmpiricalKernel.Compute<double>(Mlp<double>.Initialize(arch, 100 + (ulong)s), x, [], EmpiricalOutputs.Full).Ntk;
        for (int i = 0; i < mc.NtkMean.Length; i++)
        {
            double mean = all.Average(a => a[i]);
            double var = all.Sum(a => (a[i] - mean) * (a[i] - mean)) / 4;
            Assert.Equal(mean, mc.NtkMean[i], 1e-13);
            Assert.Equal(Math.Sqrt(var), mc.NtkStd[i], 1e-12);
        }
        MonteCarloResult one = EmpiricalMonteCarlo.Run<double>(arch, x, [], 1, 100);
        Assert.All(one.NtkStd, v => Assert.Equal(0, v));
    }
}
