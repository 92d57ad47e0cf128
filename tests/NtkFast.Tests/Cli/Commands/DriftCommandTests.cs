using NtkFast.Cli.Commands;
using Xunit;

namespace NtkFast.Tests.Cli.Commands;

/// <summary>`ntk drift`'s stdout summary (issue #18): a quantity that does not move has no log-log slope, and says so.</summary>
public sealed class DriftCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-drift-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>
    /// With `sign` (derivative 0 everywhere) nothing before the last layer gets a gradient: weight_move_0 is exactly 0
    /// at every width, and so is the kernel's movement. The summary used to print "NaN" for those slopes.
    /// </summary>
    [Fact]
    public void An_all_zero_weight_move_column_prints_no_slope_rather_than_NaN()
    {
        string x = P("x.csv"), y = P("y.csv"), report = P("drift.csv");
        File.WriteAllLines(x, ["1,0.5", "-0.3,2", "0.7,-1", "0.2,0.1"]);
        File.WriteAllLines(y, ["1", "-1", "0.5", "0"]);
        CliResult r = CliRunner.Run(["drift", "--x", x, "--y", y, "--depth", "2", "--hidden", "8,32", "--activation", "sign", "--seed", "0",
            "--lr", "0.5", "--steps", "4", "--report", report, "--quiet"]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.DoesNotContain("NaN", r.StdOut, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("weight_move_0 n/a (all zero)", r.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"weight_move_1 -?\d+\.\d{3}", r.StdOut); // the last layer does move
        // the report itself has the zeros (the column the summary is about)
        string[] lines = File.ReadAllLines(report);
        int col = Array.IndexOf(lines[0].Split(','), "weight_move_0");
        Assert.All(lines.Skip(1), l => Assert.Equal(0.0, double.Parse(l.Split(',')[col], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Slope_says_why_there_is_none()
    {
        double[] w = [8, 32, 128];
        Assert.Equal("-0.500", DriftCommand.Slope(w, [1 / Math.Sqrt(8), 1 / Math.Sqrt(32), 1 / Math.Sqrt(128)]));
        Assert.Equal("n/a (all zero)", DriftCommand.Slope(w, [0, 0, 0]));
        Assert.Equal("n/a (nonzero at fewer than two widths)", DriftCommand.Slope(w, [0, 0, 1e-3]));
        Assert.Equal("n/a (one width)", DriftCommand.Slope([16, 16], [1, 2]));
        Assert.Equal("n/a (not finite)", DriftCommand.Slope(w, [1, double.PositiveInfinity, 2]));
    }
}
