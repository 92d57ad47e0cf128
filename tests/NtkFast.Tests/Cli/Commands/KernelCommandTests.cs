using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Numerics;
using Xunit;

using NtkFast.Tests.IO;
using NtkFast.Tests.Kernels;

namespace NtkFast.Tests.Cli.Commands;

/// <summary><c>ntk kernel</c> on the real binary (child process), good and bad input.</summary>
public sealed class KernelCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-kernel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static Matrix ToDouble(float[] data, int rows, int cols)
    {
        var m = new Matrix(rows, cols);
        for (int i = 0; i < data.Length; i++) m.Data[i] = data[i];
        return m;
    }

    [Fact]
    public void Writes_float64_kernels_equal_to_the_library_and_blocks_of_them()
    {
        // X as float32 .npy, X2 as .csv.
        var rng = new Random(5);
        float[] xf = new float[23 * 4];
        for (int i = 0; i < xf.Length; i++) xf[i] = (float)(2 * rng.NextDouble() - 1);
        using (var s = File.Create(P("x.npy"))) Npy.Write(s, xf, [23, 4]);
        Matrix x2 = TestData.Random(6, 4, 6);
        MatrixFile.Write(P("x2.csv"), x2);
        Matrix x = ToDouble(xf, 23, 4);
        Matrix x2Read = MatrixFile.Read(P("x2.csv"));

        CliResult r = CliRunner.Run("kernel", "--x", P("x.npy"), "--depth", "3", "--activation", "identity", "--beta", "0.2",
            "--weight-std", "1.5", "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        var spec = new KernelSpec(3, NtkFast.Activations.ActivationRegistry.Parse("identity"), 0.2, 1.5);
        KernelResult lib = InfiniteWidth.Compute(spec, x);
        Assert.Equal(lib.Ntk!.Data, MatrixFile.Read(P("t.npy")).Data);
        Assert.Equal(lib.Nngp!.Data, MatrixFile.Read(P("s.npy")).Data);
        NpyArray raw = Npy.Read(P("t.npy"));
        Assert.Equal([23, 23], raw.Shape.ToArray());

        // A block, rectangular, frozen layer: the same bits as the block of the library's full result.
        r = CliRunner.Run("kernel", "--x", P("x.npy"), "--x2", P("x2.csv"), "--depth", "3", "--activation", "identity",
            "--trainable-from", "1", "--rows", "5:17", "--cols", "2:", "--out-ntk", P("tb.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Matrix full = InfiniteWidth.Compute(new KernelSpec(3, spec.Activation, 0.1, 1.0, 1), x, x2Read, KernelOutputs.Ntk).Ntk!;
        Matrix block = MatrixFile.Read(P("tb.npy"));
        Assert.Equal((12, 4), (block.Rows, block.Cols));
        for (int i = 0; i < 12; i++) for (int j = 0; j < 4; j++) Assert.Equal(full[5 + i, 2 + j], block[i, j]);
        Assert.False(File.Exists(P("s2.npy")));
    }

    [Fact]
    public void Help_lists_every_option()
    {
        CliResult r = CliRunner.Run("kernel", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (string o in new[] { "--x ", "--x2", "--depth", "--activation", "--beta", "--weight-std", "--trainable-from", "--quadrature-degree", "--rows", "--cols", "--out-ntk", "--out-nngp" })
            Assert.Contains(o, r.StdOut, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "missing", "file not found" },
        { "npy_complex128.npy", "unsupported dtype" },
        { "npy_3d.npy", "3-D" },
        { "npy_header_bad_fortran.npy", "fortran_order" },
        { "npy_nan.npy", "NaN" },
        { "npy_inf.npy", "Inf" },
        { "npy_truncated_data.npy", "--x" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_files_fail_cleanly_without_output(string file, string message)
    {
        string path = file == "missing" ? P("nope.npy") : Path.Combine(TestPaths.BadInputs, file);
        CliResult r = CliRunner.Run("kernel", "--x", path, "--depth", "2", "--activation", "identity", "--out-ntk", P("t.npy"));
        CliRunner.AssertCleanFailure(r, 2, message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Fortran_order_npy_is_read_as_its_logical_matrix()
    {
        string f = Path.Combine(TestPaths.BadInputs, "ok_fortran_f8.npy");
        CliResult r = CliRunner.Run("kernel", "--x", f, "--depth", "1", "--activation", "identity", "--beta", "0", "--out-nngp", P("s.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Matrix x = MatrixFile.Read(f); // 3×4 with values (i·4 + j)/8
        Matrix s = MatrixFile.Read(P("s.npy"));
        double dot01 = 0;
        for (int k = 0; k < 4; k++) dot01 += (k / 8.0) * ((4 + k) / 8.0);
        Assert.Equal(dot01 / 4, s[0, 1], 14);
        Assert.Equal((3, 3), (s.Rows, s.Cols));
        Assert.Equal(11 / 8.0, x[2, 3]);
    }

    public static TheoryData<string[], string> BadOptions => new()
    {
        { ["--depth", "0", "--activation", "identity", "--out-ntk", "T"], "--depth must be at least 1" },
        { ["--depth", "2", "--activation", "frobnicate", "--out-ntk", "T"], "frobnicate" },
        { ["--depth", "2", "--activation", "identity"], "--out-ntk and/or --out-nngp" },
        { ["--depth", "2", "--activation", "identity", "--x2", "X3", "--out-ntk", "T"], "--x2 has 3" },
        { ["--depth", "2", "--activation", "identity", "--rows", "4:2", "--out-ntk", "T"], "--rows" },
        { ["--depth", "2", "--activation", "identity", "--cols", "0:99", "--out-ntk", "T"], "--cols" },
        { ["--depth", "2", "--activation", "identity", "--trainable-from", "2", "--out-ntk", "T"], "--trainable-from" },
        { ["--depth", "2", "--activation", "identity", "--out-ntk", "T", "--out-nngp", "T"], "same file" },
        { ["--depth", "2", "--activation", "identity", "--out-ntk", "T.csv"], "must end in .npy" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_fail_cleanly_without_output(string[] options, string message)
    {
        MatrixFile.Write(P("x.npy"), TestData.Random(5, 2, 1));
        MatrixFile.Write(P("x3.npy"), TestData.Random(5, 3, 1));
        string[] args = ["kernel", "--x", P("x.npy"), .. options.Select(o => o switch { "T" => P("t.npy"), "T.csv" => P("t.csv"), "X3" => P("x3.npy"), _ => o })];
        CliResult r = CliRunner.Run(args);
        CliRunner.AssertCleanFailure(r, 2, message);
        Assert.Equal(2, Directory.GetFiles(_dir).Length); // only the inputs
    }
}
