using NtkFast.Activations;
using NtkFast.Architectures;
using NtkFast.Kernels;
using NtkFast.Numerics;
using NtkFast.Tests.Numerics;
using Xunit;

namespace NtkFast.Tests.Architectures;

[Collection(SerialNumericsCollection.Name)]
public class ArchitectureKernelTests
{
    private static ImageSet Images(int n, int h, int w, int c, int seed)
    {
        var rng = new Random(seed);
        var d = new double[n * h * w * c];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2 - 1;
        return new ImageSet(d, n, h, w, c);
    }

    private static void AssertClose(double expected, double actual, double rel, string what)
    {
        double tol = rel * Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R} (diff {Math.Abs(expected - actual):E2})");
    }

    [Theory]
    [InlineData("relu", 3)]
    [InlineData("erf", 2)]
    [InlineData("tanh", 3)]          // numeric dual
    [InlineData("leaky_relu:0.2", 1)]
    public void DenseLayers_AreTheMlpKernelsBitwise(string act, int depth)
    {
        var parts = new List<string>();
        for (int l = 0; l < depth; l++) { if (l > 0) parts.Add(act); parts.Add(l == depth - 1 ? "dense:1" : "dense:64"); }
        Architecture arch = Architecture.Parse(string.Join(' ', parts), weightStd: 1.3, beta: 0.2);
        Assert.NotNull(ArchitectureKernels.AsMlp(arch));
        var x = new Matrix(9, 5); var rng = new Random(3);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = rng.NextDouble() - 0.5;
        var x2 = new Matrix(7, 5);
        for (int i = 0; i < x2.Data.Length; i++) x2.Data[i] = rng.NextDouble() - 0.5;
        var spec = new KernelSpec(depth, ActivationRegistry.Parse(act), beta: 0.2, weightStd: 1.3);
        foreach (Matrix? other in (Matrix?[])[null, x2])
        {
            KernelResult mlp = InfiniteWidth.Compute(spec, x, other);
            KernelResult a = ArchitectureKernels.Compute(arch, ImageSet.FromMatrix(x), other is null ? null : ImageSet.FromMatrix(other));
            Assert.Equal(mlp.Ntk!.Data, a.Ntk!.Data);
            Assert.Equal(mlp.Nngp!.Data, a.Nngp!.Data);
        }
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("erf")]
    [InlineData("gelu")]
    public void DenseLayers_ThroughThePixelRecursion_MatchTheMlp(string act)
    {
        // "id" keeps the architecture off the MLP path: the general recursion on 1×1 inputs.
        Architecture arch = Architecture.Parse($"dense:64 {act} id dense:64 {act} dense:1", weightStd: 1.1, beta: 0.3);
        Assert.Null(ArchitectureKernels.AsMlp(arch));
        var x = new Matrix(6, 4); var rng = new Random(5);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = rng.NextDouble() - 0.5;
        KernelResult mlp = InfiniteWidth.Compute(new KernelSpec(3, ActivationRegistry.Parse(act), 0.3, 1.1), x);
        KernelResult a = ArchitectureKernels.Compute(arch, ImageSet.FromMatrix(x));
        for (int i = 0; i < x.Rows * x.Rows; i++)
        {
            AssertClose(mlp.Ntk!.Data[i], a.Ntk!.Data[i], 1e-12, $"ntk[{i}]");
            AssertClose(mlp.Nngp!.Data[i], a.Nngp!.Data[i], 1e-12, $"nngp[{i}]");
        }
    }

    public static TheoryData<string, int, int, int> ConvCases => new()
    {
        { "conv:3,3x3,same relu conv:2,3x3,same relu gap dense:1", 5, 4, 2 },
        { "conv:3,3x3,valid erf flatten dense:4 relu dense:1", 5, 5, 1 },
        { "conv:2,2x3,s2,same relu avgpool:2 flatten dense:1", 7, 8, 3 },
        { "conv:2,3x3,s2x1,valid abs conv:3,1x1 relu gap dense:1", 7, 5, 2 },
        { "conv:3,3x3 relu res{ conv:3,3x3 relu conv:3,3x3 } relu avgpool:2x1,s1 gap dense:2 relu dense:1", 4, 3, 2 },
        { "param:standard conv:4,3x3 relu conv:3,2x2,valid relu gap dense:5 relu dense:1", 4, 4, 2 },
        { "param:standard conv:4,3x3,b=0 relu flatten dense:5,w=2 relu dense:1,b=0.5", 3, 4, 1 },
        { "conv1d:3,3 relu conv1d:2,2,s2,valid sin flatten dense:1", 1, 9, 2 },
        { "conv:2,3x3 tanh gap dense:1", 3, 3, 1 },   // numeric dual through PrepareDual
        // no pooling: the diagonal-only recursion
        { "conv:3,3x3 tanh res{ conv:3,3x3,s1 gelu } flatten dense:2 erf dense:1", 4, 5, 2 },
        { "conv:2,3x2,s2,same relu res{ conv:2,1x1 } conv:3,2x2,valid softplus flatten dense:1", 6, 5, 1 },
    };

    public static TheoryData<string, int, int, int> FlattenCases => new()
    {
        { "conv:3,3x3,valid erf flatten dense:4 relu dense:1", 5, 5, 1 },
        { "param:standard conv:4,3x3,b=0 relu flatten dense:5,w=2 relu dense:1,b=0.5", 3, 4, 1 },
        { "conv1d:3,3 relu conv1d:2,2,s2,valid sin flatten dense:1", 1, 9, 2 },
        { "conv:3,3x3 tanh res{ conv:3,3x3,s1 gelu } flatten dense:2 erf dense:1", 4, 5, 2 },
        { "conv:2,3x2,s2,same relu sum{ conv:2,1x1 | id } conv:3,2x2,valid softplus flatten dense:1", 6, 5, 1 },
    };

    /// <summary>Without pooling only Σ(p, p) is needed: the diagonal recursion equals the full pixel-pair one.</summary>
    [Theory]
    [MemberData(nameof(FlattenCases))]
    public void Diagonal_recursion_equals_the_full_pixel_pair_recursion(string spec, int h, int w, int c)
    {
        Architecture arch = Architecture.Parse(spec, weightStd: 1.1, beta: 0.2);
        ImageSet x = Images(4, h, w, c, seed: 5), x2 = Images(3, h, w, c, seed: 6);
        ArchProgram prog = ArchProgram.Compile(arch, h, w, c);
        Assert.True(DiagonalRecursion.Applies(prog));
        Assert.IsType<DiagonalRecursion>(PairEngine.For(prog));
        foreach (ImageSet? other in (ImageSet?[])[null, x2])
        {
            var plan = ArchitectureKernels.Plan.Create(arch, x, other);
            int m = (other ?? x).Count;
            double[] sd = new double[4 * m], td = new double[4 * m], sf = new double[4 * m], tf = new double[4 * m];
            plan.Block(0, 4, 0, m, sd, td, m, 1);
            plan.Block(0, 4, 0, m, sf, tf, m, 1, [new PairRecursion(prog)]);
            for (int i = 0; i < sd.Length; i++)
            {
                Assert.Equal(sf[i], sd[i], 1e-13 * Math.Max(1, Math.Abs(sf[i])));
                Assert.Equal(tf[i], td[i], 1e-13 * Math.Max(1, Math.Abs(tf[i])));
            }
        }
        Assert.False(DiagonalRecursion.Applies(ArchProgram.Compile(Architecture.Parse("conv:2,3x3 relu avgpool:2 flatten dense:1"), 4, 4, 1)));
    }

    public static TheoryData<string, int, int, int> GapChainCases => new()
    {
        { "conv:3,3x3,same relu conv:2,3x3,same relu gap dense:1", 5, 4, 2 },
        { "conv:2,3x3,same relu conv:2,3x3,same relu conv:2,3x3,same relu gap dense:1", 9, 9, 1 },
        { "conv:2,3x3,same erf conv:2,2x3,valid tanh gap dense:3 relu dense:1", 8, 7, 3 },   // numeric dual, asymmetric filter
        { "conv:2,2x2,same abs conv:2,1x1 leaky_relu gap dense:1", 7, 1, 2 },            // even filter: asymmetric padding
        { "conv:2,5x5,same gelu gap dense:1", 3, 17, 1 },                                // padding wider than the image
        { "conv1d:3,3 relu conv1d:2,2,valid softplus gap dense:1", 1, 16, 2 },
        { "relu conv:2,3x3 relu gap dense:1", 2, 1, 3 },                                  // one column; activation first
        { "param:standard conv:4,3x3 relu conv:3,2x2,valid relu gap dense:5 relu dense:1", 4, 15, 2 },
        { "param:standard conv:4,3x3,b=0 sign conv:2,3x3,b=0 erf gap dense:1,b=0", 6, 9, 1 },
        { "gap dense:2 relu dense:1", 3, 8, 2 },
    };

    /// <summary>
    /// Chains of stride-1 convolutions and activations ending in gap run band by band (<see cref="StreamedRecursion"/>):
    /// bitwise the whole-matrix recursion, for the symmetric Gram (self pairs take the full path), cross blocks,
    /// NNGP-only blocks, and images with all-zero rows (degenerate correlations, zero variances).
    /// </summary>
    [Theory]
    [MemberData(nameof(GapChainCases))]
    public void Streamed_recursion_equals_the_whole_matrix_recursion_bitwise(string spec, int h, int w, int c)
    {
        Architecture arch = Architecture.Parse(spec, weightStd: 1.3, beta: 0.1);
        ImageSet x = Images(4, h, w, c, seed: 11 * h + w), x2 = Images(5, h, w, c, seed: 7);
        x.Data.AsSpan(0, w * c).Clear();                   // a blank first image row: zero rows of Σ⁰
        x2.Data.AsSpan(h * w * c, h * w * c).Clear();      // an all-zero image
        ArchProgram prog = ArchProgram.Compile(arch, h, w, c);
        Assert.True(StreamedRecursion.Applies(prog));
        Assert.IsType<StreamedRecursion>(PairEngine.For(prog));
        foreach (ImageSet? other in (ImageSet?[])[null, x2])
            foreach (bool wantT in (bool[])[true, false])
            {
                var plan = ArchitectureKernels.Plan.Create(arch, x, other);
                int m = (other ?? x).Count;
                double[] ss = new double[4 * m], ts = new double[wantT ? 4 * m : 0], sf = new double[4 * m], tf = new double[ts.Length];
                plan.Block(0, 4, 0, m, ss, ts, m, 1, [new StreamedRecursion(prog)]);
                plan.Block(0, 4, 0, m, sf, tf, m, 1, [new PairRecursion(prog)]);
                for (int i = 0; i < ss.Length; i++)
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(sf[i]), BitConverter.DoubleToInt64Bits(ss[i]));
                    Assert.True(double.IsFinite(ss[i]), $"nngp[{i}] = {ss[i]}");
                }
                for (int i = 0; i < ts.Length; i++)
                    Assert.Equal(BitConverter.DoubleToInt64Bits(tf[i]), BitConverter.DoubleToInt64Bits(ts[i]));
            }
        // Pooling, strides and residual blocks inside the chain keep the whole-matrix recursion.
        foreach (string other in (string[])["conv:2,3x3 relu avgpool:2 gap dense:1", "conv:2,3x3,s2 relu gap dense:1", "conv:2,3x3 relu res{ conv:2,3x3 } gap dense:1"])
            Assert.IsType<PairRecursion>(PairEngine.For(ArchProgram.Compile(Architecture.Parse(other), 6, 6, 1)));
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void PixelRecursion_MatchesTheLoopReference(string spec, int h, int w, int c)
    {
        Architecture arch = Architecture.Parse(spec, weightStd: 1.2, beta: 0.15);
        ImageSet x = Images(3, h, w, c, seed: h * 31 + w);
        ImageSet x2 = Images(2, h, w, c, seed: 99);
        KernelResult full = ArchitectureKernels.Compute(arch, x);
        KernelResult cross = ArchitectureKernels.Compute(arch, x, x2);
        int stride = h * w * c;
        for (int i = 0; i < 3; i++)
        {
            double[] xi = x.Data.AsSpan(i * stride, stride).ToArray();
            for (int j = 0; j < 3; j++)
            {
                (double s, double t) = ArchReference.Pair(arch, xi, x.Data.AsSpan(j * stride, stride).ToArray(), h, w, c);
                AssertClose(s, full.Nngp!.Data[i * 3 + j], 1e-11, $"{spec}: nngp[{i},{j}]");
                AssertClose(t, full.Ntk!.Data[i * 3 + j], 1e-11, $"{spec}: ntk[{i},{j}]");
            }
            for (int j = 0; j < 2; j++)
            {
                (double s, double t) = ArchReference.Pair(arch, xi, x2.Data.AsSpan(j * stride, stride).ToArray(), h, w, c);
                AssertClose(s, cross.Nngp!.Data[i * 2 + j], 1e-11, $"{spec}: cross nngp[{i},{j}]");
                AssertClose(t, cross.Ntk!.Data[i * 2 + j], 1e-11, $"{spec}: cross ntk[{i},{j}]");
            }
        }
        // Symmetric bitwise.
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++)
            Assert.Equal(full.Ntk!.Data[i * 3 + j], full.Ntk.Data[j * 3 + i]);
    }

    [Fact]
    public void StandardParameterisation_TwoPoints_HandDerived()
    {
        // f = W1 relu(W0 x + b0) + b1, widths 2 → 3 → 1, W_l ~ N(0, σw²/fan_in), b ~ N(0, β²).
        // Σ1 = σw²·x·x'/2 + β²; Θ1 = x·x' + 1 (the W0 gradient sums x_j x'_j unscaled; b0 gives 1).
        // K = E[relu relu] = √(ac)/(2π)·(sin θ + (π−θ) cos θ), K̇ = E[relu' relu'] = (π−θ)/(2π).
        // Σ2 = σw²·K + β²; Θ2 = 3·K + 1 + σw²·K̇·Θ1 (W1's gradient over 3 units, b1, back-propagation).
        double sw = 1.5, beta = 0.4;
        double[] x = [0.3, -1.2], y = [0.8, 0.5];
        Architecture arch = Architecture.Parse("param:standard dense:3 relu dense:1", sw, beta);
        var data = new ImageSet([.. x, .. y], 2, 1, 1, 2);
        KernelResult k = ArchitectureKernels.Compute(arch, data);
        double Dot(double[] u, double[] v) => u[0] * v[0] + u[1] * v[1];
        double S1(double[] u, double[] v) => sw * sw * Dot(u, v) / 2 + beta * beta;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                double[] u = i == 0 ? x : y, v = j == 0 ? x : y;
                double a = S1(u, u), b = S1(u, v), c = S1(v, v);
                double rho = Math.Clamp(b / Math.Sqrt(a * c), -1, 1), th = Math.Acos(rho);
                double kk = Math.Sqrt(a * c) / (2 * Math.PI) * (Math.Sin(th) + (Math.PI - th) * Math.Cos(th));
                double kd = (Math.PI - th) / (2 * Math.PI);
                double theta1 = Dot(u, v) + 1;
                AssertClose(sw * sw * kk + beta * beta, k.Nngp!.Data[i * 2 + j], 1e-13, $"nngp[{i},{j}]");
                AssertClose(3 * kk + 1 + sw * sw * kd * theta1, k.Ntk!.Data[i * 2 + j], 1e-13, $"ntk[{i},{j}]");
            }
    }

    [Fact]
    public void Results_AreBitwiseIndependentOfThreadsAndBlocks()
    {
        Architecture arch = Architecture.Parse("conv:4,3x3 relu res{ conv:4,3x3 relu } avgpool:2 conv:2,3x3,s2 erf gap dense:1");
        ImageSet x = Images(7, 8, 6, 2, seed: 17);
        int saved = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = 1;
            KernelResult one = ArchitectureKernels.Compute(arch, x);
            NtkParallel.MaxThreads = 2;
            KernelResult two = ArchitectureKernels.Compute(arch, x);
            Assert.Equal(one.Ntk!.Data, two.Ntk!.Data);
            Assert.Equal(one.Nngp!.Data, two.Nngp!.Data);
            KernelResult block = ArchitectureKernels.ComputeBlock(arch, x, null, 2, 4, 1, 5);
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 5; c++)
                {
                    Assert.Equal(one.Ntk.Data[(r + 2) * 7 + c + 1], block.Ntk!.Data[r * 5 + c]);
                    Assert.Equal(one.Nngp.Data[(r + 2) * 7 + c + 1], block.Nngp!.Data[r * 5 + c]);
                }
            KernelResult nngpOnly = ArchitectureKernels.Compute(arch, x, null, KernelOutputs.Nngp);
            Assert.Equal(one.Nngp.Data, nngpOnly.Nngp!.Data);
        }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [Theory]
    [InlineData("conv:8,3x3 relu dense:1", 6, 6, 1, "add flatten or gap")]
    [InlineData("conv:8,3x3 relu maxpool:2 gap dense:1", 6, 6, 1, "maxpool has no closed-form infinite-width kernel")]
    [InlineData("conv:8,3x3 relu maxpool:7 gap dense:1", 6, 6, 1, "maxpool window 7x7 is larger than its 6×6 input")]
    [InlineData("conv:8,3x3 relu minpool:2 gap dense:1", 6, 6, 1, "unknown layer 'minpool:2'")]
    [InlineData("conv:-3,3x3 relu gap dense:1", 6, 6, 1, "channels must be at least 1")]
    [InlineData("conv:3,0x3 relu gap dense:1", 6, 6, 1, "filter size must be at least 1")]
    [InlineData("dense:-5 relu dense:1", 1, 1, 3, "width must be at least 1")]
    [InlineData("conv:3,3x3 avgpool:7 gap dense:1", 6, 6, 1, "larger than its 6×6 input")]
    [InlineData("conv:3,3x3,valid relu conv:3,5x5,valid gap dense:1", 6, 6, 1, "larger than its 4×4 input")]
    [InlineData("conv:3,3x3 relu", 6, 6, 1, "ends with 6×6×3 feature maps")]
    [InlineData("conv:3,3x3 res{ conv:4,3x3 } gap dense:1", 6, 6, 1, "different shapes")]
    [InlineData("dense:3 relu conv:2,3x3 dense:1", 1, 1, 3, "conv after flatten")]
    [InlineData("conv:3,3x3 relu gap dense:1,q=2", 6, 6, 1, "unknown option 'q=2'")]
    [InlineData("res{ conv:3,3x3 relu gap dense:1", 6, 6, 1, "not closed")]
    public void BadSpecs_GiveOneClearMessage(string spec, int h, int w, int c, string message)
    {
        var e = Assert.Throws<ArchitectureException>(() =>
        {
            Architecture arch = Architecture.Parse(spec);
            ArchitectureKernels.Compute(arch, Images(2, h, w, c, 1));
        });
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}
