using System.Globalization;
using NtkFast.Activations;
using NtkFast.Empirical;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

using NtkFast.Tests.IO;
using NtkFast.Tests.Empirical;

namespace NtkFast.Tests.Cli.Commands;

/// <summary>`ntk empirical` run as a child process (CliRunner): outputs equal the library's, bad input exits 2 with nothing written.</summary>
public sealed class EmpiricalCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-emp-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly MlpArchitecture Arch = new([5, 12, 9, 2], ActivationRegistry.Parse("tanh"), beta: 0.2, weightStd: 1.1);

    private (Mlp<double> Net, double[] X, double[] X2) Setup()
    {
        var net = Mlp<double>.Initialize(Arch, 7);
        MlpFile.Write(P("net.npz"), net);
        double[] x = EmpiricalKernelTests.Random(6 * 5, 1), x2 = EmpiricalKernelTests.Random(4 * 5, 2);
        Npy.Write(P("X.npy"), NpyArray.FromFloat64(x, 6, 5));
        Npy.Write(P("X2.npy"), NpyArray.FromFloat64(x2, 4, 5));
        return (net, x, x2);
    }

    private static void Ok(CliResult r) => Assert.True(r.ExitCode == 0, r.StdErr);

    [Fact]
    public void WritesTheLibraryKernels_TraceFullCrossReference()
    {
        var (net, x, x2) = Setup();
        Ok(CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("X.npy"), "--out-ntk", P("T.npy"), "--out-nngp", P("S.npy")));
        EmpiricalKernelResult lib = EmpiricalKernel.Compute<double>(net, x, []);
        NpyArray t = Npy.Read(P("T.npy"));
        Assert.Equal([6, 6], t.Shape);
        Assert.Equal(lib.Ntk, t.Float64!);
        Assert.Equal(lib.Nngp!, Npy.Read(P("S.npy")).Float64!);

        Ok(CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("X.npy"), "--x2", P("X2.npy"), "--outputs", "full",
            "--trainable-from", "1", "--out-ntk", P("F.npy")));
        EmpiricalKernelResult full = EmpiricalKernel.Compute<double>(net, x, x2, EmpiricalOutputs.Full, trainableFrom: 1);
        NpyArray f = Npy.Read(P("F.npy"));
        Assert.Equal([6, 4, 2, 2], f.Shape);
        Assert.Equal(full.Ntk, f.Float64!);

        Ok(CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("X.npy"), "--x2", P("X2.npy"), "--outputs", "full",
            "--trainable-from", "1", "--reference", "--out-ntk", P("R.npy")));
        Assert.True(EmpiricalKernelTests.RelErr(Npy.Read(P("R.npy")).Float64!, full.Ntk) < 1e-10);
    }

    [Fact]
    public void MonteCarlo_WritesMeanAndStd_AndDiagnostics()
    {
        var (_, x, _) = Setup();
        Ok(CliRunner.Run("empirical", "--monte-carlo", "3", "--widths", "5,12,9,2", "--activation", "tanh", "--beta", "0.2",
            "--weight-std", "1.1", "--seed", "40", "--x", P("X.npy"), "--out-ntk", P("M.npy"), "--out-ntk-std", P("MS.npy"),
            "--out-nngp", P("N.npy"), "--out-nngp-std", P("NS.npy"), "--diagnostics-report", P("r.csv")));
        MonteCarloResult lib = EmpiricalMonteCarlo.Run<double>(Arch, x, [], 3, 40);
        Assert.Equal(lib.NtkMean, Npy.Read(P("M.npy")).Float64!);
        Assert.Equal(lib.NtkStd, Npy.Read(P("MS.npy")).Float64!);
        Assert.Equal(lib.NngpMean!, Npy.Read(P("N.npy")).Float64!);
        Assert.Equal(lib.NngpStd!, Npy.Read(P("NS.npy")).Float64!);
        // sample 1 is `ntk init --seed 41`
        EmpiricalKernelResult one = EmpiricalKernel.Compute<double>(Mlp<double>.Initialize(Arch, 41), x, []);
        Assert.NotEqual(one.Ntk, lib.NtkMean);

        string[] lines = File.ReadAllLines(P("r.csv"));
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("kernel,points,outputs,empirical_op", lines[0], StringComparison.Ordinal);
        KernelResult analytic = InfiniteWidth.Compute(new KernelSpec(3, Arch.Activation, 0.2, 1.1), new Matrix(6, 5, x));
        KernelComparison c = KernelDiagnostics.Compare(new Matrix(6, 6, lib.NtkMean), analytic.Ntk!, 6);
        string[] cells = lines[1].Split(',');
        Assert.Equal("ntk_trace", cells[0]);
        Assert.Equal(c.DifferenceOp, double.Parse(cells[5], CultureInfo.InvariantCulture), 12);
        Assert.Equal(c.RelativeFrobenius, double.Parse(cells[7], CultureInfo.InvariantCulture), 12);
    }

    [Fact]
    public void BitwiseIdenticalForOneAndTwoThreads()
    {
        // 150² = 22500 kernel entries: more than one block of the fused accumulation, several GEMM tiles
        var arch = new MlpArchitecture([5, 40, 30, 2], ActivationRegistry.Parse("relu"));
        MlpFile.Write(P("big.npz"), Mlp<float>.Initialize(arch, 3));
        Npy.Write(P("Xb.npy"), NpyArray.FromFloat64(EmpiricalKernelTests.Random(150 * 5, 4), 150, 5));
        foreach (string t in new[] { "1", "2" })
        {
            CliResult r = CliRunner.Run(["empirical", "--params", P("big.npz"), "--x", P("Xb.npy"), "--out-ntk", P($"t{t}.npy"), "--out-nngp", P($"s{t}.npy")],
                new Dictionary<string, string> { ["NTKFAST_THREADS"] = t }, TimeSpan.FromSeconds(60));
            Ok(r);
        }
        Assert.Equal(File.ReadAllBytes(P("t1.npy")), File.ReadAllBytes(P("t2.npy")));
        Assert.Equal(File.ReadAllBytes(P("s1.npy")), File.ReadAllBytes(P("s2.npy")));
    }

    [Fact]
    public void A_trace_window_of_a_kernel_too_large_for_one_array_is_written()
    {
        // 46400² > Array.MaxLength: the command's own estimate used to refuse even a 3×4 window, which the
        // tiled path computes without ever holding the whole kernel.
        var (net, _, _) = Setup();
        double[] x = EmpiricalKernelTests.Random(46400 * 5, 9);
        Npy.Write(P("Xhuge.npy"), NpyArray.FromFloat64(x, 46400, 5));
        Ok(CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("Xhuge.npy"), "--rows", "46390:46393", "--cols", "2:6", "--out-ntk", P("W.npy")));
        double[] rows = x.AsSpan(46390 * 5, 3 * 5).ToArray(), cols = x.AsSpan(2 * 5, 4 * 5).ToArray();
        Assert.Equal(EmpiricalKernel.Compute<double>(net, rows, cols).Ntk, Npy.Read(P("W.npy")).Float64!);
        // every output pair and the reference are blocks too: their windows are written, the library's bits
        Ok(CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("Xhuge.npy"), "--rows", "46390:46393", "--cols", "2:6",
            "--outputs", "full", "--reference", "--out-ntk", P("WR.npy")));
        Assert.Equal(EmpiricalKernel.Compute<double>(net, rows, cols, EmpiricalOutputs.Full, method: EmpiricalMethod.Jacobian).Ntk, Npy.Read(P("WR.npy")).Float64!);
        // the in-memory computation (the diagnostics need the whole kernel) still refuses it, with exit 2 and nothing written
        CliResult r = CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("Xhuge.npy"), "--diagnostics-report", P("All.csv"), "--out-ntk", P("All.npy"));
        CliRunner.AssertCleanFailure(r, 2, "too large for one array");
        Assert.False(File.Exists(P("All.npy")));
        Assert.False(File.Exists(P("All.csv")));
    }

    [Fact]
    public void The_report_is_written_with_the_kernels_or_not_at_all()
    {
        Setup();
        MlpFile.Write(P("relu.npz"), Mlp<double>.Initialize(new MlpArchitecture([5, 8, 2], ActivationRegistry.Parse("relu")), 1));
        File.WriteAllText(P("r.csv"), "older report");
        double[] big = EmpiricalKernelTests.Random(6 * 5, 1);
        for (int i = 0; i < big.Length; i++) big[i] *= 1e200;
        Npy.Write(P("Xbig.npy"), NpyArray.FromFloat64(big, 6, 5));
        CliResult r = CliRunner.Run("empirical", "--params", P("relu.npz"), "--x", P("Xbig.npy"), "--outputs", "full", "--diagnostics-report", P("r.csv"), "--out-ntk", P("F.npy"));
        CliRunner.AssertCleanFailure(r, 1, "non-finite");
        Assert.Equal("older report", File.ReadAllText(P("r.csv")));
        Assert.False(File.Exists(P("F.npy")));
        // a successful run publishes both
        r = CliRunner.Run("empirical", "--params", P("net.npz"), "--x", P("X.npy"), "--outputs", "full", "--diagnostics-report", P("F.csv"), "--out-ntk", P("F.npy"));
        Ok(r);
        Assert.StartsWith("kernel,points", File.ReadAllText(P("F.csv")), StringComparison.Ordinal);
        Assert.Empty(AtomicFileTests.Temporaries(_dir));
    }

    public static IEnumerable<object[]> BadRuns()
    {
        yield return [new[] { "--x", "Xwide.npy" }, "columns"];
        yield return [new[] { "--x", "Xnan.npy" }, "NaN"];
        yield return [new[] { "--x", "X.npy", "--outputs", "diag" }, "trace or full"];
        yield return [new[] { "--x", "X.npy", "--trainable-from", "3" }, "trainable-from"];
        yield return [new[] { "--x", "X.npy", "--x2", "Xwide.npy" }, "--x2"];
        yield return [new[] { "--x", "X.npy", "--diagnostics-report", "never-written.csv", "--tile", "4" }, "--diagnostics-report needs the whole kernel in memory"];
        yield return [new[] { "--x", "X.npy", "--outputs", "full", "--diagnostics-report", "never-written.csv", "--rows", "0:2" }, "--diagnostics-report needs the whole kernel in memory"];
    }

    [Theory]
    [MemberData(nameof(BadRuns))]
    public void BadInput_ExitsTwo_NothingWritten(string[] extra, string contains)
    {
        Setup();
        Npy.Write(P("Xwide.npy"), NpyArray.FromFloat64(new double[12], 2, 6));
        double[] nan = EmpiricalKernelTests.Random(10, 3);
        nan[7] = double.NaN;
        Npy.Write(P("Xnan.npy"), NpyArray.FromFloat64(nan, 2, 5));
        var args = new List<string> { "empirical", "--params", P("net.npz"), "--out-ntk", P("out.npy"), "--out-nngp", P("outn.npy") };
        for (int i = 0; i < extra.Length; i++) args.Add(extra[i].EndsWith(".npy", StringComparison.Ordinal) ? P(extra[i]) : extra[i]);
        CliResult r = CliRunner.Run(args, null, TimeSpan.FromSeconds(60));
        CliRunner.AssertCleanFailure(r, 2, contains);
        Assert.False(File.Exists(P("out.npy")));
        Assert.False(File.Exists(P("outn.npy")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    public void MonteCarloCountMustBePositive(string k)
    {
        Setup();
        CliResult r = CliRunner.Run("empirical", "--monte-carlo", k, "--widths", "5,4,1", "--activation", "relu", "--seed", "1",
            "--x", P("X.npy"), "--out-ntk", P("out.npy"));
        CliRunner.AssertCleanFailure(r, 2, "monte-carlo");
        Assert.False(File.Exists(P("out.npy")));
        Assert.Empty(Directory.GetFiles(_dir, "out*"));
    }
}
