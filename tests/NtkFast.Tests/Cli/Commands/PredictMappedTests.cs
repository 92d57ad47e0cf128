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
        MatrixFile.Write(P("k.npy"), theta);
        MatrixFile.Write(P("kx.npy"), thetaX);
        MatrixFile.Write(P("s.npy"), sigma);
        MatrixFile.Write(P("sx.npy"), sigmaX);
        MatrixFile.Write(P("sxx.npy"), sigmaXX);
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
        Assert.DoesNotContain("test-kernel entries", e, StringComparison.Ordinal);
        var (cq, _, eq) = Run(true, 2, [.. args, "--quiet"]);
        Assert.Equal(0, cq);
        Assert.Equal("", eq);
    }
}
