using System.Buffers.Binary;
using System.IO.Compression;
using NtkFast.Numerics;

namespace NtkFast.IO;

/// <summary>Images of an IDX file (MNIST layout): <see cref="Count"/> images of Rows×Cols unsigned bytes, row-major.</summary>
public sealed class IdxImages
{
    internal IdxImages(byte[] pixels, int count, int rows, int cols)
    {
        Pixels = pixels;
        Count = count;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>Count·Rows·Cols pixels, image after image, each row-major.</summary>
    public byte[] Pixels { get; }

    public int Count { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Pixels per image (Rows·Cols).</summary>
    public int PixelsPerImage => Rows * Cols;

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);
    }

    /// <summary>A Count × (Rows·Cols) matrix of pixel·<paramref name="scale"/> (default 1/255: values in [0, 1]).</summary>
    public Matrix ToMatrix(double scale = 1.0 / 255.0)
    {
        var m = new Matrix(Count, PixelsPerImage);
        for (int i = 0; i < Pixels.Length; i++) m.Data[i] = Pixels[i] * scale;
        return m;
    }
}

/// <summary>
/// Reader of the IDX format of the MNIST files (Y. LeCun): a big-endian header
/// (magic 0x00000803 for images, 0x00000801 for labels: two zero bytes, the type code 0x08 =
/// unsigned byte, the number of dimensions), one big-endian int32 per dimension, then the bytes.
/// Plain or gzipped (detected by the gzip magic 1f 8b, not by the file name). The header is
/// checked against the data really present: a truncated file, extra data, or a lying header is
/// an <see cref="InvalidDataException"/> naming the file, and memory grows with the data read,
/// never with what the header claims.
/// </summary>
public static class Idx
{
    internal const uint ImagesMagic = 0x00000803;
    internal const uint LabelsMagic = 0x00000801;

    /// <summary>Reads an images file; with <paramref name="maxCount"/>, only the first images are kept (the file is still checked whole).</summary>
    public static IdxImages ReadImages(string path, int? maxCount = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (maxCount is < 0) throw new ArgumentOutOfRangeException(nameof(maxCount), "must be non-negative");
        using Stream s = OpenMaybeGzip(path, out long plainLength, out long gzipLength);
        return Guard(path, () =>
        {
            int[] dims = ReadHeader(s, path, ImagesMagic, 3);
            int count = dims[0], rows = dims[1], cols = dims[2];
            if (rows == 0 || cols == 0) throw new InvalidDataException($"{path}: IDX images of size {rows}×{cols}");
            if (count == 0) throw new InvalidDataException($"{path}: IDX file holds no images");
            long per = (long)rows * cols;
            // per < 2^62 and count < 2^31; check per first so count·per cannot overflow a long
            long total = per > int.MaxValue ? long.MaxValue : count * per;
            if (total > int.MaxValue) throw new InvalidDataException($"{path}: IDX header claims {count} images of {rows}×{cols}, too large");
            int take = maxCount is int m ? Math.Min(m, count) : count;
            byte[] pixels = ReadData(s, path, total, take * per, plainLength, gzipLength, 16, "images");
            return new IdxImages(pixels, take, rows, cols);
        });
    }

    /// <summary>Reads a labels file; with <paramref name="maxCount"/>, only the first labels.</summary>
    public static byte[] ReadLabels(string path, int? maxCount = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (maxCount is < 0) throw new ArgumentOutOfRangeException(nameof(maxCount), "must be non-negative");
        using Stream s = OpenMaybeGzip(path, out long plainLength, out long gzipLength);
        return Guard(path, () =>
        {
            int[] dims = ReadHeader(s, path, LabelsMagic, 1);
            int count = dims[0];
            if (count == 0) throw new InvalidDataException($"{path}: IDX file holds no labels");
            int take = maxCount is int m ? Math.Min(m, count) : count;
            return ReadData(s, path, count, take, plainLength, gzipLength, 8, "labels");
        });
    }

    /// <summary>
    /// Reads an MNIST pair: images and their labels, which must have the same count
    /// (<paramref name="maxCount"/> keeps the first ones).
    /// </summary>
    public static (IdxImages Images, byte[] Labels) ReadMnist(string imagesPath, string labelsPath, int? maxCount = null)
    {
        IdxImages images = ReadImages(imagesPath, maxCount);
        byte[] labels = ReadLabels(labelsPath, maxCount);
        if (labels.Length != images.Count)
            throw new InvalidDataException($"{labelsPath}: has {labels.Length} labels but {imagesPath} has {images.Count} images");
        return (images, labels);
    }

    /// <summary>
    /// Opens the file (a regular file: see <see cref="InputFile"/>), through a GZipStream when it starts
    /// with 1f 8b. <paramref name="plainLength"/> is the file length for plain files, -1 for gzip;
    /// <paramref name="gzipLength"/> the compressed length for gzip files.
    /// </summary>
    private static Stream OpenMaybeGzip(string path, out long plainLength, out long gzipLength)
    {
        FileStream fs = InputFile.Open(path, path);
        Span<byte> two = stackalloc byte[2];
        int got = fs.ReadAtLeast(two, 2, throwOnEndOfStream: false);
        fs.Position = 0;
        if (got == 2 && two[0] == 0x1f && two[1] == 0x8b)
        {
            plainLength = -1;
            gzipLength = fs.Length;
            return new GZipStream(fs, CompressionMode.Decompress, leaveOpen: false);
        }
        plainLength = fs.Length;
        gzipLength = -1;
        return fs;
    }

    /// <summary>Deflate cannot expand data by more than ~1032:1 (plus a little per gzip member).</summary>
    private const long MaxGzipRatio = 1032;

    private static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path + ":", StringComparison.Ordinal))
        {
            // raised by GZipStream: corrupt or truncated compressed data
            throw new InvalidDataException($"{path}: corrupt gzip data ({FirstLine(e.Message)})");
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: truncated IDX file");
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{path}: sizes in the IDX header are too large to handle");
        }
    }

    private static int[] ReadHeader(Stream s, string path, uint expectedMagic, int expectedDims)
    {
        Span<byte> b = stackalloc byte[4];
        if (s.ReadAtLeast(b, 4, throwOnEndOfStream: false) < 4) throw new InvalidDataException($"{path}: truncated IDX header");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(b);
        string kind = expectedMagic == ImagesMagic ? "image" : "label";
        if (magic != expectedMagic)
        {
            string hint = magic == ImagesMagic ? " (that is an IDX image file)"
                : magic == LabelsMagic ? " (that is an IDX label file)"
                : b[0] == 0 && b[1] == 0 && b[2] != 0x08 ? $" (IDX element type 0x{b[2]:X2} is not unsigned byte)"
                : "";
            throw new InvalidDataException($"{path}: not an IDX {kind} file: magic 0x{magic:X8}, expected 0x{expectedMagic:X8}{hint}");
        }
        var dims = new int[expectedDims];
        for (int i = 0; i < expectedDims; i++)
        {
            if (s.ReadAtLeast(b, 4, throwOnEndOfStream: false) < 4) throw new InvalidDataException($"{path}: truncated IDX header");
            uint d = BinaryPrimitives.ReadUInt32BigEndian(b);
            if (d > int.MaxValue) throw new InvalidDataException($"{path}: IDX dimension {i} is {d}, too large");
            dims[i] = (int)d;
        }
        return dims;
    }

    /// <summary>
    /// Reads <paramref name="take"/> of the <paramref name="total"/> data bytes. The size is checked
    /// against the file length when known (plain files); for gzip against what the compressed bytes
    /// can inflate to, and the buffer grows with the data actually decompressed, so a lying header
    /// costs at most what the file really holds. Either way the kept bytes must fit the read budget.
    /// </summary>
    private static byte[] ReadData(Stream s, string path, long total, long take, long plainLength, long gzipLength, int headerBytes, string what)
    {
        if (take > ReadLimits.MemoryBudget) throw ReadLimits.OverBudget(path, $"{take} bytes of IDX {what}", take);
        if (gzipLength >= 0 && total + headerBytes > gzipLength * MaxGzipRatio + 1024)
            throw new InvalidDataException($"{path}: IDX header promises {total} bytes of {what}, more than the {gzipLength} bytes of gzip data can inflate to (a lying header?)");
        if (plainLength >= 0)
        {
            long have = plainLength - headerBytes;
            if (have < total) throw new InvalidDataException($"{path}: truncated IDX file: the header promises {total} bytes of {what}, the file has {have}");
            if (have > total) throw new InvalidDataException($"{path}: IDX size mismatch: the header promises {total} bytes of {what}, the file has {have}");
            var exact = new byte[take];
            s.ReadExactly(exact);
            return exact;
        }
        byte[] buf = new byte[Math.Min(take, 1 << 20)];
        long got = 0;
        while (got < take)
        {
            if (got == buf.Length) Array.Resize(ref buf, (int)Math.Min(take, (long)buf.Length * 2));
            int n = s.Read(buf, (int)got, (int)(buf.Length - got));
            if (n == 0) throw new InvalidDataException($"{path}: truncated IDX file: the header promises {total} bytes of {what}, the data ends after {got}");
            got += n;
        }
        if (take == total)
        {
            // the whole file was requested: it must end exactly here
            Span<byte> one = stackalloc byte[1];
            if (s.Read(one) != 0) throw new InvalidDataException($"{path}: IDX size mismatch: data continues after the {total} bytes of {what} the header promises");
        }
        else
        {
            // a prefix was requested: the rest must at least exist, so a truncated file still fails
            long rest = total - take;
            byte[] skip = new byte[1 << 16];
            while (rest > 0)
            {
                int n = s.Read(skip, 0, (int)Math.Min(skip.Length, rest));
                if (n == 0) throw new InvalidDataException($"{path}: truncated IDX file: the header promises {total} bytes of {what}, the data ends after {total - rest}");
                rest -= n;
            }
        }
        return buf;
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}
