using System.Globalization;
using NtkFast.Distributed;

namespace NtkFast.Cli.Distributed;

/// <summary>
/// The out-of-core / MPI options of a command that writes kernel matrices (<c>ntk kernel</c>,
/// <c>ntk empirical</c>): --memory-limit, --tile, --out-of-core.
/// </summary>
internal sealed record TiledOutputOptions(long MemoryLimitBytes, bool MemoryLimitGiven, int TileSize, bool OutOfCore, TileWriteMode WriteMode)
{
    /// <summary>Option names that take no value (add to the command's Flags).</summary>
    public static readonly string[] FlagNames = ["out-of-core"];

    /// <summary>Help lines, to append to the command's help.</summary>
    public const string Help =
        "  --memory-limit SIZE    memory this process may use (512M, 4G, 25%; default 50% of available);\n" +
        "                         when the outputs do not fit, they are computed tile by tile straight into\n" +
        "                         the .npy files (out of core), with tiles sized to stay under SIZE\n" +
        "  --out-of-core          always write tile by tile (default: only when needed, or under MPI)\n" +
        "  --tile T               tile edge for out-of-core/MPI runs (default: the largest that fits, at most 2048,\n" +
        "                         with at least 3 tiles per thread and rank)\n" +
        "  MPI: mpirun -np P ntk ... splits the tiles among the ranks (block-cyclic over the upper triangle\n" +
        "       when symmetric); every rank writes its tiles into the shared output; rank 0 renames it into\n" +
        "       place when all are done. The output folder must be visible to every rank.\n";

    public static TiledOutputOptions Parse(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? limitText = args.Optional("memory-limit");
        long limit;
        try
        {
            limit = limitText is null ? MemoryBudget.DefaultLimit() : MemoryBudget.Parse(limitText);
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message.Split(" (Parameter", 2)[0]);
        }
        int tile = args.Int("tile", 0, 1, 1 << 15);
        bool ooc = args.Flag("out-of-core");
        TileWriteMode mode = Environment.GetEnvironmentVariable("NTKFAST_TILE_WRITE") is "mmap" ? TileWriteMode.MemoryMapped : TileWriteMode.Positioned;
        return new TiledOutputOptions(limit, limitText is not null, tile, ooc, mode);
    }
}

/// <summary>
/// Where a kernel command's matrices go: the in-memory path (compute whole, then write atomically) when
/// they fit, or <see cref="TiledKernelWriter"/> (tiles written in place into <c>&lt;out&gt;.partial</c>,
/// renamed at the end; shared among MPI ranks). Commands call <see cref="ShouldTile"/> and, when true,
/// <see cref="Write"/> with a block source; the kernel code itself stays as it is.
/// </summary>
internal static class KernelOutputWriter
{
    /// <summary>
    /// True when the outputs must be tiled: under MPI with more than one rank, when asked (--out-of-core
    /// or --tile), or when the in-memory run (<paramref name="inMemoryBytes"/>: outputs plus the
    /// computation's workspace plus inputs) would not fit the memory limit.
    /// </summary>
    /// <param name="largestArray">Elements of the largest single array the in-memory path would allocate: beyond
    /// <see cref="Array.MaxLength"/> no array can hold it, so the run is tiled whatever the memory.</param>
    public static bool ShouldTile(TiledOutputOptions options, Communicator comm, long inMemoryBytes, long largestArray)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(comm);
        if (comm.Size > 1 || options.OutOfCore || options.TileSize > 0 || largestArray > Array.MaxLength) return true;
        return MemoryBudget.RuntimeBaselineBytes + inMemoryBytes > options.MemoryLimitBytes;
    }

    /// <summary>Bytes of <paramref name="outputs"/> float64 matrices of rows×cols.</summary>
    public static long MatrixBytes(int rows, int cols, int outputs) => (long)rows * cols * sizeof(double) * outputs;

    /// <summary>
    /// Collective: writes the window [r0, r1) × [c0, c1) of the source's outputs to <paramref name="paths"/>
    /// (null = not wanted), tile by tile. Reports the plan on stderr (rank 0, unless --quiet).
    /// </summary>
    public static int Write(IKernelBlockSource source, IReadOnlyList<string?> paths, TiledOutputOptions options, Communicator comm,
        int r0 = 0, int r1 = -1, int c0 = 0, int c1 = -1)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(comm);
        var opts = new TiledRunOptions
        {
            MemoryLimitBytes = options.MemoryLimitBytes,
            TileSize = options.TileSize,
            WriteMode = options.WriteMode,
            RowStart = r0,
            RowEnd = r1,
            ColStart = c0,
            ColEnd = c1,
        };
        TiledRunReport r = TiledKernelWriter.Run(source, paths, opts, comm);
        if (!Progress.Quiet && (comm.Rank == 0 || Environment.GetEnvironmentVariable("NTKFAST_REPORT_ALL_RANKS") is "1"))
        {
            // One line per run (rank 0): the plan and the process's own peak RSS (VmHWM), which the
            // out-of-core tests compare with the limit.
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ntk: out-of-core: rank {comm.Rank}/{r.Ranks}: {r.TilesOfThisRank} of {r.Tiles} tiles of {r.TileSize}², {r.Workers} thread(s), planned memory {MemoryBudget.Format(r.PredictedBytes)}, limit {MemoryBudget.Format(options.MemoryLimitBytes)}, peak-rss-bytes {ProcessMemory.PeakResidentBytes()}, {r.Seconds:F2} s"));
        }
        return ExitCodes.Ok;
    }
}
