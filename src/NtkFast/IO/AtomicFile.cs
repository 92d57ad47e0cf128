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

    /// <summary>
    /// Test hook, called before a run renames its complete temporaries into place (outside the lock, so a
    /// signal's <see cref="AbandonAll"/> still runs): the signal tests pause the process there. Installed by
    /// NtkFast.Distributed's <c>FaultInjection</c> from NTKFAST_FAULT=publish:pause in <c>ntk</c>; null in every other use.
    /// </summary>
    internal static Action? BeforePublish { get; set; }

    private static readonly object s_gate = new();
    private static readonly HashSet<string> s_live = new(StringComparer.Ordinal);
    private static bool s_abandoned;

    /// <summary>Longest file name (bytes, UTF-8) the common Linux/macOS/Windows file systems accept.</summary>
    public const int MaxFileNameBytes = 255;

    /// <summary>What every temporary name ends with (with a random token before it).</summary>
    public const string TemporarySuffix = ".ntk-tmp";

    /// <summary>
    /// True for a name made by <see cref="TempPathFor"/>: hidden, ".&lt;name&gt;.&lt;8 hex&gt;.ntk-tmp". Such a file is
    /// never a result: a killed run may leave one, no later run renames it (every run picks a fresh random
    /// name), and the next run for the same output deletes it once no live process holds it (<see cref="StaleTemporaries"/>).
    /// </summary>
    public static bool IsTemporaryName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.StartsWith('.') && fileName.EndsWith(TemporarySuffix, StringComparison.Ordinal)
            && fileName.Length >= 1 + 9 + TemporarySuffix.Length && fileName[^(TemporarySuffix.Length + 9)] == '.';
    }

    /// <summary>
    /// Checks that <paramref name="path"/> can be an output before any work is done: not a directory, in
    /// a folder that exists, with a name short enough for its temporary name. Returns the full path.
    /// </summary>
    public static string CheckDestination(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"output path '{path}' is a directory");
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
        if (System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(full)) > MaxFileNameBytes)
            throw new ArgumentException($"output file name is longer than {MaxFileNameBytes} bytes: {Path.GetFileName(full)[..40]}…");
        return full;
    }

    /// <summary>
    /// Throws when <paramref name="output"/> names the same file as one of <paramref name="inputs"/> (also
    /// through a symbolic link): replacing an input by a result is never what was meant.
    /// </summary>
    public static void CheckNotAnInput(string output, params ReadOnlySpan<string?> inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(output);
        string o = Canonical(output);
        foreach (string? i in inputs)
            if (i is not null && string.Equals(o, Canonical(i), StringComparison.Ordinal))
                throw new ArgumentException($"output '{output}' is also an input ('{i}'): give another output name");
    }

    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            FileSystemInfo? target = File.Exists(full) ? new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) : null;
            return target?.FullName ?? full;
        }
        catch (IOException) { return full; }
        catch (UnauthorizedAccessException) { return full; }
    }

    /// <summary>
    /// Creates a fresh temporary file beside <paramref name="destinationFull"/> (same folder, so the final
    /// rename is atomic): exclusively (O_CREAT|O_EXCL, so neither an existing file nor a symbolic link
    /// planted at that name is ever opened), under a random name that says it is temporary, registered so
    /// that <see cref="AbandonAll"/> deletes it. <paramref name="preallocateBytes"/> &gt; 0 reserves the
    /// space on disk now (fallocate), so a full file system fails here with an <see cref="IOException"/>
    /// rather than later (or, for a mapped file, with SIGBUS).
    /// </summary>
    internal static FileStream CreateTemp(string destinationFull, out string tempPath, long preallocateBytes = 0,
        FileAccess access = FileAccess.Write, FileShare share = FileShare.None, int bufferSize = 1 << 16)
    {
        StaleTemporaries.Clean(destinationFull); // temporaries of killed runs that no live process holds
        for (int attempt = 0; ; attempt++)
        {
            ThrowIfAbandoned();
            string candidate = TempPathFor(destinationFull);
            FileStream fs;
            try
            {
                fs = new FileStream(candidate, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = access,
                    // on Unix the share is only .NET's flock (None: LOCK_EX), which would shut out the shared lock of Hold
                    Share = OperatingSystem.IsWindows() ? share : share | FileShare.Read,
                    BufferSize = bufferSize,
                    PreallocationSize = preallocateBytes,
                });
            }
            catch (IOException) when (attempt < 3 && File.Exists(candidate))
            {
                continue; // a random-name collision (or a planted file): try another name
            }
            lock (s_gate)
            {
                if (!s_abandoned)
                {
                    s_live.Add(candidate);
                    StaleTemporaries.Hold(candidate); // until renamed or deleted: tells other runs' cleaners it is alive
                    tempPath = candidate;
                    return fs;
                }
            }
            fs.Dispose();
            TryDelete(candidate);
            ThrowIfAbandoned();
        }
    }

    /// <summary>Registers a temporary file another process (rank 0 of an MPI job) created, so that a signal deletes it here too.</summary>
    internal static void Track(string tempPath)
    {
        lock (s_gate)
        {
            ThrowIfAbandoned();
            s_live.Add(tempPath);
        }
    }

    /// <summary>Forgets a temporary file (it was renamed into place or deleted by someone else).</summary>
    internal static void Untrack(string tempPath)
    {
        lock (s_gate) s_live.Remove(tempPath);
        StaleTemporaries.Release(tempPath);
    }

    /// <summary>Renames a temporary file over its destination, unless the process is being stopped.</summary>
    internal static void Publish(string tempPath, string destinationFull) => PublishAll([(tempPath, destinationFull)]);

    /// <summary>
    /// Renames temporary files over their destinations, all under one lock: a signal's
    /// <see cref="AbandonAll"/> comes before them all (nothing published) or after them all.
    /// </summary>
    internal static void PublishAll(ReadOnlySpan<(string Temp, string Destination)> files)
    {
        BeforePublish?.Invoke();
        lock (s_gate)
        {
            ThrowIfAbandoned();
            foreach ((string temp, string dest) in files)
            {
                File.Move(temp, dest, overwrite: true);
                s_live.Remove(temp);
                StaleTemporaries.Release(temp);
            }
        }
    }

    /// <summary>Deletes a temporary file, best effort (never masks the error that led here).</summary>
    internal static void Delete(string tempPath)
    {
        TryDelete(tempPath);
        Untrack(tempPath);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void ThrowIfAbandoned()
    {
        if (Volatile.Read(ref s_abandoned)) throw new OperationCanceledException("the process is being stopped: no output is written");
    }

    /// <summary>
    /// Deletes every temporary file (also the shared files of tiled runs) still being written in this
    /// process, and from then on refuses to create or publish any: for a process that is being killed
    /// (SIGINT/SIGTERM handlers in <c>ntk</c>), whose main thread may still run for a moment. Finally
    /// blocks do not run then, and without this a hidden temporary file would be left next to the
    /// destination. Destinations are never touched.
    /// </summary>
    public static void AbandonAll() => Abandon(refuseNew: true);

    /// <summary><see cref="AbandonAll"/>; tests pass <paramref name="refuseNew"/> = false so that the test process can go on writing.</summary>
    internal static void Abandon(bool refuseNew)
    {
        string[] live;
        lock (s_gate)
        {
            s_abandoned |= refuseNew;
            live = [.. s_live];
            s_live.Clear();
        }
        foreach (string p in live)
        {
            TryDelete(p);
            StaleTemporaries.Release(p);
        }
    }

    /// <summary>Files registered now (tests).</summary>
    internal static int LiveCount
    {
        get { lock (s_gate) return s_live.Count; }
    }

    /// <summary>
    /// A fresh temporary name for <paramref name="fullPath"/>: hidden, same folder, ".&lt;name&gt;.&lt;8 hex&gt;.ntk-tmp",
    /// the name shortened (from its end) so that the whole stays within <see cref="MaxFileNameBytes"/>.
    /// </summary>
    internal static string TempPathFor(string fullPath)
    {
        string dir = Path.GetDirectoryName(fullPath) ?? ".";
        string file = Path.GetFileName(fullPath);
        string token = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()));
        int room = MaxFileNameBytes - (1 + 1 + token.Length + TemporarySuffix.Length);
        while (file.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(file) > room)
            file = file[..^(char.IsLowSurrogate(file[^1]) && file.Length > 1 ? 2 : 1)];
        return Path.Combine(dir, $".{file}.{token}{TemporarySuffix}");
    }
}
