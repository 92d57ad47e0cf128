using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Networks;

public class GaussianStreamTests
{
    /// <summary>Sequential SplitMix64 (state += γ, then mix), written independently of the library.</summary>
    private static ulong[] SplitMix64Sequence(ulong seed, int count)
    {
        static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
        ulong state = Mix(seed);
        var r = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            r[i] = Mix(state);
        }
        return r;
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(12345UL)]
    [InlineData(ulong.MaxValue)]
    public void Stream_matches_sequential_splitmix_and_libm_box_muller(ulong seed)
    {
        const int n = 2000;
        ulong[] bits = SplitMix64Sequence(seed, n);
        var z = new double[n];
        GaussianStream.Fill(seed, 0, z);
        for (int j = 0; j < n / 2; j++)
        {
            Assert.Equal(bits[2 * j], GaussianStream.Bits(seed, 2 * j));
            double u1 = ((bits[2 * j] >> 11) + 1) / 9007199254740992.0;
            double u2 = (bits[2 * j + 1] >> 11) / 9007199254740992.0;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            Assert.Equal(r * Math.Cos(2 * Math.PI * u2), z[2 * j], 1e-13);
            Assert.Equal(r * Math.Sin(2 * Math.PI * u2), z[2 * j + 1], 1e-13);
        }
    }

    [Fact]
    public void Portable_log_and_sincos_agree_with_libm_to_a_few_ulps()
    {
        var rng = new Random(7);
        for (int i = 0; i < 30_000; i++)
        {
            double u = i < 10 ? Math.Pow(2, -53 + 5 * i) : rng.NextDouble();
            if (u == 0) u = 1;
            double l = GaussianStream.Log(u), lr = Math.Log(u);
            Assert.True(Math.Abs(l - lr) <= 4e-16 * Math.Abs(lr) + 1e-300, $"log({u}) = {l}, libm {lr}");
            GaussianStream.SinCosTwoPi(u, out double s, out double c);
            Assert.True(Math.Abs(s - Math.Sin(2 * Math.PI * u)) <= 1e-15, $"sin(2π·{u})");
            Assert.True(Math.Abs(c - Math.Cos(2 * Math.PI * u)) <= 1e-15, $"cos(2π·{u})");
        }
        Assert.Equal(0.0, GaussianStream.Log(1.0));
        foreach (double u in new[] { 0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875 })
        {
            GaussianStream.SinCosTwoPi(u, out double s, out double c);
            Assert.Equal(Math.Sin(2 * Math.PI * u), s, 1e-15);
            Assert.Equal(Math.Cos(2 * Math.PI * u), c, 1e-15);
        }
    }

    [Fact]
    public void Moments_and_tail_fractions_are_standard_normal()
    {
        const int n = 1 << 20;
        var z = new double[n];
        GaussianStream.FillParallel(42UL, 0, z);
        double m1 = 0, m2 = 0, m4 = 0;
        int in1 = 0, in2 = 0;
        foreach (double v in z)
        {
            m1 += v; m2 += v * v; m4 += v * v * v * v;
            if (Math.Abs(v) < 1) in1++;
            if (Math.Abs(v) < 2) in2++;
        }
        m1 /= n; m2 /= n; m4 /= n;
        // 5-sigma bands for the sample statistics of 2^20 draws.
        Assert.InRange(m1, -5 / 1024.0, 5 / 1024.0);
        Assert.InRange(m2, 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
        Assert.InRange(m4, 3 - 5 * Math.Sqrt(96.0 / n), 3 + 5 * Math.Sqrt(96.0 / n));
        Assert.InRange(in1 / (double)n, 0.682689 - 5 * Math.Sqrt(0.2166 / n), 0.682689 + 5 * Math.Sqrt(0.2166 / n));
        Assert.InRange(in2 / (double)n, 0.954500 - 5 * Math.Sqrt(0.0434 / n), 0.954500 + 5 * Math.Sqrt(0.0434 / n));
        // consecutive draws (inside and across Box–Muller pairs) are uncorrelated
        double c01 = 0, c12 = 0;
        for (int i = 0; i + 2 < n; i += 2) { c01 += z[i] * z[i + 1]; c12 += z[i + 1] * z[i + 2]; }
        Assert.InRange(c01 / (n / 2), -5 / Math.Sqrt(n / 2), 5 / Math.Sqrt(n / 2));
        Assert.InRange(c12 / (n / 2), -5 / Math.Sqrt(n / 2), 5 / Math.Sqrt(n / 2));
    }

    [Fact]
    public void Random_access_offsets_and_thread_count_do_not_change_the_stream()
    {
        const int n = 140_003; // > 2 parallel chunks of 65 536
        var whole = new double[n];
        GaussianStream.Fill(9UL, 0, whole);
        foreach (int start in new[] { 0, 1, 2, 7, 65_535, 65_536, 131_073, 140_000 })
        {
            var part = new double[Math.Min(1001, n - start)];
            GaussianStream.Fill(9UL, start, part);
            Assert.Equal(whole.AsSpan(start, part.Length).ToArray(), part);
            Assert.Equal(whole[start], GaussianStream.Normal(9UL, start));
        }
        int saved = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = 1;
            var one = new double[n];
            GaussianStream.FillParallel(9UL, 0, one);
            NtkParallel.MaxThreads = 2;
            var two = new double[n];
            GaussianStream.FillParallel(9UL, 0, two);
            var f = new float[n];
            GaussianStream.FillParallel(9UL, 0, f);
            Assert.Equal(whole, one);
            Assert.Equal(whole, two);
            for (int i = 0; i < n; i++) Assert.Equal((float)whole[i], f[i]);
        }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [Fact]
    public void Different_seeds_give_different_streams()
    {
        var a = new double[64];
        var b = new double[64];
        GaussianStream.Fill(1UL, 0, a);
        GaussianStream.Fill(2UL, 0, b);
        int equal = 0;
        for (int i = 0; i < 64; i++) if (a[i] == b[i]) equal++;
        Assert.Equal(0, equal);
    }
}
