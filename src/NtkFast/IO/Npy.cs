using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace NtkFast.IO;

/// <summary>
/// Reader and writer of numpy's .npy format (versions 1.0, 2.0, 3.0).
/// Reads float32/float64 arrays of any rank (little- or big-endian, C or Fortran order, all
/// converted to native C order) and 0-d unicode scalars, and on request (data matrices) numpy's
/// integer, bool and float16 arrays converted exactly to float64; rejects every other dtype and
/// every inconsistent file with one-line <see cref="InvalidDataException"/> messages that start
/// with the file name. Sizes are checked against the bytes actually available and against
/// <see cref="ReadLimits.MemoryBudget"/> before anything large is allocated, so a lying header
/// cannot make the reader allocate absurd amounts of memory.
/// Writes '&lt;f8'/'&lt;f4'/'&lt;U…', C order, version 1.0 headers padded to 64 bytes like numpy.
/// </summary>
public static class Npy
{
    internal const int MaxRank = 64;

    /// <summary>Largest header accepted (numpy's own default limit is 10 000 bytes).</summary>
    internal const int MaxHeaderLength = 1 << 20;

    private const int Align = 64;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // ------------------------------------------------------------------ reading

    /// <summary>Reads a .npy file (float32, float64 or a 0-d unicode scalar; other dtypes are errors).</summary>
    public static NpyArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Read(path, path, convertToFloat64: false);
    }

    /// <summary>
    /// Reads a .npy file. With <paramref name="convertToFloat64"/>, numpy's integer (int8 … int64,
    /// uint8 … uint64), bool and float16 arrays are also read, converted exactly to float64 (an
    /// integer that float64 cannot hold exactly, beyond ±2^53, is an error naming its index).
    /// <paramref name="label"/> prefixes error messages.
    /// </summary>
    public static NpyArray Read(string path, string label, bool convertToFloat64)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(label);
        using FileStream fs = InputFile.Open(path, label);
        return Read(fs, label, fs.Length, convertToFloat64);
    }

    /// <summary>
    /// Reads one array from <paramref name="stream"/>, which must hold exactly one .npy image from its
    /// current position to its end. <paramref name="name"/> prefixes error messages.
    /// </summary>
    public static NpyArray Read(Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        name ??= "<stream>";
        if (stream.CanSeek) return Read(stream, name, stream.Length - stream.Position);
        // Unknown length: buffer what is really there (at most the read budget), so memory follows
        // the data, not the header, and an endless stream ends in an error.
        using MemoryStream ms = CopyBounded(stream, name, ReadLimits.MemoryBudget);
        return Read(ms, name, ms.Length);
    }

    /// <summary>Copies a stream of unknown length into memory, failing once it exceeds <paramref name="limit"/> bytes.</summary>
    internal static MemoryStream CopyBounded(Stream stream, string name, long limit)
    {
        var ms = new MemoryStream();
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buf)) > 0)
        {
            if (ms.Length + n > limit) throw ReadLimits.OverBudget(name, "the stream (still going)", ms.Length + n);
            ms.Write(buf, 0, n);
        }
        ms.Position = 0;
        return ms;
    }

    /// <summary>Reads one array of exactly <paramref name="available"/> bytes (header and data).</summary>
    internal static NpyArray Read(Stream s, string name, long available, bool convertToFloat64 = false)
    {
        try
        {
            return ReadCore(s, name, available, convertToFloat64);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: truncated .npy data (the file ends early)");
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{name}: sizes in the .npy header are too large to handle");
        }
    }

    /// <summary>Where an array's data starts and what it holds: the header as parsed and checked (dtype, element count, data size equal to what the file holds).</summary>
    private readonly record struct Layout(NpyHeaderParser.Header Header, DType DType, long Count, long DataOffset, long DataBytes);

    /// <summary>
    /// The shape, order and data offset of a .npy image of exactly <paramref name="available"/> bytes,
    /// after every check <see cref="Read(string, string, bool)"/> makes of the header and of the data size
    /// against the file length (not the read budget: the caller does not load the data).
    /// <c>PlainFloat64</c>: little-endian float64 on a little-endian host, the only case readable as raw doubles.
    /// </summary>
    internal static (int[] Shape, bool FortranOrder, bool PlainFloat64, long DataOffset) ReadLayout(Stream s, string name, long available)
    {
        try
        {
            Layout l = ReadLayoutCore(s, name, available, widen: true);
            bool plain = l.DType.Kind == NpyDType.Float64 && l.DType.Source == 'f' && l.DType.BigEndian != BitConverter.IsLittleEndian;
            return (l.Header.Shape, l.Header.FortranOrder, plain, l.DataOffset);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: truncated .npy data (the file ends early)");
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{name}: sizes in the .npy header are too large to handle");
        }
    }

    private static Layout ReadLayoutCore(Stream s, string name, long available, bool widen)
    {
        Span<byte> pre = stackalloc byte[12];
        if (available < 10)
        {
            if (available <= 0) throw new InvalidDataException($"{name}: empty file, not a .npy array");
            int got = ReadUpTo(s, pre[..(int)available]);
            int m = Math.Min(got, 6);
            if (got >= 4 && pre[..4].SequenceEqual("PK\x03\x04"u8))
                throw new InvalidDataException($"{name}: not a .npy file (it is a zip archive; .npz files hold several arrays)");
            if (!pre[..m].SequenceEqual(Magic[..m]))
                throw new InvalidDataException($"{name}: not a .npy file (bad magic; expected \\x93NUMPY)");
            throw new InvalidDataException($"{name}: truncated .npy header ({available} bytes)");
        }
        s.ReadExactly(pre[..8]);
        if (!pre[..6].SequenceEqual(Magic))
        {
            if (pre[..4].SequenceEqual("PK\x03\x04"u8))
                throw new InvalidDataException($"{name}: not a .npy file (it is a zip archive; .npz files hold several arrays)");
            throw new InvalidDataException($"{name}: not a .npy file (bad magic; expected \\x93NUMPY)");
        }
        byte major = pre[6], minor = pre[7];
        if (major is not (1 or 2 or 3) || minor != 0)
            throw new InvalidDataException($"{name}: unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        long headerLen;
        int lenBytes = major == 1 ? 2 : 4;
        if (available < 8 + lenBytes) throw new InvalidDataException($"{name}: truncated .npy header ({available} bytes)");
        s.ReadExactly(pre.Slice(8, lenBytes));
        headerLen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(pre[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(pre[8..]);
        long prefix = 8 + lenBytes;
        if (headerLen > available - prefix)
            throw new InvalidDataException($"{name}: truncated .npy header (header length {headerLen} exceeds the {available - prefix} bytes left in the file)");
        if (headerLen > MaxHeaderLength)
            throw new InvalidDataException($"{name}: .npy header of {headerLen} bytes is implausibly large (limit {MaxHeaderLength})");
        if (headerLen == 0) throw new InvalidDataException($"{name}: empty .npy header");

        byte[] hb = new byte[headerLen];
        s.ReadExactly(hb);
        string headerText;
        try
        {
            headerText = major == 3
                ? new UTF8Encoding(false, true).GetString(hb)
                : Encoding.Latin1.GetString(hb);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"{name}: .npy header is not valid UTF-8");
        }

        NpyHeaderParser.Header h;
        try
        {
            h = NpyHeaderParser.Parse(headerText.AsSpan().TrimEnd("\n\r \0"));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{name}: {e.Message}");
        }

        var dt = ParseDescr(h, name, widen);
        long count = 1;
        foreach (int d in h.Shape)
        {
            count *= d; // each d <= int.MaxValue and we stop once count > int.MaxValue, so no overflow
            if (count > int.MaxValue)
                throw new InvalidDataException($"{name}: shape {NpyArray.ShapeString(h.Shape)} has more elements than an array can hold");
        }
        if (dt.Kind == NpyDType.Unicode && h.Shape.Length != 0)
            throw new InvalidDataException($"{name}: unicode arrays of shape {NpyArray.ShapeString(h.Shape)} are not supported (only 0-d text scalars)");

        long dataBytes = count * dt.ItemSize;
        long left = available - prefix - headerLen;
        if (dataBytes > left)
            throw new InvalidDataException($"{name}: truncated .npy data: shape {NpyArray.ShapeString(h.Shape)} of {Printable.Quote(dt.Descr)} needs {dataBytes} bytes, the file has {left}");
        if (dataBytes < left)
            throw new InvalidDataException($"{name}: .npy size mismatch: shape {NpyArray.ShapeString(h.Shape)} of {Printable.Quote(dt.Descr)} needs {dataBytes} bytes, the file has {left}");
        return new Layout(h, dt, count, prefix + headerLen, dataBytes);
    }

    private static NpyArray ReadCore(Stream s, string name, long available, bool widen)
    {
        Layout l = ReadLayoutCore(s, name, available, widen);
        NpyHeaderParser.Header h = l.Header;
        DType dt = l.DType;
        long count = l.Count, dataBytes = l.DataBytes;
        bool reorder = h.FortranOrder && h.Shape.Length > 1;
        long memory = dt.Kind == NpyDType.Unicode ? 2 * dataBytes : count * (dt.Kind == NpyDType.Float32 ? 4 : 8) * (reorder ? 2 : 1);
        if (memory > ReadLimits.MemoryBudget)
            throw ReadLimits.OverBudget(name, $"shape {NpyArray.ShapeString(h.Shape)} of {Printable.Quote(dt.Descr)}", memory);

        int[] shape = h.Shape;
        switch (dt.Kind)
        {
            case NpyDType.Float64 when dt.Source != 'f':
            {
                double[] data = ReadConverted(s, dt, (int)count, name, shape, h.FortranOrder);
                if (reorder) data = FortranToC(data, shape);
                return NpyArray.Create(NpyDType.Float64, shape, null, data, null);
            }
            case NpyDType.Float64:
            {
                var data = new double[count];
                ReadRaw(s, data.AsSpan());
                if (dt.BigEndian == BitConverter.IsLittleEndian)
                {
                    Span<long> bits = MemoryMarshal.Cast<double, long>(data.AsSpan());
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }
                if (reorder) data = FortranToC(data, shape);
                return NpyArray.Create(NpyDType.Float64, shape, null, data, null);
            }
            case NpyDType.Float32:
            {
                var data = new float[count];
                ReadRaw(s, data.AsSpan());
                if (dt.BigEndian == BitConverter.IsLittleEndian)
                {
                    Span<int> bits = MemoryMarshal.Cast<float, int>(data.AsSpan());
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }
                if (reorder) data = FortranToC(data, shape);
                return NpyArray.Create(NpyDType.Float32, shape, data, null, null);
            }
            default:
            {
                byte[] raw = new byte[dataBytes];
                s.ReadExactly(raw);
                return NpyArray.Create(NpyDType.Unicode, shape, null, null, DecodeUtf32(raw, dt.BigEndian, name));
            }
        }
    }

    /// <summary>
    /// Reads integer, bool or float16 elements (in file order) and converts each exactly to float64;
    /// a 64-bit integer that float64 cannot hold exactly is an error naming its index.
    /// </summary>
    private static double[] ReadConverted(Stream s, DType dt, int count, string name, int[] shape, bool fortran)
    {
        var data = new double[count];
        int size = dt.ItemSize;
        byte[] buf = new byte[Math.Min(1 << 16, Math.Max(size, count * size))];
        int per = buf.Length / size;
        bool big = dt.BigEndian;
        for (int i0 = 0; i0 < count; i0 += per)
        {
            int n = Math.Min(per, count - i0);
            s.ReadExactly(buf, 0, n * size);
            ReadOnlySpan<byte> b = buf.AsSpan(0, n * size);
            Span<double> o = data.AsSpan(i0, n);
            switch (dt.Source, size)
            {
                case ('b', 1):
                    for (int j = 0; j < n; j++) o[j] = b[j] != 0 ? 1 : 0;
                    break;
                case ('u', 1):
                    for (int j = 0; j < n; j++) o[j] = b[j];
                    break;
                case ('i', 1):
                    for (int j = 0; j < n; j++) o[j] = (sbyte)b[j];
                    break;
                case ('u', 2):
                    for (int j = 0; j < n; j++) o[j] = big ? BinaryPrimitives.ReadUInt16BigEndian(b[(2 * j)..]) : BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * j)..]);
                    break;
                case ('i', 2):
                    for (int j = 0; j < n; j++) o[j] = big ? BinaryPrimitives.ReadInt16BigEndian(b[(2 * j)..]) : BinaryPrimitives.ReadInt16LittleEndian(b[(2 * j)..]);
                    break;
                case ('h', 2):
                    for (int j = 0; j < n; j++) o[j] = (double)(big ? BinaryPrimitives.ReadHalfBigEndian(b[(2 * j)..]) : BinaryPrimitives.ReadHalfLittleEndian(b[(2 * j)..]));
                    break;
                case ('u', 4):
                    for (int j = 0; j < n; j++) o[j] = big ? BinaryPrimitives.ReadUInt32BigEndian(b[(4 * j)..]) : BinaryPrimitives.ReadUInt32LittleEndian(b[(4 * j)..]);
                    break;
                case ('i', 4):
                    for (int j = 0; j < n; j++) o[j] = big ? BinaryPrimitives.ReadInt32BigEndian(b[(4 * j)..]) : BinaryPrimitives.ReadInt32LittleEndian(b[(4 * j)..]);
                    break;
                case ('i', 8):
                    for (int j = 0; j < n; j++)
                    {
                        long v = big ? BinaryPrimitives.ReadInt64BigEndian(b[(8 * j)..]) : BinaryPrimitives.ReadInt64LittleEndian(b[(8 * j)..]);
                        double d = v;
                        // (double)long.MaxValue rounds up to 2^63, which no long holds: test that first
                        if (d >= 9223372036854775808.0 || (long)d != v) throw Inexact(name, dt, v.ToString(CultureInfo.InvariantCulture), i0 + j, shape, fortran);
                        o[j] = d;
                    }
                    break;
                case ('u', 8):
                    for (int j = 0; j < n; j++)
                    {
                        ulong v = big ? BinaryPrimitives.ReadUInt64BigEndian(b[(8 * j)..]) : BinaryPrimitives.ReadUInt64LittleEndian(b[(8 * j)..]);
                        double d = v;
                        if (d >= 18446744073709551616.0 || (ulong)d != v) throw Inexact(name, dt, v.ToString(CultureInfo.InvariantCulture), i0 + j, shape, fortran);
                        o[j] = d;
                    }
                    break;
                default:
                    throw new InvalidOperationException($"no conversion for {dt.Descr}");
            }
        }
        return data;
    }

    private static InvalidDataException Inexact(string name, DType dt, string value, long fileIndex, int[] shape, bool fortran) =>
        new($"{name}: '{Printable.Quote(dt.Descr)}' value {value} at index {IndexString(fileIndex, shape, fortran)} cannot be converted exactly to float64 (integers beyond ±2^53 lose digits)");

    /// <summary>numpy's index tuple of the element at position <paramref name="flat"/> of the file (C or Fortran order).</summary>
    internal static string IndexString(long flat, ReadOnlySpan<int> shape, bool fortran)
    {
        var idx = new int[shape.Length];
        if (fortran)
            for (int k = 0; k < shape.Length; k++) { idx[k] = (int)(flat % shape[k]); flat /= shape[k]; }
        else
            for (int k = shape.Length - 1; k >= 0; k--) { idx[k] = (int)(flat % shape[k]); flat /= shape[k]; }
        return NpyArray.ShapeString(idx);
    }

    private static int ReadUpTo(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>
    /// A dtype as read: <see cref="Kind"/> is what the array holds after reading, <see cref="Source"/>
    /// the element type in the file: 'f' float32/float64 (read as they are), 'U' unicode, and, converted
    /// to float64, 'i' signed and 'u' unsigned integers, 'b' bool, 'h' float16.
    /// </summary>
    private readonly record struct DType(NpyDType Kind, int ItemSize, bool BigEndian, string Descr, char Source);

    private static DType ParseDescr(NpyHeaderParser.Header h, string name, bool widen)
    {
        string expected = widen ? "expected a float, integer or bool dtype" : "expected float32 or float64";
        if (h.DescrIsList)
            throw new InvalidDataException($"{name}: structured (record) dtypes are not supported; {expected}");
        string d = h.Descr;
        ReadOnlySpan<char> t = d;
        char order = '=';
        if (t.Length > 0 && t[0] is '<' or '>' or '|' or '=') { order = t[0]; t = t[1..]; }
        if (t.Length < 1) throw new InvalidDataException($"{name}: malformed .npy dtype '{Printable.Quote(d)}'");
        char kind = t[0];
        ReadOnlySpan<char> sizeText = t[1..];
        int size = -1;
        if (sizeText.Length > 0 && sizeText.Length <= 9)
        {
            bool digitsOnly = true;
            foreach (char c in sizeText) digitsOnly &= char.IsAsciiDigit(c);
            if (digitsOnly) size = int.Parse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        bool big = order == '>' || (order == '=' && !BitConverter.IsLittleEndian);
        string what = kind switch
        {
            'i' => "signed integer",
            'u' => "unsigned integer",
            'b' => "boolean",
            '?' => "boolean",
            'c' => "complex",
            'O' => "Python object",
            'S' or 'a' => "byte string",
            'V' => "void/structured",
            'M' => "datetime",
            'm' => "timedelta",
            'f' => size > 0 ? $"float{size * 8}" : "float",
            'U' => "unicode",
            _ => "unknown",
        };
        if (kind == 'f' && size == 8) return new DType(NpyDType.Float64, 8, big, d, 'f');
        if (kind == 'f' && size == 4) return new DType(NpyDType.Float32, 4, big, d, 'f');
        if (kind == 'U' && size >= 0)
        {
            if (size > MaxHeaderLength) throw new InvalidDataException($"{name}: unicode dtype '{Printable.Quote(d)}' is implausibly long");
            return new DType(NpyDType.Unicode, size * 4, big, d, 'U');
        }
        if (widen)
        {
            if (kind is 'i' or 'u' && size is 1 or 2 or 4 or 8) return new DType(NpyDType.Float64, size, big, d, kind);
            if (kind == 'b' && size == 1) return new DType(NpyDType.Float64, 1, big, d, 'b');
            if (kind == 'f' && size == 2) return new DType(NpyDType.Float64, 2, big, d, 'h');
        }
        if (size < 0 && kind is 'f' or 'U' or 'i' or 'u' or 'c')
            throw new InvalidDataException($"{name}: malformed .npy dtype '{Printable.Quote(d)}'");
        throw new InvalidDataException($"{name}: unsupported dtype '{Printable.Quote(d)}' ({what}); {expected}");
    }

    private static string DecodeUtf32(byte[] raw, bool bigEndian, string name)
    {
        var sb = new StringBuilder(raw.Length / 4);
        int n = raw.Length / 4;
        // numpy strips trailing NULs of fixed-width strings.
        while (n > 0 && BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan((n - 1) * 4)) == 0) n--;
        for (int i = 0; i < n; i++)
        {
            uint cp = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(raw.AsSpan(i * 4)) : BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
            if (!Rune.IsValid(cp))
                throw new InvalidDataException($"{name}: unicode data holds an invalid code point 0x{cp:X}");
            sb.Append(new Rune(cp).ToString());
        }
        return sb.ToString();
    }

    /// <summary>Reorders column-major (Fortran) data of any rank into row-major (C) order.</summary>
    internal static T[] FortranToC<T>(T[] src, int[] shape)
    {
        var dst = new T[src.Length];
        if (src.Length == 0) return dst;
        int rank = shape.Length;
        if (rank == 2)
        {
            // Blocked transpose: 32×32 tiles keep both the strided reads and the writes in L1
            // (measured 4.2× slower than a plain read without blocking at 2049×785).
            const int Tile = 32;
            int rows = shape[0], cols = shape[1];
            for (int r0 = 0; r0 < rows; r0 += Tile)
            {
                int r1 = Math.Min(rows, r0 + Tile);
                for (int c0 = 0; c0 < cols; c0 += Tile)
                {
                    int c1 = Math.Min(cols, c0 + Tile);
                    for (int r = r0; r < r1; r++)
                        for (int c = c0; c < c1; c++)
                            dst[(long)r * cols + c] = src[(long)c * rows + r];
                }
            }
            return dst;
        }
        // Fortran strides (in elements): stride[k] = prod_{j<k} shape[j].
        var stride = new long[rank];
        long acc = 1;
        for (int k = 0; k < rank; k++) { stride[k] = acc; acc *= shape[k]; }
        var idx = new int[rank];
        long f = 0;
        for (long c = 0; c < dst.Length; c++)
        {
            dst[c] = src[f];
            // advance the C-order odometer (last index fastest) and keep f in step
            for (int k = rank - 1; k >= 0; k--)
            {
                idx[k]++;
                f += stride[k];
                if (idx[k] < shape[k]) break;
                f -= stride[k] * idx[k];
                idx[k] = 0;
            }
        }
        return dst;
    }

    // ------------------------------------------------------------------ writing

    /// <summary>Writes an array as a .npy file (atomically: the destination is never left partial).</summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(array);
        AtomicFile.Write(path, s => Write(s, array));
    }

    /// <summary>Writes an array in .npy format to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        switch (array.DType)
        {
            case NpyDType.Float64: Write(stream, array.Float64!, array.Shape); break;
            case NpyDType.Float32: Write(stream, array.Float32!, array.Shape); break;
            default: WriteText(stream, array.Text!); break;
        }
    }

    /// <summary>Writes float64 data of the given shape (C order) as '&lt;f8'.</summary>
    public static void Write(Stream stream, ReadOnlySpan<double> data, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckShape(data.Length, shape);
        WriteHeader(stream, "<f8", shape);
        if (BitConverter.IsLittleEndian) WriteRaw(stream, data);
        else WriteSwapped(stream, MemoryMarshal.Cast<double, long>(data));
    }

    /// <summary>Writes float32 data of the given shape (C order) as '&lt;f4'.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckShape(data.Length, shape);
        WriteHeader(stream, "<f4", shape);
        if (BitConverter.IsLittleEndian) WriteRaw(stream, data);
        else WriteSwapped(stream, MemoryMarshal.Cast<float, int>(data));
    }

    /// <summary>
    /// Starts a float64 ('&lt;f8', C order) array of <paramref name="shape"/> written in pieces: the header now, then the
    /// elements in order through <see cref="WriteFloat64Elements"/> (an array too large to hold, e.g. a covariance written a block
    /// of rows at a time). The caller writes exactly the product of <paramref name="shape"/> elements.
    /// </summary>
    public static void WriteFloat64Header(Stream stream, ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (shape.Length > MaxRank) throw new ArgumentException($"Shape has {shape.Length} dimensions; at most {MaxRank} are supported.", nameof(shape));
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"Shape {NpyArray.ShapeString(shape)} has a negative dimension.", nameof(shape));
        WriteHeader(stream, "<f8", shape);
    }

    /// <summary>The next elements of an array begun with <see cref="WriteFloat64Header"/> (little-endian on every host).</summary>
    public static void WriteFloat64Elements(Stream stream, ReadOnlySpan<double> data)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (BitConverter.IsLittleEndian) WriteRaw(stream, data);
        else WriteSwapped(stream, MemoryMarshal.Cast<double, long>(data));
    }

    /// <summary>Writes a 0-d unicode scalar ('&lt;U n', UTF-32LE), as numpy saves <c>np.array('relu')</c>.</summary>
    public static void WriteText(Stream stream, string text)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(text);
        var runes = new List<Rune>(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            if (r.Value == 0) throw new ArgumentException("Text may not contain NUL characters.", nameof(text));
            runes.Add(r);
        }
        int n = Math.Max(1, runes.Count); // numpy gives '' the dtype '<U1'
        WriteHeader(stream, "<U" + n.ToString(CultureInfo.InvariantCulture), []);
        byte[] buf = new byte[n * 4];
        for (int i = 0; i < runes.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(i * 4), (uint)runes[i].Value);
        stream.Write(buf);
    }

    private static void CheckShape(int length, ReadOnlySpan<int> shape)
    {
        if (shape.Length > MaxRank) throw new ArgumentException($"Shape has {shape.Length} dimensions; at most {MaxRank} are supported.", nameof(shape));
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Shape {NpyArray.ShapeString(shape)} has a negative dimension.", nameof(shape));
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"Shape {NpyArray.ShapeString(shape)} has too many elements.", nameof(shape));
        }
        if (n != length) throw new ArgumentException($"Data has {length} elements but shape {NpyArray.ShapeString(shape)} needs {n}.", "data");
    }

    /// <summary>Raw element bytes in pieces of at most 1 GiB: arrays of 2 GiB and more have more bytes than a Span&lt;byte&gt; can count.</summary>
    private static void WriteRaw<T>(Stream stream, ReadOnlySpan<T> data) where T : unmanaged
    {
        for (int i = 0, n; i < data.Length; i += n) stream.Write(MemoryMarshal.AsBytes(data.Slice(i, n = Piece<T>(data.Length - i))));
    }

    private static void ReadRaw<T>(Stream stream, Span<T> data) where T : unmanaged
    {
        for (int i = 0, n; i < data.Length; i += n) stream.ReadExactly(MemoryMarshal.AsBytes(data.Slice(i, n = Piece<T>(data.Length - i))));
    }

    /// <summary>Elements in the next piece when <paramref name="left"/> remain.</summary>
    private static int Piece<T>(int left) where T : unmanaged => Math.Min(RawChunkBytes / Unsafe.SizeOf<T>(), left);

    /// <summary>Piece size of the raw reads and writes (a field so a test can make it small and cross many pieces).</summary>
    internal static int RawChunkBytes = 1 << 30;

    private static void WriteSwapped<T>(Stream stream, ReadOnlySpan<T> bits) where T : unmanaged
    {
        // Only reached on big-endian hosts: swap through a bounded buffer.
        const int Chunk = 4096;
        var buf = new T[Chunk];
        for (int i = 0; i < bits.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, bits.Length - i);
            for (int j = 0; j < n; j++)
            {
                T v = bits[i + j];
                MemoryMarshal.AsBytes(new Span<T>(ref v)).Reverse();
                buf[j] = v;
            }
            stream.Write(MemoryMarshal.AsBytes(buf.AsSpan(0, n)));
        }
    }

    /// <summary>The header numpy 1.24 writes: the dict, spaces, '\n', total length a multiple of 64.</summary>
    internal static byte[] BuildHeader(string descr, ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder();
        sb.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ");
        sb.Append(NpyArray.ShapeString(shape)).Append(", }");
        string dict = sb.ToString();
        // version 1.0: 6 magic + 2 version + 2 length; 2.0 (for giant headers): 4-byte length.
        int prefix = dict.Length + 1 + 10 <= ushort.MaxValue ? 10 : 12;
        int total = prefix + dict.Length + 1;
        int pad = (Align - total % Align) % Align;
        int headerLen = dict.Length + pad + 1;
        byte[] result = new byte[prefix + headerLen];
        Magic.CopyTo(result);
        result[6] = (byte)(prefix == 10 ? 1 : 2);
        result[7] = 0;
        if (prefix == 10) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)headerLen);
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)headerLen);
        Encoding.ASCII.GetBytes(dict, result.AsSpan(prefix));
        result.AsSpan(prefix + dict.Length, pad).Fill((byte)' ');
        result[^1] = (byte)'\n';
        return result;
    }

    private static void WriteHeader(Stream stream, string descr, ReadOnlySpan<int> shape) => stream.Write(BuildHeader(descr, shape));
}
