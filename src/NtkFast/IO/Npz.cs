using System.IO.Compression;

namespace NtkFast.IO;

/// <summary>
/// numpy's .npz: a zip archive of .npy arrays, one entry "name.npy" per array. Reads entries
/// stored (numpy.savez) or deflated (numpy.savez_compressed); writes stored entries like savez,
/// or deflated ones on request. Errors are one-line <see cref="InvalidDataException"/>s naming
/// the file and, for a bad inner array, the entry ("net.npz[W0]: …").
/// <para>Reading is bounded (see <see cref="ZipReader"/>): only the zip directory is read up front,
/// at most <see cref="MaxEntries"/> members; every member's declared size is checked against the
/// file and the memory budget before anything is inflated, and its inflated bytes against its .npy
/// header (shape × item size), the declared size and the CRC-32 while it is read.
/// <see cref="Open(string)"/> inflates members only when asked for; <see cref="Read(string)"/> all.</para>
/// </summary>
public static class Npz
{
    /// <summary>Most entries accepted (a parameter file of a 10 000-layer network has ~20 000).</summary>
    internal const int MaxEntries = ZipReader.MaxEntries;

    /// <summary>Reads every array of a .npz file, keyed by entry name without ".npy", in archive order.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path)
    {
        using NpzArchive a = Open(path);
        return a.ReadAll();
    }

    /// <summary>Reads every array of a .npz image in a stream; <paramref name="name"/> prefixes errors.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(Stream stream, string? name = null)
    {
        using NpzArchive a = Open(stream, name);
        return a.ReadAll();
    }

    /// <summary>
    /// Opens a .npz file and reads its directory; arrays are inflated (and checked) when first asked
    /// for. Every entry must be a ".npy" member. Dispose the result to close the file.
    /// </summary>
    public static NpzArchive Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Open(path, path, strict: true, convertToFloat64: false);
    }

    /// <summary>
    /// Opens a .npz image in a stream (copied to memory, within the read budget, when it cannot seek);
    /// the stream stays open. <paramref name="name"/> prefixes errors.
    /// </summary>
    public static NpzArchive Open(Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        name ??= "<stream>";
        if (!stream.CanSeek) return Create(Npy.CopyBounded(stream, name, ReadLimits.MemoryBudget), true, name, strict: true, convertToFloat64: false);
        if (stream.Position != 0)
        {
            // the archive's offsets count from its first byte
            return Create(Npy.CopyBounded(stream, name, ReadLimits.MemoryBudget), true, name, strict: true, convertToFloat64: false);
        }
        return Create(stream, false, name, strict: true, convertToFloat64: false);
    }

    /// <summary>A data archive held in memory (standard input): members may lack the suffix, numbers convert to float64.</summary>
    internal static NpzArchive OpenData(MemoryStream stream, string label) => Create(stream, true, label, strict: false, convertToFloat64: true);

    /// <summary>
    /// Opens a file; <paramref name="strict"/> requires every member to be "*.npy" (parameter files),
    /// otherwise members may lack the suffix (data files). <paramref name="convertToFloat64"/>: see
    /// <see cref="Npy.Read(string, string, bool)"/>.
    /// </summary>
    internal static NpzArchive Open(string path, string label, bool strict, bool convertToFloat64)
    {
        FileStream fs = InputFile.Open(path, label);
        try
        {
            return Create(fs, true, label, strict, convertToFloat64);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    private static NpzArchive Create(Stream stream, bool owns, string name, bool strict, bool convertToFloat64)
    {
        try
        {
            Span<byte> head = stackalloc byte[6];
            stream.Position = 0;
            int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (got == 6 && head.SequenceEqual((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']))
                throw new InvalidDataException($"{name}: is a single .npy array, not a .npz archive");
            if (got < 4 || !head[..4].SequenceEqual("PK\x03\x04"u8) && !head[..4].SequenceEqual("PK\x05\x06"u8))
                throw new InvalidDataException($"{name}: not a .npz file (not a zip archive)");
            ZipReader zip;
            try
            {
                zip = ZipReader.Open(stream, name);
            }
            catch (EndOfStreamException)
            {
                throw new InvalidDataException($"{name}: not a .npz file (corrupt or truncated zip archive)");
            }
            catch (OverflowException)
            {
                throw new InvalidDataException($"{name}: sizes in the zip directory are too large to handle");
            }
            return new NpzArchive(stream, owns, zip, name, strict, convertToFloat64);
        }
        catch
        {
            if (owns) stream.Dispose();
            throw;
        }
    }

    /// <summary>The array <paramref name="key"/>, or a clear error naming the file and the arrays it has.</summary>
    public static NpyArray Get(IReadOnlyDictionary<string, NpyArray> arrays, string key, string fileName)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        ArgumentNullException.ThrowIfNull(key);
        if (arrays.TryGetValue(key, out NpyArray? a)) return a;
        string have = string.Join(", ", arrays.Keys.Take(20).Select(k => Printable.Quote(k)));
        if (arrays.Count > 20) have += ", …";
        throw new InvalidDataException($"{fileName}: missing array '{Printable.Quote(key)}' (has: {have})");
    }

    /// <summary>Writes the arrays as a .npz file (atomically). Stored entries like numpy.savez unless <paramref name="compress"/>.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(arrays);
        var list = arrays.ToList();
        Validate(list);
        AtomicFile.Write(path, s => Write(s, list, compress));
    }

    /// <summary>Writes the arrays as a .npz image to a stream (seekable streams give the most compact archive).</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, NpyArray>> arrays, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arrays);
        var list = arrays as IReadOnlyList<KeyValuePair<string, NpyArray>> ?? arrays.ToList();
        Validate(list);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (key, array) in list)
        {
            ZipArchiveEntry e = zip.CreateEntry(key + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            // numpy's savez stamps 1980-01-01; a fixed time keeps outputs bitwise reproducible.
            e.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
            using Stream es = e.Open();
            Npy.Write(es, array);
        }
    }

    private static void Validate(IReadOnlyList<KeyValuePair<string, NpyArray>> list)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, array) in list)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("Array names must not be empty.", nameof(list));
            if (array is null) throw new ArgumentException($"Array '{key}' is null.", nameof(list));
            if (!seen.Add(key)) throw new ArgumentException($"Array name '{key}' is given twice.", nameof(list));
        }
    }

    internal static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}
