using NtkFast.Distributed;
using NtkFast.Tiling;

namespace NtkFast.Cli.Distributed;

/// <summary>
/// Runs a command body on every rank of an MPI job (or in this one process when not started by an MPI
/// launcher). Under MPI an error on any rank ends the whole job: that rank prints one line
/// <c>ntk &lt;cmd&gt;: rank r of P: &lt;message&gt;</c> and calls MPI_Abort with the exit code the error would
/// have had single-process (2 bad input, 1 failure), so mpirun/srun exits non-zero and no rank is left
/// waiting in a collective. Single-process, exceptions flow to <see cref="Program.Main"/> as usual.
/// </summary>
internal static class MpiJob
{
    public static int Run(string command, Func<Communicator, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        FaultInjection.InstallFromEnvironment();
        Communicator comm = MpiLaunch.Start();
        if (comm is not MpiCommunicator mpi) return body(comm);
        int rc;
        try
        {
            rc = body(comm);
        }
        catch (Exception e)
        {
            (string message, int code) = Program.Describe(e);
            Console.Error.WriteLine($"ntk {command}: rank {comm.Rank} of {comm.Size}: {message}");
            if (Environment.GetEnvironmentVariable("NTKFAST_DEBUG") is "1" or "true") Console.Error.WriteLine(e.ToString());
            mpi.Abort(code);
            return code;
        }
        comm.Dispose(); // MPI_Finalize
        return rc;
    }
}
