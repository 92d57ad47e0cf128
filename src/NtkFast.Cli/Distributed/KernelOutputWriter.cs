using System.Globalization;
using NtkFast.Distributed;
using NtkFast.Tiling;

namespace NtkFast.Cli.Distributed;

/// <summary>
/// The out-of-core / MPI options of a command that writes kernel matrices (<c>ntk kernel</c>,
/// <c>ntk empirical</c>): --memory-limit, --tile, --out-of-core, parsed into the library's
/// <see cref="KernelOutputPlan"/> (the command adds the communicator, the window and the checksum).
/// </summary>
internal sealed record TiledOutputOptions(KernelOutputPlan Plan, bool MemoryLimitGiven, bool OutOfCore)
{
    /// <summary>Option names that take no value (add to the command's Flags).</summary>
    public static readonly string[] FlagNames = ["out-of-core"];

    /// <summary>True when the user asked about tiling (--memory-limit, --tile, --out-of-core): the run then reports its plan.</summary>
    public bool Asked => MemoryLimitGiven || OutOfCore || Plan.TileSize > 0;

    /// <summary>Bytes the process may use.</summary>
    public long MemoryLimitBytes => Plan.MemoryLimitBytes;

    /// <summary>Tile edge asked for (0 = automatic).</summary>
    public int TileSize => Plan.TileSize;

    /// <summary>Help lines, to append to the command's help.</summary>
    public const string Help =
        "  --memory-limit SIZE    memory this process may use (512M, 4G, 25%; default 50% of available);\n" +
        "                         the outputs are computed tile by tile straight into the .npy files,\n" +
        "                         with tiles sized to stay under SIZE (a small kernel is one tile)\n" +
        "  --out-of-core          accepted for compatibility: every run writes tile by tile\n" +
        "  --tile T               tile edge (default: the largest that fits, at most 2048,\n" +
        "                         with at least 3 tiles per thread and rank)\n" +
        "  MPI: mpirun -np P ntk ... splits the tiles among the ranks (block-cyclic over the upper triangle\n" +
        "       when symmetric); every rank writes its tiles into the shared output; rank 0 renames it into\n" +
        "       place when all are done. The output folder must be visible to every rank, and every rank\n" +
        "       must read the same inputs (checked).\n";

    /// <summary>Largest --tile: a tile of two outputs must fit one .NET array (2·T² ≤ Array.MaxLength).</summary>
    public const int MaxTile = 16384;

    public static TiledOutputOptions Parse(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? limitText = args.Optional("memory-limit");
        long limit;
        try
        {
            limit = limitText is null ? SystemMemory.DefaultLimit() : MemoryBudget.Parse(limitText, availableBytes: SystemMemory.AvailableBytes());
        }
        catch (ArgumentException e)
        {
            throw new CliException(Options.CliMessages.WithoutParameter(e));
        }
        int tile = args.Int("tile", 0, 1, MaxTile);
        bool ooc = args.Flag("out-of-core");
        TileWriteMode mode = Environment.GetEnvironmentVariable("NTKFAST_TILE_WRITE") is "mmap" ? TileWriteMode.MemoryMapped : TileWriteMode.Positioned;
        return new TiledOutputOptions(new KernelOutputPlan { MemoryLimitBytes = limit, TileSize = tile, WriteMode = mode }, limitText is not null, ooc);
    }
}

/// <summary>
/// A kernel command's matrices to their files: the library's one output path
/// (<see cref="KernelOutput.Write"/>), plus the command's one-line report.
/// </summary>
internal static class KernelOutputWriter
{
    /// <summary>
    /// Collective: writes the source's outputs to <paramref name="paths"/> (null = not wanted) as
    /// <paramref name="plan"/> says, with the <paramref name="sideFiles"/> in the same transaction. Reports the plan on stderr (rank 0) when <paramref name="report"/> or
    /// under MPI, unless --quiet.
    /// </summary>
    public static int Write(IKernelBlockSource source, IReadOnlyList<string?> paths, KernelOutputPlan plan, bool report, string label = "ntk kernel",
        IReadOnlyList<KernelSideFile>? sideFiles = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Communicator comm = plan.Communicator;
        // Progress on rank 0 for long runs (silent for the first 2 s), by kernel entries done: tiles of
        // unequal size weigh what they cost.
        Progress? progress = null;
        var gate = new Lock();
        if (comm.Rank == 0 && !Progress.Quiet && plan.TileDone is null)
            plan = plan with
            {
                TileDone = (n, total) =>
                {
                    lock (gate) progress ??= Progress.Delayed(label, total);
                    progress.Advance(n);
                },
            };
        TiledRunReport r;
        try { r = KernelOutput.Write(source, paths, plan, sideFiles); }
        finally { lock (gate) progress?.Finish(); }
        if (!Progress.Quiet && (report || comm.Size > 1) && (comm.Rank == 0 || Environment.GetEnvironmentVariable("NTKFAST_REPORT_ALL_RANKS") is "1"))
        {
            // One line per run (rank 0): the plan and the process's own peak RSS (VmHWM), which the
            // out-of-core tests compare with the limit.
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ntk: out-of-core: rank {comm.Rank}/{r.Ranks}: {r.TilesOfThisRank} of {r.Tiles} tiles of {r.TileSize}², {r.Workers} thread(s), planned memory {MemoryBudget.Format(r.PredictedBytes)}, limit {MemoryBudget.Format(plan.MemoryLimitBytes)}, peak-rss-bytes {ProcessMemory.PeakResidentBytes()}, {r.Seconds:F2} s"));
        }
        return ExitCodes.Ok;
    }

    /// <summary>The checksum of a command's inputs, compared across MPI ranks before any output exists.</summary>
    public static ulong Checksum(params ReadOnlySpan<NtkFast.Numerics.Matrix?> inputs)
    {
        var c = new InputChecksum();
        foreach (NtkFast.Numerics.Matrix? m in inputs)
        {
            if (m is null) { c.Add(-1); continue; }
            c.Add(m.Rows);
            c.Add(m.Cols);
            c.Add<double>(m.Data);
        }
        return c.Value;
    }
}
