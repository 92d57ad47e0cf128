using System.IO.Compression;

namespace NtkFast.IO;

/// <summary>
/// numpy's .npz: a zip archive of .npy arrays, one entry "name.npy" per array. Reads entries
/// stored (numpy.savez) or deflated (numpy.savez_compressed); writes stored entries like savez,
/// or deflated ones on request. Errors are one-line <see cref="InvalidDataException"/>s naming
/// the file and, for a bad inner array, the entry ("net.npz[W0]: …").
/// </summary>
public static class Npz
{
    /// <summary>Most entries accepted (a parameter file of a 1000-layer network has ~2000).</summary>
    internal const int MaxEntries = 100_000;

    /// <summary>Deflate cannot expand data by more than ~1032:1; a larger declared size is a lie.</summary>
    private const long MaxDeflateRatio = 1100;

    /// <summary>Reads every array of a .npz file, keyed by entry name without ".npy", in archive order.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(fs, path);
    }

    /// <summary>Reads every array of a .npz image in a seekable stream; <paramref name="name"/> prefixes errors.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(Stream stream, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        name ??= "<stream>";
        if (!stream.CanSeek)
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            ms.Position = 0;
            stream = ms;
        }
        long start = stream.Position;
        Span<byte> head = stackalloc byte[6];
        int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        if (got == 6 && head.SequenceEqual((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']))
            throw new InvalidDataException($"{name}: is a single .npy array, not a .npz archive");
        if (got < 4 || !head[..4].SequenceEqual("PK\x03\x04"u8) && !head[..4].SequenceEqual("PK\x05\x06"u8))
            throw new InvalidDataException($"{name}: not a .npz file (not a zip archive)");

        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException)
        {
            throw new InvalidDataException($"{name}: not a .npz file (corrupt or truncated zip archive)");
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException($"{name}: not a .npz file (corrupt zip archive)");
        }

        using (zip)
        {
            var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            if (zip.Entries.Count > MaxEntries)
                throw new InvalidDataException($"{name}: has {zip.Entries.Count} entries (limit {MaxEntries})");
            foreach (ZipArchiveEntry e in zip.Entries)
            {
                if (e.FullName.EndsWith('/')) continue; // a directory entry holds nothing
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal))
                    throw new InvalidDataException($"{name}: entry '{Printable.Quote(e.FullName, 60)}' is not a .npy array");
                string key = e.FullName[..^4];
                string label = $"{name}[{Printable.Quote(key, 60)}]";
                if (result.ContainsKey(key)) throw new InvalidDataException($"{name}: array '{Printable.Quote(key, 60)}' appears twice");
                long declared = e.Length;
                if (e.CompressedLength < 0 || e.CompressedLength > stream.Length)
                    throw new InvalidDataException($"{label}: zip entry claims {e.CompressedLength} compressed bytes, the file has {stream.Length}");
                if (declared < 0 || declared > e.CompressedLength * MaxDeflateRatio + 4096)
                    throw new InvalidDataException($"{label}: implausible uncompressed size {declared} for {e.CompressedLength} compressed bytes");
                NpyArray a;
                try
                {
                    using Stream es = e.Open();
                    a = Npy.Read(es, label, declared);
                }
                catch (InvalidDataException ex) when (!ex.Message.StartsWith(label, StringComparison.Ordinal))
                {
                    // thrown by the zip layer (bad local header, CRC mismatch, corrupt deflate stream)
                    throw new InvalidDataException($"{label}: corrupt zip entry ({FirstLine(ex.Message)})");
                }
                catch (NotSupportedException ex)
                {
                    throw new InvalidDataException($"{label}: unsupported zip entry ({FirstLine(ex.Message)})");
                }
                result.Add(key, a);
            }
            if (result.Count == 0) throw new InvalidDataException($"{name}: contains no arrays");
            return result;
        }
    }

    /// <summary>The array <paramref name="key"/>, or a clear error naming the file and the arrays it has.</summary>
    public static NpyArray Get(IReadOnlyDictionary<string, NpyArray> arrays, string key, string fileName)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        ArgumentNullException.ThrowIfNull(key);
        if (arrays.TryGetValue(key, out NpyArray? a)) return a;
        string have = string.Join(", ", arrays.Keys.Take(20).Select(k => Printable.Quote(k, 60)));
        if (arrays.Count > 20) have += ", …";
        throw new InvalidDataException($"{fileName}: missing array '{key}' (has: {have})");
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

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}
