using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

public class GramTests
{
    [Fact]
    public void Syrk_matches_reference_and_is_symmetric()
    {
        int[] ns = [0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 130];
        int[] ks = [0, 1, 5, 8, 17, 64, 300];
        int seed = 0;
        foreach (int n in ns)
            foreach (int k in ks)
            {
                seed++;
                int lda = Math.Max(1, k + seed % 3), ldc = Math.Max(1, n + seed % 2);
                double beta = seed % 2 == 0 ? 0.0 : 0.5;
                double[] a = GemmReference.RandomFloatExact(Math.Max(1, n * lda), seed);
                double[] c0 = GemmReference.RandomFloatExact(n * ldc, seed + 7);
                for (int i = 0; i < n; i++)
                    for (int j = i + 1; j < n; j++) c0[j * ldc + i] = c0[i * ldc + j]; // symmetric input C
                var (r, s) = GemmReference.Multiply(Op.None, Op.Transpose, n, n, k, 1.5, a, lda, a, lda, beta, c0, ldc);
                var c = (double[])c0.Clone();
                Gram.Syrk(n, k, 1.5, a, lda, beta, c, ldc);
                float[] cf = GemmReference.ToFloat(c0);
                Gram.Syrk(n, k, 1.5f, GemmReference.ToFloat(a), lda, (float)beta, cf, ldc);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < ldc; j++)
                    {
                        int x = i * ldc + j;
                        if (j >= n) { Assert.Equal(c0[x], c[x]); Assert.Equal((float)c0[x], cf[x]); continue; }
                        if (Math.Abs(c[x] - r[x]) > (k + 4) * 1.2e-16 * s[x] || Math.Abs(cf[x] - r[x]) > (k + 4) * 6.5e-8 * s[x])
                            Assert.Fail($"n={n} k={k} ({i},{j}): double {c[x]}, float {cf[x]}, reference {r[x]}");
                        Assert.Equal(c[j * ldc + i], c[x]);
                        Assert.Equal(cf[j * ldc + i], cf[x]);
                    }
            }
    }

    [Fact]
    public void Syrk_with_beta_zero_ignores_nan_in_c_and_uses_lower_triangle_of_c_otherwise()
    {
        const int n = 20, k = 7;
        double[] a = GemmReference.Random(n * k, 1);
        var c = new double[n * n];
        Array.Fill(c, double.NaN);
        Gram.Syrk(n, k, 1.0, a, k, 0.0, c, n);
        Assert.All(c, v => Assert.False(double.IsNaN(v)));

        var c2 = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) c2[i * n + j] = j > i ? double.NaN : 1.0; // NaN only in the strict upper triangle
        Gram.Syrk(n, k, 1.0, a, k, 2.0, c2, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.Equal(c[i * n + j] + 2.0, c2[i * n + j], 1e-14);
    }

    [Fact]
    public void Syrk_Cross_and_Multiply_agree_bitwise_wherever_the_rows_sit()
    {
        // k spans more than one K block so the blocked accumulation order is exercised too.
        foreach (int k in new[] { 1, 37, 300, 784 })
        {
            const int n = 150;
            int lda = k + 3;
            double[] x = GemmReference.Random(n * lda, k);
            var g = new double[n * n];
            Gram.Syrk(n, k, 1.0, x, lda, 0.0, g, n);
            var full = new double[n * n];
            Gemm.Multiply(Op.None, Op.Transpose, n, n, k, 1.0, x, lda, x, lda, 0.0, full, n);
            Assert.Equal(full, g);

            // Cross over row sub-blocks at odd offsets; also in float.
            foreach (var (r0, rows, s0, cols) in new[] { (5, 17, 61, 33), (0, 150, 3, 1), (99, 51, 0, 150), (7, 8, 7, 8) })
            {
                var cross = new double[rows * cols];
                Gram.Cross(rows, cols, k, 1.0, x.AsSpan(r0 * lda), lda, x.AsSpan(s0 * lda), lda, 0.0, cross, cols);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                        Assert.Equal(g[(r0 + i) * n + s0 + j], cross[i * cols + j]);
                var sub = new double[rows * rows];
                Gram.Syrk(rows, k, 1.0, x.AsSpan(r0 * lda), lda, 0.0, sub, rows);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < rows; j++)
                        Assert.Equal(g[(r0 + i) * n + r0 + j], sub[i * rows + j]);
            }

            float[] xf = GemmReference.ToFloat(x);
            var gf = new float[n * n];
            Gram.Syrk(n, k, 1f, xf, lda, 0f, gf, n);
            var crossF = new float[40 * 30];
            Gram.Cross(40, 30, k, 1f, xf.AsSpan(11 * lda), lda, xf.AsSpan(101 * lda), lda, 0f, crossF, 30);
            for (int i = 0; i < 40; i++)
                for (int j = 0; j < 30; j++)
                    Assert.Equal(gf[(11 + i) * n + 101 + j], crossF[i * 30 + j]);
        }
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_argument()
    {
        var a = new double[12];
        var c = new double[9];
        Assert.Equal("n", Assert.ThrowsAny<ArgumentException>(() => Gram.Syrk(-1, 4, 1.0, a, 4, 0.0, c, 3)).ParamName);
        Assert.Equal("k", Assert.ThrowsAny<ArgumentException>(() => Gram.Syrk(3, -4, 1.0, a, 4, 0.0, c, 3)).ParamName);
        Assert.Equal("a", Assert.ThrowsAny<ArgumentException>(() => Gram.Syrk(3, 5, 1.0, a, 5, 0.0, c, 3)).ParamName);
        Assert.Equal("lda", Assert.ThrowsAny<ArgumentException>(() => Gram.Syrk(3, 4, 1.0, a, 3, 0.0, c, 3)).ParamName);
        Assert.Equal("c", Assert.ThrowsAny<ArgumentException>(() => Gram.Syrk(3, 4, 1.0, a, 4, 0.0, c.AsSpan(0, 8), 3)).ParamName);
        Assert.Equal("ldc", Assert.ThrowsAny<ArgumentException>(() => Gram.Syrk(3, 4, 1.0, a, 4, 0.0, c, 2)).ParamName);
        Assert.Equal("m", Assert.ThrowsAny<ArgumentException>(() => Gram.Cross(3, -2, 4, 1.0, a, 4, a, 4, 0.0, c, 3)).ParamName);
        Assert.Equal("b", Assert.ThrowsAny<ArgumentException>(() => Gram.Cross(3, 4, 4, 1.0, a, 4, a, 4, 0.0, new double[12], 4)).ParamName);
        Assert.Equal("c", Assert.ThrowsAny<ArgumentException>(() => Gram.Cross(3, 3, 4, 1f, new float[12], 4, new float[12], 4, 0f, new float[8], 3)).ParamName);
        Assert.All(c, v => Assert.Equal(0.0, v));
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(0.37)]
    [InlineData(0.0)]
    public void DiagonalDots_are_bitwise_the_diagonal_of_every_Gram_product(double alpha)
    {
        int[] ds = [1, 7, 8, 9, 255, 256, 257, 511, 512, 513, 784, 1000];
        int[] counts = [0, 1, 3, 4, 5, 9, 70];
        int seed = 100;
        foreach (int d in ds)
            foreach (int count in counts)
            {
                seed++;
                int start = seed % 3, n = start + count;
                var rnd = new Random(seed);
                double[] x = new double[Math.Max(1, n * d)];
                for (int i = 0; i < x.Length; i++) x[i] = rnd.NextDouble() * 2 - 1;
                var dots = new double[count];
                Gram.DiagonalDots(x, d, start, count, alpha, dots);
                if (count == 0) continue;
                var syrk = new double[count * count];
                Gram.Syrk(count, d, alpha, x.AsSpan(start * d), d, 0.0, syrk, count);
                var one = new double[1];
                for (int i = 0; i < count; i++)
                {
                    ReadOnlySpan<double> xi = x.AsSpan((start + i) * d, d);
                    Gram.Cross(1, 1, d, alpha, xi, d, xi, d, 0.0, one, 1);
                    Assert.Equal(BitConverter.DoubleToInt64Bits(one[0]), BitConverter.DoubleToInt64Bits(dots[i]));
                    Assert.Equal(BitConverter.DoubleToInt64Bits(syrk[i * count + i]), BitConverter.DoubleToInt64Bits(dots[i]));
                }
            }
    }
}
