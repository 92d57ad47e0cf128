using System.Text;
using NtkFast.Tiling;

namespace NtkFast.Distributed;

/// <summary>MPI_COMM_WORLD through <see cref="MpiNative"/>.</summary>
public sealed unsafe class MpiCommunicator : Communicator
{
    private readonly MpiNative _mpi;
    private readonly bool _ownsInit;
    private bool _finalized;

    private MpiCommunicator(MpiNative mpi, bool ownsInit, int rank, int size)
    {
        _mpi = mpi;
        _ownsInit = ownsInit;
        Rank = rank;
        Size = size;
    }

    private static MpiCommunicator? s_world;
    private static readonly object s_lock = new();

    /// <summary>Loads the library and calls MPI_Init once per process; later calls return the same object.</summary>
    public static MpiCommunicator Initialize()
    {
        lock (s_lock)
        {
            if (s_world is { _finalized: false }) return s_world;
            if (s_world is not null) throw new InvalidOperationException("MPI was already finalized in this process; it cannot be restarted.");
            MpiNative mpi = MpiNative.Load();
            int flag = 0;
            MpiNative.Check(mpi.Initialized(&flag), "MPI_Initialized");
            bool owns = flag == 0;
            if (owns) MpiNative.Check(mpi.Init(null, null), "MPI_Init");
            int rank, size;
            MpiNative.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
            MpiNative.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
            s_world = new MpiCommunicator(mpi, owns, rank, size);
            return s_world;
        }
    }

    public override int Rank { get; }
    public override int Size { get; }
    public override bool IsMpi => true;

    private void Alive()
    {
        if (_finalized) throw new ObjectDisposedException(nameof(MpiCommunicator), "MPI has been finalized.");
    }

    public override void Barrier()
    {
        Alive();
        MpiNative.Check(_mpi.Barrier(_mpi.CommWorld), "MPI_Barrier");
    }

    public override void AllreduceSum(Span<double> values) => Allreduce(values, _mpi.Double, _mpi.OpSum);
    public override void AllreduceSum(Span<long> values) => Allreduce(values, _mpi.Long, _mpi.OpSum);
    public override void AllreduceMax(Span<long> values) => Allreduce(values, _mpi.Long, _mpi.OpMax);

    private void Allreduce<T>(Span<T> values, nint type, nint op) where T : unmanaged
    {
        Alive();
        if (values.IsEmpty) return;
        // MPI_IN_PLACE is the sentinel (void*)1 in Open MPI's mpi.h.
        fixed (T* p = values)
            MpiNative.Check(_mpi.Allreduce((void*)1, p, values.Length, type, op, _mpi.CommWorld), "MPI_Allreduce");
    }

    public override void Broadcast(Span<byte> buffer, int root)
    {
        Alive();
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (byte* p = buffer)
            MpiNative.Check(_mpi.Bcast(p, buffer.Length, _mpi.Byte, root, _mpi.CommWorld), "MPI_Bcast");
    }

    public override void Send(ReadOnlySpan<byte> data, int destination, int tag)
    {
        Alive();
        fixed (byte* p = data)
            MpiNative.Check(_mpi.Send(p, data.Length, _mpi.Byte, destination, tag, _mpi.CommWorld), "MPI_Send");
    }

    public override int Receive(Span<byte> buffer, int source, int tag)
    {
        Alive();
        // A real, writable status object (Open MPI writes 24 bytes); MPI_STATUS_IGNORE would also do,
        // but we need the count.
        byte* status = stackalloc byte[MpiNative.StatusBytes];
        int count;
        fixed (byte* p = buffer)
            MpiNative.Check(_mpi.Recv(p, buffer.Length, _mpi.Byte, source, tag, _mpi.CommWorld, status), "MPI_Recv");
        MpiNative.Check(_mpi.GetCount(status, _mpi.Byte, &count), "MPI_Get_count");
        return count;
    }

    /// <summary>
    /// Ends the whole job now with <paramref name="exitCode"/>: MPI_Abort kills every rank and the
    /// launcher exits non-zero. Does not return.
    /// </summary>
    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (!_finalized) _mpi.Abort(_mpi.CommWorld, exitCode);
        Environment.Exit(exitCode); // MPI_Abort does not return; this is for the impossible case
    }

    public override string Describe()
    {
        byte* buf = stackalloc byte[8192];
        int len = 0;
        if (_mpi.GetLibraryVersion(buf, &len) != 0) return "MPI";
        string s = Encoding.ASCII.GetString(buf, Math.Clamp(len, 0, 8192));
        int nl = s.IndexOfAny(['\n', ',']);
        return (nl < 0 ? s : s[..nl]).Trim('\0', ' ');
    }

    protected override void Dispose(bool disposing)
    {
        lock (s_lock)
        {
            if (_finalized) return;
            _finalized = true;
            if (_ownsInit) MpiNative.Check(_mpi.Finalize(), "MPI_Finalize");
        }
        base.Dispose(disposing);
    }
}

/// <summary>How the process was launched.</summary>
public static class MpiLaunch
{
    /// <summary>
    /// The communicator for this process: MPI_COMM_WORLD when started by mpirun/mpiexec/srun
    /// (<see cref="IsMpiLaunch"/>), otherwise <see cref="Communicator.Single"/> — then no MPI library is loaded.
    /// NTKFAST_MPI=0 forces single-process, NTKFAST_MPI=1 forces MPI (a singleton MPI job).
    /// </summary>
    public static Communicator Start()
    {
        string? force = Environment.GetEnvironmentVariable("NTKFAST_MPI");
        bool mpi = force switch
        {
            "0" => false,
            "1" => true,
            _ => IsMpiLaunch(),
        };
        return mpi ? MpiCommunicator.Initialize() : Communicator.Single;
    }

    /// <summary>
    /// True when an MPI launcher started this process: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE,
    /// PMIx-based launchers (mpirun ≥ 4, srun --mpi=pmix) set PMIX_RANK, PMI-1/2 launchers (srun
    /// --mpi=pmi2, MPICH's hydra) set PMI_RANK/PMI_SIZE.
    /// </summary>
    public static bool IsMpiLaunch()
    {
        static bool Has(string name) => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name));
        return Has("OMPI_COMM_WORLD_SIZE") || Has("PMIX_RANK") || Has("PMI_RANK") || Has("PMI_SIZE");
    }

    /// <summary>The rank the launcher announced (before MPI_Init), or -1.</summary>
    public static int LauncherRank()
    {
        foreach (string name in (string[])["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"])
            if (int.TryParse(Environment.GetEnvironmentVariable(name), out int r)) return r;
        return -1;
    }
}
