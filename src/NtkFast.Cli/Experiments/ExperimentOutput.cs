using System.Globalization;
using System.Text;
using NtkFast.IO;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Where an experiment puts its results: the output folder (CSV tables, PNG figures,
/// summary.txt, each written atomically so no file is ever seen half-written), the summary text
/// (also echoed to <see cref="Console.Out"/> unless muted), and the progress reports on stderr.
/// </summary>
public sealed class ExperimentOutput
{
    private readonly StringBuilder _summary = new();
    private readonly List<string> _files = [];
    private readonly TextWriter? _echo;
    private readonly TextWriter? _progressWriter;

    /// <param name="directory">Output folder (created if missing).</param>
    /// <param name="echo">Where summary lines are echoed as they are written (null: nowhere).</param>
    /// <param name="progressWriter">Where progress goes (null: stderr, or nowhere with --quiet).</param>
    public ExperimentOutput(string directory, TextWriter? echo, TextWriter? progressWriter = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        _echo = echo;
        _progressWriter = progressWriter;
    }

    public string Directory { get; }

    /// <summary>Files written so far (full paths), in order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>The summary written so far.</summary>
    public string Summary => _summary.ToString();

    /// <summary>A progress report for a long step (thread-safe <see cref="Progress.Advance"/>).</summary>
    public Progress Progress(string label, long total) => new(label, total, _progressWriter);

    /// <summary>Appends one line to the summary (and echoes it).</summary>
    public void Line(string text = "")
    {
        _summary.AppendLine(text);
        _echo?.WriteLine(text);
    }

    /// <summary>Full path of <paramref name="name"/> inside the output folder.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Writes a CSV table: a header row, then one row per index; columns must have equal lengths.</summary>
    public void WriteCsv(string name, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<double>> columns)
    {
        if (headers.Count != columns.Count) throw new ArgumentException("One header per column is needed.", nameof(headers));
        int rows = columns.Count == 0 ? 0 : columns[0].Count;
        foreach (IReadOnlyList<double> c in columns)
            if (c.Count != rows) throw new ArgumentException("All columns must have the same length.", nameof(columns));
        var sb = new StringBuilder();
        sb.AppendJoin(',', headers).Append('\n');
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns.Count; c++)
            {
                if (c > 0) sb.Append(',');
                sb.Append(columns[c][r].ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        WriteText(name, sb.ToString());
    }

    /// <summary>Writes a CSV whose rows are given as strings (already formatted, invariant culture).</summary>
    public void WriteCsvRows(string name, string header, IEnumerable<string> rows)
    {
        var sb = new StringBuilder();
        sb.Append(header).Append('\n');
        foreach (string r in rows) sb.Append(r).Append('\n');
        WriteText(name, sb.ToString());
    }

    public void WriteText(string name, string text) =>
        WriteBytes(name, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));

    public void WriteBytes(string name, byte[] bytes)
    {
        string path = PathOf(name);
        AtomicFile.Write(path, s => s.Write(bytes));
        _files.Add(path);
    }

    /// <summary>Writes summary.txt with everything <see cref="Line"/> collected.</summary>
    public void WriteSummary() => WriteText("summary.txt", Summary);

    /// <summary>Invariant-culture number formatting for summaries and CSV rows.</summary>
    public static string F(double v, string format = "G6") => v.ToString(format, CultureInfo.InvariantCulture);
}
