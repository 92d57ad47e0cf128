using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

// Pins ISA paths process-wide (Isa.Pin): runs alone, so no concurrently running test sees another path (an
// element-wise silu took the scalar path between two calls of a parallel test and differed in the last bit).
[Collection(SerialNumericsCollection.Name)]
public class GemmTests
{
    // Around every tile edge: MR = 8 / 6 / 4, NR = 24 / 8 / 4 (double) and 48 / 16 / 4 (float).
    private static readonly int[] Sizes = [0, 1, 2, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 48, 49, 63, 64, 65];
    // k only meets the K block (256 / 512), tested separately; the inner dimension needs fewer points.
    private static readonly int[] InnerSizes = [0, 1, 2, 8, 17, 65];
    private static readonly Op[] Ops = [Op.None, Op.Transpose];

    /// <summary>
    /// Runs one product in double and float with padded leading dimensions and a sentinel in every
    /// padding slot of C, and checks values against the reference and that padding is untouched.
    /// </summary>
    internal static void CheckProduct(Op opA, Op opB, int m, int n, int k, double alpha, double beta, int seed, bool nanInC = false, int pad = 0)
    {
        int aRows = opA == Op.None ? m : k, aCols = opA == Op.None ? k : m;
        int bRows = opB == Op.None ? k : n, bCols = opB == Op.None ? n : k;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        if (lda == 0) lda = 1;
        if (ldb == 0) ldb = 1;
        if (ldc == 0) ldc = 1;
        double[] a = GemmReference.RandomFloatExact(Math.Max(0, aRows * lda), seed);
        double[] b = GemmReference.RandomFloatExact(Math.Max(0, bRows * ldb), seed + 1);
        double[] c0 = GemmReference.RandomFloatExact(m * ldc + 5, seed + 2);
        const double Sentinel = 12345.5;
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++) c0[i * ldc + j] = Sentinel;
        for (int i = m * ldc; i < c0.Length; i++) c0[i] = Sentinel;
        if (nanInC)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c0[i * ldc + j] = double.NaN;
        var (refC, scale) = GemmReference.Multiply(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc);

        var c = (double[])c0.Clone();
        Gemm.Multiply(opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c.AsSpan(0, m * ldc), ldc);
        var cf = GemmReference.ToFloat(c0);
        Gemm.Multiply(opA, opB, m, n, k, (float)alpha, GemmReference.ToFloat(a), lda, GemmReference.ToFloat(b), ldb, (float)beta, cf.AsSpan(0, m * ldc), ldc);

        for (int i = 0; i < c.Length; i++)
        {
            int row = i / ldc, col = i % ldc;
            bool inside = row < m && col < n;
            if (!inside)
            {
                Assert.Equal(Sentinel, c[i]);
                Assert.Equal((float)Sentinel, cf[i]);
                continue;
            }
            double tolD = (k + 4) * 1.2e-16 * scale[i] + 1e-300;
            double tolF = (k + 4) * 6.5e-8 * scale[i] + 1e-30;
            if (Math.Abs(c[i] - refC[i]) > tolD || Math.Abs(cf[i] - refC[i]) > tolF)
                Assert.Fail($"{opA}/{opB} m={m} n={n} k={k} α={alpha} β={beta} at ({row},{col}): double {c[i]}, float {cf[i]}, reference {refC[i]}");
        }
    }

    [Fact]
    public void Every_awkward_shape_and_transpose_matches_reference()
    {
        int seed = 0;
        foreach (Op opA in Ops)
            foreach (Op opB in Ops)
                foreach (int m in Sizes)
                    foreach (int n in Sizes)
                        foreach (int k in InnerSizes)
                        {
                            seed++;
                            // Cycle α/β through the cases the kernels branch on.
                            (double alpha, double beta) = (seed % 4) switch { 0 => (1.0, 0.0), 1 => (-0.75, 1.0), 2 => (1.5, -0.5), _ => (0.3, 0.0) };
                            CheckProduct(opA, opB, m, n, k, alpha, beta, seed, pad: seed % 3 == 0 ? 3 : 0);
                        }
    }

    [Fact]
    public void Random_sizes_up_to_65_match_reference()
    {
        var rng = new Random(42);
        for (int t = 0; t < 60; t++)
        {
            int m = rng.Next(0, 66), n = rng.Next(0, 66), k = rng.Next(0, 66);
            CheckProduct(Ops[rng.Next(2)], Ops[rng.Next(2)], m, n, k, rng.NextDouble() * 2 - 1, rng.Next(3) - 1, 1000 + t, pad: rng.Next(4));
        }
    }

    [Fact]
    public void Large_non_multiple_shapes_match_reference_for_all_transposes()
    {
        foreach (Op opA in Ops)
            foreach (Op opB in Ops)
            {
                CheckProduct(opA, opB, 257, 131, 97, 1.25, 0.5, 7, pad: 5);
                // k spans several K blocks (KC = 256 double / 512 float) and a partial one.
                CheckProduct(opA, opB, 37, 53, 1100, -1, 0, 8);
            }
    }

    [Fact]
    public void Beta_zero_does_not_read_c_and_alpha_zero_does_not_read_a_or_b()
    {
        CheckProduct(Op.None, Op.None, 17, 33, 9, 2.0, 0.0, 3, nanInC: true);
        CheckProduct(Op.Transpose, Op.Transpose, 65, 9, 300, 1.0, 0.0, 4, nanInC: true, pad: 2);
        CheckProduct(Op.None, Op.Transpose, 8, 24, 0, 1.0, 0.0, 5, nanInC: true);

        double[] a = [double.NaN, double.NaN, double.NaN, double.NaN];
        double[] c = [1, 2, 3, 4];
        Gemm.Multiply(Op.None, Op.None, 2, 2, 2, 0.0, a, 2, a, 2, 3.0, c, 2);
        Assert.Equal([3.0, 6, 9, 12], c);
        Gemm.Multiply(Op.None, Op.None, 2, 2, 0, 1.0, [], 1, [], 2, 0.5, c, 2);
        Assert.Equal([1.5, 3, 4.5, 6], c);
    }

    public static TheoryData<int> AwkwardSizes() => [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65];

    [Fact]
    public void The_registry_lists_every_runnable_path_widest_first()
    {
        Assert.Equal(Isa.Best, Isa.Available[0]);
        Assert.Equal(IsaPath.Scalar, Isa.Available[^1]);
        for (int i = 1; i < Isa.Available.Count; i++) Assert.Equal(Isa.Available[i - 1] - 1, Isa.Available[i]);
        Assert.True(Isa.Active <= Isa.Best);
        Assert.Null(Isa.EnvironmentError);
        foreach (IsaPath p in Enum.GetValues<IsaPath>())
        {
            Assert.True(Isa.TryParse(Isa.Name(p), out IsaPath back));
            Assert.Equal(p, back);
            Assert.True(Isa.TryParse(p.ToString(), out back));
            Assert.Equal(p, back);
        }
        Assert.False(Isa.TryParse("avx1024", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => Isa.Pin((IsaPath)99));
    }

    /// <summary>
    /// Every path of the registry (pinned in turn: Vector512, Vector256, Vector128, scalar micro-kernels)
    /// gives the same bits, float and double, for every transpose and for awkward M, N around the
    /// micro-tile sizes; and those bits agree with the plain reference product to rounding.
    /// </summary>
    [Theory]
    [MemberData(nameof(AwkwardSizes))]
    public void All_kernel_paths_give_bitwise_identical_results(int size)
    {
        (int m, int n, int k, Op oa, Op ob)[] shapes =
        [
            (size, size, 5, Op.None, Op.None), (size, 17, 300, Op.None, Op.Transpose), (33, size, 300, Op.Transpose, Op.None),
            (size, 65, 600, Op.Transpose, Op.Transpose), (size + 70, size + 1, 257, Op.None, Op.None),
        ];
        foreach (var (m, n, k, oa, ob) in shapes)
        {
            double[] a = GemmReference.Random(m * k, 1), b = GemmReference.Random(k * n, 2), c0 = GemmReference.Random(m * n, 3);
            float[] af = GemmReference.ToFloat(a), bf = GemmReference.ToFloat(b);
            int lda = Math.Max(1, oa == Op.None ? k : m), ldb = Math.Max(1, ob == Op.None ? n : k), ldc = Math.Max(1, n);
            double[]? first = null;
            float[]? firstF = null;
            foreach (IsaPath path in Isa.Available)
            {
                using (Isa.Pin(path))
                {
                    Assert.Equal(path == IsaPath.Vector128 && !GemmConfig.HardwareFma128 ? IsaPath.Scalar : path, GemmConfig.Path);
                    var c = (double[])c0.Clone();
                    Gemm.Multiply(oa, ob, m, n, k, 0.7, a, lda, b, ldb, -1.5, c, ldc);
                    var cf = GemmReference.ToFloat(c0);
                    Gemm.Multiply(oa, ob, m, n, k, 0.7f, af, lda, bf, ldb, -1.5f, cf, ldc);
                    first ??= c;
                    firstF ??= cf;
                    Assert.True(first.AsSpan().SequenceEqual(c), $"{path} double {m}×{n}×{k} {oa}/{ob} differs from {Isa.Available[0]}");
                    Assert.True(firstF.AsSpan().SequenceEqual(cf), $"{path} float {m}×{n}×{k} {oa}/{ob} differs from {Isa.Available[0]}");
                }
            }
            (double[] want, double[] scale) = GemmReference.Multiply(oa, ob, m, n, k, 0.7, a, lda, b, ldb, -1.5, c0, ldc);
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(first![i] - want[i]) <= 1e-13 * scale[i], $"{m}×{n}×{k} entry {i}: {first[i]} vs reference {want[i]}");
        }
    }

    [Fact]
    public void Result_does_not_depend_on_where_the_rows_sit()
    {
        // c_ij of a sub-product (rows shifted, column window shifted) equals the full product's c_ij.
        const int m = 70, n = 90, k = 130;
        double[] a = GemmReference.Random(m * k, 11), b = GemmReference.Random(n * k, 12);
        var full = new double[m * n];
        Gemm.Multiply(Op.None, Op.Transpose, m, n, k, 1.0, a, k, b, k, 0.0, full, n);
        foreach (var (r0, rows, c0, cols) in new[] { (3, 29, 5, 41), (1, 1, 0, 90), (13, 57, 11, 11), (3, 5, 5, 9), (20, 4, 33, 17), (9, 7, 1, 8) })
        {
            var sub = new double[rows * cols];
            Gemm.Multiply(Op.None, Op.Transpose, rows, cols, k, 1.0, a.AsSpan(r0 * k), k, b.AsSpan(c0 * k), k, 0.0, sub, cols);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    Assert.Equal(full[(r0 + i) * n + c0 + j], sub[i * cols + j]);
        }
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument_and_write_nothing()
    {
        var a = new double[12];
        var b = new double[12];
        var c = new double[9];
        Array.Fill(c, 7.0);
        Assert.Equal("m", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, -1, 3, 4, 1.0, a, 4, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("n", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, -1, 4, 1.0, a, 4, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("k", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 3, -4, 1.0, a, 4, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("a", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 3, 5, 1.0, a, 5, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("lda", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 3, 4, 1.0, a, 3, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("ldb", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.Transpose, 3, 3, 4, 1.0, a, 4, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("b", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 4, 4, 1.0, a, 4, b, 4, 0.0, new double[16], 4)).ParamName);
        Assert.Equal("c", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 3, 4, 1.0, a, 4, b, 3, 0.0, c.AsSpan(0, 8), 3)).ParamName);
        Assert.Equal("ldc", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 3, 4, 1.0, a, 4, b, 3, 0.0, c, 2)).ParamName);
        Assert.Equal("opA", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply((Op)7, Op.None, 3, 3, 4, 1.0, a, 4, b, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("c", Assert.ThrowsAny<ArgumentException>(() => Gemm.Multiply(Op.None, Op.None, 3, 3, 4, 1f, new float[12], 4, new float[12], 3, 0f, new float[8], 3)).ParamName);
        Assert.All(c, v => Assert.Equal(7.0, v));

        // The last row of C may end at its last column (no ldc padding required after it).
        var big = new double[20];
        Array.Fill(big, -3.0);
        Gemm.Multiply(Op.None, Op.None, 3, 3, 4, 1.0, a, 4, b, 3, 0.0, big.AsSpan(0, 2 * 5 + 3), 5);
        for (int i = 13; i < 20; i++) Assert.Equal(-3.0, big[i]);
        Assert.Equal(-3.0, big[3]);
        Assert.Equal(-3.0, big[4]);
    }
}
