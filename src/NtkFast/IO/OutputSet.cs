namespace NtkFast.IO;

/// <summary>
/// The files of one output transaction, kept the same way by every writer of outputs — <see cref="AtomicOutputs"/>
/// (streams: networks, predictions, CSVs) and <c>Tiling.TiledOutputs</c> (mapped kernel files shared by MPI ranks):
/// each output's destination (checked once, never twice in one run) and the temporary file it is built in
/// (<see cref="AtomicFile"/>: exclusive, random hidden name, deleted by a signal through <see cref="AtomicFile.AbandonAll"/>).
/// <see cref="Publish"/> renames every temporary this process created over its destination under one lock (all or
/// none, as a signal sees it); <see cref="Discard"/> deletes them. A temporary created by another process (rank 0
/// of an MPI job) is only tracked here: it is forgotten, not published or deleted, except by <see cref="DeleteAll"/>.
/// </summary>
internal sealed class OutputSet
{
    private readonly List<(string Destination, string? Temp, bool Owned)> _files = [];
    private bool _published;

    /// <summary>Number of outputs.</summary>
    public int Count => _files.Count;

    /// <summary>Checks <paramref name="path"/> as a destination (<see cref="AtomicFile.CheckDestination"/>) and against the outputs already added; returns its slot.</summary>
    public int Add(string path)
    {
        string full = AtomicFile.CheckDestination(path);
        foreach ((string d, _, _) in _files)
            if (string.Equals(d, full, StringComparison.Ordinal)) throw new ArgumentException($"output '{path}' is given twice", nameof(path));
        _files.Add((full, null, false));
        return _files.Count - 1;
    }

    /// <summary>The destination of <paramref name="slot"/> (full path).</summary>
    public string Destination(int slot) => _files[slot].Destination;

    /// <summary>The temporary file <paramref name="slot"/> is built in (null before one is set).</summary>
    public string? Temporary(int slot) => _files[slot].Temp;

    /// <summary>
    /// Records the temporary file of <paramref name="slot"/>: <paramref name="owned"/> when this process created it (it
    /// publishes or deletes it), else one another process created and this one tracks (<see cref="AtomicFile.Track"/>).
    /// </summary>
    public void SetTemporary(int slot, string temp, bool owned)
    {
        ArgumentException.ThrowIfNullOrEmpty(temp);
        if (!owned) AtomicFile.Track(temp);
        _files[slot] = (_files[slot].Destination, temp, owned);
    }

    /// <summary>Renames every owned temporary over its destination, all under one lock; forgets the tracked ones.</summary>
    public void Publish()
    {
        if (_published) throw new InvalidOperationException("Already published.");
        var renames = new List<(string, string)>(_files.Count);
        foreach ((string d, string? t, bool owned) in _files)
        {
            if (t is null) continue;
            if (owned) renames.Add((t, d));
            else AtomicFile.Untrack(t);
        }
        if (renames.Count > 0) AtomicFile.PublishAll(renames.ToArray()); // (a rank that created nothing has nothing to rename)
        _published = true;
    }

    /// <summary>Unless published: deletes the owned temporaries (best effort) and forgets the tracked ones.</summary>
    public void Discard()
    {
        if (_published) return;
        for (int i = 0; i < _files.Count; i++)
        {
            (string d, string? t, bool owned) = _files[i];
            if (t is null) continue;
            if (owned) AtomicFile.Delete(t);
            else AtomicFile.Untrack(t);
            _files[i] = (d, null, false);
        }
    }

    /// <summary>Deletes every temporary, also those another process created (a rank aborting the whole run).</summary>
    public void DeleteAll()
    {
        if (_published) return;
        for (int i = 0; i < _files.Count; i++)
        {
            (string d, string? t, _) = _files[i];
            if (t is not null) AtomicFile.Delete(t);
            _files[i] = (d, null, false);
        }
    }
}
