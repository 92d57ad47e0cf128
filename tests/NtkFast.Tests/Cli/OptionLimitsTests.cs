using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Absurd options and environment values (issue #18 item 5): exit 2, one line naming the option or variable,
/// quickly (a 30 s timeout, not a hang), and no output file.
/// </summary>
public sealed class OptionLimitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-limits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Points()
    {
        string x = P("x.csv");
        if (!File.Exists(x)) File.WriteAllText(x, "0.1,0.2\n-0.3,0.4\n0.5,-0.6\n");
        return x;
    }

    private string Network()
    {
        string net = P("net.npz");
        if (!File.Exists(net))
        {
            CliResult r = CliRunner.Run("init", "--widths", "2,4,1", "--activation", "relu", "--seed", "1", "--out", net, "--quiet");
            Assert.True(r.ExitCode == 0, r.StdErr);
        }
        return net;
    }

    private static CliResult Run(string[] args, Dictionary<string, string>? env = null) =>
        CliRunner.Run([.. args, "--quiet"], env, TimeSpan.FromSeconds(30));

    [Theory]
    [InlineData("--depth", "1e9")]
    [InlineData("--depth", "1000000000")]
    [InlineData("--depth", "0")]
    [InlineData("--beta", "nan")]
    [InlineData("--beta", "inf")]
    [InlineData("--weight-std", "inf")]
    [InlineData("--weight-std", "nan")]
    [InlineData("--weight-std", "-1")]
    public void Absurd_kernel_options_are_one_line_exit_2(string option, string value)
    {
        string[] args = ["kernel", "--x", Points(), "--activation", "relu", "--out-ntk", P("t.npy"), option, value];
        if (option != "--depth") args = [.. args, "--depth", "2"];
        CliResult r = Run(args);
        CliRunner.AssertCleanFailure(r, 2, option);
        Assert.False(File.Exists(P("t.npy")));
    }

    [Theory]
    [InlineData("--steps", "10000000000", "--lr", "0.1")]
    [InlineData("--steps", "-1", "--lr", "0.1")]
    [InlineData("--lr", "-1", "--steps", "2")]
    [InlineData("--lr", "0", "--steps", "2")]
    [InlineData("--lr", "nan", "--steps", "2")]
    [InlineData("--lr", "inf", "--steps", "2")]
    public void Absurd_train_options_are_one_line_exit_2(string option, string value, string other, string otherValue)
    {
        string y = P("y.csv");
        File.WriteAllText(y, "1\n0\n-1\n");
        CliResult r = Run(["train", "--params", Network(), "--x", Points(), "--y", y, "--out", P("trained.npz"), option, value, other, otherValue]);
        CliRunner.AssertCleanFailure(r, 2, option);
        Assert.False(File.Exists(P("trained.npz")));
    }

    // Needs the NtkParallel.EnvironmentError check in Program.cs (right after the NTKFAST_ISA one).
    [Theory]
    [InlineData("0", "must be at least 1")]
    [InlineData("-1", "must be at least 1")]
    [InlineData("abc", "is not a whole number")]
    [InlineData("", null)]
    [InlineData("100000", null)]
    public void NTKFAST_THREADS_is_checked_before_any_work(string value, string? error)
    {
        var env = new Dictionary<string, string> { ["NTKFAST_THREADS"] = value };
        CliResult r = Run(["kernel", "--x", Points(), "--depth", "2", "--activation", "relu", "--out-ntk", P("t.npy")], env);
        if (error is null)
        {
            // Unset-like or clamped (100000 → 256 threads, documented): the run succeeds.
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.True(File.Exists(P("t.npy")));
            File.Delete(P("t.npy"));
            return;
        }
        CliRunner.AssertCleanFailure(r, 2, $"ntk kernel: NTKFAST_THREADS='{value}' {error}");
        Assert.False(File.Exists(P("t.npy")));
    }

    [Fact]
    public void NTKFAST_THREADS_above_the_limit_is_reported_as_clamped()
    {
        CliResult r = Run(["version"], new Dictionary<string, string> { ["NTKFAST_THREADS"] = "100000" });
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains($"threads: {NtkFast.Numerics.NtkParallel.EnvironmentLimit}", r.StdOut, StringComparison.Ordinal);
    }
}
