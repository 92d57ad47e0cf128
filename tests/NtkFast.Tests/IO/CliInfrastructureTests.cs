using NtkFast.Cli;
using Xunit;

namespace NtkFast.Tests.IO;

public class CliInfrastructureTests
{
    [Fact]
    public void Describe_maps_exception_types_to_one_line_and_exit_code()
    {
        Assert.Equal(("bad thing", 2), Program.Describe(new CliException("bad thing")));
        Assert.Equal(("x.npy: truncated", 2), Program.Describe(new InvalidDataException("x.npy: truncated\nmore")));
        Assert.Equal(2, Program.Describe(new ArgumentException("n must be positive")).Code);
        Assert.Equal(("file not found: /a/b.npy", 2), Program.Describe(new FileNotFoundException("Could not find file '/a/b.npy'.", "/a/b.npy")));
        Assert.Equal(("--x b.npy: file not found", 2), Program.Describe(new FileNotFoundException("--x b.npy: file not found", "b.npy")));
        Assert.Equal(1, Program.Describe(new IOException("disk full")).Code);
        Assert.Equal(1, Program.Describe(new OutOfMemoryException()).Code);
        // a worker's exception inside a parallel loop is reported as itself
        Assert.Equal(("x: bad", 2), Program.Describe(new AggregateException(new InvalidDataException("x: bad"))));
        (string msg, int code) = Program.Describe(new NullReferenceException("Object reference not set\nat Foo()"));
        Assert.Equal(1, code);
        Assert.StartsWith("internal error (NullReferenceException): Object reference not set", msg, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', msg);
    }

    [Fact]
    public void Progress_logs_start_and_done_lines_when_not_interactive()
    {
        var w = new StringWriter();
        using (var p = new Progress("rows", 10, w, interactive: false))
            for (int i = 0; i < 10; i++) p.Advance();
        string[] lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("rows: started", lines[0]);
        Assert.StartsWith("rows: 100.0%", lines[^1], StringComparison.Ordinal);
        Assert.EndsWith(" done", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Progress_redraws_in_place_when_interactive_and_is_thread_safe()
    {
        var w = new StringWriter();
        using (var p = new Progress("steps", 1000, w, interactive: true))
            Parallel.For(0, 1000, _ => p.Advance());
        string s = w.ToString();
        Assert.StartsWith("\r", s, StringComparison.Ordinal);
        Assert.Contains("100.0%", s, StringComparison.Ordinal);
        Assert.Single(s.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // one line, redrawn with '\r'
    }

    [Fact]
    public void Progress_time_format()
    {
        Assert.Equal("5.0s", Progress.FormatTime(5));
        Assert.Equal("2m05s", Progress.FormatTime(125));
        Assert.Equal("1h01m", Progress.FormatTime(3660));
    }
}

public sealed class CliArgsIoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-args").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void ReadMatrix_labels_errors_with_the_option()
    {
        string x = Path.Combine(_dir, "x.csv");
        File.WriteAllText(x, "1,2\n3,abc\n");
        var a = new CliArgs(["--x", x]);
        var e = Assert.Throws<InvalidDataException>(() => a.ReadMatrix("x"));
        Assert.Equal($"--x {x}: line 2, column 2: 'abc' is not a number", e.Message);
        Assert.Null(new CliArgs([]).ReadOptionalMatrix("x2"));
    }

    [Fact]
    public void OutputPath_is_checked_up_front()
    {
        string ok = Path.Combine(_dir, "t.npy");
        Assert.Equal(ok, new CliArgs(["--out", ok]).OutputPath("out", ".npy"));
        Assert.Contains("must end in .npy or .csv", Assert.Throws<CliException>(() => new CliArgs(["--out", Path.Combine(_dir, "t.txt")]).OutputPath("out", ".npy", ".csv")).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<CliException>(() => new CliArgs(["--out", Path.Combine(_dir, "no", "t.npy")]).OutputPath("out", ".npy")).Message, StringComparison.Ordinal);
        Assert.Contains("is a folder", Assert.Throws<CliException>(() => new CliArgs(["--out", _dir]).OutputPath("out")).Message, StringComparison.Ordinal);
        Assert.Contains("missing required option --out", Assert.Throws<CliException>(() => new CliArgs([]).OutputPath("out", ".npy")).Message, StringComparison.Ordinal);
        Assert.Null(new CliArgs([]).OptionalOutputPath("log", ".csv"));
    }
}
