namespace NtkFast.Tiling;

/// <summary>
/// The group of processes working on one job, as the library sees it: a single process
/// (<see cref="Single"/>, the default everywhere) or the ranks of an MPI job (the implementation lives in
/// the NtkFast.Distributed assembly, so the core library has no MPI, no native loading and no process
/// exits). Collectives are blocking and must be called by every rank in the same order, as in MPI.
/// </summary>
public abstract class Communicator : IDisposable
{
    /// <summary>This process's index in [0, <see cref="Size"/>).</summary>
    public abstract int Rank { get; }

    /// <summary>Number of processes.</summary>
    public abstract int Size { get; }

    /// <summary>True when this is an MPI job (even one of size 1).</summary>
    public abstract bool IsMpi { get; }

    /// <summary>Waits until every rank has reached the barrier.</summary>
    public abstract void Barrier();

    /// <summary>Element-wise sum over ranks, in place; every rank receives the result.</summary>
    public abstract void AllreduceSum(Span<double> values);

    /// <summary>Element-wise sum over ranks, in place.</summary>
    public abstract void AllreduceSum(Span<long> values);

    /// <summary>Element-wise maximum over ranks, in place.</summary>
    public abstract void AllreduceMax(Span<long> values);

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> to every rank.</summary>
    public abstract void Broadcast(Span<byte> buffer, int root);

    /// <summary>Point-to-point send of bytes (blocking).</summary>
    public abstract void Send(ReadOnlySpan<byte> data, int destination, int tag);

    /// <summary>Point-to-point receive; returns the number of bytes received (at most <paramref name="buffer"/>'s length).</summary>
    public abstract int Receive(Span<byte> buffer, int source, int tag);

    /// <summary>A one-line description (library version for MPI).</summary>
    public virtual string Describe() => Size == 1 ? "single process" : $"{Size} ranks";

    /// <summary>Ends MPI (MPI_Finalize) when this communicator started it.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the communicator (MPI_Finalize for MPI).</summary>
    protected virtual void Dispose(bool disposing) { }

    /// <summary>A communicator of one process, no MPI involved.</summary>
    public static Communicator Single { get; } = new SingleProcessCommunicator();
}

/// <summary>Exactly what a one-rank MPI job would do, without MPI.</summary>
internal sealed class SingleProcessCommunicator : Communicator
{
    public override int Rank => 0;
    public override int Size => 1;
    public override bool IsMpi => false;
    public override void Barrier() { }
    public override void AllreduceSum(Span<double> values) { }
    public override void AllreduceSum(Span<long> values) { }
    public override void AllreduceMax(Span<long> values) { }
    public override void Broadcast(Span<byte> buffer, int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), "A single-process communicator has only rank 0.");
    }
    public override void Send(ReadOnlySpan<byte> data, int destination, int tag) =>
        throw new InvalidOperationException("A single process has no peer to send to.");
    public override int Receive(Span<byte> buffer, int source, int tag) =>
        throw new InvalidOperationException("A single process has no peer to receive from.");
    public override string Describe() => "single process (no MPI)";
}

