using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.IO;

public sealed class MatrixFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-mf").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Csv(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    [Fact]
    public void Npy_float32_and_float64_roundtrip_and_1d_is_a_column()
    {
        var m = new Matrix(3, 2, [1, 2, 3, 4, 5, 6.25]);
        MatrixFile.Write(P("m.npy"), m);
        Matrix r = MatrixFile.Read(P("m.npy"), "--x");
        Assert.Equal((3, 2), (r.Rows, r.Cols));
        Assert.Equal(m.Data, r.Data);

        Npy.Write(P("y.npy"), NpyArray.FromFloat32([1f, 2f, 3f], 3));
        Matrix y = MatrixFile.Read(P("y.npy"), "--y");
        Assert.Equal((3, 1), (y.Rows, y.Cols));
        Assert.Equal([1.0, 2, 3], y.Data);
    }

    [Fact]
    public void Csv_roundtrip_is_exact()
    {
        var rng = new Random(5);
        var m = new Matrix(7, 9);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-300, 300));
        MatrixFile.Write(P("m.csv"), m);
        Matrix r = MatrixFile.Read(P("m.csv"));
        Assert.Equal((7, 9), (r.Rows, r.Cols));
        Assert.Equal(m.Data, r.Data);
    }

    [Fact]
    public void Csv_header_comments_blank_lines_quotes_and_whitespace_delimiters()
    {
        Matrix a = MatrixFile.Read(Csv("a.csv", "# written by hand\nx1, x2\n1,2\n\n\"3\", 4.5e0\r\n"));
        Assert.Equal((2, 2), (a.Rows, a.Cols));
        Assert.Equal([1.0, 2, 3, 4.5], a.Data);

        Matrix b = MatrixFile.Read(Csv("b.csv", "1.0e+00 2.0e+00\n3 \t 4\n")); // numpy.savetxt default
        Assert.Equal([1.0, 2, 3, 4], b.Data);

        Matrix c = MatrixFile.Read(Csv("c.csv", "5\n6\n7")); // one column, no trailing newline
        Assert.Equal((3, 1), (c.Rows, c.Cols));
    }

    [Theory]
    [InlineData("1,2\n3\n", "line 2 has 1 values, expected 2 (as on line 1)")]
    [InlineData("a,b\n1,2,3\n", "line 2 has 3 values, expected 2 (as on line 1)")]
    [InlineData("1,2\n3,abc\n", "line 2, column 2: 'abc' is not a number")]
    [InlineData("x,1\n2,3\n", "line 1, column 1: 'x' is not a number")]
    [InlineData("1,2\n3,nan\n", "line 2, column 2: nan is not allowed")]
    [InlineData("1,-inf\n", "line 1, column 2: -inf is not allowed")]
    [InlineData("1,1e999\n", "line 1, column 2: 1e999 is not allowed")]
    [InlineData("1,,2\n", "line 1, column 2: empty value")]
    [InlineData("a,b\n", "has 0 rows")]
    [InlineData("", "is empty (0 bytes)")]
    [InlineData("# only a comment\n\n", "has 0 rows")]
    public void Csv_errors_name_the_line_and_column(string text, string expected)
    {
        string p = Csv("bad.csv", text);
        var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(p, "--x"));
        Assert.StartsWith($"--x {p}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(double.NaN, "contains NaN at row 2, column 1 (0-based)")]
    [InlineData(double.PositiveInfinity, "contains +Inf at row 2, column 1 (0-based)")]
    [InlineData(double.NegativeInfinity, "contains -Inf at row 2, column 1 (0-based)")]
    public void Npy_non_finite_values_are_located(double bad, string expected)
    {
        var d = new double[12];
        d[2 * 4 + 1] = bad;
        d[11] = double.NaN; // a later one must not be the one reported
        Npy.Write(P("x.npy"), NpyArray.FromFloat64(d, 3, 4));
        var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("x.npy"), "--x"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 0, 3 }, "has 0 rows")]
    [InlineData(new[] { 3, 0 }, "has 0 columns")]
    [InlineData(new[] { 0 }, "has 0 rows")]
    [InlineData(new int[0], "0-d scalar")]
    [InlineData(new[] { 2, 2, 2 }, "is 3-D with shape (2, 2, 2)")]
    public void Npy_bad_shapes(int[] shape, string expected)
    {
        Npy.Write(P("s.npy"), NpyArray.FromFloat64(new double[NpyArray.CountOf(shape)], shape));
        var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("s.npy"), "--x"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_npy_unknown_extension_and_missing_file()
    {
        Npy.Write(P("t.npy"), NpyArray.FromText("relu"));
        Assert.Contains("holds text", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("t.npy"))).Message, StringComparison.Ordinal);
        File.WriteAllText(P("x.txt"), "1,2");
        Assert.Contains("unsupported file type '.txt'", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("x.txt"))).Message, StringComparison.Ordinal);
        var nf = Assert.Throws<FileNotFoundException>(() => MatrixFile.Read(P("nope.npy"), "--x"));
        Assert.Equal(P("nope.npy"), nf.FileName);
        Assert.Throws<ArgumentException>(() => MatrixFile.Write(P("o.txt"), new Matrix(1, 1)));
    }

    [Fact]
    public void Uppercase_extension_is_accepted()
    {
        MatrixFile.Write(P("M.NPY"), new Matrix(1, 2, [3, 4]));
        Assert.Equal([3.0, 4], MatrixFile.Read(P("M.NPY")).Data);
    }
}
