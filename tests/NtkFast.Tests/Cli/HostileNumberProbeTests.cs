using System.Globalization;
using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Issue #18 row 6, beyond Float32OverflowTests (one relu network, 1e38): float32 networks of every dual kind
/// (relu, tanh, erf, gelu) on inputs just under and at float32 max, given as a float32 `.npy` (read exactly) and as
/// CSV; `drift` on overflowing and subnormal inputs in both precisions; `experiment`'s numeric input (--seed at and
/// past the ulong range). Every outcome is finite values with exit 0, or one line with exit 1 (2 for bad usage),
/// no output and no temporary — never a NaN/∞ written with exit 0, never a misleading solver message.
/// </summary>
public sealed class HostileNumberProbeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly float JustUnderMax = MathF.BitDecrement(float.MaxValue);

    /// <summary>3 points × 3 features at float32's edge, as a float32 .npy.</summary>
    private string EdgeNpy()
    {
        string path = P("edge.npy");
        float[] v = [float.MaxValue, JustUnderMax, 1e38f, -float.MaxValue, JustUnderMax, -JustUnderMax, JustUnderMax, -1e38f, float.MaxValue];
        using (FileStream s = File.Create(path)) Npy.Write(s, v, [3, 3]);
        return path;
    }

    private static IEnumerable<double> Values(string output) => output.EndsWith(".npy", StringComparison.Ordinal)
        ? Npy.Read(output).Float64!
        : File.ReadAllLines(output).Skip(output.EndsWith("report.csv", StringComparison.Ordinal) ? 1 : 0)
            .SelectMany(l => l.Split(',')).Select(v => double.Parse(v, CultureInfo.InvariantCulture));

    private void AssertFiniteOrOneLine(CliResult r, string output, string what)
    {
        if (r.ExitCode == 0)
        {
            foreach (double v in Values(output)) Assert.True(double.IsFinite(v), $"{what}: non-finite value written with exit 0: {v}");
        }
        else
        {
            Assert.True(r.ExitCode == 1, $"{what}: exit {r.ExitCode}: {r.StdErr}");
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.DoesNotContain("eigensolver", r.StdErr, StringComparison.Ordinal); // the real cause, not a solver's symptom
            Assert.False(File.Exists(output), what + ": an output after a failure");
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
        if (File.Exists(output)) File.Delete(output);
    }

    [Fact]
    public void A_float32_npy_at_the_float32_edge_is_read_exactly()
    {
        Matrix x = MatrixFile.Read(EdgeNpy());
        Assert.Equal((double)float.MaxValue, x[0, 0]);
        Assert.Equal((double)JustUnderMax, x[0, 1]);
        Assert.Equal(-(double)float.MaxValue, x[1, 0]);
    }

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("erf")]
    [InlineData("gelu")]
    public void Float32_networks_on_inputs_at_float32_max(string activation)
    {
        string net = P("net.npz"), csv = P("under.csv"), small = P("small.csv"), y = P("y.csv");
        string u = JustUnderMax.ToString("R", CultureInfo.InvariantCulture);
        File.WriteAllLines(csv, [$"{u},{u},{u}", $"-{u},{u},1", $"{u},-{u},-{u}"]);
        File.WriteAllLines(small, ["0.1,0.2,0.3", "1,1,1", "-0.5,0,0.5"]);
        File.WriteAllLines(y, ["1", "2", "3"]);
        CliResult r = CliRunner.Run("init", "--widths", "3,16,16,1", "--activation", activation, "--seed", "1", "--float32", "--out", net, "--quiet");
        Assert.True(r.ExitCode == 0, r.StdErr);
        string o = P("o.npy"), pr = P("p.csv");
        foreach (string x in (string[])[EdgeNpy(), csv])
        {
            string what = $"{activation}, {Path.GetFileName(x)}";
            AssertFiniteOrOneLine(CliRunner.Run("empirical", "--params", net, "--x", x, "--out-ntk", o, "--quiet"), o, what + ", empirical --params");
            AssertFiniteOrOneLine(CliRunner.Run("empirical", "--monte-carlo", "2", "--widths", "3,16,1", "--activation", activation, "--seed", "1",
                "--x", x, "--float32", "--out-ntk", o, "--quiet"), o, what + ", empirical --monte-carlo --float32");
            AssertFiniteOrOneLine(CliRunner.Run("predict", "--params", net, "--x", small, "--y", y, "--x-test", x, "--out", pr, "--quiet"), pr, what + ", predict (test set)");
            AssertFiniteOrOneLine(CliRunner.Run("predict", "--params", net, "--x", x, "--y", y, "--x-test", small, "--out", pr, "--quiet"), pr, what + ", predict (training set)");
        }
    }

    /// <summary>
    /// `drift` trains networks and computes kernel norms: on inputs whose kernel or training overflows (1e38, float32
    /// max, 1e200) it used to hand a NaN/∞ kernel to Lanczos and report "symmetric eigensolver did not converge".
    /// </summary>
    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    public void Drift_on_overflowing_and_subnormal_inputs(string activation)
    {
        string y = P("y.csv"), report = P("report.csv");
        File.WriteAllLines(y, ["1", "2", "3"]);
        var inputs = new Dictionary<string, string[]>
        {
            ["1e38"] = ["1e38,1e38", "-1e38,2e38", "3e38,1"],
            ["1e200"] = ["1e200,1e200", "-1e200,2e200", "3e200,1"],
            ["subnormal"] = ["1e-310,1e-310", "2e-310,0", "0,3e-310"],
        };
        foreach ((string name, string[] rows) in inputs)
        {
            string x = P(name + ".csv");
            File.WriteAllLines(x, rows);
            foreach (string[] precision in new[] { Array.Empty<string>(), ["--float32"] })
            {
                CliResult r = CliRunner.Run(["drift", "--x", x, "--y", y, "--depth", "3", "--hidden", "8,16", "--activation", activation, "--seed", "0",
                    "--lr", "0.1", "--steps", "3", "--report", report, "--quiet", .. precision]);
                AssertFiniteOrOneLine(r, report, $"drift {activation} {name} {string.Join(' ', precision)}");
            }
        }
    }

    /// <summary>The largest ulong is a valid seed (finite results); one past it, or anything not a plain non-negative integer, is exit 2 with no folder made.</summary>
    [Fact]
    public void Experiment_seeds_at_and_past_the_ulong_range()
    {
        string dir = P("exp");
        CliResult ok = CliRunner.Run("experiment", "convergence", "--quick", "--seed", ulong.MaxValue.ToString(CultureInfo.InvariantCulture), "--out-dir", dir, "--quiet");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        foreach (string csv in Directory.GetFiles(dir, "*.csv"))
            foreach (string field in File.ReadAllLines(csv).Skip(1).SelectMany(l => l.Split(',')))
                if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) // also "NaN", "Infinity"
                    Assert.True(double.IsFinite(v), $"{Path.GetFileName(csv)}: {field}");
        foreach (string seed in (string[])["18446744073709551616", "-1", "1e3", "nan", "inf", "0x10", "1.5"])
        {
            string bad = P("bad-" + seed.GetHashCode(StringComparison.Ordinal));
            CliResult r = CliRunner.Run("experiment", "convergence", "--quick", "--seed", seed, "--out-dir", bad, "--quiet");
            Assert.True(r.ExitCode == 2, $"--seed {seed}: exit {r.ExitCode}: {r.StdErr}");
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.Contains("--seed", r.StdErr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(bad), "--seed " + seed + " created the output folder");
        }
    }
}
