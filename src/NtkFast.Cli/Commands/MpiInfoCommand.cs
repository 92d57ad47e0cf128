using System.Globalization;
using System.Text;
using NtkFast.Cli.Distributed;
using NtkFast.Tiling;

namespace NtkFast.Cli.Commands;

/// <summary>
/// <c>ntk mpi-info</c>: checks an MPI setup before a long run — every rank reports its host, the ranks
/// exchange a message round a ring (MPI_Send/MPI_Recv), agree on a broadcast and a sum, and rank 0
/// prints one summary. Without mpirun it says so and exits 0 (no MPI library is loaded).
/// </summary>
internal sealed class MpiInfoCommand : ICommand
{
    public string Name => "mpi-info";
    public string Summary => "check an MPI launch (ranks, hosts, library, point-to-point and collectives)";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>();

    public IReadOnlyList<string> Examples { get; } =
    [
        "mpirun -np 4 ntk mpi-info",
    ];

    public string Help =>
        """
        usage: [mpirun -np P [--hostfile FILE] | srun -n P] ntk mpi-info

        Every rank exchanges a message with its neighbours round a ring, then all ranks agree on a
        broadcast and a sum; rank 0 prints the library, the number of ranks and the hosts they run on.
        Exit 0 when everything agreed. Without an MPI launcher it reports a single process.

        """;

    public int Run(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        args.EnsureAllUsed();
        return MpiJob.Run(Name, comm =>
        {
            int rank = comm.Rank, size = comm.Size;
            string host = Environment.MachineName;
            // Ring: send my rank and host to the next rank, receive from the previous one (even ranks send
            // first, odd ranks receive first, so blocking calls cannot deadlock).
            string left = host;
            if (size > 1)
            {
                byte[] mine = Encoding.UTF8.GetBytes($"{rank}:{host}");
                byte[] buf = new byte[512];
                int next = (rank + 1) % size, prev = (rank + size - 1) % size;
                int got;
                if (rank % 2 == 0) { comm.Send(mine, next, 7); got = comm.Receive(buf, prev, 7); }
                else { got = comm.Receive(buf, prev, 7); comm.Send(mine, next, 7); }
                string msg = Encoding.UTF8.GetString(buf, 0, got);
                if (!msg.StartsWith(prev.ToString(CultureInfo.InvariantCulture) + ":", StringComparison.Ordinal))
                    throw new InvalidOperationException($"ring message from rank {prev} was '{msg}'");
                left = msg[(msg.IndexOf(':', StringComparison.Ordinal) + 1)..];
            }
            byte[] token = new byte[16];
            if (rank == 0) Random.Shared.NextBytes(token);
            comm.Broadcast(token, 0);
            Span<long> check = [BitConverter.ToInt64(token, 0) & 0xFFFF, rank, left == host ? 0 : 1];
            comm.AllreduceSum(check);
            if (check[0] != (BitConverter.ToInt64(token, 0) & 0xFFFF) * size || check[1] != (long)size * (size - 1) / 2)
                throw new InvalidOperationException("collectives disagree (broadcast or sum)");
            if (rank == 0)
            {
                Console.Out.WriteLine($"ntk mpi-info: {comm.Describe()}; {size} rank(s); rank 0 on {host}; ring neighbours on other hosts: {check[2]}; point-to-point, broadcast and sum agree");
            }
            return ExitCodes.Ok;
        });
    }
}
