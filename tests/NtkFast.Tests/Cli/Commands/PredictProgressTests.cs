using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using NtkFast.IO;
using NtkFast.Numerics;
using NtkFast.Tests.Distributed;
using Xunit;
using static NtkFast.Tests.Dynamics.KernelDynamicsTests;

namespace NtkFast.Tests.Cli.Commands;

/// <summary>
/// `ntk predict` runs of a few seconds with progress forced on (NTKFAST_PROGRESS_DELAY_MS=0, NTKFAST_PROGRESS_INTERVAL_MS):
/// progress lines on stderr (never stdout) with non-decreasing percentages ending at 100%, a time estimate while running,
/// and nothing with --quiet; for precomputed kernels streamed through memory maps (the full covariance) and for the
/// in-memory analytic and --params paths. Separate processes (stderr is a pipe, so one line per report).
/// </summary>
[Collection("NetworksCli")]
public sealed partial class PredictProgressTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-predict-progress-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);


    [GeneratedRegex(@": (\d+\.\d)% (\d+\.\d)s(, ~\d+\.\ds left| done)?$")]
    private static partial Regex Percent();

    private static readonly Dictionary<string, string> Forced = new()
    {
        ["NTKFAST_PROGRESS_DELAY_MS"] = "0",
        ["NTKFAST_PROGRESS_INTERVAL_MS"] = "0",
    };

    /// <summary>The progress lines with this label: percentages non-decreasing, the last 100% "done", at least one estimate.</summary>
    private static void AssertProgress(CliResult r, string label)
    {
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.DoesNotContain(label, r.StdOut, StringComparison.Ordinal);
        string[] lines = Array.FindAll(r.ErrorLines, l => l.StartsWith(label + ":", StringComparison.Ordinal) && !l.EndsWith("started", StringComparison.Ordinal));
        Assert.True(lines.Length >= 3, r.StdErr);
        double last = -1;
        bool lateReport = false; // a report before the end, more than 1 s in: it must carry an estimate
        for (int i = 0; i < lines.Length; i++)
        {
            Match m = Percent().Match(lines[i]);
            Assert.True(m.Success, lines[i]);
            double f = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(f >= last, r.StdErr);
            last = f;
            if (i < lines.Length - 1 && f > 0 && f < 100 && double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) > 1.1)
            {
                lateReport = true;
                Assert.True(lines[i].EndsWith(" left", StringComparison.Ordinal), lines[i]);
            }
        }
        Assert.Equal(100.0, last);
        Assert.EndsWith(" done", lines[^1], StringComparison.Ordinal);
        // Estimates start after 1 s (Progress): on this project's 2-core machines these runs take several seconds,
        // so a report with an estimate is expected; a much faster machine finishing in 1 s has none to check.
        if (lateReport) Assert.Contains(lines, l => l.EndsWith(" left", StringComparison.Ordinal));
    }

    private static void WriteCsv(string path, Matrix a) =>
        File.WriteAllText(path, string.Join('\n', Enumerable.Range(0, a.Rows).Select(i =>
            string.Join(',', a.Row(i).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))))) + "\n");

    [Fact]
    public void PrecomputedKernels_Streamed_Covariance_ReportsProgress_QuietSilences()
    {
        int n = 300, m = 3000;
        var (theta, thetaX, _) = Kernel(n, m, 51);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 52, lengthScale: 0.7);
        PredictMappedTests.WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 53));
        string[] args = ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"),
            "--nngp-test-test", P("sxx.npy"), "--y", P("y.npy"), "--time", "1", "--regularization", "1e-8", "--out-cov", P("c.npy"), "--out", P("p.npy")];
        var env = new Dictionary<string, string>(Forced) { ["NTKFAST_MAP_THRESHOLD"] = "0", ["NTKFAST_PREDICT_BLOCK_ROWS"] = "64", ["NTKFAST_PROGRESS_INTERVAL_MS"] = "100" };
        AssertProgress(CliRunner.Run(args, env, TimeSpan.FromSeconds(300)), "predict: work");
        CliResult q = CliRunner.Run([.. args, "--quiet"], env, TimeSpan.FromSeconds(300));
        Assert.Equal(0, q.ExitCode);
        Assert.Equal("", q.StdErr);
    }

    [Fact]
    public void AnalyticKernel_InMemory_ReportsProgressByWork_QuietSilences()
    {
        int n = 400, m = 10000;
        WriteCsv(P("x.csv"), Random(n, 5, 61));
        WriteCsv(P("y.csv"), Random(n, 1, 62));
        WriteCsv(P("xt.csv"), Random(m, 5, 63));
        string[] args = ["predict", "--x", P("x.csv"), "--y", P("y.csv"), "--x-test", P("xt.csv"), "--depth", "3", "--activation", "tanh",
            "--time", "1", "--out", P("p.npy")];
        AssertProgress(CliRunner.Run(args, Forced, TimeSpan.FromSeconds(300)), "predict: work");
        CliResult q = CliRunner.Run([.. args, "--quiet"], Forced, TimeSpan.FromSeconds(300));
        Assert.Equal(0, q.ExitCode);
        Assert.Equal("", q.StdErr);
    }

    /// <summary>
    /// A finite time needs the eigendecomposition of the N×N kernel (~10 N³, the bulk of the run): it reports from inside
    /// (per panel and block), so the run shows many percentages, not a jump from the kernels' stage to 100%.
    /// </summary>
    [Fact]
    public void AnalyticKernel_FiniteTime_ReportsFromInsideTheEigendecomposition()
    {
        int n = 1200, m = 20;
        WriteCsv(P("x.csv"), Random(n, 5, 81));
        WriteCsv(P("y.csv"), Random(n, 1, 82));
        WriteCsv(P("xt.csv"), Random(m, 5, 83));
        CliResult r = CliRunner.Run(["predict", "--x", P("x.csv"), "--y", P("y.csv"), "--x-test", P("xt.csv"), "--depth", "2", "--activation", "relu",
            "--time", "1", "--out", P("p.npy")], Forced, TimeSpan.FromSeconds(300));
        AssertProgress(r, "predict: work");
        int distinct = r.ErrorLines.Where(l => l.StartsWith("predict: work:", StringComparison.Ordinal))
            .Select(l => Percent().Match(l)).Where(mm => mm.Success).Select(mm => mm.Groups[1].Value).Distinct().Count();
        Assert.True(distinct >= 10, r.StdErr); // the kernels' stages alone give 4
    }

    /// <summary>
    /// t = ∞ takes a Cholesky factor instead (N³/3, the NNGP posterior too): it reports per block of columns from inside,
    /// so N = 2000 shows the 16 blocks' steps, not one jump.
    /// </summary>
    [Theory]
    [InlineData("ntk")]
    [InlineData("nngp")]
    public void AnalyticKernel_InfiniteTime_ReportsFromInsideTheCholeskyFactor(string posterior)
    {
        int n = 2000, m = 5;
        WriteCsv(P("x.csv"), Random(n, 5, 91));
        WriteCsv(P("y.csv"), Random(n, 1, 92));
        WriteCsv(P("xt.csv"), Random(m, 5, 93));
        CliResult r = CliRunner.Run(["predict", "--x", P("x.csv"), "--y", P("y.csv"), "--x-test", P("xt.csv"), "--depth", "2", "--activation", "relu",
            "--regularization", "1e-8", "--posterior", posterior, "--out", P("p.npy")], Forced, TimeSpan.FromSeconds(300));
        AssertProgress(r, "predict: work");
        int distinct = r.ErrorLines.Where(l => l.StartsWith("predict: work:", StringComparison.Ordinal))
            .Select(l => Percent().Match(l)).Where(mm => mm.Success).Select(mm => mm.Groups[1].Value).Distinct().Count();
        Assert.True(distinct >= 10, r.StdErr); // the kernels' stages alone give 4
    }

    /// <summary>
    /// Precomputed kernels streamed through memory maps (NTKFAST_MAP_THRESHOLD=0) with few test points: the run is almost all
    /// the factorisation of the N×N training block (a Cholesky factor at t = ∞ and for --posterior nngp, an eigendecomposition
    /// for a finite time and for the ensemble's covariance), which reports from inside as weighted work, so the percentages
    /// climb through it instead of sitting at 0% until the one test block jumps to 100%.
    /// </summary>
    [Theory]
    [InlineData("ntk", "inf", false, 2000)]
    [InlineData("nngp", "inf", false, 2000)]
    [InlineData("nngp", "inf", true, 2000)]
    [InlineData("ntk", "1", false, 1200)]
    [InlineData("ntk", "1", true, 1200)]
    public void PrecomputedKernels_Streamed_ReportFromInsideTheFactorisation(string posterior, string time, bool covariance, int n)
    {
        int m = 5;
        var (theta, thetaX, _) = Kernel(n, m, 101);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 102, lengthScale: 0.7);
        PredictMappedTests.WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 103));
        List<string> args = ["predict", "--y", P("y.npy"), "--time", time, "--regularization", "1e-6", "--out", P("p.npy")];
        if (posterior == "ntk") args.AddRange(["--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy")]);
        else args.AddRange(["--posterior", "nngp", "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy")]);
        if (covariance)
        {
            if (posterior == "ntk") args.AddRange(["--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy")]);
            args.AddRange(["--nngp-test-test", P("sxx.npy"), "--out-cov", P("c.npy")]);
        }
        var env = new Dictionary<string, string>(Forced) { ["NTKFAST_MAP_THRESHOLD"] = "0" };
        CliResult r = CliRunner.Run([.. args], env, TimeSpan.FromSeconds(300));
        AssertProgress(r, "predict: work");
        int distinct = r.ErrorLines.Where(l => l.StartsWith("predict: work:", StringComparison.Ordinal))
            .Select(l => Percent().Match(l)).Where(mm => mm.Success).Select(mm => mm.Groups[1].Value).Distinct().Count();
        Assert.True(distinct >= 10, r.StdErr); // one test block: without the factorisation's reports, 0% and 100% only
        Assert.True(File.Exists(P("p.npy")));
        Assert.Equal(covariance, File.Exists(P("c.npy")));
    }

    [Fact]
    public void Params_InMemory_ReportsProgress_QuietSilences()
    {
        int n = 600, m = 9000;
        WriteCsv(P("x.csv"), Random(n, 8, 71));
        WriteCsv(P("y.csv"), Random(n, 1, 72));
        WriteCsv(P("xt.csv"), Random(m, 8, 73));
        CliResult init = CliRunner.Run("init", "--widths", "8,512,512,1", "--activation", "relu", "--seed", "1", "--out", P("net.npz"));
        Assert.True(init.ExitCode == 0, init.StdErr);
        string[] args = ["predict", "--params", P("net.npz"), "--x", P("x.csv"), "--y", P("y.csv"), "--x-test", P("xt.csv"), "--time", "1", "--out", P("p.npy")];
        // Two stages (the empirical NTK ~3/4 of the work, then the dynamics): the estimate after the first is by their costs.
        AssertProgress(CliRunner.Run(args, Forced, TimeSpan.FromSeconds(300)), "predict: work");
        CliResult q = CliRunner.Run([.. args, "--quiet"], Forced, TimeSpan.FromSeconds(300));
        Assert.Equal(0, q.ExitCode);
        Assert.Equal("", q.StdErr);
    }

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>
    /// SIGTERM or SIGKILL in the middle of a streamed --out-cov run (progress under way): no output, no std, no covariance,
    /// and no spill file of the M x N intermediates (unlinked as soon as it is open).
    /// </summary>
    [Theory]
    [InlineData(15)]
    [InlineData(9)]
    public async Task A_signal_during_a_streamed_covariance_leaves_no_output_and_no_spill(int signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        int n = 300, m = 3000;
        var (theta, thetaX, _) = Kernel(n, m, 81);
        var (sigma, sigmaX, sigmaXX) = Kernel(n, m, 82, lengthScale: 0.7);
        PredictMappedTests.WriteKernels(_dir, theta, thetaX, sigma, sigmaX, sigmaXX);
        MatrixFile.Write(P("y.npy"), Random(n, 1, 83));
        string[] outputs = [P("p.npy"), P("p.std.npy"), P("c.npy")];
        string[] args = ["predict", "--kernel-train", P("k.npy"), "--kernel-test", P("kx.npy"), "--nngp-train", P("s.npy"), "--nngp-test", P("sx.npy"),
            "--nngp-test-test", P("sxx.npy"), "--y", P("y.npy"), "--time", "1,2,3", "--regularization", "1e-8", "--out-cov", outputs[2], "--out", outputs[0]];
        var env = new Dictionary<string, string>(Forced)
        {
            ["NTKFAST_MAP_THRESHOLD"] = "0", ["NTKFAST_PREDICT_BLOCK_ROWS"] = "32", ["NTKFAST_PROGRESS_INTERVAL_MS"] = "100", ["NTKFAST_THREADS"] = "1",
        };
        using Process p = Process.Start(NtkProcess.StartInfo(args, env))!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        // Wait for a report past the first pass (the spill is written and being read back).
        Task<string?> under = Task.Run(() =>
        {
            string? line;
            while ((line = p.StandardError.ReadLine()) is not null)
            {
                Match r = Percent().Match(line);
                if (line.StartsWith("predict: work", StringComparison.Ordinal) && r.Success
                    && double.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture) > 5) return line;
            }
            return null;
        });
        if (await Task.WhenAny(under, Task.Delay(TimeSpan.FromSeconds(120))) != under) { p.Kill(); Assert.Fail("no progress past 5% within 120 s"); }
        Assert.True(await under is not null, "the run ended before it was interrupted");
        Task<string> rest = p.StandardError.ReadToEndAsync();
        Assert.Equal(0, SendSignal(p.Id, signal));
        Assert.True(p.WaitForExit(30_000), "the process did not stop after signal " + signal);
        Assert.NotEqual(0, p.ExitCode);
        foreach (string o in outputs) Assert.False(File.Exists(o), "an output after the signal: " + o);
        Assert.Empty(Directory.GetFiles(_dir, ".ntk-spill-*"));
        _ = await stdout + await rest;
    }
}
