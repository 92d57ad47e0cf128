using System.Runtime.InteropServices;
using System.Text;

namespace NtkFast.Native;

/// <summary>
/// Checks of the C ABI's raw arguments (pointers, sizes, leading dimensions, strings) with messages that name
/// the C parameter, and views of caller-owned row-major buffers. A matrix "rows × cols, leading dimension ld"
/// occupies (rows − 1)·ld + cols doubles; spans are limited to int.MaxValue elements.
/// </summary>
internal static unsafe class NativeArgs
{
    public static NativeArgumentException Bad(string message) => new(message);

    /// <summary>A count in [min, int.MaxValue].</summary>
    public static int Count(long value, string name, long min = 0)
    {
        if (value < min) throw Bad($"{name} = {value}: must be at least {min}");
        if (value > int.MaxValue) throw Bad($"{name} = {value}: too large (at most {int.MaxValue})");
        return (int)value;
    }

    /// <summary>Checks rows × cols with leading dimension ld and returns the span length it covers.</summary>
    public static int Extent(long rows, long cols, long ld, string name, string rowsName, string colsName, string ldName)
    {
        if (rows < 0) throw Bad($"{rowsName} = {rows}: must not be negative");
        if (cols < 0) throw Bad($"{colsName} = {cols}: must not be negative");
        if (ld < cols) throw Bad($"{ldName} = {ld}: the leading dimension of {name} must be at least {colsName} = {cols}");
        if (rows == 0 || cols == 0) return 0;
        Int128 need = (Int128)(rows - 1) * ld + cols;
        if (need > int.MaxValue) throw Bad($"{name} ({rows}×{cols}, leading dimension {ld}) is too large: {need} elements, at most {int.MaxValue} per buffer");
        return (int)need;
    }

    /// <summary>An input matrix: NULL only when empty; every entry finite.</summary>
    public static ReadOnlySpan<double> Input(double* p, long rows, long cols, long ld, string name, string rowsName, string colsName, string ldName)
    {
        int len = Extent(rows, cols, ld, name, rowsName, colsName, ldName);
        if (len == 0) return default;
        if (p is null) throw Bad($"{name} is NULL ({rowsName} = {rows})");
        var s = new ReadOnlySpan<double>(p, len);
        CheckFinite(s, (int)rows, (int)cols, (int)ld, name);
        return s;
    }

    /// <summary>An input matrix as a dense rows×cols array (copied; NULL only when empty; every entry finite).</summary>
    public static double[] InputCopy(double* p, long rows, long cols, long ld, string name, string rowsName, string colsName, string ldName)
    {
        ReadOnlySpan<double> s = Input(p, rows, cols, ld, name, rowsName, colsName, ldName);
        return Dense(s, (int)rows, (int)cols, (int)ld);
    }

    /// <summary>The rows×cols entries of a strided span, packed (a copy).</summary>
    public static double[] Dense(ReadOnlySpan<double> s, int rows, int cols, int ld)
    {
        long total = (long)rows * cols;
        if (total > Array.MaxLength) throw Bad($"{rows}×{cols} is too large for one array");
        var a = new double[total];
        if (ld == cols) s[..(int)total].CopyTo(a);
        else
            for (int i = 0; i < rows; i++) s.Slice(i * ld, cols).CopyTo(a.AsSpan(i * cols, cols));
        return a;
    }

    public static void CheckFinite(ReadOnlySpan<double> s, int rows, int cols, int ld, string name)
    {
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> row = s.Slice(i * ld, cols);
            for (int j = 0; j < row.Length; j++)
                if (!double.IsFinite(row[j]))
                    throw Bad($"{name}[{i}, {j}] = {Show(row[j])}: inputs must be finite");
        }
    }

    /// <summary>An output matrix: NULL = not wanted (returns false), otherwise its span.</summary>
    public static bool Output(double* p, long rows, long cols, long ld, string name, string rowsName, string colsName, string ldName, out Span<double> span)
    {
        span = default;
        if (p is null) return false;
        int len = Extent(rows, cols, ld, name, rowsName, colsName, ldName);
        span = new Span<double>(p, len);
        return true;
    }

    /// <summary>Writes a dense rows×cols array into a strided output span.</summary>
    public static void Store(ReadOnlySpan<double> dense, int rows, int cols, Span<double> output, int ld)
    {
        if (ld == cols) dense[..(rows * cols)].CopyTo(output);
        else
            for (int i = 0; i < rows; i++) dense.Slice(i * cols, cols).CopyTo(output.Slice(i * ld, cols));
    }

    /// <summary>A finite number (optionally ≥ 0).</summary>
    public static double Finite(double value, string name, bool nonNegative = false)
    {
        if (!double.IsFinite(value)) throw Bad($"{name} = {Show(value)}: must be finite");
        if (nonNegative && value < 0) throw Bad($"{name} = {Show(value)}: must not be negative");
        return value;
    }

    /// <summary>A NUL-terminated UTF-8 string (not NULL, not empty).</summary>
    public static string Utf8(byte* p, string name)
    {
        if (p is null) throw Bad($"{name} is NULL");
        string? s = Marshal.PtrToStringUTF8((nint)p);
        if (string.IsNullOrWhiteSpace(s)) throw Bad($"{name} is empty");
        return s;
    }

    /// <summary>The widths n0 … nL of an MLP (at least two, each ≥ 1).</summary>
    public static int[] Widths(long* widths, long count)
    {
        if (count < 2) throw Bad($"n_widths = {count}: an MLP needs at least two widths (input and output)");
        if (count > 1_000_000) throw Bad($"n_widths = {count}: too many layers");
        if (widths is null) throw Bad("widths is NULL");
        var w = new int[count];
        for (long i = 0; i < count; i++)
        {
            long v = widths[i];
            if (v < 1 || v > int.MaxValue) throw Bad($"widths[{i}] = {v}: every width must be in [1, {int.MaxValue}]");
            w[i] = (int)v;
        }
        return w;
    }

    /// <summary>A NUL-terminated UTF-8 copy in NativeMemory (the caller frees it with NativeMemory.Free).</summary>
    public static byte* ToNative(string s)
    {
        int len = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)len + 1);
        fixed (char* c = s) Encoding.UTF8.GetBytes(c, s.Length, p, len);
        p[len] = 0;
        return p;
    }

    /// <summary>
    /// Copies s as UTF-8 into buf (at most len − 1 bytes, cut at a character boundary, then a NUL) and returns
    /// its full length in bytes, as snprintf does; buf may be NULL when len is 0.
    /// </summary>
    public static nuint CopyUtf8(string s, byte* buf, nuint len)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        if (buf is not null && len > 0)
        {
            int n = (int)Math.Min((ulong)bytes.Length, (ulong)len - 1);
            while (n > 0 && n < bytes.Length && (bytes[n] & 0xC0) == 0x80) n--;   // not inside a character
            bytes.AsSpan(0, n).CopyTo(new Span<byte>(buf, n));
            buf[n] = 0;
        }
        return (nuint)bytes.Length;
    }

    public static string Show(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf"
        : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
