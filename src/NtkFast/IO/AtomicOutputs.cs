namespace NtkFast.IO;

/// <summary>
/// Several outputs written as one transaction (e.g. <c>--out-ntk</c> and <c>--out-nngp</c>):
/// each <see cref="Open"/> writes to a temporary file; <see cref="Commit"/> first flushes and
/// closes every one of them and only then renames them all into place, so a failure while
/// computing or writing any output leaves no output at all. Disposing without committing
/// deletes all temporary files. The files are kept by the same <see cref="OutputSet"/> as the
/// tiled kernel outputs' (<c>Tiling.TiledOutputs</c>): one mechanism for every output.
/// </summary>
/// <example><code>
/// using var outs = new AtomicOutputs();
/// Npy.Write(outs.Open(ntkPath), ntk, [n, m]);
/// Npy.Write(outs.Open(nngpPath), nngp, [n, m]);
/// outs.Commit();
/// </code></example>
public sealed class AtomicOutputs : IDisposable
{
    private readonly OutputSet _set = new();
    private readonly List<AtomicFileWriter> _writers = [];
    private bool _committed;

    /// <summary>Starts an output; the stream is valid until <see cref="Commit"/> or <see cref="Dispose"/>.</summary>
    public Stream Open(string path)
    {
        if (_committed) throw new InvalidOperationException("The outputs are already committed.");
        int slot = _set.Add(path);
        var writer = new AtomicFileWriter(_set.Destination(slot));
        _set.SetTemporary(slot, writer.TempPath, owned: true);
        _writers.Add(writer);
        return writer.Stream;
    }

    /// <summary>Stages an output written by a callback.</summary>
    public void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        write(Open(path));
    }

    /// <summary>Flushes all outputs, then renames them all into place.</summary>
    public void Commit()
    {
        if (_committed) throw new InvalidOperationException("The outputs are already committed.");
        try
        {
            foreach (AtomicFileWriter w in _writers) w.Seal();
        }
        catch
        {
            Dispose();
            throw;
        }
        // Everything is on disk; only renames remain (a failure here is an OS-level one).
        _set.Publish();
        foreach (AtomicFileWriter w in _writers) w.MarkCommitted();
        _committed = true;
    }

    public void Dispose()
    {
        foreach (AtomicFileWriter w in _writers) w.CloseQuietly();
        _set.Discard();
    }
}
