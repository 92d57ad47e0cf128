using System.Text;
using NtkFast.IO;

namespace NtkFast.Tiling;

/// <summary>
/// The output files of one tiled run (e.g. the NTK and the NNGP), shared by every rank, written as one
/// transaction: each output is built in a temporary file beside its destination, created by rank 0
/// exclusively under a fresh random name (<see cref="AtomicFile"/>: ".&lt;name&gt;.&lt;8 hex&gt;.ntk-tmp", never an
/// existing file or a planted symbolic link, space reserved on disk); rank 0 broadcasts the names and the
/// other ranks open those files after a collective check that creating them worked;
/// <see cref="Commit"/> makes every rank flush its blocks to disk, agree that all succeeded, and then rank
/// 0 renames every temporary file into place. Until that rename no file with the final name exists (an
/// existing one is left untouched), so a failed or killed run never leaves a file that looks finished,
/// and two runs writing the same destination never share a file: the last rename wins with one complete
/// result. Disposing without committing deletes the temporary files (best effort); a SIGINT/SIGTERM
/// deletes them through <see cref="AtomicFile.AbandonAll"/>; a SIGKILL leaves only a temporary name,
/// which no later run opens.
/// <para>Across machines the output folder must be on a file system every rank sees (NFS, Lustre, GPFS, BeeGFS).</para>
/// </summary>
public sealed class TiledOutputs : IDisposable
{
    private readonly Communicator _comm;
    private readonly NpyTileFile?[] _files;
    private readonly string?[] _destinations;
    private readonly string?[] _temps;
    private bool _committed;

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
        _temps = new string?[paths.Count];
        for (int i = 0; i < paths.Count; i++)
        {
            if (paths[i] is not { } p) continue;
            string full = AtomicFile.CheckDestination(p);
            for (int k = 0; k < i; k++)
                if (_destinations[k] == full) throw new ArgumentException($"output '{p}' is given twice", nameof(paths));
            _destinations[i] = full;
        }

        // Rank 0 creates, then everyone learns whether that worked (a plain barrier would leave the
        // others waiting on a dead rank 0 — an error must reach them as a value), then the names.
        string? error = null;
        if (comm.Rank == 0)
        {
            try
            {
                for (int i = 0; i < _files.Length; i++)
                    if (_destinations[i] is { } d) _files[i] = NpyTileFile.CreateTemporary(d, rows, cols, mode, out _temps[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                error = e is IOException && IsNoSpace(e) ? $"no space left for the outputs ({MemoryBudget.Format(NpyTileFile.FileLength(rows, cols))} each): {e.Message}" : e.Message;
            }
        }
        Span<long> status = [error is null ? 0 : 1];
        comm.AllreduceMax(status);
        if (status[0] != 0)
        {
            DisposeFiles();
            DeleteTemps();
            throw new IOException(error ?? "rank 0 could not create the output files");
        }
        if (comm.Size > 1) BroadcastNames();
        if (comm.Rank != 0)
        {
            try
            {
                for (int i = 0; i < _files.Length; i++)
                {
                    if (_temps[i] is not { } t) continue;
                    AtomicFile.Track(t);
                    _files[i] = NpyTileFile.Open(t, rows, cols, mode);
                }
            }
            catch
            {
                DisposeFiles();
                throw;
            }
        }
    }

    private static bool IsNoSpace(Exception e) =>
        (e.HResult & 0xFFFF) is 28 or 27 || e.Message.Contains("space", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("disk was full", StringComparison.OrdinalIgnoreCase);

    /// <summary>Rank 0's temporary names to every rank: one length, then the UTF-8 names joined by '\0'.</summary>
    private void BroadcastNames()
    {
        byte[] names = _comm.Rank == 0 ? Encoding.UTF8.GetBytes(string.Join('\0', _temps.Select(t => t ?? ""))) : [];
        byte[] length = BitConverter.GetBytes(names.Length);
        _comm.Broadcast(length, 0);
        if (_comm.Rank != 0) names = new byte[BitConverter.ToInt32(length)];
        _comm.Broadcast(names, 0);
        if (_comm.Rank == 0) return;
        string[] parts = Encoding.UTF8.GetString(names).Split('\0');
        if (parts.Length != _temps.Length) throw new IOException("rank 0 announced a different number of outputs");
        for (int i = 0; i < parts.Length; i++)
        {
            if ((parts[i].Length == 0) != (_destinations[i] is null)) throw new IOException("rank 0 was asked for different outputs");
            _temps[i] = parts[i].Length == 0 ? null : parts[i];
        }
    }

    /// <summary>The temporary file output <paramref name="i"/> is built in (null when not requested).</summary>
    public string? TemporaryPath(int i) => _temps[i];

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
            DeleteTemps();
            return false;
        }
        // Rank 0 renames; if that fails, the others must hear it as a value, not wait in the barrier.
        string? error = null;
        if (_comm.Rank == 0)
        {
            var files = new List<(string, string)>();
            for (int i = 0; i < _temps.Length; i++)
                if (_temps[i] is { } t) files.Add((t, _destinations[i]!));
            try { AtomicFile.PublishAll(files.ToArray()); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException) { error = e.Message; }
        }
        else
        {
            foreach (string? t in _temps) if (t is not null) AtomicFile.Untrack(t);
        }
        Span<long> renamed = [error is null ? 0 : 1];
        _comm.AllreduceMax(renamed);
        if (renamed[0] != 0)
        {
            DeleteTemps();
            throw new IOException(error ?? "rank 0 could not rename the outputs into place");
        }
        _committed = true;
        // Nobody returns before the files are in place, so a rank's caller may read them at once.
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

    private void DeleteTemps()
    {
        foreach (string? t in _temps)
        {
            if (t is null) continue;
            if (_comm.Rank == 0) AtomicFile.Delete(t);
            else AtomicFile.Untrack(t);
        }
    }

    /// <summary>Deletes this run's temporary files (any rank may call it when aborting).</summary>
    public void Abandon()
    {
        DisposeFiles();
        foreach (string? t in _temps)
            if (t is not null) AtomicFile.Delete(t);
    }

    public void Dispose()
    {
        DisposeFiles();
        if (!_committed) DeleteTemps();
    }
}
