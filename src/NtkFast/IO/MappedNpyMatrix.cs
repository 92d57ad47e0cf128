using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using NtkFast.Numerics;

namespace NtkFast.IO;

/// <summary>
/// A 2-D (or 1-D: one column) float64 little-endian C-order .npy matrix read through a read-only
/// memory map, a block of rows at a time, so a large file is never loaded whole. The header and the
/// data size are checked exactly as <see cref="MatrixFile.Read"/> checks them (same messages); entries
/// are checked finite as rows are read (same message, with the row and column in the whole file).
/// Other dtypes and Fortran order are not mapped: <see cref="TryOpen"/> returns null and the caller
/// reads the file with <see cref="MatrixFile.Read"/>.
/// </summary>
public sealed class MappedNpyMatrix : IDisposable
{
    /// <summary>Files at least this large are worth mapping (<see cref="ShouldMap"/>); NTKFAST_MAP_THRESHOLD overrides it (bytes; 0 maps every file).</summary>
    public const long DefaultThresholdBytes = 64L << 20;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long _offset;
    private readonly string _label;

    private MappedNpyMatrix(MemoryMappedFile file, MemoryMappedViewAccessor view, long offset, int rows, int cols, string label)
    {
        _file = file;
        _view = view;
        _offset = offset;
        Rows = rows;
        Cols = cols;
        _label = label;
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns (1 for a 1-D array).</summary>
    public int Cols { get; }

    /// <summary>
    /// The size above which a file is mapped rather than read: NTKFAST_MAP_THRESHOLD (bytes) when set to a
    /// non-negative integer, else <see cref="DefaultThresholdBytes"/>.
    /// </summary>
    public static long ThresholdBytes =>
        long.TryParse(Environment.GetEnvironmentVariable("NTKFAST_MAP_THRESHOLD"), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out long t) ? t : DefaultThresholdBytes;

    /// <summary>True for a plain .npy file path (not standard input, not an .npz member) of at least <see cref="ThresholdBytes"/>.</summary>
    public static bool ShouldMap(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path == MatrixFile.StandardStream || !path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length >= ThresholdBytes;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Opens <paramref name="path"/> mapped when it is a float64 little-endian C-order matrix; null when it is a
    /// valid .npy of another dtype or order (read it with <see cref="MatrixFile.Read"/>).
    /// <paramref name="what"/> names it in messages (e.g. "--kernel-test").
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a valid .npy matrix (the reader's message).</exception>
    public static MappedNpyMatrix? TryOpen(string path, string? what = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string label = string.IsNullOrEmpty(what) ? path : $"{what} {path}";
        int[] shape;
        bool plain;
        long offset, length;
        using (FileStream fs = InputFile.Open(path, label))
        {
            length = fs.Length;
            (shape, bool fortran, plain, offset) = Npy.ReadLayout(fs, label, length);
            if (shape.Length == 2 && fortran && shape[0] > 1 && shape[1] > 1) plain = false;
        }
        if (!plain) return null;
        int rows, cols;
        switch (shape.Length)
        {
            case 2: rows = shape[0]; cols = shape[1]; break;
            case 1: rows = shape[0]; cols = 1; break;
            case 0: throw new InvalidDataException($"{label}: is a 0-d scalar, expected a 2-D matrix (rows = points)");
            default: throw new InvalidDataException($"{label}: is {shape.Length}-D with shape {NpyArray.ShapeString(shape)}, expected a 2-D matrix (rows = points)");
        }
        if (rows == 0) throw new InvalidDataException($"{label}: has 0 rows (shape {NpyArray.ShapeString(shape)})");
        if (cols == 0) throw new InvalidDataException($"{label}: has 0 columns (shape {NpyArray.ShapeString(shape)})");
        FileStream map = InputFile.Open(path, label);
        try
        {
            // The size may have changed since the header was read (another process): map only if it is still the size checked.
            if (map.Length != length) throw new InvalidDataException($"{label}: the file changed size while being read");
            var file = MemoryMappedFile.CreateFromFile(map, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            MemoryMappedViewAccessor view;
            try { view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read); }
            catch { file.Dispose(); throw; }
            return new MappedNpyMatrix(file, view, offset, rows, cols, label);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Copies rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) into a new matrix (row-major), checking every entry is finite.</summary>
    /// <exception cref="InvalidDataException">An entry is NaN or ±Inf (message names its row and column in the file).</exception>
    public Matrix ReadRows(int start, int count)
    {
        var m = new Matrix(count, Cols);
        ReadRows(start, count, m.Data);
        return m;
    }

    /// <summary>Copies rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) into <paramref name="destination"/> (count × Cols, row-major).</summary>
    /// <exception cref="InvalidDataException">An entry is NaN or ±Inf.</exception>
    public void ReadRows(int start, int count, Span<double> destination)
    {
        ObjectDisposedException.ThrowIf(_view.SafeMemoryMappedViewHandle.IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Rows - start);
        long n = (long)count * Cols;
        if (destination.Length < n) throw new ArgumentException($"destination needs {n} elements, has {destination.Length}.", nameof(destination));
        Span<double> dst = destination[..(int)n];
        long pos = _offset + (long)start * Cols * sizeof(double);
        // Chunks of at most 2^27 doubles (1 GiB): ReadArray counts in int.
        const int Chunk = 1 << 27;
        for (long done = 0; done < n; done += Chunk)
        {
            int len = (int)Math.Min(Chunk, n - done);
            Span<double> part = dst.Slice((int)done, len);
            Span<byte> bytes = MemoryMarshal.AsBytes(part);
            CopyFromView(pos + done * sizeof(double), bytes);
        }
        for (int i = 0; i < dst.Length; i++)
        {
            double v = dst[i];
            if (!double.IsFinite(v))
            {
                long flat = (long)start * Cols + i;
                string d = double.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
                throw new InvalidDataException($"{_label}: contains {d} at row {flat / Cols}, column {flat % Cols} (0-based)");
            }
        }
    }

    /// <summary>
    /// Copies columns [<paramref name="col"/>, <paramref name="col"/> + <paramref name="count"/>) of every row into
    /// <paramref name="destination"/> (Rows × count, row-major): a strided read of the map, e.g. the transposed block a
    /// symmetric matrix needs. Entries are checked finite (same message as <see cref="ReadRows(int, int, Span{double})"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">An entry is NaN or ±Inf.</exception>
    public void ReadColumns(int col, int count, Span<double> destination)
    {
        ObjectDisposedException.ThrowIf(_view.SafeMemoryMappedViewHandle.IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(col);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Cols - col);
        long n = (long)Rows * count;
        if (destination.Length < n) throw new ArgumentException($"destination needs {n} elements, has {destination.Length}.", nameof(destination));
        for (int r = 0; r < Rows; r++)
        {
            Span<double> part = destination.Slice(r * count, count);
            CopyFromView(_offset + ((long)r * Cols + col) * sizeof(double), MemoryMarshal.AsBytes(part));
            for (int i = 0; i < count; i++)
                if (!double.IsFinite(part[i]))
                {
                    string d = double.IsNaN(part[i]) ? "NaN" : part[i] > 0 ? "+Inf" : "-Inf";
                    throw new InvalidDataException($"{_label}: contains {d} at row {r}, column {col + i} (0-based)");
                }
        }
    }

    private unsafe void CopyFromView(long position, Span<byte> destination)
    {
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        try
        {
            new ReadOnlySpan<byte>(p + _view.PointerOffset + position, destination.Length).CopyTo(destination);
        }
        finally
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
