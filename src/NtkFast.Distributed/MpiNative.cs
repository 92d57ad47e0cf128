using System.Runtime.InteropServices;

namespace NtkFast.Distributed;

/// <summary>
/// The thin layer over Open MPI's C API (libmpi.so.40, Debian's <c>libopenmpi3</c>/<c>openmpi-bin</c>).
/// <para>Why not a NuGet binding: MPI.NET 1.4.0 is built for MS-MPI's integer handles (it works with
/// MPICH only) and its reductions fail under NativeAOT (see docs/notes/mpi.md). Open MPI's handles are
/// pointers to exported global objects (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>), so the
/// handles come from <see cref="NativeLibrary.GetExport"/> and every call goes through an unmanaged
/// function pointer: no marshalling stubs, no reflection, NativeAOT-clean.</para>
/// <para>The library is loaded lazily, only when the process was started by an MPI launcher; a plain
/// single-process run never touches it (and does not need it installed).</para>
/// </summary>
internal sealed unsafe partial class MpiNative
{
    /// <summary>Names tried in order; NTKFAST_MPI_LIBRARY overrides (a path or a soname).</summary>
    private static readonly string[] s_candidates = ["libmpi.so.40", "libmpi.so", "libmpi.so.12"];

    // RTLD_NOW | RTLD_GLOBAL: Open MPI dlopens its MCA components, which resolve symbols of libmpi
    // and libopen-pal from the global namespace (the mpi4py lesson). NativeLibrary.Load uses RTLD_LAZY
    // without RTLD_GLOBAL, so we dlopen through libc first; NativeLibrary then finds the same handle.
    private const int RtldNow = 0x2, RtldGlobal = 0x100;

    [LibraryImport("libdl.so.2", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int mode);

    public readonly nint Library;
    public readonly nint CommWorld, Double, Long, Int, Byte, OpSum, OpMax, OpMin;

    public readonly delegate* unmanaged<int*, byte***, int> Init;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<nint, int*, int> CommRank;
    public readonly delegate* unmanaged<nint, int*, int> CommSize;
    public readonly delegate* unmanaged<nint, int> Barrier;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<void*, int, nint, int, int, nint, int> Send;
    public readonly delegate* unmanaged<void*, int, nint, int, int, nint, void*, int> Recv;
    public readonly delegate* unmanaged<void*, nint, int*, int> GetCount;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<byte*, int*, int> GetLibraryVersion;

    /// <summary>Bytes reserved for an MPI_Status. Open MPI's is 24 (5 ints + size_t); MPICH's 20. We pass 64.</summary>
    public const int StatusBytes = 64;

    private MpiNative(nint lib)
    {
        Library = lib;
        CommWorld = Export("ompi_mpi_comm_world");
        Double = Export("ompi_mpi_double");
        Long = Export("ompi_mpi_long");
        Int = Export("ompi_mpi_int");
        Byte = Export("ompi_mpi_byte");
        OpSum = Export("ompi_mpi_op_sum");
        OpMax = Export("ompi_mpi_op_max");
        OpMin = Export("ompi_mpi_op_min");
        Init = (delegate* unmanaged<int*, byte***, int>)Export("MPI_Init");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        Barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        Send = (delegate* unmanaged<void*, int, nint, int, int, nint, int>)Export("MPI_Send");
        Recv = (delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)Export("MPI_Recv");
        GetCount = (delegate* unmanaged<void*, nint, int*, int>)Export("MPI_Get_count");
        Abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");
    }

    private nint Export(string name)
    {
        if (!NativeLibrary.TryGetExport(Library, name, out nint p))
            throw new DllNotFoundException($"the MPI library has no symbol '{name}': NtkFast needs Open MPI (libmpi.so.40); MPICH and MS-MPI are not supported");
        return p;
    }

    /// <summary>Loads Open MPI, or throws <see cref="DllNotFoundException"/> with what was tried.</summary>
    public static MpiNative Load()
    {
        string? env = Environment.GetEnvironmentVariable("NTKFAST_MPI_LIBRARY");
        string[] names = string.IsNullOrEmpty(env) ? s_candidates : [env];
        foreach (string name in names)
        {
            nint h = 0;
            if (OperatingSystem.IsLinux())
            {
                try { h = DlOpen(name, RtldNow | RtldGlobal); }
                catch (DllNotFoundException) { h = 0; }
                catch (EntryPointNotFoundException) { h = 0; }
            }
            if (h == 0 && !NativeLibrary.TryLoad(name, out h)) continue;
            return new MpiNative(h);
        }
        throw new DllNotFoundException(
            $"started by an MPI launcher but no MPI library could be loaded (tried {string.Join(", ", names)}); install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) or set NTKFAST_MPI_LIBRARY");
    }

    public static void Check(int rc, string what)
    {
        if (rc != 0) throw new InvalidOperationException($"{what} failed with MPI error code {rc}");
    }
}
