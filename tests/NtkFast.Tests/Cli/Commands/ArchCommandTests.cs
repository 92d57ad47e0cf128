using System.Diagnostics;
using NtkFast.Architectures;
using NtkFast.IO;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli.Commands;

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

    [Fact]
    public void Empirical_arch_writes_the_mean_and_spread_of_the_librarys_networks()
    {
        ImageSet x = WriteImages("ex.npy", 5, 4, 4, 2, 3);
        ImageSet x2 = WriteImages("ex2.npy", 2, 4, 4, 2, 4);
        const string spec = "conv:6,3x3,same relu res{ conv:6,3x3,same relu } flatten dense:2";
        CliResult r = CliRunner.Run("empirical", "--arch", spec, "--seed", "3", "--monte-carlo", "3", "--beta", "0.2", "--weight-std", "1.3",
            "--x", P("ex.npy"), "--x2", P("ex2.npy"), "--out-ntk", P("t.npy"), "--out-ntk-std", P("ts.npy"), "--out-nngp", P("s.npy"), "--quiet");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Architecture arch = Architecture.Parse(spec, 1.3, 0.2);
        var ntks = new List<double[]>(); var nngps = new List<double[]>();
        for (ulong s = 3; s < 6; s++)
        {
            (var t, var g) = ArchitectureNetwork.Initialize(arch, 4, 4, 2, s).EmpiricalKernel(x, x2);
            ntks.Add(t.Data); nngps.Add(g!.Data);
        }
        NpyArray nt = Npy.Read(P("t.npy")), ns = Npy.Read(P("s.npy")), nstd = Npy.Read(P("ts.npy"));
        Assert.Equal([5, 2], nt.Shape);
        for (int i = 0; i < 10; i++)
        {
            double mean = ntks.Average(a => a[i]), meanS = nngps.Average(a => a[i]);
            double std = Math.Sqrt(ntks.Sum(a => (a[i] - mean) * (a[i] - mean)) / 2);
            Assert.Equal(mean, nt.Float64![i], 1e-12 * Math.Abs(mean));
            Assert.Equal(meanS, ns.Float64![i], 1e-12 * Math.Abs(meanS));
            Assert.Equal(std, nstd.Float64![i], 1e-10 * Math.Abs(mean));
            Assert.True(std > 0);
        }
    }

    [Theory]
    [InlineData("--params", "net.npz", "--params is not supported with --arch")]
    [InlineData("--out-nngp", "{dir}/s.npy", "does not end with a dense readout")]
    [InlineData("--out-ntk-std", "{dir}/ts.npy", null)]
    public void Empirical_arch_bad_usage_is_one_line(string option, string value, string? message)
    {
        WriteImages("bx.npy", 3, 4, 4, 1, 5);
        string spec = option == "--out-nngp" ? "conv:3,3x3 relu conv:1,1x1 gap" : "conv:3,3x3 relu gap dense:1";
        string[] args = ["empirical", "--arch", spec, "--seed", "1", "--x", P("bx.npy"), option, value.Replace("{dir}", _dir, StringComparison.Ordinal)];
        if (option != "--out-nngp") args = [.. args, "--out-ntk", P("t.npy")];
        CliResult r = CliRunner.Run(args);
        if (message is null) { Assert.True(r.ExitCode == 0, r.StdErr); return; } // K = 1: the spread is zeros
        CliRunner.AssertCleanFailure(r, 2, message);
        Assert.DoesNotContain(Directory.GetFiles(_dir, "*.npy"), f => !f.EndsWith("bx.npy", StringComparison.Ordinal));
    }

    [Fact]
    public void Empirical_arch_rejects_a_dense_layer_on_feature_maps()
    {
        WriteImages("dx.npy", 2, 4, 4, 1, 6);
        CliRunner.AssertCleanFailure(CliRunner.Run("empirical", "--arch", "conv:3,3x3 relu dense:1", "--seed", "0", "--x", P("dx.npy"), "--out-ntk", P("t.npy")),
            2, "ntk empirical: option --arch: dense:1 after 4×4×3 feature maps: add flatten or gap before it");
    }

    [Fact]
    public void Init_train_and_empirical_take_architecture_network_files()
    {
        ImageSet x = WriteImages("tx.npy", 6, 4, 4, 2, 7);
        var yData = new double[6 * 2];
        for (int i = 0; i < yData.Length; i++) yData[i] = Math.Cos(i);
        using (var st = File.Create(P("ty.npy"))) Npy.Write(st, yData, [6, 2]);
        const string spec = "conv:5,3x3,same tanh avgpool:2 flatten dense:2";
        CliResult init = CliRunner.Run("init", "--arch", spec, "--input-shape", "4,4,2", "--seed", "11", "--weight-std", "1.1", "--out", P("net.npz"));
        Assert.True(init.ExitCode == 0, init.StdErr);
        ArchitectureNetwork<double> fresh = ArchitectureNetwork.Initialize(Architecture.Parse(spec, 1.1, 0.1), 4, 4, 2, 11);
        ArchitectureNetwork<double> read = ArchitectureNetworkFile.Read<double>(P("net.npz"));
        Assert.Equal(fresh.Parameters, read.Parameters);

        CliResult train = CliRunner.Run("train", "--params", P("net.npz"), "--x", P("tx.npy"), "--y", P("ty.npy"), "--lr", "0.5", "--steps", "7",
            "--out", P("trained.npz"), "--log", P("log.csv"));
        Assert.True(train.ExitCode == 0, train.StdErr);
        var y = new NtkFast.Numerics.Matrix(6, 2, yData);
        var costs = new List<double>();
        for (int s = 0; s < 7; s++) costs.Add(fresh.TrainStep(x, y, 0.5));
        Assert.Equal(fresh.Parameters, ArchitectureNetworkFile.Read<double>(P("trained.npz")).Parameters);
        string[] log = File.ReadAllLines(P("log.csv"));
        Assert.Equal(9, log.Length);
        Assert.Equal(costs[6], double.Parse(log[7].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));

        CliResult emp = CliRunner.Run("empirical", "--params", P("trained.npz"), "--x", P("tx.npy"), "--out-ntk", P("et.npy"), "--out-nngp", P("es.npy"));
        Assert.True(emp.ExitCode == 0, emp.StdErr);
        (var ntk, var nngp) = fresh.EmpiricalKernel(x);
        Assert.Equal(ntk.Data, Npy.Read(P("et.npy")).Float64);
        Assert.Equal(nngp!.Data, Npy.Read(P("es.npy")).Float64);
    }

    [Fact]
    public void Architecture_network_files_are_checked()
    {
        WriteImages("cx.npy", 3, 4, 4, 1, 8);
        CliRunner.AssertCleanFailure(CliRunner.Run("init", "--arch", "conv:2,3x3 relu gap dense:1", "--input-shape", "4,4", "--seed", "0", "--out", P("n.npz")),
            2, "option --input-shape: '4,4' is not three positive integers H,W,C");
        CliRunner.AssertCleanFailure(CliRunner.Run("init", "--arch", "conv:2,3x3 relu gap dense:1", "--input-shape", "4,4,1", "--widths", "2,3", "--seed", "0", "--out", P("n.npz")),
            2, "--arch replaces --widths and --activation");
        Assert.False(File.Exists(P("n.npz")));
        // a θ of the wrong length (another input shape's) is named, and nothing is written
        ArchitectureNetwork other = ArchitectureNetwork.Initialize(Architecture.Parse("conv:2,3x3 relu flatten dense:1"), 5, 5, 1, 0);
        var arrays = ArchitectureNetworkFile.ToArrays(other);
        arrays[1] = new("input_shape", NpyArray.FromFloat64([4, 4, 1], 3));
        using (var st = File.Create(P("bad.npz"))) Npz.Write(st, arrays);
        CliRunner.AssertCleanFailure(CliRunner.Run("empirical", "--params", P("bad.npz"), "--x", P("cx.npy"), "--out-ntk", P("t.npy")),
            2, "'theta' has shape (");
        Assert.False(File.Exists(P("t.npy")));
    }

    [Fact]
    public void Empirical_arch_tiles_and_blocks_are_bitwise_the_in_memory_result()
    {
        WriteImages("tilex.npy", 9, 4, 4, 2, 12);
        string[] common = ["empirical", "--arch", "conv:4,3x3,same relu flatten dense:2", "--seed", "5", "--monte-carlo", "2", "--x", P("tilex.npy"), "--quiet"];
        CliResult whole = CliRunner.Run([.. common, "--out-ntk", P("w.npy"), "--out-nngp", P("ws.npy"), "--out-ntk-std", P("wd.npy")]);
        Assert.True(whole.ExitCode == 0, whole.StdErr);
        CliResult tiles = CliRunner.Run([.. common, "--tile", "2", "--out-ntk", P("t.npy"), "--out-nngp", P("ts.npy"), "--out-ntk-std", P("td.npy")]);
        Assert.True(tiles.ExitCode == 0, tiles.StdErr);
        Assert.Equal(Npy.Read(P("w.npy")).Float64, Npy.Read(P("t.npy")).Float64);
        Assert.Equal(Npy.Read(P("ws.npy")).Float64, Npy.Read(P("ts.npy")).Float64);
        Assert.Equal(Npy.Read(P("wd.npy")).Float64, Npy.Read(P("td.npy")).Float64);
        CliResult block = CliRunner.Run([.. common, "--rows", "2:7", "--cols", "5:", "--out-ntk", P("b.npy")]);
        Assert.True(block.ExitCode == 0, block.StdErr);
        double[] w = Npy.Read(P("w.npy")).Float64!, b = Npy.Read(P("b.npy")).Float64!;
        Assert.Equal([5, 4], Npy.Read(P("b.npy")).Shape);
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 4; c++)
                Assert.Equal(w[(r + 2) * 9 + c + 5], b[r * 4 + c]);
    }

    [Fact]
    public void Maxpool_is_for_finite_networks_and_the_kernel_command_says_so()
    {
        WriteImages("mx.npy", 4, 6, 6, 1, 13);
        const string spec = "conv:4,3x3,same relu maxpool:2 flatten dense:1";
        CliRunner.AssertCleanFailure(CliRunner.Run("kernel", "--arch", spec, "--x", P("mx.npy"), "--out-ntk", P("k.npy")), 2,
            "maxpool has no closed-form infinite-width kernel");
        Assert.False(File.Exists(P("k.npy")));
        CliResult mc = CliRunner.Run("empirical", "--arch", spec, "--seed", "0", "--monte-carlo", "2", "--x", P("mx.npy"), "--out-ntk", P("e.npy"), "--quiet");
        Assert.True(mc.ExitCode == 0, mc.StdErr);
        double[] e = Npy.Read(P("e.npy")).Float64!;
        Assert.Equal(16, e.Length);
        Assert.All(e, v => Assert.True(double.IsFinite(v)));
        Assert.True(e[0] > 0);
    }
}
