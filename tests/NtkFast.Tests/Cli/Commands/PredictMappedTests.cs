using NtkFast.Cli;
using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Cli.Commands;

/// <summary>
/// `ntk predict --kernel-train … --kernel-test …` through the memory-mapped, row-streamed path
/// (forced on small files by NTKFAST_MAP_THRESHOLD=0, small blocks by NTKFAST_PREDICT_BLOCK_ROWS):
/// the same bytes as the in-memory path, the same one-line errors, and no progress on short runs.
/// In-process (environment variables set around Program.Main), so in the serial CLI collection.
/// </summary>
[Collection("NetworksCli")]
public sealed class PredictMappedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-predict-map-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>The precomputed kernel files the predict cases read, in <paramref name="dir"/>: k (Θ), kx (Θ*), s (Σ), sx (Σ*), sxx (Σ**).</summary>
    internal static void WriteKernels(string dir, Matrix theta, Matrix thetaX, Matrix sigma, Matrix sigmaX, Matrix sigmaXX)
    {
        MatrixFile.Write(Path.Combine(dir, "k.npy"), theta);
        MatrixFile.Write(Path.Combine(dir, "kx.npy"), thetaX);
        MatrixFile.Write(Path.Combine(dir, "s.npy"), sigma);
        MatrixFile.Write(Path.Combine(dir, "sx.npy"), sigmaX);
        MatrixFile.Write(Path.Combine(dir, "sxx.npy"), sigmaXX);
    }

    private static (int Code, string Out, string Err) Run(bool mapped, int blockRows, params string[] args)
    {
        TextWriter savedErr = Console.Error, savedOut = Console.Out;
        var err = new StringWriter();
        var stdout = new StringWriter();
        try
        {
            Environment.SetEnvironmentVariable("NTKFAST_MAP_THRESHOLD", mapped ? "0" : "999999999999");
            Environment.SetEnvironmentVariable("NTKFAST_PREDICT_BLOCK_ROWS", blockRows.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Console.SetError(err);
            Console.SetOut(stdout);
            int code = Program.Main(args);
            return (code, stdout.ToString(), err.ToString());
        }
        finally
        {
            Console.SetError(savedErr);
            Console.SetOut(savedOut);
            Environment.SetEnvironmentVariable("NTKFAST_MAP_THRESHOLD", null);
            Environment.SetEnvironmentVariable("NTKFAST_PREDICT_BLOCK_ROWS", null);
        }
    }

    public static TheoryData<int, int, bool> Sizes()
    {
        var d = new TheoryData<int, int, bool>();
        foreach (int m in (int[])[1, 7, 65])
            foreach (int n in (int[])[1, 9, 64])
                foreach (bool spread in (bool[])[false, true])
                    d.Add(m, n, spread);
        return d;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Mapped_IsBitwiseTheInMemoryPrediction(int m, int n, bool spread)
    {
        var (theta, thetaX, _) = Kernel(n, m, 300 + m + n);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 400 + m + n, lengthScale: 0.7, scale: 0.8);
        WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("y.npy"), Random(n, 2, 500 + n));
        string[] common = ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--y", P("y.npy"), "--time", "0.5,inf"];
        if (spread) common = [.. common, "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"), "--nngp-test-test", P("sxx.npy")];
        string[] outputs = spread ? ["", ".std"] : [""];
        var (c0, _, e0) = Run(false, 256, [.. common, "--out", P("mem.npy"), "--out-train", P("mem.train.npy"), "--quiet"]);
        Assert.True(c0 == 0, e0);
        foreach (int rows in (int[])[1, 4, 256])
        {
            var (c1, _, e1) = Run(true, rows, [.. common, "--out", P($"map{rows}.npy"), "--out-train", P($"map{rows}.train.npy"), "--quiet"]);
            Assert.True(c1 == 0, e1);
            foreach (string o in outputs)
                Assert.Equal(File.ReadAllBytes(P($"mem{o}.npy")), File.ReadAllBytes(P($"map{rows}{o}.npy")));
            Assert.Equal(File.ReadAllBytes(P("mem.train.npy")), File.ReadAllBytes(P($"map{rows}.train.npy")));
        }
    }

    [Fact]
    public void Mapped_TruncatedOrNonFiniteTestKernel_IsOneLineExit2_NothingWritten()
    {
        int n = 9, m = 7;
        var (theta, thetaX, _) = Kernel(n, m, 17);
        MatrixFile.Write(P("k.npy"), theta);
        MatrixFile.Write(P("kx.npy"), thetaX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 18));
        byte[] full = File.ReadAllBytes(P("kx.npy"));
        File.WriteAllBytes(P("short.npy"), full[..^8]);
        File.WriteAllBytes(P("long.npy"), [.. full, 0, 0, 0, 0, 0, 0, 0, 0]);
        File.WriteAllBytes(P("header.npy"), full[..20]);
        thetaX[5, 3] = double.NaN;
        MatrixFile.Write(P("nan.npy"), thetaX);
        foreach (string bad in (string[])["short.npy", "long.npy", "header.npy", "nan.npy"])
        {
            string[] args = ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P(bad), "--y", P("y.npy"), "--out", P("out.npy")];
            var (cm, _, em) = Run(true, 2, args);
            var (ci, _, ei) = Run(false, 2, args);
            Assert.Equal(2, cm);
            Assert.Single(em.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("--kernel-test", em, StringComparison.Ordinal);
            Assert.Equal(ci, cm);
            Assert.Equal(ei, em);   // the same message as the in-memory reader's
            Assert.False(File.Exists(P("out.npy")));
        }
    }

    [Fact]
    public void Mapped_ShortRun_PrintsNoProgress_QuietPrintsNothing()
    {
        int n = 9, m = 7;
        var (theta, thetaX, _) = Kernel(n, m, 21);
        MatrixFile.Write(P("k.npy"), theta);
        MatrixFile.Write(P("kx.npy"), thetaX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 22));
        string[] args = ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--y", P("y.npy"), "--out", P("out.npy")];
        var (c, _, e) = Run(true, 2, args);
        Assert.Equal(0, c);
        Assert.DoesNotContain("predict: work", e, StringComparison.Ordinal);
        var (cq, _, eq) = Run(true, 2, [.. args, "--quiet"]);
        Assert.Equal(0, cq);
        Assert.Equal("", eq);
    }

    public static TheoryData<int, int, bool> CovarianceSizes()
    {
        var d = new TheoryData<int, int, bool>();
        foreach (int m in (int[])[1, 7, 65])
            foreach (int n in (int[])[1, 9, 64])
                foreach (bool nngp in (bool[])[false, true])
                    d.Add(m, n, nngp);
        return d;
    }

    /// <summary>
    /// --out-cov (NTK ensemble at t = 0.5 and ∞, and --posterior nngp) and the NNGP posterior's mean/std with the diagonal or the
    /// full test block: mapped and streamed in blocks of 1, 4 (not dividing 7 or 65) and 256 rows, the same bytes as read whole.
    /// </summary>
    [Theory]
    [MemberData(nameof(CovarianceSizes))]
    public void Mapped_Covariance_And_NngpPosterior_AreBitwiseInMemory(int m, int n, bool nngp)
    {
        var (theta, thetaX, _) = Kernel(n, m, 600 + m + n);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 700 + m + n, lengthScale: 0.7, scale: 0.8);
        var diag = new Matrix(m, 1);
        for (int i = 0; i < m; i++) diag[i, 0] = sigmaXX[i, i];
        WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("d.npy"), diag);
        MatrixFile.Write(P("y.npy"), Random(n, 2, 800 + n));
        string[] nngpFiles = ["--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy")];
        string[] head = nngp
            ? ["predict", "--posterior", "nngp", "--regularization", "abs:1e-6", "--y", P("y.npy"), .. nngpFiles]
            : ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--y", P("y.npy"), "--time", "0.5,inf", .. nngpFiles];
        // (arguments, outputs written): the full covariance; for the posterior also the mean alone and the variances alone.
        var cases = new List<(string[] Args, string[] Outs)>
        {
            ([.. head, "--nngp-test-test", P("sxx.npy"), "--out-cov", P("{0}.cov.npy"), "--out-train", P("{0}.train.npy")], ["", ".std", ".cov", ".train"]),
            ([.. head, "--nngp-test-test", P("sxx.npy")], ["", ".std"]),
        };
        if (nngp)
        {
            cases.Add(([.. head, "--out-train", P("{0}.train.npy")], ["", ".train"]));
            cases.Add(([.. head, "--nngp-test-diag", P("d.npy")], ["", ".std"]));
        }
        foreach (var (args, outs) in cases)
        {
            string[] With(string tag) => [.. Array.ConvertAll(args, a => a.Replace("{0}", tag, StringComparison.Ordinal)), "--out", P(tag + ".npy"), "--quiet"];
            var (c0, _, e0) = Run(false, 256, With("mem"));
            Assert.True(c0 == 0, e0);
            foreach (int rows in (int[])[1, 4, 256])
            {
                var (c1, _, e1) = Run(true, rows, With($"map{rows}"));
                Assert.True(c1 == 0, e1);
                foreach (string o in outs)
                    Assert.Equal(File.ReadAllBytes(P($"mem{o}.npy")), File.ReadAllBytes(P($"map{rows}{o}.npy")));
            }
            foreach (string o in outs)
                foreach (string tag in (string[])["mem", "map1", "map4", "map256"]) File.Delete(P(tag + o + ".npy"));
        }
        Assert.Empty(Directory.GetFiles(_dir, ".ntk-spill-*"));   // the covariance's spill files are gone
    }

    /// <summary>
    /// Kernel files read whole: --out-cov is now written a block of rows at a time through the library's streamed calls (never
    /// the M x M result): the bytes are those the whole in-memory covariance gives (KernelPrediction.Ntk / Nngp with
    /// covariance: true, written as one array as the command did before), for M = 1, 7, 17 and blocks of 1, 4, 5 (not dividing
    /// 7 or 17) and 256 rows; .npy for two times and .csv for one.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(7, false)]
    [InlineData(17, false)]
    [InlineData(1, true)]
    [InlineData(7, true)]
    [InlineData(17, true)]
    public void InMemory_CovarianceByRows_IsTheWholeMatrixBytes(int m, bool nngp)
    {
        int n = 9;
        var (theta, thetaX, _) = Kernel(n, m, 900 + m);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 910 + m, lengthScale: 0.7, scale: 0.8);
        Matrix y = Random(n, 2, 920 + m);
        WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("y.npy"), y);
        var kernels = new NtkFast.Dynamics.PredictionKernels(nngp ? null : theta, nngp ? null : thetaX, sigma, sigmaX, sigmaXX);
        var reg = NtkFast.Numerics.Regularization.Relative(1e-6);
        string[] head = ["predict", "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"), "--nngp-test-test", P("sxx.npy"), "--y", P("y.npy"),
            "--regularization", "1e-6", "--quiet", .. nngp ? (string[])["--posterior", "nngp"] : ["--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy")]];
        foreach ((string ext, string time) in (ValueTuple<string, string>[])[(".npy", "0.5,inf"), (".csv", "inf")])
        {
            if (nngp && time != "inf") continue;
            double[] times = time == "inf" ? [double.PositiveInfinity] : [0.5, double.PositiveInfinity];
            NtkFast.Dynamics.TimePrediction[] whole = nngp ? [NtkFast.Dynamics.KernelPrediction.Nngp(kernels, y, reg, covariance: true)]
                : NtkFast.Dynamics.KernelPrediction.Ntk(kernels, y, times, reg, covariance: true);
            var expected = new MemoryStream();
            if (ext == ".csv") MatrixFile.WriteCsv(expected, whole[0].Covariance!.Data, m, m);
            else if (times.Length == 1) Npy.Write(expected, whole[0].Covariance!.Data, [m, m]);
            else Npy.Write(expected, [.. whole.SelectMany(t => t.Covariance!.Data)], [times.Length, m, m]);
            foreach (int rows in (int[])[1, 4, 5, 256])
            {
                var (c, _, e) = Run(false, rows, [.. head, "--time", time, "--out", P("p" + ext), "--out-cov", P("c" + ext)]);
                Assert.True(c == 0, e);
                Assert.Equal(expected.ToArray(), File.ReadAllBytes(P("c" + ext)));
            }
        }
        Assert.Empty(Directory.GetFiles(_dir, ".*"));   // no temporaries or spill files left
    }

    /// <summary>
    /// The streamed --out-cov goes to its file a block of rows at a time: as CSV (one time) and as a [T, M, M] .npy (two times)
    /// it is the bytes of the in-memory run; a second --out-cov run over an existing file replaces it whole.
    /// </summary>
    [Fact]
    public void Mapped_CovarianceWrittenByRows_CsvAndMultiTime_AreTheInMemoryBytes()
    {
        int n = 9, m = 11;
        var (theta, thetaX, _) = Kernel(n, m, 51);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 52, lengthScale: 0.7);
        WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("y.npy"), Random(n, 2, 53));
        string[] head = ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"),
            "--nngp-test-test", P("sxx.npy"), "--y", P("y.npy"), "--quiet"];
        foreach ((string ext, string time) in (ValueTuple<string, string>[])[(".csv", "1"), (".npy", "0.5,inf")])
        {
            var (c0, _, e0) = Run(false, 3, [.. head, "--time", time, "--out", P("a" + ext), "--out-cov", P("a.cov" + ext)]);
            File.WriteAllText(P("b.cov" + ext), "old");
            var (c1, _, e1) = Run(true, 3, [.. head, "--time", time, "--out", P("b" + ext), "--out-cov", P("b.cov" + ext)]);
            Assert.True(c0 == 0 && c1 == 0, e0 + e1);
            Assert.Equal(File.ReadAllBytes(P("a.cov" + ext)), File.ReadAllBytes(P("b.cov" + ext)));
            Assert.Equal(File.ReadAllBytes(P("a" + ext)), File.ReadAllBytes(P("b" + ext)));
        }
        Assert.Equal([2, m, m], Npy.Read(P("b.cov.npy")).Shape);
        Assert.Empty(Directory.GetFiles(_dir, ".*"));   // no temporaries or spill files left
    }

    /// <summary>A float32 --nngp-test-test (not mapped: read whole) beside mapped float64 blocks gives the in-memory bytes.</summary>
    [Fact]
    public void Mapped_Float32TestTest_IsReadWhole_SameBytes()
    {
        int n = 9, m = 7;
        var (theta, thetaX, _) = Kernel(n, m, 41);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 42, lengthScale: 0.7);
        MatrixFile.Write(P("k.npy"), theta);
        MatrixFile.Write(P("kx.npy"), thetaX);
        MatrixFile.Write(P("s.npy"), sigma);
        MatrixFile.Write(P("sx.npy"), sigmaX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 43));
        Npy.Write(P("sxx32.npy"), NpyArray.FromFloat32(Array.ConvertAll(sigmaXX.Data, v => (float)v), m, m));
        foreach (bool nngp in (bool[])[false, true])
        {
            string[] args = nngp
                ? ["predict", "--posterior", "nngp", "--regularization", "abs:1e-6"]
                : ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy")];
            args = [.. args, "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"), "--nngp-test-test", P("sxx32.npy"), "--y", P("y.npy"), "--quiet"];
            var (c0, _, e0) = Run(false, 2, [.. args, "--out", P("a.npy"), "--out-cov", P("a.cov.npy")]);
            var (c1, _, e1) = Run(true, 2, [.. args, "--out", P("b.npy"), "--out-cov", P("b.cov.npy")]);
            Assert.True(c0 == 0 && c1 == 0, e0 + e1);
            foreach (string o in (string[])["", ".std", ".cov"])
                Assert.Equal(File.ReadAllBytes(P($"a{o}.npy")), File.ReadAllBytes(P($"b{o}.npy")));
        }
    }

    /// <summary>
    /// Bad --nngp-test-test files (truncated, padded, header only, NaN, not symmetric, not square, wrong M) and a bad
    /// --nngp-test for the posterior: mapped, the same one line and exit 2 as read whole, and no output (nor spill file).
    /// </summary>
    [Fact]
    public void Mapped_BadTestTestOrPosteriorFiles_AreTheInMemoryOneLineExit2_NothingWritten()
    {
        int n = 9, m = 7;
        var (theta, thetaX, _) = Kernel(n, m, 31);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 32, lengthScale: 0.7);
        MatrixFile.Write(P("k.npy"), theta);
        MatrixFile.Write(P("kx.npy"), thetaX);
        MatrixFile.Write(P("s.npy"), sigma);
        MatrixFile.Write(P("sx.npy"), sigmaX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 33));
        MatrixFile.Write(P("sxx.npy"), sigmaXX);
        byte[] full = File.ReadAllBytes(P("sxx.npy"));
        File.WriteAllBytes(P("short.npy"), full[..^8]);
        File.WriteAllBytes(P("long.npy"), [.. full, 0, 0, 0, 0, 0, 0, 0, 0]);
        File.WriteAllBytes(P("header.npy"), full[..20]);
        Matrix bad = MatrixProducts.Copy(sigmaXX);
        bad[5, 2] = double.NaN;
        MatrixFile.Write(P("nan.npy"), bad);
        bad = MatrixProducts.Copy(sigmaXX);
        bad[6, 1] += 0.5;
        bad[4, 3] += 0.25;
        MatrixFile.Write(P("asym.npy"), bad);
        MatrixFile.Write(P("rect.npy"), Random(m, m + 1, 34));
        var (_, _, small) = Kernel(n, m - 1, 35);
        MatrixFile.Write(P("wrongm.npy"), small);
        bad = MatrixProducts.Copy(sigmaX);
        bad[3, 4] = double.PositiveInfinity;
        MatrixFile.Write(P("sxinf.npy"), bad);
        // An unsupported dtype (complex128) with a valid header: the reader's own message, mapped or not.
        string header = "{'descr': '<c16', 'fortran_order': False, 'shape': (7, 7), }";
        header = header.PadRight(118 - 1) + "\n";
        byte[] complex = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0,
            .. System.Text.Encoding.ASCII.GetBytes(header), .. new byte[7 * 7 * 16]];
        File.WriteAllBytes(P("complex.npy"), complex);
        var cases = new List<string[]>();
        foreach (string f in (string[])["short.npy", "long.npy", "header.npy", "nan.npy", "asym.npy", "rect.npy", "wrongm.npy", "complex.npy"])
        {
            cases.Add(["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"),
                "--nngp-test-test", P(f), "--y", P("y.npy"), "--out-cov", P("cov.npy"), "--out", P("out.npy")]);
            cases.Add(["predict", "--posterior", "nngp", "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"),
                "--nngp-test-test", P(f), "--y", P("y.npy"), "--out", P("out.npy")]);
        }
        cases.Add(["predict", "--posterior", "nngp", "--nngp-train", P("s.npy"), "--nngp-test", P("sxinf.npy"),
            "--nngp-test-test", P("sxx.npy"), "--y", P("y.npy"), "--out-cov", P("cov.npy"), "--out", P("out.npy")]);
        foreach (string[] args in cases)
        {
            var (cm, _, em) = Run(true, 2, args);
            var (ci, _, ei) = Run(false, 2, args);
            Assert.True(cm == 2, em);
            Assert.Single(em.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(ci, cm);
            Assert.Equal(ei, em);
            Assert.False(File.Exists(P("out.npy")));
            Assert.False(File.Exists(P("out.std.npy")));
            Assert.False(File.Exists(P("cov.npy")));
            Assert.Empty(Directory.GetFiles(_dir, ".ntk-spill-*"));
        }
    }
}
