using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli;

/// <summary>The process-level contract of Program.Main, on the real binary.</summary>
public class CliContractTests
{
    [Fact]
    public void Unknown_option_is_one_line_exit_2_and_debug_adds_the_stack()
    {
        CliResult r = CliRunner.Run("version", "--bogus");
        CliRunner.AssertCleanFailure(r, 2, "ntk version: unknown option --bogus (see ntk version --help)");

        CliResult d = CliRunner.Run(["version", "--bogus"], new Dictionary<string, string> { ["NTKFAST_DEBUG"] = "1" }, TimeSpan.FromSeconds(60));
        Assert.Equal(2, d.ExitCode);
        Assert.Equal("ntk version: unknown option --bogus (see ntk version --help)", d.ErrorLines[0]);
        Assert.Contains("CommandSurface.CheckSurface", d.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_command_help_and_quiet()
    {
        CliResult r = CliRunner.Run("frobnicate");
        CliRunner.AssertCleanFailure(r, 2, "unknown command 'frobnicate'");

        CliResult h = CliRunner.Run("--help");
        Assert.Equal(0, h.ExitCode);
        Assert.Contains("exit codes: 0 success", h.StdOut, StringComparison.Ordinal);

        CliResult q = CliRunner.Run("version", "--quiet");
        Assert.Equal(0, q.ExitCode);
        Assert.Equal("", q.StdErr);
    }
}
