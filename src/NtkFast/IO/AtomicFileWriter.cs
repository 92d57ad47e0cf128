namespace NtkFast.IO;

/// <summary>One file being written atomically; see <see cref="AtomicFile.Create"/>.</summary>
public sealed class AtomicFileWriter : IDisposable
{
    private FileStream? _stream;
    private bool _committed;

    internal AtomicFileWriter(string path)
    {
        string full = AtomicFile.CheckDestination(path);
        DestinationPath = full;
        _stream = AtomicFile.CreateTemp(full, out string temp);
        TempPath = temp;
    }

    /// <summary>The destination (full path).</summary>
    public string DestinationPath { get; }

    /// <summary>The temporary file being written.</summary>
    public string TempPath { get; }

    /// <summary>Where to write the content.</summary>
    public Stream Stream => _stream ?? throw new ObjectDisposedException(nameof(AtomicFileWriter));

    /// <summary>Flushes the content to disk and closes the temporary file (the first half of <see cref="Commit"/>).</summary>
    internal void Seal()
    {
        if (_stream is null) return;
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _stream = null;
    }

    /// <summary>Renames the temporary file over the destination.</summary>
    internal void Publish()
    {
        Seal();
        AtomicFile.Publish(TempPath, DestinationPath);
        _committed = true;
    }

    internal void MarkCommitted() => _committed = true;

    /// <summary>Makes the content visible at the destination.</summary>
    public void Commit()
    {
        if (_committed) throw new InvalidOperationException("Already committed.");
        try
        {
            Publish();
        }
        catch
        {
            Discard();
            throw;
        }
    }

    /// <summary>Closes the stream without deleting anything (the owner of the transaction deletes the temporary file).</summary>
    internal void CloseQuietly()
    {
        // Disposing flushes what is still buffered: on a full disk that throws again (ENOSPC).
        try { _stream?.Dispose(); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        _stream = null;
    }

    internal void Discard()
    {
        CloseQuietly(); // (a full disk must not keep the temporary file from being deleted)
        if (!_committed) AtomicFile.Delete(TempPath);
    }

    /// <summary>Deletes the temporary file unless committed.</summary>
    public void Dispose() => Discard();
}
