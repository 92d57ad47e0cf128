using System.Diagnostics;
using System.Globalization;

namespace NtkFast.Cli;

/// <summary>
/// Progress of a long step, reported on stderr (stdout stays clean for data):
/// redrawn in place a few times a second when stderr is a terminal; otherwise (CI logs,
/// redirected output) one line at start, then at most one line every <see cref="LogInterval"/>,
/// and a final line. Silent when <see cref="Quiet"/> (the global --quiet option).
/// Thread-safe: workers of a parallel loop may call <see cref="Advance"/> concurrently.
/// </summary>
/// <example><code>
/// using var p = new Progress("kernel rows", n);
/// NtkParallel.For(0, n, i => { …; p.Advance(); });
/// </code></example>
public sealed class Progress : IProgress<long>, IDisposable
{
    /// <summary>Set by <c>Program.Main</c> from --quiet; commands may read it too.</summary>
    public static bool Quiet { get; set; }

    /// <summary>Redraw period on a terminal.</summary>
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Line period when stderr is not a terminal.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long a delayed report (<see cref="Delayed"/>) stays silent: runs shorter than this print nothing.</summary>
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(2);

    private static int s_openLine;

    /// <summary>
    /// Ends a progress line that is being redrawn in place (a terminal), so that what follows — an error
    /// message — starts on a line of its own. Program.Main calls it before printing an error.
    /// </summary>
    public static void EndLine()
    {
        if (Interlocked.Exchange(ref s_openLine, 0) == 1) Console.Error.WriteLine();
    }

    /// <summary>A report that stays silent for its first <paramref name="delay"/> (default <see cref="DefaultDelay"/>) and prints nothing at all if done by then.</summary>
    public static Progress Delayed(string label, long total, TimeSpan? delay = null, TextWriter? writer = null, bool? interactive = null, Func<TimeSpan>? clock = null) =>
        new(label, total, writer, interactive, delay ?? DefaultDelay, clock);

    private readonly string _label;
    private readonly long _total;
    private readonly TimeSpan _delay;
    private readonly Func<TimeSpan> _elapsed;
    private bool _drawn;
    private readonly TextWriter? _out;
    private readonly bool _interactive;
    private readonly TimeSpan _logInterval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private long _done;
    private long _lastDrawTicks;
    private int _lastWidth;
    private bool _finished;

    /// <param name="label">What is being done ("NTK rows", "training").</param>
    /// <param name="total">Units of work; 0 or less for an unknown total (counts only).</param>
    /// <param name="writer">Where to report (default stderr, or nowhere when <see cref="Quiet"/>).</param>
    /// <param name="interactive">Redraw in place (default: stderr is a terminal).</param>
    /// <param name="delay">Stay silent this long (and entirely, if finished by then); zero: report from the start.</param>
    /// <param name="clock">Elapsed time (tests inject a fake clock); default a stopwatch started now.</param>
    public Progress(string label, long total, TextWriter? writer = null, bool? interactive = null, TimeSpan delay = default, Func<TimeSpan>? clock = null)
    {
        _label = label ?? "";
        _total = total;
        _out = writer ?? (Quiet ? null : Console.Error);
        _interactive = interactive ?? (writer is null && !Console.IsErrorRedirected);
        _delay = delay;
        _logInterval = LogInterval;
        if (writer is null)
        {
            // Reports on the real stderr: NTKFAST_PROGRESS_DELAY_MS / NTKFAST_PROGRESS_INTERVAL_MS (milliseconds >= 0) override the
            // delay and the period of logged lines, so tests (and impatient users) see progress of runs of a few seconds.
            _delay = EnvironmentMilliseconds("NTKFAST_PROGRESS_DELAY_MS") ?? delay;
            _logInterval = EnvironmentMilliseconds("NTKFAST_PROGRESS_INTERVAL_MS") ?? LogInterval;
        }
        delay = _delay;
        _elapsed = clock ?? (() => _clock.Elapsed);
        if (_out is not null && !_interactive && delay <= TimeSpan.Zero) WriteLine($"{_label}: started");
    }

    public long Done => Interlocked.Read(ref _done);

    /// <summary>Adds <paramref name="units"/> finished units.</summary>
    public void Advance(long units = 1)
    {
        long done = Interlocked.Add(ref _done, units);
        MaybeDraw(done);
    }

    /// <summary>Sets the number of finished units.</summary>
    public void Report(long value)
    {
        Interlocked.Exchange(ref _done, value);
        MaybeDraw(value);
    }

    private void MaybeDraw(long done)
    {
        if (_out is null) return;
        TimeSpan elapsed = _elapsed();
        if (elapsed < _delay) return;
        long now = elapsed.Ticks;
        long period = (_interactive ? RedrawInterval : _logInterval).Ticks;
        // the first report (after the delay) comes at once; then one per period
        if (Volatile.Read(ref _drawn) && now - Interlocked.Read(ref _lastDrawTicks) < period) return;
        lock (_lock)
        {
            if (_finished || (_drawn && now - _lastDrawTicks < period)) return;
            _lastDrawTicks = now;
            Draw(done, final: false);
            _drawn = true;
        }
    }

    /// <summary>Prints the final state (also done by <see cref="Dispose"/>).</summary>
    public void Finish()
    {
        if (_out is null) return;
        lock (_lock)
        {
            if (_finished) return;
            _finished = true;
            if (_delay > TimeSpan.Zero && !_drawn) return; // a short run: nothing was printed, nothing to close
            Draw(Done, final: true);
            if (_interactive) { _out.WriteLine(); Interlocked.Exchange(ref s_openLine, 0); }
        }
    }

    public void Dispose() => Finish();

    private void Draw(long done, bool final)
    {
        double secs = _elapsed().TotalSeconds;
        string text;
        if (_total > 0)
        {
            double f = Math.Clamp((double)done / _total, 0, 1);
            // the estimate is by work done: units are weighted by cost (entries, FLOPs), not counted as steps
            string eta = !final && f > 0 && secs > 1 ? $", ~{FormatTime(secs * (1 - f) / f)} left" : "";
            string bar = _interactive ? Bar(f) + " " : "";
            text = string.Create(CultureInfo.InvariantCulture, $"{_label}: {bar}{100 * f:0.0}% {FormatTime(secs)}{eta}");
        }
        else text = string.Create(CultureInfo.InvariantCulture, $"{_label}: {done} {FormatTime(secs)}");
        if (final && !_interactive) text += " done";
        if (_interactive)
        {
            // '\r' and pad with spaces over a longer previous line.
            string padded = text.Length < _lastWidth ? text + new string(' ', _lastWidth - text.Length) : text;
            _lastWidth = text.Length;
            _out!.Write('\r' + padded);
            _out.Flush();
            if (_out == Console.Error) Interlocked.Exchange(ref s_openLine, 1);
        }
        else WriteLine(text);
    }

    private void WriteLine(string text)
    {
        _out!.WriteLine(text);
        _out.Flush();
    }

    private static string Bar(double f)
    {
        const int Width = 24;
        int n = (int)Math.Round(f * Width);
        return "[" + new string('#', n) + new string('.', Width - n) + "]";
    }

    private static TimeSpan? EnvironmentMilliseconds(string name) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
            ? TimeSpan.FromMilliseconds(ms) : null;

    internal static string FormatTime(double seconds)
    {
        if (seconds < 60) return string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0}s");
        if (seconds < 3600) return string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 60)}m{(int)(seconds % 60):00}s");
        return string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 3600)}h{(int)(seconds % 3600 / 60):00}m");
    }
}
