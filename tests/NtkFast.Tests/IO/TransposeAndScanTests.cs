using NtkFast.Numerics;
using NtkFast.Tiling;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>The tile transpose (AVX 4×4 and element paths) and the non-finite scan (256/128-bit and scalar) against plain loops.</summary>
public class TransposeAndScanTests
{
    public static TheoryData<int, int, int> Shapes()
    {
        var d = new TheoryData<int, int, int>();
        int[] sizes = [1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 65];
        foreach (int r in sizes)
            foreach (int c in sizes)
                d.Add(r, c, (r * 7 + c) % 3);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Transpose_matches_a_plain_loop(int rows, int cols, int pad)
    {
        int ld = cols + pad;
        var src = new double[(rows - 1) * ld + cols];
        for (int i = 0; i < src.Length; i++) src[i] = i * 1.25 - 3;
        var expect = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) expect[j * rows + i] = src[i * ld + j];
        foreach (bool avx in new[] { false, true })
        {
            var dst = new double[rows * cols + 3];
            dst.AsSpan().Fill(double.NaN);
            NpyTileFile.TransposeCore(src, ld, rows, cols, dst, avx);
            Assert.Equal(expect, dst.AsSpan(0, rows * cols).ToArray());
            Assert.True(double.IsNaN(dst[rows * cols]));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1000)]
    public void The_non_finite_scan_finds_the_first_bad_entry_on_every_path(int n)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (i % 5 - 2) * 1e300;
        foreach (int bits in new[] { 0, 128, 256 })
        {
            Assert.Equal(-1, FiniteScan.IndexOfNonFinite(v, bits));
            foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                for (int at = 0; at < n; at += Math.Max(1, n / 7))
                {
                    var w = (double[])v.Clone();
                    w[at] = bad;
                    if (at + 3 < n) w[at + 3] = double.NaN;
                    Assert.Equal(at, FiniteScan.IndexOfNonFinite(w, bits));
                }
        }
        Assert.Equal(-1, FiniteScan.IndexOfNonFinite(v));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void The_block_transposes_match_a_plain_loop_for_both_types(int rows, int cols, int pad)
    {
        int lds = cols + pad, ldd = rows + (pad + 1) % 3;
        var sd = new double[(rows - 1) * lds + cols];
        var sf = new float[sd.Length];
        for (int i = 0; i < sd.Length; i++) { sd[i] = i * 0.5 - 7; sf[i] = (float)(i * 0.25 - 3); }
        foreach (bool vector in new[] { false, true })
        {
            var dd = new double[(cols - 1) * ldd + rows + 2];
            var df = new float[dd.Length];
            dd.AsSpan().Fill(double.NaN);
            df.AsSpan().Fill(float.NaN);
            fixed (double* ps = sd, pd = dd)
                BlockTranspose.Double(ps, lds, rows, cols, pd, ldd, vector);
            fixed (float* ps = sf, pd = df)
                BlockTranspose.Single(ps, lds, rows, cols, pd, ldd, vector);
            for (int c = 0; c < cols; c++)
                for (int r = 0; r < ldd && c * ldd + r < dd.Length; r++)
                {
                    int k = c * ldd + r;
                    if (r < rows)
                    {
                        Assert.Equal(sd[r * lds + c], dd[k]);
                        Assert.Equal(sf[r * lds + c], df[k]);
                    }
                    else
                    {
                        Assert.True(double.IsNaN(dd[k]));
                        Assert.True(float.IsNaN(df[k]));
                    }
                }
        }
    }
}
