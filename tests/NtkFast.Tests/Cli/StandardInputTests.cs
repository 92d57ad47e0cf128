using NtkFast.IO;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli;

/// <summary>
/// "-" reads a data matrix from standard input (issue 17 item 2): .npy, .npz (-:NAME) and .csv are
/// recognised by their first bytes, give bitwise the result of the same file, and misuse (nothing
/// piped, two options reading it, an .npz without a member name) is one clear line, exit 2.
/// </summary>
public sealed class StandardInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-stdin").FullName;
    private readonly double[] _x;

    public StandardInputTests()
    {
        var rng = new Random(7);
        _x = new double[6 * 3];
        for (int i = 0; i < _x.Length; i++) _x[i] = rng.NextDouble() * 2 - 1;
        Npy.Write(P("x.npy"), NpyArray.FromFloat64(_x, 6, 3));
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private string[] Kernel(string x, string outName) =>
        ["kernel", "--x", x, "--depth", "3", "--activation", "relu", "--out-ntk", P(outName), "--out-nngp", P("s-" + outName)];

    private byte[] Bytes(Action<Stream> write)
    {
        using var ms = new MemoryStream();
        write(ms);
        return ms.ToArray();
    }

    [Fact]
    public void Npy_csv_and_npz_on_stdin_give_the_files_result_bitwise()
    {
        Assert.Equal(0, CliRunner.Run(Kernel(P("x.npy"), "ref.npy")).ExitCode);
        double[] expected = Npy.Read(P("ref.npy")).Float64!;

        CliResult npy = CliRunner.RunWithInput(File.ReadAllBytes(P("x.npy")), Kernel("-", "npy.npy"));
        Assert.True(npy.ExitCode == 0, npy.StdErr);
        Assert.Equal(expected, Npy.Read(P("npy.npy")).Float64);

        byte[] csv = Bytes(s => MatrixFile.WriteCsv(s, _x, 6, 3));
        CliResult c = CliRunner.RunWithInput(csv, Kernel("-", "csv.npy"));
        Assert.True(c.ExitCode == 0, c.StdErr);
        Assert.Equal(expected, Npy.Read(P("csv.npy")).Float64);

        byte[] npz = Bytes(s => Npz.Write(s, [new("other", NpyArray.FromFloat64([1, 2], 1, 2)), new("x", NpyArray.FromFloat64(_x, 6, 3))]));
        CliResult z = CliRunner.RunWithInput(npz, Kernel("-:x", "npz.npy"));
        Assert.True(z.ExitCode == 0, z.StdErr);
        Assert.Equal(expected, Npy.Read(P("npz.npy")).Float64);

        CliRunner.AssertCleanFailure(CliRunner.RunWithInput(npz, Kernel("-", "bad.npy")), 2, "--x -: holds 2 arrays ('other', 'x'); name the one to read as -:NAME");
        Assert.False(File.Exists(P("bad.npy")));
    }

    [Fact]
    public void Predict_reads_its_training_points_from_stdin()
    {
        Npy.Write(P("y.npy"), NpyArray.FromFloat64([1, -1, 0.5, 0, 2, -2], 6, 1));
        string[] Args(string x, string o) => ["predict", "--x", x, "--y", P("y.npy"), "--x-test", P("x.npy"), "--depth", "2", "--activation", "erf", "--out", P(o)];
        Assert.Equal(0, CliRunner.Run(Args(P("x.npy"), "p-ref.npy")).ExitCode);
        CliResult r = CliRunner.RunWithInput(File.ReadAllBytes(P("x.npy")), Args("-", "p.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(Npy.Read(P("p-ref.npy")).Float64, Npy.Read(P("p.npy")).Float64);
    }

    [Fact]
    public void Misuse_of_stdin_is_one_line()
    {
        byte[] npy = File.ReadAllBytes(P("x.npy"));
        string[] both = ["kernel", "--x", "-", "--x2", "-", "--depth", "2", "--activation", "relu", "--out-ntk", P("k.npy")];
        CliRunner.AssertCleanFailure(CliRunner.RunWithInput(npy, both), 2, "standard input can be read by one option only");
        CliRunner.AssertCleanFailure(CliRunner.RunWithInput([], Kernel("-", "k.npy")), 2, "ntk kernel: --x -: standard input is empty");
        CliRunner.AssertCleanFailure(CliRunner.RunWithInput(npy, Kernel("-:x", "k.npy")), 2, "holds a .npy, not an .npz");
        // the usual checks apply to what arrives: a NaN is named with its position
        double[] bad = (double[])_x.Clone();
        bad[4] = double.NaN;
        byte[] nan = Bytes(s => Npy.Write(s, bad, [6, 3]));
        CliRunner.AssertCleanFailure(CliRunner.RunWithInput(nan, Kernel("-", "k.npy")), 2, "--x -: contains NaN at row 1, column 1");
        Assert.False(File.Exists(P("k.npy")));
    }

    /// <summary>Outputs stay files: "-" for an output is one line naming standard output (not "unsupported file type ''"), exit 2, nothing on stdout.</summary>
    [Fact]
    public void Dash_for_an_output_is_one_line_naming_standard_output()
    {
        Npy.Write(P("y.npy"), NpyArray.FromFloat64([1, -1, 0.5, 0, 2, -2], 6, 1));
        string[] predict = ["predict", "--x", P("x.npy"), "--y", P("y.npy"), "--x-test", P("x.npy"), "--depth", "2", "--activation", "erf"];
        foreach (string[] args in (string[][])[
            [.. predict, "--out", "-"], [.. predict, "--out", P("p.npy"), "--out-train", "-"],
            ["kernel", "--x", P("x.npy"), "--depth", "2", "--activation", "relu", "--out-ntk", "-"]])
        {
            string option = args[Array.LastIndexOf(args, "-") - 1];
            CliResult r = CliRunner.Run(args);
            CliRunner.AssertCleanFailure(r, 2, $"option {option}: '-' (standard output) is not supported for outputs");
            Assert.Equal("", r.StdOut);
        }
        Assert.False(File.Exists(P("p.npy")));
    }
}
