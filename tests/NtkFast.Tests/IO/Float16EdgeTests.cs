using System.Buffers.Binary;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>
/// float16 .npy edge values through the data readers (issue #18 row 6): every finite half — subnormals, ±0,
/// ±65504 — becomes exactly its float64 value, in both byte orders, from a file, an .npz member and standard
/// input; ±Inf and every NaN are refused with one line naming the position, and `ntk` exits 2 with no output.
/// </summary>
public sealed class Float16EdgeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-f16-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>The value of the IEEE binary16 pattern <paramref name="h"/>, computed without System.Half.</summary>
    private static double Reference(ushort h)
    {
        int e = (h >> 10) & 0x1F, m = h & 0x3FF;
        double v = e == 0 ? m * Math.Pow(2, -24) : (1024 + m) * Math.Pow(2, e - 25);
        return (h & 0x8000) != 0 ? -v : v;
    }

    private static byte[] Halves(IReadOnlyList<ushort> bits, bool bigEndian)
    {
        var b = new byte[bits.Count * 2];
        for (int i = 0; i < bits.Count; i++)
            if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2 * i), bits[i]);
            else BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2 * i), bits[i]);
        return b;
    }

    private static bool IsFinite(ushort h) => ((h >> 10) & 0x1F) != 0x1F;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_finite_half_converts_exactly(bool bigEndian)
    {
        ushort[] all = Enumerable.Range(0, 1 << 16).Select(i => (ushort)i).Where(IsFinite).ToArray();
        Assert.Equal(63488, all.Length);
        string descr = bigEndian ? ">f2" : "<f2";
        File.WriteAllBytes(P("all.npy"), BadInputCorpus.NpyBytes(descr, $"({all.Length},)", Halves(all, bigEndian)));
        double[] got = MatrixFile.Read(P("all.npy"), "--x").Data;
        Assert.Equal(all.Length, got.Length);
        for (int i = 0; i < all.Length; i++)
            if (BitConverter.DoubleToInt64Bits(got[i]) != BitConverter.DoubleToInt64Bits(Reference(all[i])))
                Assert.Fail($"half 0x{all[i]:X4}: read {got[i]:R}, expected {Reference(all[i]):R}");

        // the named edges, as numbers (the reference above is checked too)
        (ushort Bits, double Value)[] edges =
        [
            (0x0001, Math.Pow(2, -24)),        // smallest subnormal
            (0x03FF, 1023 * Math.Pow(2, -24)), // largest subnormal
            (0x8001, -Math.Pow(2, -24)),
            (0x0400, Math.Pow(2, -14)),        // smallest normal
            (0x7BFF, 65504), (0xFBFF, -65504), // ±max
            (0x8000, -0.0),
        ];
        File.WriteAllBytes(P("edges.npy"), BadInputCorpus.NpyBytes(descr, $"({edges.Length}, 1)", Halves([.. edges.Select(e => e.Bits)], bigEndian)));
        double[] e = MatrixFile.Read(P("edges.npy")).Data;
        for (int i = 0; i < edges.Length; i++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(edges[i].Value), BitConverter.DoubleToInt64Bits(e[i]));
    }

    public static TheoryData<ushort, string> NonFinite => new()
    {
        { 0x7C00, "+Inf" }, { 0xFC00, "-Inf" }, { 0x7E00, "NaN" }, { 0x7C01, "NaN" /* signalling */ }, { 0xFE00, "NaN" /* negative */ }, { 0xFFFF, "NaN" },
    };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Infinities_and_NaNs_are_refused_naming_the_position(ushort bits, string what)
    {
        ushort[] m = [0x3C00, 0x0001, 0x7BFF, 0x0000, 0x8000, bits]; // 2×3, the bad value at (1, 2)
        foreach (bool big in (bool[])[false, true])
        {
            byte[] npy = BadInputCorpus.NpyBytes(big ? ">f2" : "<f2", "(2, 3)", Halves(m, big));
            File.WriteAllBytes(P("bad.npy"), npy);
            var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("bad.npy"), "--x"));
            Assert.Equal($"--x {P("bad.npy")}: contains {what} at row 1, column 2 (0-based)", e.Message);

            File.WriteAllBytes(P("bad.npz"), BadInputCorpus.Zip(("x.npy", npy)));
            e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("bad.npz") + ":x", "--x"));
            Assert.Contains($"contains {what} at row 1, column 2 (0-based)", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    /// <summary>Through `ntk`: a float16 training set with +Inf (file and standard input) is exit 2, one line, no output; ±max and subnormals give finite kernels.</summary>
    [Fact]
    public void Ntk_refuses_a_float16_infinity_and_computes_with_the_edges()
    {
        byte[] bad = BadInputCorpus.NpyBytes("<f2", "(2, 2)", Halves([0x3C00, 0x7C00, 0x0001, 0x3C00], false));
        File.WriteAllBytes(P("inf.npy"), bad);
        CliResult r = CliRunner.Run("kernel", "--x", P("inf.npy"), "--depth", "2", "--activation", "relu", "--out-ntk", P("t.npy"));
        CliRunner.AssertCleanFailure(r, 2, "contains +Inf at row 0, column 1");
        r = CliRunner.RunWithInput(bad, "kernel", "--x", "-", "--depth", "2", "--activation", "relu", "--out-ntk", P("t.npy"));
        CliRunner.AssertCleanFailure(r, 2, "contains +Inf at row 0, column 1");
        Assert.False(File.Exists(P("t.npy")));
        // a precomputed kernel in float16 (not mapped: read through the same reader)
        File.WriteAllBytes(P("k.npy"), BadInputCorpus.NpyBytes("<f2", "(2, 2)", Halves([0x4000, 0x3C00, 0x3C00, 0xFC00], false)));
        File.WriteAllBytes(P("kx.npy"), BadInputCorpus.NpyBytes("<f2", "(1, 2)", Halves([0x3C00, 0x3800], false)));
        File.WriteAllLines(P("y.csv"), ["1", "2"]);
        r = CliRunner.Run("predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--y", P("y.csv"), "--out", P("p.npy"));
        CliRunner.AssertCleanFailure(r, 2, "contains -Inf at row 1, column 1");
        Assert.False(File.Exists(P("p.npy")));
        Assert.Empty(AtomicFileTests.Temporaries(_dir));

        File.WriteAllBytes(P("edges.npy"), BadInputCorpus.NpyBytes("<f2", "(3, 2)", Halves([0x7BFF, 0xFBFF, 0x0001, 0x03FF, 0x8001, 0x3C00], false)));
        r = CliRunner.Run("kernel", "--x", P("edges.npy"), "--depth", "2", "--activation", "relu", "--out-ntk", P("t.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        NpyArray t = Npy.Read(P("t.npy"));
        Assert.Equal([3, 3], t.Shape);
        Assert.All(t.Float64!, v => Assert.True(double.IsFinite(v)));
        // Σ(1)(x0, x0) = ‖x0‖²/2 + β² with x0 = (65504, −65504): the max is read exactly (2·65504²/2 = 65504²)
        Assert.True(t.Float64![0] >= 65504.0 * 65504.0, $"Θ(x0, x0) = {t.Float64[0]}");
    }
}
