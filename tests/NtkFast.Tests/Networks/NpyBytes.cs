using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NtkFast.Tests.Networks;

/// <summary>
/// Builds .npy / .npz bytes the way numpy 1.x writes them (format 1.0: magic, version, little-endian
/// header length, the dict literal padded with spaces to a multiple of 64 bytes and ended by '\n';
/// numpy.savez: a zip of stored "name.npy" entries). Written independently of NtkFast.IO.
/// </summary>
internal static class NpyBytes
{
    public static byte[] Header(string descr, bool fortran, int[] shape)
    {
        string sh = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape) + ")",
        };
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {sh}, }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string h = dict + new string(' ', pad) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)h.Length);
        ms.Write(len);
        ms.Write(Encoding.ASCII.GetBytes(h));
        return ms.ToArray();
    }

    /// <summary>A float64 array given in C order, stored little- or big-endian, C or Fortran order.</summary>
    public static byte[] Float64(double[] cOrder, int[] shape, bool bigEndian = false, bool fortran = false)
    {
        double[] data = fortran ? ToFortran(cOrder, shape) : cOrder;
        var ms = new MemoryStream();
        ms.Write(Header(bigEndian ? ">f8" : "<f8", fortran, shape));
        var b = new byte[8];
        foreach (double v in data)
        {
            if (bigEndian) BinaryPrimitives.WriteDoubleBigEndian(b, v); else BinaryPrimitives.WriteDoubleLittleEndian(b, v);
            ms.Write(b);
        }
        return ms.ToArray();
    }

    public static byte[] Float32(float[] cOrder, int[] shape, bool bigEndian = false)
    {
        var ms = new MemoryStream();
        ms.Write(Header(bigEndian ? ">f4" : "<f4", false, shape));
        var b = new byte[4];
        foreach (float v in cOrder)
        {
            if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(b, v); else BinaryPrimitives.WriteSingleLittleEndian(b, v);
            ms.Write(b);
        }
        return ms.ToArray();
    }

    /// <summary>A 0-d numpy unicode scalar: '&lt;U n', UTF-32LE.</summary>
    public static byte[] Text(string s)
    {
        var ms = new MemoryStream();
        ms.Write(Header($"<U{s.Length}", false, []));
        ms.Write(Encoding.UTF32.GetBytes(s));
        return ms.ToArray();
    }

    public static byte[] Scalar(double v) => Float64([v], []);

    public static byte[] Zip(IEnumerable<(string Name, byte[] Npy)> entries, bool deflate = false)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, npy) in entries)
            {
                var e = zip.CreateEntry(name + ".npy", deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using Stream s = e.Open();
                s.Write(npy);
            }
        }
        return ms.ToArray();
    }

    private static double[] ToFortran(double[] c, int[] shape)
    {
        if (shape.Length != 2) return c;
        int r = shape[0], k = shape[1];
        var f = new double[c.Length];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < k; j++)
                f[j * r + i] = c[i * k + j];
        return f;
    }
}
