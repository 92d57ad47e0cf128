using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

public class NpyTests
{
    private static string NumpyFile(string name) => Path.Combine(TestPaths.BadInputs, "numpy", name);

    /// <summary>The values numpy wrote: np.arange(n).reshape(shape) / 8 (exact in float32).</summary>
    private static double[] Arange8(int n) => Enumerable.Range(0, n).Select(i => i / 8.0).ToArray();

    /// <summary>
    /// Data goes through the stream in pieces (arrays of 2 GiB and more have more bytes than a Span&lt;byte&gt;
    /// can count: a 16384² kernel failed to write before): with the piece size shrunk to a few elements,
    /// every length round-trips bit for bit. (Other tests running meanwhile only see smaller pieces.)
    /// </summary>
    [Fact]
    public void Raw_data_round_trips_through_many_pieces()
    {
        int saved = Npy.RawChunkBytes;
        try
        {
            Npy.RawChunkBytes = 24; // 3 doubles or 6 floats per piece
            foreach (int n in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 17, 64, 65 })
            {
                double[] d = Enumerable.Range(0, n).Select(i => Math.ScaleB(1.0 + i / 7.0, i % 41 - 20)).ToArray();
                float[] f = d.Select(v => (float)v).ToArray();
                var ms = new MemoryStream();
                Npy.Write(ms, d, [n]);
                ms.Position = 0;
                Assert.Equal(d, Npy.Read(ms).Float64!);
                ms = new MemoryStream();
                Npy.Write(ms, f, [n]);
                ms.Position = 0;
                Assert.Equal(f, Npy.Read(ms).Float32!);
            }
        }
        finally
        {
            Npy.RawChunkBytes = saved;
        }
    }

    [Theory]
    [InlineData("c_f8_3x4.npy", NpyDType.Float64)]
    [InlineData("c_f4_3x4.npy", NpyDType.Float32)]
    [InlineData("bigendian_f8_3x4.npy", NpyDType.Float64)]
    [InlineData("bigendian_f4_3x4.npy", NpyDType.Float32)]
    [InlineData("fortran_f8_3x4.npy", NpyDType.Float64)]
    public void Reads_files_written_by_numpy(string file, NpyDType dtype)
    {
        NpyArray a = Npy.Read(NumpyFile(file));
        Assert.Equal(dtype, a.DType);
        Assert.Equal([3, 4], a.Shape);
        Assert.Equal(Arange8(12), a.ToDoubleArray());
    }

    [Fact]
    public void Fortran_order_3d_is_converted_to_C_order()
    {
        NpyArray a = Npy.Read(NumpyFile("fortran_f4_2x3x4.npy"));
        Assert.Equal([2, 3, 4], a.Shape);
        Assert.Equal(Arange8(24), a.ToDoubleArray());
    }

    [Fact]
    public void FortranToC_matches_index_arithmetic_for_rank_4()
    {
        int[] shape = [2, 3, 1, 5];
        int n = 30;
        var f = new int[n];
        // element (i,j,k,l) sits at i + 2j + 6k + 6l in Fortran order; store its C index there
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int l = 0; l < 5; l++)
                    f[i + 2 * j + 6 * l] = ((i * 3 + j) * 1 + 0) * 5 + l;
        int[] c = Npy.FortranToC(f, shape);
        Assert.Equal(Enumerable.Range(0, n).ToArray(), c);
    }

    [Fact]
    public void Reads_scalar_and_text_written_by_numpy()
    {
        NpyArray s = Npy.Read(NumpyFile("scalar_2.5.npy"));
        Assert.Empty(s.Shape);
        Assert.Equal(2.5, s.ToScalar());
        Assert.Equal("leaky_relu:0.2", Npy.Read(NumpyFile("text_leaky_relu.npy")).Text);
        Assert.Equal("é😀x", Npy.Read(NumpyFile("text_nonascii.npy")).Text);
    }

    [Fact]
    public void Rejects_int64_naming_file_and_dtype()
    {
        string path = NumpyFile("int64_3.npy");
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path));
        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains("'<i8'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Written_files_are_byte_identical_to_numpy()
    {
        // numpy.save of the same arrays (committed files) is the independent reference for the header layout.
        var ms = new MemoryStream();
        Npy.Write(ms, NpyArray.FromFloat64(Arange8(12), 3, 4));
        Assert.Equal(File.ReadAllBytes(NumpyFile("c_f8_3x4.npy")), ms.ToArray());

        ms = new MemoryStream();
        Npy.Write(ms, NpyArray.FromFloat32(Arange8(12).Select(v => (float)v).ToArray(), 3, 4));
        Assert.Equal(File.ReadAllBytes(NumpyFile("c_f4_3x4.npy")), ms.ToArray());

        ms = new MemoryStream();
        Npy.Write(ms, NpyArray.Scalar(2.5));
        Assert.Equal(File.ReadAllBytes(NumpyFile("scalar_2.5.npy")), ms.ToArray());

        ms = new MemoryStream();
        Npy.Write(ms, NpyArray.FromText("leaky_relu:0.2"));
        Assert.Equal(File.ReadAllBytes(NumpyFile("text_leaky_relu.npy")), ms.ToArray());

        ms = new MemoryStream();
        Npy.Write(ms, NpyArray.FromText("é😀x"));
        Assert.Equal(File.ReadAllBytes(NumpyFile("text_nonascii.npy")), ms.ToArray());
    }

    public static TheoryData<int[]> Shapes => new()
    {
        Array.Empty<int>(), new[] { 0 }, new[] { 1 }, new[] { 7 }, new[] { 0, 5 }, new[] { 5, 0 }, new[] { 1, 1 },
        new[] { 9, 17 }, new[] { 64, 65 }, new[] { 2, 3, 4 }, new[] { 1, 1, 1, 1, 1, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Roundtrips_every_shape_in_both_precisions(int[] shape)
    {
        int n = (int)NpyArray.CountOf(shape);
        var rng = new Random(n + shape.Length);
        double[] d = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2e3 - 1e3).ToArray();
        float[] f = d.Select(v => (float)v).ToArray();
        foreach (NpyArray a in new[] { NpyArray.FromFloat64(d, shape), NpyArray.FromFloat32(f, shape) })
        {
            var ms = new MemoryStream();
            Npy.Write(ms, a);
            Assert.Equal(0, (ms.Length - n * (a.DType == NpyDType.Float64 ? 8 : 4)) % 64); // header aligned like numpy
            ms.Position = 0;
            NpyArray b = Npy.Read(ms, "mem");
            Assert.Equal(a.DType, b.DType);
            Assert.Equal(shape, b.Shape);
            Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        }
    }

    [Fact]
    public void Roundtrips_empty_and_long_text()
    {
        foreach (string t in new[] { "", "relu", new string('x', 300), "ünïcødé 🎉" })
        {
            var ms = new MemoryStream();
            Npy.Write(ms, NpyArray.FromText(t));
            ms.Position = 0;
            Assert.Equal(t, Npy.Read(ms).Text);
        }
    }

    [Fact]
    public void Reads_from_non_seekable_stream()
    {
        byte[] bytes = File.ReadAllBytes(NumpyFile("c_f8_3x4.npy"));
        using var s = new NonSeekable(bytes);
        Assert.Equal(Arange8(12), Npy.Read(s, "pipe").ToDoubleArray());
    }

    [Fact]
    public void Atomic_path_write_then_read()
    {
        string dir = Directory.CreateTempSubdirectory("ntk-npy").FullName;
        try
        {
            string p = Path.Combine(dir, "a.npy");
            Npy.Write(p, NpyArray.FromFloat64([1, 2, 3], 3));
            Assert.Equal([1.0, 2, 3], Npy.Read(p).ToDoubleArray());
            Assert.Single(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Shape_data_mismatch_is_an_argument_error()
    {
        Assert.Throws<ArgumentException>(() => NpyArray.FromFloat64([1, 2, 3], 2, 2));
        Assert.Throws<ArgumentException>(() => NpyArray.FromFloat64([1, 2], -1, -2));
        Assert.Throws<ArgumentException>(() => Npy.Write(new MemoryStream(), new double[3], [2, 2]));
    }

    internal sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}

public class FortranOrderTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 40)]
    [InlineData(33, 1)]
    [InlineData(31, 33)]
    [InlineData(64, 65)]
    [InlineData(97, 15)]
    public void Two_d_conversion_matches_the_definition_at_tile_edges(int rows, int cols)
    {
        // Fortran element (r, c) is at c·rows + r; store r·cols + c there and expect 0, 1, 2, … back.
        var f = new long[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                f[c * rows + r] = r * cols + c;
        Assert.Equal(Enumerable.Range(0, rows * cols).Select(i => (long)i).ToArray(), NtkFast.IO.Npy.FortranToC(f, [rows, cols]));
    }
}
