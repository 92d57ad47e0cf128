using System.Globalization;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// float32 overflow probes (issue #18, numerics row): float32 networks (`init --float32`, `--float32`) fed inputs
/// near float32 max (1e38, which overflow after one layer or in xᵀx') give finite results (exit 0) or one line,
/// never a non-finite value written with exit 0.
/// </summary>
public sealed class Float32OverflowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-f32-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private (string net, string big, string small, string y) Setup()
    {
        string big = P("big.csv"), small = P("small.csv"), y = P("y.csv"), net = P("net.npz");
        File.WriteAllLines(big, ["1e38,1e38,1e38", "-1e38,2e38,1e38"]);
        File.WriteAllLines(small, ["0.1,0.2,0.3", "1,1,1"]);
        File.WriteAllLines(y, ["1", "2"]);
        CliResult r = CliRunner.Run("init", "--widths", "3,16,1", "--activation", "relu", "--seed", "1", "--float32", "--out", net, "--quiet");
        Assert.True(r.ExitCode == 0, r.StdErr);
        return (net, big, small, y);
    }

    private void AssertFiniteOrOneLine(CliResult r, string output)
    {
        if (r.ExitCode == 0)
        {
            IEnumerable<double> values = output.EndsWith(".npy", StringComparison.Ordinal)
                ? Npy.Read(output).Float64!
                : File.ReadAllLines(output).SelectMany(l => l.Split(',')).Select(v => double.Parse(v, CultureInfo.InvariantCulture));
            foreach (double v in values) Assert.True(double.IsFinite(v), "non-finite value written with exit 0: " + v);
        }
        else
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.False(File.Exists(output), "an output after a failure");
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Train_of_a_float32_network_on_inputs_near_float32_max()
    {
        var (net, big, _, y) = Setup();
        string o = P("t.npz");
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--allow-divergence"] })
        {
            CliResult r = CliRunner.Run(["train", "--params", net, "--x", big, "--y", y, "--lr", "0.01", "--steps", "3", "--float32", "--out", o, .. extra]);
            Assert.Equal(1, r.ExitCode);
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.False(File.Exists(o));
        }
    }

    [Fact]
    public void Empirical_float32_on_inputs_near_float32_max()
    {
        var (net, big, _, _) = Setup();
        string o = P("e.npy"), m = P("m.npy");
        AssertFiniteOrOneLine(CliRunner.Run("empirical", "--params", net, "--x", big, "--float32", "--out-ntk", o, "--quiet"), o);
        AssertFiniteOrOneLine(CliRunner.Run("empirical", "--monte-carlo", "4", "--widths", "3,16,1", "--activation", "relu", "--seed", "1",
            "--x", big, "--float32", "--out-ntk", m, "--quiet"), m);
    }

    [Fact]
    public void Predict_with_a_float32_network_on_inputs_near_float32_max()
    {
        var (net, big, small, y) = Setup();
        string a = P("a.csv"), b = P("b.csv");
        AssertFiniteOrOneLine(CliRunner.Run("predict", "--params", net, "--x", small, "--y", y, "--x-test", big, "--out", a, "--quiet"), a);
        AssertFiniteOrOneLine(CliRunner.Run("predict", "--params", net, "--x", big, "--y", y, "--x-test", small, "--out", b, "--quiet"), b);
    }
}
