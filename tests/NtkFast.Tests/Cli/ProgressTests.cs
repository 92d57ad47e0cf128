using NtkFast.Cli;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Progress reports (issue 17 item 4) with an injected clock: time estimates from work done (units weighted by
/// cost, not counted as steps), silence for short runs, rate limits, and the end-of-line rule for errors.
/// </summary>
public class ProgressTests
{
    private sealed class FakeClock
    {
        public TimeSpan Now;
        public TimeSpan Read() => Now;
    }

    [Fact]
    public void The_estimate_is_by_work_done_not_by_steps()
    {
        var clock = new FakeClock();
        var w = new StringWriter();
        // two "steps" of very different cost: 100 units then 900
        var p = new Progress("kernel", 1000, w, interactive: false, delay: TimeSpan.FromSeconds(2), clock: clock.Read);
        clock.Now = TimeSpan.FromSeconds(4);
        p.Advance(100);                    // 10% of the work in 4 s: 36 s left (a step count would say 4 s)
        Assert.Equal("kernel: 10.0% 4.0s, ~36.0s left", w.ToString().Trim());
        clock.Now = TimeSpan.FromSeconds(20);
        p.Advance(400);                    // 50% in 20 s: 20 s left
        Assert.EndsWith("kernel: 50.0% 20.0s, ~20.0s left", w.ToString().Trim(), StringComparison.Ordinal);
        clock.Now = TimeSpan.FromSeconds(40);
        p.Advance(500);
        p.Finish();
        Assert.EndsWith("kernel: 100.0% 40.0s done", w.ToString().Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_delayed_report_prints_nothing_for_a_short_run()
    {
        var clock = new FakeClock();
        var w = new StringWriter();
        var p = Progress.Delayed("kernel", 10, writer: w, interactive: true, clock: clock.Read);
        for (int i = 0; i < 10; i++) { clock.Now = TimeSpan.FromMilliseconds(150 * i); p.Advance(); }
        p.Finish();
        Assert.Equal("", w.ToString());
    }

    [Fact]
    public void Logs_are_rate_limited_and_terminals_redraw_one_line()
    {
        var clock = new FakeClock();
        var log = new StringWriter();
        var p = Progress.Delayed("empirical", 600, writer: log, interactive: false, clock: clock.Read);
        for (int s = 1; s <= 60; s++) { clock.Now = TimeSpan.FromSeconds(s); p.Advance(10); }
        p.Finish();
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // first report at 2 s, then one per 10 s (12, 22, 32, 42, 52), and the final line
        Assert.Equal(7, lines.Length);
        Assert.StartsWith("empirical: 3.3% 2.0s", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(" done", lines[^1], StringComparison.Ordinal);

        var term = new StringWriter();
        clock.Now = TimeSpan.Zero;
        var q = Progress.Delayed("kernel", 100, writer: term, interactive: true, clock: clock.Read);
        for (int s = 1; s <= 50; s++) { clock.Now = TimeSpan.FromMilliseconds(100 * s); q.Advance(2); }
        q.Finish();
        string t = term.ToString();
        Assert.Single(t.Split('\n', StringSplitOptions.RemoveEmptyEntries));     // one line, redrawn
        int redraws = t.Count(c => c == '\r');
        Assert.InRange(redraws, 10, 17);                                         // 3 s at one per 200 ms, + the final one
        Assert.EndsWith("\n", t, StringComparison.Ordinal);
    }

    [Fact]
    public void Quiet_and_short_commands_print_no_progress()
    {
        var dir = Directory.CreateTempSubdirectory("ntk-progress-").FullName;
        try
        {
            string x = Path.Combine(dir, "x.csv");
            File.WriteAllText(x, "1,0\n0.6,0.8\n-1,0\n");
            CliResult r = CliRunner.Run("kernel", "--x", x, "--depth", "3", "--activation", "relu", "--out-ntk", Path.Combine(dir, "t.npy"));
            Assert.Equal(0, r.ExitCode);
            Assert.Equal("", r.StdErr);   // under 2 s: silent
            Assert.Equal("", r.StdOut);
        }
        finally { Directory.Delete(dir, true); }
    }
}
