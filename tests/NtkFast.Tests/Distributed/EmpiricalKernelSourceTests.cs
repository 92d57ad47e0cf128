using System.Numerics;
using NtkFast.Activations;
using NtkFast.Tiling;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// Every block of <see cref="EmpiricalKernelSource{T}"/> is bitwise the same block of the full in-memory
/// <see cref="EmpiricalKernel.Compute{T}(Mlp{T}, Matrix, Matrix?, EmpiricalOutputs, int, bool, EmpiricalMethod)"/>
/// (NTK trace and NNGP), symmetric and rectangular, both precisions, awkward sizes, frozen layers.
/// </summary>
public sealed class EmpiricalKernelSourceTests
{
    private static Matrix Points(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var m = new Matrix(n, d);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = (rng.NextDouble() * 2) - 1;
        return m;
    }

    /// <summary>Compares every block of a tiling with edge <paramref name="tile"/> (plus the whole matrix) with the full result.</summary>
    private static void AssertBlocksEqual<T>(Mlp<T> net, Matrix x, Matrix? x2, int trainableFrom, int tile)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        EmpiricalKernelResult full = EmpiricalKernel.Compute(net, x, x2, EmpiricalOutputs.Trace, trainableFrom, nngp: true);
        var source = new EmpiricalKernelSource<T>(net, x, x2, trainableFrom, nngp: true);
        int n = source.Rows, m = source.Cols;
        Assert.Equal(x.Rows, n);
        Assert.Equal(x2?.Rows ?? x.Rows, m);
        Assert.Equal(x2 is null, source.IsSymmetric);
        var blocks = new List<(int R0, int R, int C0, int C)> { (0, n, 0, m) };
        for (int r0 = 0; r0 < n; r0 += tile)
            for (int c0 = 0; c0 < m; c0 += tile)
                blocks.Add((r0, Math.Min(tile, n - r0), c0, Math.Min(tile, m - c0)));
        // Unaligned blocks too: a single entry at the far corner, and a block straddling tile edges.
        blocks.Add((n - 1, 1, m - 1, 1));
        if (n > 2 && m > 3) blocks.Add((1, n - 2, 2, m - 3));
        foreach ((int r0, int rows, int c0, int cols) in blocks)
        {
            var dst = new double[2 * rows * cols];
            source.ComputeBlock(r0, rows, c0, cols, dst);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    long f = ((long)(r0 + i) * m) + c0 + j;
                    double ntk = dst[(i * cols) + j], nngp = dst[(rows * cols) + (i * cols) + j];
                    if (BitConverter.DoubleToInt64Bits(ntk) != BitConverter.DoubleToInt64Bits(full.Ntk[f]))
                        Assert.Fail($"NTK block ({r0},{rows},{c0},{cols}) entry ({i},{j}): {ntk:R} vs full {full.Ntk[f]:R}");
                    if (BitConverter.DoubleToInt64Bits(nngp) != BitConverter.DoubleToInt64Bits(full.Nngp![f]))
                        Assert.Fail($"NNGP block ({r0},{rows},{c0},{cols}) entry ({i},{j}): {nngp:R} vs full {full.Nngp![f]:R}");
                }
        }
    }

    [Theory]
    [InlineData(1, "relu", 0, 1)]
    [InlineData(7, "relu", 0, 3)]
    [InlineData(17, "erf", 1, 8)]
    [InlineData(65, "tanh", 0, 16)]
    [InlineData(64, "leaky_relu:0.2", 2, 9)]
    public void Symmetric_blocks_are_bitwise_the_full_matrix_double(int n, string act, int trainableFrom, int tile)
    {
        var arch = new MlpArchitecture([5, 33, 17, 9, 2], ActivationRegistry.Parse(act), beta: 0.1, weightStd: 1.3);
        AssertBlocksEqual(Mlp<double>.Initialize(arch, 11), Points(n, 5, n), null, trainableFrom, tile);
    }

    [Theory]
    [InlineData(15, 9, 0, 4)]
    [InlineData(63, 1, 1, 16)]
    [InlineData(8, 65, 0, 7)]
    public void Rectangular_blocks_are_bitwise_the_full_matrix_double(int n, int m, int trainableFrom, int tile)
    {
        var arch = new MlpArchitecture([4, 20, 12, 3], ActivationRegistry.Parse("gelu"), beta: 0.3);
        AssertBlocksEqual(Mlp<double>.Initialize(arch, 5), Points(n, 4, 1), Points(m, 4, 2), trainableFrom, tile);
    }

    [Theory]
    [InlineData(33, 0, 0, 8)]
    [InlineData(17, 12, 1, 5)]
    public void Float32_blocks_are_bitwise_the_full_matrix(int n, int m, int trainableFrom, int tile)
    {
        var arch = new MlpArchitecture([6, 40, 24, 1], ActivationRegistry.Parse("relu"));
        AssertBlocksEqual(Mlp<float>.Initialize(arch, 3), Points(n, 6, 7), m == 0 ? null : Points(m, 6, 8), trainableFrom, tile);
    }

    [Fact]
    public void Depth_one_network_and_features_built_in_several_batches()
    {
        // N > FeatureBatch: the per-point features come from several forward/backward batches.
        int n = EmpiricalKernelSource<double>.FeatureBatch + 77;
        var deep = new MlpArchitecture([3, 8, 6, 2], ActivationRegistry.Parse("sin"));
        AssertBlocksEqual(Mlp<double>.Initialize(deep, 2), Points(n, 3, 4), null, 0, 256);
        var linear = new MlpArchitecture([3, 2], ActivationRegistry.Parse("relu"));
        AssertBlocksEqual(Mlp<double>.Initialize(linear, 2), Points(9, 3, 5), Points(4, 3, 6), 0, 3);
    }

    [Fact]
    public void Blocks_agree_with_the_per_sample_Jacobian_reference()
    {
        // An independent route (one backward pass per point and output, then J·J2ᵀ): agreement to rounding.
        var arch = new MlpArchitecture([3, 16, 16, 2], ActivationRegistry.Parse("erf"));
        var net = Mlp<double>.Initialize(arch, 9);
        Matrix x = Points(13, 3, 1), x2 = Points(6, 3, 2);
        EmpiricalKernelResult reference = EmpiricalKernel.Compute(net, x, x2, method: EmpiricalMethod.Jacobian);
        var source = new EmpiricalKernelSource<double>(net, x, x2, nngp: true);
        var dst = new double[2 * 5 * 4];
        source.ComputeBlock(7, 5, 2, 4, dst);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 4; j++)
            {
                double r = reference.Ntk[((7 + i) * 6) + 2 + j], s = reference.Nngp![((7 + i) * 6) + 2 + j];
                Assert.True(Math.Abs(dst[(i * 4) + j] - r) <= 1e-12 * Math.Max(1, Math.Abs(r)), $"NTK {dst[(i * 4) + j]:R} vs {r:R}");
                Assert.True(Math.Abs(dst[20 + (i * 4) + j] - s) <= 1e-12 * Math.Max(1, Math.Abs(s)), $"NNGP {dst[20 + (i * 4) + j]:R} vs {s:R}");
            }
    }

    /// <summary>
    /// Every block (a tiling with edge <paramref name="tile"/>, the whole matrix, a corner entry, a straddling block)
    /// of a source for every output pair and/or the Jacobian reference is bitwise the in-memory result's block.
    /// </summary>
    private static void AssertBlocksEqual<T>(Mlp<T> net, Matrix x, Matrix? x2, int trainableFrom, int tile, EmpiricalOutputs outputs, EmpiricalMethod method)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        EmpiricalKernelResult full = EmpiricalKernel.Compute(net, x, x2, outputs, trainableFrom, nngp: true, method);
        var source = new EmpiricalKernelSource<T>(net, x, x2, trainableFrom, nngp: true, Communicator.Single, outputs, method);
        int n = source.Rows, m = source.Cols, q = net.Architecture.OutputWidth, e = outputs == EmpiricalOutputs.Full ? q * q : 1;
        Assert.Equal(outputs == EmpiricalOutputs.Full ? [q, q] : [], source.EntryShape(0));
        Assert.Empty(source.EntryShape(1));
        var blocks = new List<(int R0, int R, int C0, int C)> { (0, n, 0, m), (n - 1, 1, m - 1, 1) };
        for (int r0 = 0; r0 < n; r0 += tile)
            for (int c0 = 0; c0 < m; c0 += tile)
                blocks.Add((r0, Math.Min(tile, n - r0), c0, Math.Min(tile, m - c0)));
        if (n > 2 && m > 3) blocks.Add((1, n - 2, 2, m - 3));
        foreach ((int r0, int rows, int c0, int cols) in blocks)
        {
            var dst = new double[(e + 1) * rows * cols];
            source.ComputeBlock(r0, rows, c0, cols, dst);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    long f = ((long)(r0 + i) * m) + c0 + j;
                    for (int v = 0; v < e; v++)
                    {
                        double got = dst[(((i * cols) + j) * e) + v], want = full.Ntk[(f * e) + v];
                        if (BitConverter.DoubleToInt64Bits(got) != BitConverter.DoubleToInt64Bits(want))
                            Assert.Fail($"{outputs}/{method} NTK block ({r0},{rows},{c0},{cols}) entry ({i},{j})[{v}]: {got:R} vs full {want:R}");
                    }
                    double nngp = dst[(e * rows * cols) + (i * cols) + j];
                    if (BitConverter.DoubleToInt64Bits(nngp) != BitConverter.DoubleToInt64Bits(full.Nngp![f]))
                        Assert.Fail($"{outputs}/{method} NNGP block ({r0},{rows},{c0},{cols}) entry ({i},{j}): {nngp:R} vs full {full.Nngp![f]:R}");
                }
        }
    }

    [Theory]
    [InlineData(1, 0, 0, 1, "Full", "Structured")]
    [InlineData(7, 0, 1, 3, "Full", "Structured")]
    [InlineData(17, 9, 0, 5, "Full", "Structured")]
    [InlineData(1, 0, 0, 1, "Trace", "Jacobian")]
    [InlineData(7, 0, 1, 4, "Trace", "Jacobian")]
    [InlineData(17, 6, 0, 5, "Trace", "Jacobian")]
    [InlineData(7, 0, 0, 3, "Full", "Jacobian")]
    [InlineData(17, 5, 1, 4, "Full", "Jacobian")]
    public void Full_and_reference_blocks_are_bitwise_the_full_matrix(int n, int m, int trainableFrom, int tile, string outputs, string method)
    {
        var arch = new MlpArchitecture([5, 23, 11, 3], ActivationRegistry.Parse("tanh"), beta: 0.2, weightStd: 1.2);
        EmpiricalOutputs o = Enum.Parse<EmpiricalOutputs>(outputs);
        EmpiricalMethod me = Enum.Parse<EmpiricalMethod>(method);
        Matrix x = Points(n, 5, n + 3), x2 = Points(Math.Max(m, 1), 5, 40);
        AssertBlocksEqual(Mlp<double>.Initialize(arch, 13), x, m == 0 ? null : x2, trainableFrom, tile, o, me);
        AssertBlocksEqual(Mlp<float>.Initialize(arch, 14), x, m == 0 ? null : x2, trainableFrom, tile, o, me);
    }

    [Fact]
    public void Full_and_reference_features_built_in_several_batches_and_depth_one()
    {
        int n = EmpiricalKernelSource<double>.FeatureBatch + 9;
        var arch = new MlpArchitecture([2, 6, 2], ActivationRegistry.Parse("relu"), beta: 0.1);
        var net = Mlp<double>.Initialize(arch, 4);
        AssertBlocksEqual(net, Points(n, 2, 9), Points(5, 2, 10), 0, 200, EmpiricalOutputs.Full, EmpiricalMethod.Structured);
        AssertBlocksEqual(net, Points(n, 2, 9), Points(5, 2, 10), 1, 200, EmpiricalOutputs.Full, EmpiricalMethod.Jacobian);
        var linear = new MlpArchitecture([3, 2], ActivationRegistry.Parse("relu"));
        AssertBlocksEqual(Mlp<double>.Initialize(linear, 2), Points(9, 3, 5), null, 0, 4, EmpiricalOutputs.Full, EmpiricalMethod.Structured);
        AssertBlocksEqual(Mlp<float>.Initialize(linear, 2), Points(9, 3, 5), null, 0, 4, EmpiricalOutputs.Trace, EmpiricalMethod.Jacobian);
    }

    [Fact]
    public void Bad_arguments_name_the_argument()
    {
        var arch = new MlpArchitecture([3, 4, 1], ActivationRegistry.Parse("relu"));
        var net = Mlp<double>.Initialize(arch, 1);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => new EmpiricalKernelSource<double>(net, Points(4, 2, 1), null)).ParamName);
        Assert.Equal("x2", Assert.Throws<ArgumentException>(() => new EmpiricalKernelSource<double>(net, Points(4, 3, 1), Points(2, 5, 1))).ParamName);
        Assert.Equal("trainableFrom", Assert.Throws<ArgumentOutOfRangeException>(() => new EmpiricalKernelSource<double>(net, Points(4, 3, 1), null, 2)).ParamName);
        var s = new EmpiricalKernelSource<double>(net, Points(4, 3, 1), null);
        Assert.Equal(1, s.Outputs);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.ComputeBlock(3, 2, 0, 1, new double[2]));
        Assert.Throws<ArgumentException>(() => s.ComputeBlock(0, 2, 0, 2, new double[3]));
    }
}
