using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>MappedNpyMatrix: rows read through the map equal MatrixFile.Read's, the same header/size/finite checks and messages, other layouts left to the in-memory reader.</summary>
public sealed class MappedNpyMatrixTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-mapped-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static Matrix Sample(int rows, int cols)
    {
        var m = new Matrix(rows, cols);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = Math.Sin(i * 0.37) * 1e3 + i;
        return m;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 9)]
    [InlineData(65, 64)]
    public void ReadRows_EqualsInMemoryRead_AnyBlocking(int rows, int cols)
    {
        MatrixFile.Write(P("a.npy"), Sample(rows, cols));
        Matrix whole = MatrixFile.Read(P("a.npy"));
        using MappedNpyMatrix map = MappedNpyMatrix.TryOpen(P("a.npy"))!;
        Assert.Equal((rows, cols), (map.Rows, map.Cols));
        foreach (int b in (int[])[1, 3, 64, 1000])
        {
            var got = new List<double>();
            for (int s = 0; s < rows; s += b) got.AddRange(map.ReadRows(s, Math.Min(b, rows - s)).Data);
            Assert.Equal(whole.Data, got.ToArray());
        }
    }

    [Fact]
    public void OneDimensional_IsOneColumn()
    {
        using (var fs = File.Create(P("v.npy"))) Npy.Write(fs, [1.0, 2.0, 3.0], [3]);
        using MappedNpyMatrix map = MappedNpyMatrix.TryOpen(P("v.npy"))!;
        Assert.Equal((3, 1), (map.Rows, map.Cols));
        Assert.Equal([2.0, 3.0], map.ReadRows(1, 2).Data);
    }

    [Fact]
    public void Float32_IsNotMapped()
    {
        using (var fs = File.Create(P("f.npy"))) Npy.Write(fs, [1f, 2f, 3f, 4f], [2, 2]);
        Assert.Null(MappedNpyMatrix.TryOpen(P("f.npy")));
    }

    [Fact]
    public void FortranOrder_IsNotMapped()
    {
        byte[] c = File.ReadAllBytes(WriteC("c.npy", 2, 3));
        string text = System.Text.Encoding.Latin1.GetString(c);
        File.WriteAllBytes(P("fo.npy"), System.Text.Encoding.Latin1.GetBytes(text.Replace("'fortran_order': False", "'fortran_order': True ", StringComparison.Ordinal)));
        Assert.NotNull(Npy.Read(P("fo.npy")));
        Assert.Null(MappedNpyMatrix.TryOpen(P("fo.npy")));
    }

    private string WriteC(string name, int rows, int cols)
    {
        MatrixFile.Write(P(name), Sample(rows, cols));
        return P(name);
    }

    [Fact]
    public void TruncatedOrPadded_SameMessageAsTheReader()
    {
        byte[] full = File.ReadAllBytes(WriteC("a.npy", 5, 4));
        foreach (byte[] bad in (byte[][])[full[..^1], full[..^8], [.. full, 0], full[..12], full[..3]])
        {
            File.WriteAllBytes(P("bad.npy"), bad);
            var mem = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("bad.npy"), "--kernel-test"));
            var map = Assert.Throws<InvalidDataException>(() => MappedNpyMatrix.TryOpen(P("bad.npy"), "--kernel-test"));
            Assert.Equal(mem.Message, map.Message);
            Assert.DoesNotContain('\n', map.Message);
        }
    }

    [Fact]
    public void NonFinite_SameMessageAsTheReader()
    {
        Matrix a = Sample(6, 5);
        a[4, 2] = double.NegativeInfinity;
        MatrixFile.Write(P("inf.npy"), a);
        var mem = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("inf.npy"), "--kernel-test"));
        using MappedNpyMatrix map = MappedNpyMatrix.TryOpen(P("inf.npy"), "--kernel-test")!;
        Assert.Equal(map.ReadRows(0, 4).Data, a.Data[..20]);
        var e = Assert.Throws<InvalidDataException>(() => map.ReadRows(3, 3));
        Assert.Equal(mem.Message, e.Message);
    }

    [Fact]
    public void ShouldMap_ByThresholdAndKind()
    {
        WriteC("a.npy", 3, 3);
        Assert.False(MappedNpyMatrix.ShouldMap(P("a.npy")));   // far below the default threshold
        Assert.False(MappedNpyMatrix.ShouldMap("-"));
        Assert.False(MappedNpyMatrix.ShouldMap(P("missing.npy")));
    }
}
