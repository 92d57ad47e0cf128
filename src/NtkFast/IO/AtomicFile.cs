using System.Collections.Concurrent;

namespace NtkFast.IO;

/// <summary>
/// Writes files so that the destination is never seen partial: the content goes to a temporary
/// file in the destination's folder (same file system, so the final rename is atomic), which is
/// flushed to disk and renamed over the destination only when writing succeeded. On any exception
/// the temporary file is deleted and an existing destination is left untouched.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using AtomicFileWriter w = Create(path);
        write(w.Stream);
        w.Commit();
    }

    /// <summary>
    /// Opens a temporary file next to <paramref name="path"/>. Write to <see cref="AtomicFileWriter.Stream"/>,
    /// then call <see cref="AtomicFileWriter.Commit"/>; disposing without committing deletes the temporary file.
    /// Use this form when the content comes from spans (which cannot be captured by a lambda).
    /// </summary>
    public static AtomicFileWriter Create(string path) => new(path);

    private static readonly ConcurrentDictionary<string, byte> s_live = new(StringComparer.Ordinal);

    internal static void Track(string tempPath) => s_live.TryAdd(tempPath, 0);

    internal static void Untrack(string tempPath) => s_live.TryRemove(tempPath, out _);

    /// <summary>
    /// Deletes every temporary file still being written in this process. For a process that is being
    /// killed (SIGINT/SIGTERM handlers in <c>ntk</c>): finally blocks do not run then, and without this
    /// a hidden ".name.tmp" would be left next to the destination. Destinations are never touched.
    /// </summary>
    public static void AbandonAll()
    {
        foreach (string p in s_live.Keys)
        {
            try { File.Delete(p); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            s_live.TryRemove(p, out _);
        }
    }

    /// <summary>The temporary name used for <paramref name="fullPath"/>: hidden, same folder, unique.</summary>
    internal static string TempPathFor(string fullPath)
    {
        string dir = Path.GetDirectoryName(fullPath) ?? ".";
        string file = Path.GetFileName(fullPath);
        return Path.Combine(dir, $".{file}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }
}

/// <summary>One file being written atomically; see <see cref="AtomicFile.Create"/>.</summary>
public sealed class AtomicFileWriter : IDisposable
{
    private FileStream? _stream;
    private bool _committed;

    internal AtomicFileWriter(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"Output path '{path}' is a directory.", nameof(path));
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir))
            throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        DestinationPath = full;
        TempPath = AtomicFile.TempPathFor(full);
        _stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        AtomicFile.Track(TempPath);
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
        File.Move(TempPath, DestinationPath, overwrite: true);
        _committed = true;
        AtomicFile.Untrack(TempPath);
    }

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

    internal void Discard()
    {
        _stream?.Dispose();
        _stream = null;
        if (!_committed)
        {
            try { File.Delete(TempPath); }
            catch (IOException) { /* best effort: never mask the original error */ }
            catch (UnauthorizedAccessException) { }
            AtomicFile.Untrack(TempPath);
        }
    }

    /// <summary>Deletes the temporary file unless committed.</summary>
    public void Dispose() => Discard();
}

/// <summary>
/// Several outputs written as one transaction (e.g. <c>--out-ntk</c> and <c>--out-nngp</c>):
/// each <see cref="Open"/> writes to a temporary file; <see cref="Commit"/> first flushes and
/// closes every one of them and only then renames them all into place, so a failure while
/// computing or writing any output leaves no output at all. Disposing without committing
/// deletes all temporary files.
/// </summary>
/// <example><code>
/// using var outs = new AtomicOutputs();
/// Npy.Write(outs.Open(ntkPath), ntk, [n, m]);
/// Npy.Write(outs.Open(nngpPath), nngp, [n, m]);
/// outs.Commit();
/// </code></example>
public sealed class AtomicOutputs : IDisposable
{
    private readonly List<AtomicFileWriter> _writers = [];
    private bool _committed;

    /// <summary>Starts an output; the stream is valid until <see cref="Commit"/> or <see cref="Dispose"/>.</summary>
    public Stream Open(string path)
    {
        if (_committed) throw new InvalidOperationException("The outputs are already committed.");
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        foreach (AtomicFileWriter w in _writers)
            if (string.Equals(w.DestinationPath, full, StringComparison.Ordinal))
                throw new ArgumentException($"Output '{path}' is given twice.", nameof(path));
        var writer = new AtomicFileWriter(full);
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
        foreach (AtomicFileWriter w in _writers) w.Publish();
        _committed = true;
    }

    public void Dispose()
    {
        foreach (AtomicFileWriter w in _writers) w.Discard();
    }
}
