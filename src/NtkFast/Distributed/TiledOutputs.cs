namespace NtkFast.Distributed;

/// <summary>
/// The output files of one tiled run (e.g. the NTK and the NNGP), shared by every rank, written as one
/// transaction: each output is built in <c>&lt;out&gt;.partial</c> beside its destination; rank 0 creates
/// the files (header + final length), the other ranks open them after a collective check that this
/// worked; <see cref="Commit"/> makes every rank flush its blocks to disk, agree that all succeeded,
/// and then rank 0 renames every partial file into place. Until that rename no file with the final
/// name exists (an existing one is left untouched), so a failed or killed run never leaves a file that
/// looks finished. Disposing without committing deletes the partial files (rank 0, best effort; a
/// killed job leaves only <c>*.partial</c>, which the next run overwrites).
/// <para>Across machines the output folder must be on a file system every rank sees (NFS, Lustre, GPFS, BeeGFS).</para>
/// </summary>
public sealed class TiledOutputs : IDisposable
{
    private readonly Communicator _comm;
    private readonly NpyTileFile?[] _files;
    private readonly string?[] _destinations;
    private bool _committed;

    /// <summary>Suffix of the file being built.</summary>
    public const string PartialSuffix = ".partial";

    /// <param name="comm">The ranks sharing the files (collective: every rank must construct it).</param>
    /// <param name="paths">Destinations; null entries are outputs not requested.</param>
    /// <param name="rows">Rows of every output.</param>
    /// <param name="cols">Columns of every output.</param>
    /// <param name="mode">How blocks are written.</param>
    public TiledOutputs(Communicator comm, IReadOnlyList<string?> paths, int rows, int cols, TileWriteMode mode = TileWriteMode.Positioned)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(paths);
        _comm = comm;
        _files = new NpyTileFile?[paths.Count];
        _destinations = new string?[paths.Count];
        for (int i = 0; i < paths.Count; i++)
        {
            if (paths[i] is not { } p) continue;
            string full = Path.GetFullPath(p);
            for (int k = 0; k < i; k++)
                if (_destinations[k] == full) throw new ArgumentException($"output '{p}' is given twice", nameof(paths));
            if (Directory.Exists(full)) throw new ArgumentException($"output path '{p}' is a directory", nameof(paths));
            string? dir = Path.GetDirectoryName(full);
            if (dir is not null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"output folder does not exist: {dir}");
            _destinations[i] = full;
        }

        // Rank 0 creates, then everyone learns whether that worked (a plain barrier would leave the
        // others waiting on a dead rank 0 — an error must reach them as a value).
        string? error = null;
        if (comm.Rank == 0)
        {
            try
            {
                for (int i = 0; i < _files.Length; i++)
                    if (_destinations[i] is { } d) _files[i] = NpyTileFile.Create(PartialPath(d), rows, cols, mode);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = e.Message;
            }
        }
        Span<long> status = [error is null ? 0 : 1];
        comm.AllreduceMax(status);
        if (status[0] != 0)
        {
            DisposeFiles();
            DeletePartials();
            throw new IOException(error ?? "rank 0 could not create the output files");
        }
        if (comm.Rank != 0)
        {
            try
            {
                for (int i = 0; i < _files.Length; i++)
                    if (_destinations[i] is { } d) _files[i] = NpyTileFile.Open(PartialPath(d), rows, cols, mode);
            }
            catch
            {
                DisposeFiles();
                throw;
            }
        }
    }

    /// <summary>Where <paramref name="destination"/> is built.</summary>
    public static string PartialPath(string destination) => destination + PartialSuffix;

    /// <summary>Number of output slots (including not-requested ones).</summary>
    public int Count => _files.Length;

    /// <summary>The file of output <paramref name="i"/>, or null when it was not requested.</summary>
    public NpyTileFile? this[int i] => _files[i];

    /// <summary>
    /// Collective: flushes this rank's blocks to disk, checks that every rank got here without an error
    /// (<paramref name="localFailed"/>), and renames the files into place (rank 0). Returns false, and
    /// leaves nothing behind, when some rank reported a failure.
    /// </summary>
    public bool Commit(bool localFailed = false)
    {
        if (_committed) throw new InvalidOperationException("Already committed.");
        bool ok = !localFailed;
        if (ok)
        {
            try
            {
                foreach (NpyTileFile? f in _files) f?.Flush(toDisk: true);
            }
            catch (IOException) { ok = false; }
        }
        DisposeFiles();
        Span<long> status = [ok ? 0 : 1];
        _comm.AllreduceMax(status);
        if (status[0] != 0)
        {
            DeletePartials();
            return false;
        }
        if (_comm.Rank == 0)
        {
            foreach (string? d in _destinations)
                if (d is not null) File.Move(PartialPath(d), d, overwrite: true);
        }
        _committed = true;
        // Nobody returns before the files are in place, so a rank's caller may read them at once.
        _comm.Barrier();
        return true;
    }

    private void DisposeFiles()
    {
        for (int i = 0; i < _files.Length; i++)
        {
            _files[i]?.Dispose();
            _files[i] = null;
        }
    }

    private void DeletePartials()
    {
        if (_comm.Rank != 0) return;
        foreach (string? d in _destinations)
        {
            if (d is null) continue;
            try { File.Delete(PartialPath(d)); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Deletes this run's partial files (any rank may call it when aborting).</summary>
    public void Abandon()
    {
        DisposeFiles();
        foreach (string? d in _destinations)
        {
            if (d is null) continue;
            try { File.Delete(PartialPath(d)); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    public void Dispose()
    {
        DisposeFiles();
        if (!_committed) DeletePartials();
    }
}
