using System.Globalization;
using System.Text;
using NtkFast.Numerics;

namespace NtkFast.IO;

/// <summary>
/// Reads and writes the data matrices of the <c>ntk</c> command (rows = points) as .npy, .npz or .csv,
/// chosen by the file extension (case-insensitive).
/// <para><b>.npy</b>: float64, float32, float16, int8 … int64, uint8 … uint64 or bool, any byte
/// order, C or Fortran order, converted exactly to float64 (a 64-bit integer beyond ±2^53 that
/// float64 cannot hold is an error naming its index). A 2-D array is taken as it is; a 1-D array
/// of length N is read as an N×1 column (the natural shape of regression targets Y or labels);
/// 0-d and 3-D-or-more arrays are rejected.</para>
/// <para><b>.npz</b>: <c>data.npz:NAME</c> reads the array NAME (the member NAME.npy, or NAME);
/// a plain <c>data.npz</c> must hold exactly one array. Only the chosen member is inflated. A path
/// that exists as a file is always taken as it is, even when it contains ':'.</para>
/// <para><b>.csv</b>: one row per line, values separated by commas — or, when the first data line
/// has no comma, by runs of spaces/tabs (numpy.savetxt's default). Blank lines and lines starting
/// with '#' (numpy.savetxt's header) are skipped. The first non-comment line is a header of column
/// names, and skipped, when none of its fields is a number; a line mixing names and numbers is an
/// error. Every row must have the same number of values; values may be wrapped in double quotes.
/// A line may hold at most <see cref="MaxCsvLineChars"/> characters and the values must fit the
/// read budget (<see cref="ReadLimits"/>), so a file without line breaks fails quickly.</para>
/// <para><b>-</b> (or <c>-:NAME</c> for an .npz member): standard input, piped or redirected, read
/// once per process within the read budget; the format is recognised from its first bytes (.npy's
/// magic, a zip archive's, otherwise text as .csv). A terminal on standard input is refused, so the
/// command never waits for typing.</para>
/// <para>All: NaN or ±Inf anywhere, 0 rows or 0 columns are errors; so are directories, FIFOs and
/// devices (see <see cref="InputFile"/>). Every error is one line (<see cref="InvalidDataException"/>)
/// naming the option and the file, and for .csv the line and column (1-based; .npy positions are
/// 0-based array indices).</para>
/// </summary>
public static class MatrixFile
{
    /// <summary>Longest .csv line accepted, in characters (16 Mi: ~600 000 values of 25 digits).</summary>
    public const int MaxCsvLineChars = 1 << 24;

    /// <summary>
    /// Reads a matrix. <paramref name="what"/> names it in error messages (e.g. "--x"); may be empty.
    /// </summary>
    public static Matrix Read(string path, string? what = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path == StandardStream || path.StartsWith(StandardStream + ":", StringComparison.Ordinal))
            return ReadStandardInput(string.IsNullOrEmpty(what) ? "standard input" : $"{what} -", path.Length > 1 ? path[2..] : null);
        (string file, string? member) = SplitMember(path);
        string label = string.IsNullOrEmpty(what) ? file : $"{what} {file}";
        string ext = Path.GetExtension(file).ToLowerInvariant();
        if (ext is not (".npy" or ".npz" or ".csv"))
            throw new InvalidDataException($"{label}: unsupported file type '{Printable.Quote(ext)}' (expected .npy, .npz or .csv)");
        try
        {
            return ext switch
            {
                ".npy" => FromArray(Npy.Read(file, label, convertToFloat64: true), label),
                ".npz" => ReadNpz(file, label, member),
                _ => ReadCsv(file, label),
            };
        }
        catch (OverflowException)
        {
            // a safety net: every size is checked before use, but no reader may surface .NET's bare overflow message
            throw new InvalidDataException($"{label}: sizes in the file are too large to handle");
        }
    }

    /// <summary>The path that names standard input (for readers) or standard output (for writers that allow it).</summary>
    public const string StandardStream = "-";

    private static int _stdinTaken;

    /// <summary>
    /// Reads standard input once (a second "-" in the same process is an error: the stream is gone)
    /// into memory within the read budget, then parses it by its first bytes.
    /// </summary>
    private static Matrix ReadStandardInput(string label, string? member)
    {
        if (!Console.IsInputRedirected)
            throw new InvalidDataException($"{label}: standard input is a terminal; pipe or redirect a .npy, .npz or .csv into it");
        if (Interlocked.Exchange(ref _stdinTaken, 1) != 0)
            throw new InvalidDataException($"{label}: standard input can be read by one option only");
        using Stream stdin = Console.OpenStandardInput();
        using MemoryStream ms = Npy.CopyBounded(stdin, label, ReadLimits.MemoryBudget);
        if (ms.Length == 0) throw new InvalidDataException($"{label}: standard input is empty");
        ReadOnlySpan<byte> head = ms.GetBuffer().AsSpan(0, (int)Math.Min(ms.Length, 6));
        try
        {
            if (head.SequenceEqual((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']))
            {
                if (member is not null) throw new InvalidDataException($"{label}: holds a .npy, not an .npz: drop ':{Printable.Quote(member)}'");
                return FromArray(Npy.Read(ms, label, ms.Length, convertToFloat64: true), label);
            }
            if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8))
            {
                using NpzArchive a = Npz.OpenData(ms, label);
                return FromArchive(a, label, "-", member);
            }
            if (member is not null) throw new InvalidDataException($"{label}: is text (.csv), not an .npz: drop ':{Printable.Quote(member)}'");
            return ReadCsv(ms, label);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{label}: sizes in the stream are too large to handle");
        }
    }

    /// <summary>
    /// "data.npz:NAME" → ("data.npz", "NAME"); a path that exists, or has no ".npz:" in it, is
    /// returned whole. Of several possible splits, the first whose file exists wins, else the first.
    /// </summary>
    internal static (string File, string? Member) SplitMember(string path)
    {
        if (File.Exists(path) || Directory.Exists(path)) return (path, null);
        (string, string?)? first = null;
        for (int i = path.IndexOf(':', StringComparison.Ordinal); i > 0; i = path.IndexOf(':', i + 1))
        {
            string file = path[..i];
            if (!file.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) continue;
            if (File.Exists(file)) return (file, path[(i + 1)..]);
            first ??= (file, path[(i + 1)..]);
        }
        return first ?? (path, null);
    }

    private static Matrix ReadNpz(string file, string label, string? member)
    {
        using NpzArchive a = Npz.Open(file, label, strict: false, convertToFloat64: true);
        return FromArchive(a, label, file, member);
    }

    private static Matrix FromArchive(NpzArchive a, string label, string file, string? member)
    {
        string key;
        if (member is null)
        {
            if (a.Count != 1)
                throw new InvalidDataException($"{label}: holds {a.Count} arrays ({NameList(a.Names)}); name the one to read as {file}:NAME");
            key = a.Names[0];
        }
        else if (member.Length == 0)
            throw new InvalidDataException($"{label}: empty array name after ':' (has: {NameList(a.Names)})");
        else if (a.ContainsKey(member)) key = member;
        else if (member.EndsWith(".npy", StringComparison.Ordinal) && a.ContainsKey(member[..^4])) key = member[..^4];
        else throw new InvalidDataException($"{label}: has no array '{Printable.Quote(member)}' (has: {NameList(a.Names)})");
        return FromArray(a[key], $"{label}[{Printable.Quote(key)}]");
    }

    private static string NameList(IReadOnlyList<string> names)
    {
        string list = string.Join(", ", names.Take(20).Select(n => $"'{Printable.Quote(n)}'"));
        return names.Count > 20 ? list + $", … {names.Count - 20} more" : list;
    }

    private static Matrix FromArray(NpyArray a, string label)
    {
        if (!a.IsNumeric) throw new InvalidDataException($"{label}: holds text, expected a numeric matrix");
        int rows, cols;
        switch (a.Rank)
        {
            case 2: rows = a.Shape[0]; cols = a.Shape[1]; break;
            case 1: rows = a.Shape[0]; cols = 1; break;
            case 0: throw new InvalidDataException($"{label}: is a 0-d scalar, expected a 2-D matrix (rows = points)");
            default: throw new InvalidDataException($"{label}: is {a.Rank}-D with shape {NpyArray.ShapeString(a.Shape)}, expected a 2-D matrix (rows = points)");
        }
        if (rows == 0) throw new InvalidDataException($"{label}: has 0 rows (shape {NpyArray.ShapeString(a.Shape)})");
        if (cols == 0) throw new InvalidDataException($"{label}: has 0 columns (shape {NpyArray.ShapeString(a.Shape)})");
        double[] data = a.ToDoubleArray();
        int bad = FirstNonFinite(data);
        if (bad >= 0)
            throw new InvalidDataException($"{label}: contains {Describe(data[bad])} at row {bad / cols}, column {bad % cols} (0-based)");
        return new Matrix(rows, cols, data);
    }

    private static int FirstNonFinite(ReadOnlySpan<double> data) => Numerics.FiniteScan.IndexOfNonFinite(data);

    private static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

    private static Matrix ReadCsv(string path, string label)
    {
        using FileStream fs = InputFile.Open(path, label);
        return ReadCsv(fs, label);
    }

    private static Matrix ReadCsv(Stream fs, string label)
    {
        using var reader = new StreamReader(fs, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var lines = new LineReader(reader, MaxCsvLineChars, label);
        long budget = ReadLimits.MemoryBudget;
        var values = new List<double>();
        int cols = -1, firstDataLine = 0, lineNo = 0;
        bool? commaSeparated = null;
        bool seenContent = false;
        var fields = new List<Range>();
        while (lines.TryRead(out ReadOnlySpan<char> line))
        {
            lineNo++;
            ReadOnlySpan<char> text = line.Trim();
            if (text.IsEmpty || text[0] == '#') continue;
            commaSeparated ??= text.Contains(',');
            Split(text, commaSeparated.Value, fields);
            bool firstContent = !seenContent;
            seenContent = true;
            if (firstContent && IsHeader(text, fields))
            {
                cols = fields.Count;
                firstDataLine = lineNo;
                continue;
            }
            if (cols < 0) { cols = fields.Count; firstDataLine = lineNo; }
            else if (fields.Count != cols)
                throw new InvalidDataException($"{label}: line {lineNo} has {fields.Count} values, expected {cols} (as on line {firstDataLine})");
            // a List doubles its storage: keep twice the values' bytes within the budget and the count within an array's
            if (((long)values.Count + fields.Count) * 16 > budget || (long)values.Count + fields.Count > Array.MaxLength)
                throw new InvalidDataException($"{label}: line {lineNo}: more than {values.Count} values, beyond the read budget of {budget} bytes");
            for (int j = 0; j < fields.Count; j++)
            {
                ReadOnlySpan<char> f = Unquote(text[fields[j]]);
                if (f.IsEmpty) throw new InvalidDataException($"{label}: line {lineNo}, column {j + 1}: empty value");
                if (!double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                {
                    if (IsNonFiniteWord(f))
                        throw new InvalidDataException($"{label}: line {lineNo}, column {j + 1}: {Printable.Quote(f)} is not allowed (values must be finite)");
                    throw new InvalidDataException($"{label}: line {lineNo}, column {j + 1}: '{Printable.Quote(f)}' is not a number");
                }
                if (!double.IsFinite(v))
                    throw new InvalidDataException($"{label}: line {lineNo}, column {j + 1}: {Printable.Quote(f)} is not allowed (values must be finite)");
                values.Add(v);
            }
        }
        if (cols == 0) throw new InvalidDataException($"{label}: has 0 columns");
        if (values.Count == 0) throw new InvalidDataException($"{label}: has 0 rows (no numeric data lines)");
        return new Matrix(values.Count / cols, cols, values.ToArray());
    }

    /// <summary>
    /// Lines of a text stream (ended by "\n", "\r\n" or "\r", as <see cref="TextReader.ReadLine"/>),
    /// each at most <c>max</c> characters: a longer one is an error after reading just that many.
    /// </summary>
    private sealed class LineReader(TextReader reader, int max, string label)
    {
        private readonly char[] _buf = new char[1 << 16];
        private int _pos, _end;
        private char[] _line = new char[256];
        private bool _eof;
        private int _lineNo;

        public bool TryRead(out ReadOnlySpan<char> line)
        {
            int len = 0;
            bool any = false;
            _lineNo++;
            while (true)
            {
                if (_pos == _end)
                {
                    _pos = 0;
                    if (_eof || (_end = reader.Read(_buf, 0, _buf.Length)) == 0)
                    {
                        _eof = true;
                        _end = 0;
                        line = _line.AsSpan(0, len);
                        return any;
                    }
                }
                any = true;
                ReadOnlySpan<char> chunk = _buf.AsSpan(_pos, _end - _pos);
                int stop = chunk.IndexOfAny('\n', '\r');
                int take = stop < 0 ? chunk.Length : stop;
                if ((long)len + take > max)
                    throw new InvalidDataException($"{label}: line {_lineNo} is longer than {max} characters (is this a text file with line breaks?)");
                if (len + take > _line.Length) Array.Resize(ref _line, (int)Math.Min(max, Math.Max((long)_line.Length * 2, len + take)));
                chunk[..take].CopyTo(_line.AsSpan(len));
                len += take;
                _pos += take;
                if (stop < 0) continue;
                char c = _buf[_pos++];
                if (c == '\r')
                {
                    if (_pos == _end && !_eof) { _end = reader.Read(_buf, 0, _buf.Length); _pos = 0; if (_end == 0) _eof = true; }
                    if (_pos < _end && _buf[_pos] == '\n') _pos++;
                }
                line = _line.AsSpan(0, len);
                return true;
            }
        }
    }

    private static void Split(ReadOnlySpan<char> text, bool comma, List<Range> fields)
    {
        fields.Clear();
        if (comma)
        {
            int start = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || text[i] == ',')
                {
                    fields.Add(new Range(start, i));
                    start = i + 1;
                }
            }
            return;
        }
        int p = 0;
        while (p < text.Length)
        {
            while (p < text.Length && text[p] is ' ' or '\t') p++;
            if (p >= text.Length) break;
            int s = p;
            while (p < text.Length && text[p] is not (' ' or '\t')) p++;
            fields.Add(new Range(s, p));
        }
    }

    private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> f)
    {
        f = f.Trim();
        if (f.Length >= 2 && f[0] == '"' && f[^1] == '"') f = f[1..^1].Trim();
        return f;
    }

    /// <summary>A header line: no field is a number (nor a NaN/Inf spelling, which is bad data, not a name).</summary>
    private static bool IsHeader(ReadOnlySpan<char> text, List<Range> fields)
    {
        foreach (Range r in fields)
        {
            ReadOnlySpan<char> f = Unquote(text[r]);
            if (f.IsEmpty) continue;
            if (double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || IsNonFiniteWord(f)) return false;
        }
        return true;
    }

    private static bool IsNonFiniteWord(ReadOnlySpan<char> f)
    {
        if (f.Length > 0 && f[0] is '+' or '-') f = f[1..];
        return f.Equals("nan", StringComparison.OrdinalIgnoreCase) || f.Equals("inf", StringComparison.OrdinalIgnoreCase)
            || f.Equals("infinity", StringComparison.OrdinalIgnoreCase);
    }

    // ------------------------------------------------------------------ writing

    /// <summary>Writes a matrix as float64 .npy or as .csv (by extension), atomically.</summary>
    public static void Write(string path, Matrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Write(path, matrix.Data, matrix.Rows, matrix.Cols);
    }

    /// <summary>Writes row-major data of shape rows×cols as float64 .npy or as .csv (by extension), atomically.</summary>
    public static void Write(string path, ReadOnlySpan<double> data, int rows, int cols)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"Data has {data.Length} elements, expected {rows}×{cols}.", nameof(data));
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".npy" or ".csv"))
            throw new ArgumentException($"Output '{path}': unsupported file type '{ext}' (expected .npy or .csv).", nameof(path));
        using AtomicFileWriter w = AtomicFile.Create(path);
        if (ext == ".npy") Npy.Write(w.Stream, data, [rows, cols]);
        else WriteCsv(w.Stream, data, rows, cols);
        w.Commit();
    }

    /// <summary>Writes comma-separated values, shortest round-trip formatting, '\n' line ends.</summary>
    public static void WriteCsv(Stream stream, ReadOnlySpan<double> data, int rows, int cols)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"Data has {data.Length} elements, expected {rows}×{cols}.", nameof(data));
        using var sw = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        sw.NewLine = "\n";
        Span<char> buf = stackalloc char[32];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                if (j > 0) sw.Write(',');
                data[i * cols + j].TryFormat(buf, out int n, "R", CultureInfo.InvariantCulture);
                sw.Write(buf[..n]);
            }
            sw.Write('\n');
        }
    }
}
