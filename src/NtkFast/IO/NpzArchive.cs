using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace NtkFast.IO;

/// <summary>
/// An open .npz archive (<see cref="Npz.Open(string)"/>): its array names come from the zip directory
/// alone, and each array is inflated, checked and kept the first time it is asked for, so a reader
/// that checks names first (a parameter file with an unknown array, a data file asked for a member it
/// lacks) never inflates what it does not use. Not thread-safe; dispose to close the file.
/// </summary>
[SuppressMessage("Naming", "CA1710", Justification = "an archive that is also read as a dictionary of its arrays")]
public sealed class NpzArchive : IReadOnlyDictionary<string, NpyArray>, IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly ZipReader _zip;
    private readonly bool _convert;
    private readonly List<string> _keys = [];
    private readonly Dictionary<string, ZipReader.Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NpyArray> _loaded = new(StringComparer.Ordinal);
    private bool _disposed;

    internal NpzArchive(Stream stream, bool ownsStream, ZipReader zip, string name, bool strict, bool convertToFloat64)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _zip = zip;
        _convert = convertToFloat64;
        Name = name;
        foreach (ZipReader.Entry e in zip.Entries)
        {
            if (e.Name.EndsWith('/')) continue; // a directory entry holds nothing
            bool npy = e.Name.EndsWith(".npy", StringComparison.Ordinal);
            if (strict && !npy)
                throw new InvalidDataException($"{name}: entry '{Printable.Quote(e.Name)}' is not a .npy array");
            string key = npy ? e.Name[..^4] : e.Name;
            if (_entries.ContainsKey(key)) throw new InvalidDataException($"{name}: array '{Printable.Quote(key)}' appears twice");
            zip.Check(e, Label(key)); // sizes, method and budget, before anything is inflated
            _entries.Add(key, e);
            _keys.Add(key);
        }
        if (_keys.Count == 0) throw new InvalidDataException($"{name}: contains no arrays");
    }

    /// <summary>The file name (or stream name) errors start with.</summary>
    public string Name { get; }

    /// <summary>Array names in archive order (member names without ".npy").</summary>
    public IReadOnlyList<string> Names => _keys;

    public int Count => _keys.Count;

    public IEnumerable<string> Keys => _keys;

    /// <summary>Every array, inflating those not read yet.</summary>
    public IEnumerable<NpyArray> Values => _keys.Select(k => this[k]);

    public NpyArray this[string key] =>
        TryGetValue(key, out NpyArray? a) ? a : throw new KeyNotFoundException($"{Name}: no array '{Printable.Quote(key)}'");

    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <summary>The array <paramref name="key"/>, inflated and checked on first use; false if the archive lacks it.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out NpyArray value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_loaded.TryGetValue(key, out value)) return true;
        if (!_entries.TryGetValue(key, out ZipReader.Entry? e)) return false;
        ObjectDisposedException.ThrowIf(_disposed, this);
        value = Load(key, e);
        _loaded.Add(key, value);
        return true;
    }

    /// <summary>The member name as the archive spells it (with ".npy" when it has one).</summary>
    internal string MemberName(string key) => _entries[key].Name;

    private string Label(string key) => $"{Name}[{Printable.Quote(key)}]";

    private NpyArray Load(string key, ZipReader.Entry e)
    {
        string label = Label(key);
        try
        {
            using Stream es = _zip.OpenEntry(e, label);
            return Npy.Read(es, label, e.Size, _convert);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(label, StringComparison.Ordinal))
        {
            // thrown by the deflate layer (a corrupt compressed stream)
            throw new InvalidDataException($"{label}: corrupt zip entry ({Printable.Quote(Npz.FirstLine(ex.Message), 200)})");
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{label}: corrupt or truncated zip entry");
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{label}: sizes in the zip entry are too large to handle");
        }
    }

    /// <summary>Every array, in archive order (the total declared size must fit the read budget).</summary>
    internal IReadOnlyDictionary<string, NpyArray> ReadAll()
    {
        long total = 0;
        foreach (ZipReader.Entry e in _entries.Values) total += e.Size; // each <= the budget, at most 10^5 of them: no overflow
        if (total > ReadLimits.MemoryBudget) throw ReadLimits.OverBudget(Name, $"{_keys.Count} arrays of {total} bytes in all", total);
        var result = new Dictionary<string, NpyArray>(_keys.Count, StringComparer.Ordinal);
        foreach (string k in _keys) result.Add(k, this[k]);
        return result;
    }

    public IEnumerator<KeyValuePair<string, NpyArray>> GetEnumerator()
    {
        foreach (string k in _keys) yield return new(k, this[k]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_ownsStream) _stream.Dispose();
    }
}
