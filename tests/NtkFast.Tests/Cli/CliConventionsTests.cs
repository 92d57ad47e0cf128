using System.Text.RegularExpressions;
using NtkFast.Cli;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// The command line's conventions (issue 17 item 3): --version with the commit, help NAME, "did you
/// mean" for unknown commands and options before any other check, stray arguments rejected, and
/// examples in every --help that use only options the command lists.
/// </summary>
public class CliConventionsTests
{
    public static TheoryData<string> CommandNames()
    {
        var d = new TheoryData<string>();
        foreach (ICommand c in Program.Commands) d.Add(c.Name);
        return d;
    }

    private static ICommand Command(string name) => Array.Find(Program.Commands, c => c.Name == name)!;

    [Theory]
    [InlineData("dept", "depth")]
    [InlineData("depht", "depth")]      // swapped neighbours cost one
    [InlineData("activaton", "activation")]
    [InlineData("out-ntj", "out-ntk")]
    [InlineData("quadrature", "quadrature-degree")] // unique prefix
    public void Closest_finds_the_intended_option(string typo, string expected)
    {
        IReadOnlySet<string> known = CommandSurface.KnownOptions(Command("kernel"));
        Assert.Equal(expected, Suggest.Closest(typo, known));
    }

    [Theory]
    [InlineData("zzzzzz")]
    [InlineData("out")]   // prefix of several (out-ntk, out-nngp): no guess
    public void Closest_refuses_to_guess_when_nothing_is_near(string given)
    {
        IReadOnlySet<string> known = CommandSurface.KnownOptions(Command("kernel"));
        Assert.Null(Suggest.Closest(given, known));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "", 3)]
    [InlineData("kernel", "kernle", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ab", "ba", 1)]
    public void Distance_is_the_edit_distance_with_swaps(string a, string b, int d)
    {
        Assert.Equal(d, Suggest.Distance(a, b));
        Assert.Equal(d, Suggest.Distance(b, a));
    }

    [Fact]
    public void Option_names_are_read_from_help_text_only_where_they_start_a_token()
    {
        string[] names = CommandSurface.OptionNamesIn("  --x FILE  --out-ntk T.npy, a--b, ---, --Upper, --rows a:b --cols- x").ToArray();
        Assert.Equal(["x", "out-ntk", "rows", "cols"], names);
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Every_help_has_examples_that_use_only_listed_options(string name)
    {
        ICommand c = Command(name);
        Assert.NotEmpty(c.Examples);
        string help = CommandSurface.FullHelp(c);
        Assert.Contains("\nexamples:\n", help, StringComparison.Ordinal);
        foreach (string example in c.Examples)
        {
            Assert.Contains(example, help, StringComparison.Ordinal);
            string[] words = ShellWords(example);
            int at = Array.IndexOf(words, "ntk");
            Assert.True(at >= 0 && at + 1 < words.Length && words[at + 1] == name, $"example does not run ntk {name}: {example}");
            var args = new CliArgs(words[(at + 2)..], c.Flags);
            CommandSurface.CheckSurface(c, args); // throws for an option the help does not list or a stray word
            Assert.True(c.TakesPositional || args.Positional.Count == 0);
        }
    }

    [Theory]
    [InlineData("0.1.0+0123456789abcdef0123456789abcdef01234567", "0.1.0 (commit 0123456789ab)")]
    [InlineData("0.1.0+0123456789abcdef0123456789abcdef01234567.modified", "0.1.0 (commit 0123456789ab, modified)")]
    [InlineData("0.1.0+abc1234", "0.1.0 (commit abc1234)")]
    [InlineData("0.1.0", "0.1.0, commit unknown")]
    public void The_version_line_says_when_the_build_had_uncommitted_changes(string informational, string expected) =>
        Assert.Equal(expected, NtkFast.Cli.Commands.VersionCommand.Describe(informational));

    [Fact]
    public void Version_names_the_commit_and_dash_dash_version_is_the_same()
    {
        CliResult v = CliRunner.Run("version");
        Assert.Equal(0, v.ExitCode);
        string first = v.StdOut.Split('\n')[0];
        // Built from a git checkout (CI clones): "ntk 0.1.0 (commit 0123456789ab) on .NET 10…".
        Assert.Matches(new Regex(@"^ntk \d+\.\d+\.\d+ \(commit [0-9a-f]{7,12}(, modified)?\) on \.NET \d+"), first);
        Assert.Equal(v.StdOut, CliRunner.Run("--version").StdOut);
        Assert.Equal(v.StdOut, CliRunner.Run("-V").StdOut);
    }

    [Fact]
    public void Help_command_prints_the_commands_help_and_rejects_unknown_names()
    {
        CliResult h = CliRunner.Run("help", "kernel");
        Assert.Equal(0, h.ExitCode);
        Assert.StartsWith("usage: ntk kernel", h.StdOut, StringComparison.Ordinal);
        Assert.Equal(CliRunner.Run("kernel", "--help").StdOut, h.StdOut);
        Assert.Contains("examples:", h.StdOut, StringComparison.Ordinal);

        CliRunner.AssertCleanFailure(CliRunner.Run("help", "kernle"), 2, "ntk help: unknown command 'kernle'; did you mean 'kernel'?");
        CliResult general = CliRunner.Run("help");
        Assert.Equal(0, general.ExitCode);
        Assert.Contains("ntk help <command>", general.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_command_suggests_the_near_one()
    {
        CliRunner.AssertCleanFailure(CliRunner.Run("predcit"), 2, "ntk: unknown command 'predcit'; did you mean 'predict'?");
        CliResult far = CliRunner.Run("frobnicate");
        CliRunner.AssertCleanFailure(far, 2, "ntk: unknown command 'frobnicate'. Commands: kernel,");
        Assert.DoesNotContain("did you mean", far.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_typo_is_reported_with_a_suggestion_before_any_missing_option()
    {
        // Before: "missing required option --depth". Now the typo is named first.
        CliRunner.AssertCleanFailure(CliRunner.Run("kernel", "--x", "X.npy", "--dept", "4"), 2,
            "ntk kernel: unknown option --dept; did you mean --depth? (see ntk kernel --help)");
        CliRunner.AssertCleanFailure(CliRunner.Run("train", "--param", "net.npz"), 2,
            "ntk train: unknown option --param; did you mean --params?");
        // Options of another command are unknown here, without a wrong guess.
        CliResult r = CliRunner.Run("init", "--monte-carlo", "3");
        CliRunner.AssertCleanFailure(r, 2, "ntk init: unknown option --monte-carlo (see ntk init --help)");
    }

    [Fact]
    public void Stray_positional_arguments_are_errors()
    {
        CliRunner.AssertCleanFailure(CliRunner.Run("kernel", "X.npy", "--depth", "2"), 2,
            "ntk kernel: unexpected argument 'X.npy' (options are written --name VALUE; see ntk kernel --help)");
        CliRunner.AssertCleanFailure(CliRunner.Run("init", "--float32", "yes", "--widths", "2,3,1"), 2,
            "ntk init: unexpected argument 'yes' after the flag --float32, which takes no value");
        CliRunner.AssertCleanFailure(CliRunner.Run("version", "now"), 2, "ntk version: unexpected argument 'now'");
    }

    [Fact]
    public void Echoed_names_are_stripped_of_control_characters_and_truncated()
    {
        CliResult r = CliRunner.Run("version", "--bo\u001b[31mgus");
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain('\u001b', r.StdErr);
        Assert.Single(r.ErrorLines);
        CliResult longName = CliRunner.Run("kernel", "--" + new string('a', 100_000));
        Assert.Equal(2, longName.ExitCode);
        Assert.True(longName.StdErr.Length < 300, $"message of {longName.StdErr.Length} characters");
        CliResult cmd = CliRunner.Run("\u001b]0;pwned\u0007");
        Assert.Equal(2, cmd.ExitCode);
        Assert.DoesNotContain('\u001b', cmd.StdErr);
        Assert.DoesNotContain('\u0007', cmd.StdErr);

        // Option values echoed in errors too (issue #18 item 9: an activation name with terminal escapes, or of 100,000 characters).
        foreach (string activation in (string[])["re\u001b[2Jlu", "relu:\u001b[31m", "leaky_relu:\u001b]0;x\u0007", new string('b', 100_000)])
        {
            CliResult bad = CliRunner.Run("kernel", "--x", "x.npy", "--depth", "2", "--activation", activation, "--out-ntk", "t.npy");
            Assert.Equal(2, bad.ExitCode);
            Assert.Single(bad.ErrorLines);
            Assert.DoesNotContain('\u001b', bad.StdErr);
            Assert.DoesNotContain('\u0007', bad.StdErr);
            Assert.True(bad.StdErr.Length < 600, $"message of {bad.StdErr.Length} characters");
        }
    }

    /// <summary>Splits a command line as a POSIX shell would for these examples: words, double quotes, and a trailing "# comment".</summary>
    private static string[] ShellWords(string line)
    {
        var words = new List<string>();
        var cur = new System.Text.StringBuilder();
        bool quoted = false, any = false;
        foreach (char ch in line)
        {
            if (ch == '"') { quoted = !quoted; any = true; continue; }
            if (!quoted && ch == '#' && cur.Length == 0 && !any) break;
            if (!quoted && ch == ' ')
            {
                if (cur.Length > 0 || any) { words.Add(cur.ToString()); cur.Clear(); any = false; }
                continue;
            }
            cur.Append(ch);
        }
        Assert.False(quoted, $"unbalanced quotes in: {line}");
        if (cur.Length > 0 || any) words.Add(cur.ToString());
        return words.ToArray();
    }
}
