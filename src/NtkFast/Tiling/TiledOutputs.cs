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
/// <para>Small outputs that are not matrices (a report) can join the transaction as <see cref="KernelSideFile"/>s:
/// rank 0 writes each to its own temporary file up front and renames it with the matrices.</para>
/// <para>Across machines the output folder must be on a file system every rank sees (NFS, Lustre, GPFS, BeeGFS).</para>
/// </summary>
public sealed class TiledOutputs : IDisposable
{
    private readonly Communicator _comm;
    private readonly NpyTileFile?[] _files;
    private readonly OutputSet _set = new();
    private readonly int[] _slots;       // per matrix output, its slot in _set (−1: not requested)
    private readonly int[] _sideSlots;   // per side file, its slot in _set
    private bool _committed;

    /// <param name="comm">The ranks sharing the files (collective: every rank must construct it).</param>
    /// <param name="paths">Destinations; null entries are outputs not requested.</param>
    /// <param name="rows">Rows of every output.</param>
    /// <param name="cols">Columns of every output.</param>
    /// <param name="mode">How blocks are written.</param>
    /// <param name="entryShapes">Per output, the dimensions of one entry after (rows, cols) (null, or an empty entry: a matrix of scalars).</param>
    /// <param name="sideFiles">Other outputs written and renamed with the matrices (their contents matter on rank 0 only).</param>
    public TiledOutputs(Communicator comm, IReadOnlyList<string?> paths, int rows, int cols, TileWriteMode mode = TileWriteMode.Positioned,
        IReadOnlyList<IReadOnlyList<int>>? entryShapes = null, IReadOnlyList<KernelSideFile>? sideFiles = null)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(paths);
        if (entryShapes is not null && entryShapes.Count != paths.Count) throw new ArgumentException($"{entryShapes.Count} entry shapes for {paths.Count} outputs", nameof(entryShapes));
        _comm = comm;
        _files = new NpyTileFile?[paths.Count];
        sideFiles ??= [];
        _slots = new int[paths.Count];
        _sideSlots = new int[sideFiles.Count];
        for (int i = 0; i < paths.Count; i++) _slots[i] = paths[i] is { } p ? _set.Add(p) : -1;
        for (int i = 0; i < sideFiles.Count; i++) _sideSlots[i] = _set.Add(sideFiles[i].Path);

        // Rank 0 creates, then everyone learns whether that worked (a plain barrier would leave the
        // others waiting on a dead rank 0 — an error must reach them as a value), then the names.
        string? error = null;
        if (comm.Rank == 0)
        {
            try
            {
                for (int i = 0; i < _files.Length; i++)
                {
                    if (_slots[i] < 0) continue;
                    _files[i] = NpyTileFile.CreateTemporary(_set.Destination(_slots[i]), rows, cols, mode, out string temp, entryShapes?[i]);
                    _set.SetTemporary(_slots[i], temp, owned: true);
                }
                for (int i = 0; i < _sideSlots.Length; i++)
                {
                    using FileStream fs = AtomicFile.CreateTemp(_set.Destination(_sideSlots[i]), out string temp);
                    _set.SetTemporary(_sideSlots[i], temp, owned: true);
                    fs.Write(sideFiles[i].Content.Span);
                    fs.Flush(flushToDisk: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
            {
                error = e is IOException && IsNoSpace(e) ? $"no space left for the outputs ({MemoryBudget.Format(NpyTileFile.FileLength(rows, cols, entryShapes?[0]))} each): {e.Message}" : e.Message;
            }
        }
        Span<long> status = [error is null ? 0 : 1];
        comm.AllreduceMax(status);
        if (status[0] != 0)
        {
            DisposeFiles();
            _set.Discard();
            throw new IOException(error ?? "rank 0 could not create the output files");
        }
        if (comm.Size > 1) BroadcastNames();
        if (comm.Rank != 0)
        {
            try
            {
                for (int i = 0; i < _files.Length; i++)
                {
                    if (_slots[i] < 0 || _set.Temporary(_slots[i]) is not { } t) continue;
                    _files[i] = NpyTileFile.Open(t, rows, cols, mode, entryShapes?[i]);
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

    /// <summary>Rank 0's temporary names of the matrices to every rank: one length, then the UTF-8 names joined by '\0'.</summary>
    private void BroadcastNames()
    {
        byte[] names = _comm.Rank == 0 ? Encoding.UTF8.GetBytes(string.Join('\0', _slots.Select(s => s < 0 ? "" : _set.Temporary(s) ?? ""))) : [];
        byte[] length = BitConverter.GetBytes(names.Length);
        _comm.Broadcast(length, 0);
        if (_comm.Rank != 0) names = new byte[BitConverter.ToInt32(length)];
        _comm.Broadcast(names, 0);
        if (_comm.Rank == 0) return;
        string[] parts = Encoding.UTF8.GetString(names).Split('\0');
        if (parts.Length != _slots.Length) throw new IOException("rank 0 announced a different number of outputs");
        for (int i = 0; i < parts.Length; i++)
        {
            if ((parts[i].Length == 0) != (_slots[i] < 0)) throw new IOException("rank 0 was asked for different outputs");
            if (parts[i].Length > 0) _set.SetTemporary(_slots[i], parts[i], owned: false);
        }
    }

    /// <summary>The temporary file output <paramref name="i"/> is built in (null when not requested).</summary>
    public string? TemporaryPath(int i) => _slots[i] < 0 ? null : _set.Temporary(_slots[i]);

    /// <summary>Number of output slots (including not-requested ones).</summary>
    public int Count => _files.Length;

    /// <summary>The file of output <paramref name="i"/>, or null when it was not requested.</summary>
    public NpyTileFile? this[int i] => _files[i];

    /// <summary>
    /// fsync of every output, concurrently when there are several: each waits on its own writeback, so
    /// two 134 MB files took 0.17 s + 0.17 s one after the other (Zen 5 VM, virtio disk).
    /// </summary>
    private static void FlushAll(NpyTileFile?[] files)
    {
        var open = new List<NpyTileFile>();
        foreach (NpyTileFile? f in files) if (f is not null) open.Add(f);
        if (open.Count <= 1)
        {
            foreach (NpyTileFile f in open) f.Flush(toDisk: true);
            return;
        }
        var errors = new Exception?[open.Count];
        var threads = new Thread[open.Count - 1];
        for (int i = 1; i < open.Count; i++)
        {
            int k = i;
            threads[i - 1] = new Thread(() =>
            {
                try { open[k].Flush(toDisk: true); }
                catch (Exception e) { errors[k] = e; }
            }) { IsBackground = true, Name = "ntk fsync" };
            threads[i - 1].Start();
        }
        try { open[0].Flush(toDisk: true); }
        catch (Exception e) { errors[0] = e; }
        foreach (Thread t in threads) t.Join();
        foreach (Exception? e in errors)
            if (e is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
    }

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
                FlushAll(_files);
            }
            catch (IOException) { ok = false; }
        }
        DisposeFiles();
        Span<long> status = [ok ? 0 : 1];
        _comm.AllreduceMax(status);
        if (status[0] != 0)
        {
            _set.Discard();
            return false;
        }
        // Rank 0 renames (the others only forget the names); if that fails, the others must hear it as a value, not wait in the barrier.
        string? error = null;
        try { _set.Publish(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException) { error = e.Message; }
        Span<long> renamed = [error is null ? 0 : 1];
        _comm.AllreduceMax(renamed);
        if (renamed[0] != 0)
        {
            _set.Discard();
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

    /// <summary>Deletes this run's temporary files (any rank may call it when aborting).</summary>
    public void Abandon()
    {
        DisposeFiles();
        _set.DeleteAll();
    }

    public void Dispose()
    {
        DisposeFiles();
        if (!_committed) _set.Discard();
    }
}

/// <summary>
/// An output of a kernel run that is not a matrix (e.g. a diagnostics CSV): <see cref="Content"/> is written to
/// <see cref="Path"/> in the same transaction as the matrices (by rank 0; other ranks may pass empty content).
/// </summary>
public sealed record KernelSideFile(string Path, ReadOnlyMemory<byte> Content);
