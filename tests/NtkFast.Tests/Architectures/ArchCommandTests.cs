using System.Diagnostics;
using NtkFast.Architectures;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Architectures;

/// <summary><c>ntk kernel --arch</c> on the real binary: results equal to the library, bad specs exit 2 with one line.</summary>
public sealed class ArchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-arch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private ImageSet WriteImages(string name, int n, int h, int w, int c, int seed)
    {
        var rng = new Random(seed);
        var d = new double[n * h * w * c];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2 - 1;
        using (var s = File.Create(P(name))) Npy.Write(s, d, [n, h, w, c]);
        return new ImageSet(d, n, h, w, c);
    }

    private static string FindScript(string relative)
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, relative))) return Path.Combine(d.FullName, relative);
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }

    private const string Spec = "conv:4,3x3,same relu conv:4,3x3,same relu gap dense:1";

    [Fact]
    public void Writes_the_library_kernels_and_blocks_of_them()
    {
        ImageSet x = WriteImages("x.npy", 6, 5, 4, 2, 1);
        ImageSet x2 = WriteImages("x2.npy", 3, 5, 4, 2, 2);
        Architecture arch = Architecture.Parse(Spec, 1.2, 0.3);
        CliResult r = CliRunner.Run("kernel", "--arch", Spec, "--x", P("x.npy"), "--weight-std", "1.2", "--beta", "0.3",
            "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        var lib = ArchitectureKernels.Compute(arch, x);
        Assert.Equal(lib.Ntk!.Data, Npy.Read(P("t.npy")).Float64);
        Assert.Equal(lib.Nngp!.Data, Npy.Read(P("s.npy")).Float64);
        Assert.Equal([6, 6], Npy.Read(P("t.npy")).Shape);

        r = CliRunner.Run("kernel", "--arch", Spec, "--x", P("x.npy"), "--x2", P("x2.npy"), "--weight-std", "1.2", "--beta", "0.3",
            "--rows", "2:5", "--out-ntk", P("tb.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        var cross = ArchitectureKernels.ComputeBlock(arch, x, x2, 2, 3, 0, 3);
        Assert.Equal(cross.Ntk!.Data, Npy.Read(P("tb.npy")).Float64);

        // Spec from a file; a tile size smaller than the matrix (the tiled writer): same bits.
        File.WriteAllText(P("net.arch"), Spec + "\n");
        r = CliRunner.Run("kernel", "--arch", P("net.arch"), "--x", P("x.npy"), "--weight-std", "1.2", "--beta", "0.3",
            "--tile", "4", "--out-ntk", P("tt.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(lib.Ntk.Data, Npy.Read(P("tt.npy")).Float64);
    }

    [Theory]
    [InlineData("conv:4,3x3 relu frobnicate gap dense:1", "unknown layer 'frobnicate'")]
    [InlineData("conv:-4,3x3 relu gap dense:1", "channels must be at least 1")]
    [InlineData("conv:4,3x3 relu avgpool:9 gap dense:1", "larger than its 5×4 input")]
    [InlineData("conv:4,3x3 relu dense:1", "add flatten or gap before it")]
    [InlineData("conv:4,3x3 relu gap", "")]
    public void Bad_specs_exit_2_with_one_line(string spec, string message)
    {
        WriteImages("x.npy", 3, 5, 4, 2, 1);
        CliResult r = CliRunner.Run("kernel", "--arch", spec, "--x", P("x.npy"), "--out-ntk", P("t.npy"));
        if (spec.EndsWith("gap", StringComparison.Ordinal))
        {
            // A GAP readout without a dense layer is a valid network (the kernel of the pooled features).
            Assert.True(r.ExitCode == 0, r.StdErr);
            return;
        }
        CliRunner.AssertCleanFailure(r, 2, message);
        Assert.False(File.Exists(P("t.npy")));
    }

    [Fact]
    public void Agrees_with_the_independent_numpy_recursion()
    {
        // scripts/cntk_numpy.py: the same CNTK written with numpy arrays (Debian's numpy under /usr/bin/python3).
        WriteImages("x.npy", 4, 6, 5, 1, 7);
        CliResult r = CliRunner.Run("kernel", "--arch", "conv:8,3x3 relu conv:8,3x3 relu conv:8,3x3 relu gap dense:1",
            "--x", P("x.npy"), "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        string script = FindScript("scripts/cntk_numpy.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])[script, "--x", P("x.npy"), "--layers", "3", "--out-ntk", P("tn.npy"), "--out-nngp", P("sn.npy")])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        double[] t = Npy.Read(P("t.npy")).Float64!, tn = Npy.Read(P("tn.npy")).Float64!;
        double[] s = Npy.Read(P("s.npy")).Float64!, sn = Npy.Read(P("sn.npy")).Float64!;
        for (int i = 0; i < t.Length; i++)
        {
            Assert.True(Math.Abs(t[i] - tn[i]) <= 1e-13 * Math.Abs(tn[i]), $"ntk[{i}] {t[i]:R} vs numpy {tn[i]:R}");
            Assert.True(Math.Abs(s[i] - sn[i]) <= 1e-13 * Math.Abs(sn[i]), $"nngp[{i}] {s[i]:R} vs numpy {sn[i]:R}");
        }
    }
}
