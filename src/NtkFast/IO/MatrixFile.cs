using System.Globalization;
using System.Text;
using NtkFast.Numerics;

namespace NtkFast.IO;

/// <summary>
/// Reads and writes the data matrices of the <c>ntk</c> command (rows = points) as .npy or .csv,
/// chosen by the file extension (case-insensitive).
/// <para><b>.npy</b>: float32 or float64, any byte order, C or Fortran order. A 2-D array is taken
/// as it is; a 1-D array of length N is read as an N×1 column (the natural shape of regression
/// targets Y); 0-d and 3-D-or-more arrays are rejected.</para>
/// <para><b>.csv</b>: one row per line, values separated by commas — or, when the first data line
/// has no comma, by runs of spaces/tabs (numpy.savetxt's default). Blank lines and lines starting
/// with '#' (numpy.savetxt's header) are skipped. The first non-comment line is a header of column
/// names, and skipped, when none of its fields is a number; a line mixing names and numbers is an
/// error. Every row must have the same number of values; values may be wrapped in double quotes.</para>
/// <para>Both: NaN or ±Inf anywhere, 0 rows or 0 columns are errors. Every error is one line
/// (<see cref="InvalidDataException"/>) naming the option and the file, and for .csv the line and
/// column (1-based; .npy positions are 0-based array indices).</para>
/// </summary>
public static class MatrixFile
{
    /// <summary>
    /// Reads a matrix. <paramref name="what"/> names it in error messages (e.g. "--x"); may be empty.
    /// </summary>
    public static Matrix Read(string path, string? what = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string label = string.IsNullOrEmpty(what) ? path : $"{what} {path}";
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".npy" or ".csv"))
            throw new InvalidDataException($"{label}: unsupported file type '{ext}' (expected .npy or .csv)");
        if (Directory.Exists(path)) throw new InvalidDataException($"{label}: is a directory, expected a file");
        if (!File.Exists(path)) throw new FileNotFoundException($"{label}: file not found", path);
        return ext == ".npy" ? ReadNpy(path, label) : ReadCsv(path, label);
    }

    private static Matrix ReadNpy(string path, string label)
    {
        NpyArray a;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            a = Npy.Read(fs, label, fs.Length);
        if (!a.IsNumeric) throw new InvalidDataException($"{label}: holds text, expected a float32 or float64 matrix");
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

    private static int FirstNonFinite(ReadOnlySpan<double> data)
    {
        for (int i = 0; i < data.Length; i++)
            if (!double.IsFinite(data[i])) return i;
        return -1;
    }

    private static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

    private static Matrix ReadCsv(string path, string label)
    {
        using var reader = new StreamReader(path, new UTF8Encoding(false, false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var values = new List<double>();
        int cols = -1, firstDataLine = 0, lineNo = 0;
        bool? commaSeparated = null;
        bool seenContent = false;
        var fields = new List<Range>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            ReadOnlySpan<char> text = line.AsSpan().Trim();
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
