using System.Diagnostics;

namespace NtkFast.Tiling;

/// <summary>
/// How <see cref="KernelOutput.Write"/> computes and writes: which part of the matrices, the tile edge or
/// the memory it may use, the threads, and the ranks that share the work.
/// </summary>
public sealed record KernelOutputPlan
{
    /// <summary>Bytes the process may use in total (see <see cref="MemoryBudget"/>); 0 = the default.</summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>Tile edge; 0 = the largest that fits the memory limit (at most <see cref="TiledKernelWriter.MaxAutoTile"/>), shrunk for balance.</summary>
    public int TileSize { get; init; }

    /// <summary>Threads computing tiles on this rank; 0 = NtkParallel.MaxThreads.</summary>
    public int Threads { get; init; }

    /// <summary>How tiles reach the files.</summary>
    public TileWriteMode WriteMode { get; init; } = TileWriteMode.Positioned;

    /// <summary>Rows [RowStart, RowEnd) and columns [ColStart, ColEnd) of the full matrix to write (-1 = all).</summary>
    public int RowStart { get; init; }
    public int RowEnd { get; init; } = -1;
    public int ColStart { get; init; }
    public int ColEnd { get; init; } = -1;

    /// <summary>The ranks sharing the work (collective call on every rank); default a single process.</summary>
    public Communicator Communicator { get; init; } = Communicator.Single;

    /// <summary>
    /// A checksum of what this rank read (<see cref="InputChecksum"/>); 0 = not checked. Under several
    /// ranks the run first checks that every rank has the same value, so ranks that read different
    /// input files (a stale node-local copy, fewer rows) fail with one clear error instead of writing a
    /// silently mixed result.
    /// </summary>
    public ulong InputChecksum { get; init; }

    /// <summary>
    /// Called after each tile this rank finishes, from the worker that computed it, with the tile's entry count
    /// and the entries of all this rank's tiles (work done and total, for progress and time estimates). Must be
    /// thread-safe and cheap; null = no reports.
    /// </summary>
    public Action<long, long>? TileDone { get; init; }
}

/// <summary>What a tiled run did on this rank.</summary>
public sealed record TiledRunReport(int TileSize, int Tiles, int TilesOfThisRank, int Ranks, int Workers, long PredictedBytes, double Seconds);

/// <summary>
/// The one way kernel matrices reach their .npy files, whatever their size and wherever they run.
/// </summary>
public static class KernelOutput
{
    /// <summary>
    /// Computes the window of <paramref name="source"/>'s matrices given by <paramref name="plan"/> and writes
    /// output k to <paramref name="paths"/>[k] (null = not wanted), and the <paramref name="sideFiles"/> (small
    /// non-matrix outputs, e.g. a report, contents from rank 0) in the same transaction: tile by tile, each tile computed into a
    /// reused buffer and written straight into its place in a preallocated temporary file, renamed into
    /// place when every tile (of every rank) is written. A kernel that fits in one tile is one tile, so
    /// small and in-memory-sized outputs take the same path as out-of-core and MPI runs, and the files are
    /// bitwise the same for any tile size, thread count and number of ranks. Collective over
    /// <see cref="KernelOutputPlan.Communicator"/>. Throws on a local error (an MPI caller aborts the job);
    /// returns only when every file is complete and in place.
    /// </summary>
    public static TiledRunReport Write(IKernelBlockSource source, IReadOnlyList<string?> paths, KernelOutputPlan plan, IReadOnlyList<KernelSideFile>? sideFiles = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return TiledKernelWriter.Run(source, paths, plan, plan.Communicator, sideFiles);
    }
}

/// <summary>
/// Computes kernel matrices tile by tile straight into their .npy files (out of core), the tiles split
/// block-cyclically among the ranks of <see cref="Communicator"/>. Memory is bounded by the tile buffers
/// (threads × outputs × T² doubles) plus the source's fixed data, whatever N is. Every tile is computed
/// by the block API and written where it belongs, so the file is bitwise the in-memory matrix for any
/// tile size, thread count and number of ranks.
/// </summary>
internal static class TiledKernelWriter
{
    /// <summary>
    /// Largest automatic tile edge: 2048² doubles = 32 MiB per output and worker. Large tiles pay off:
    /// every block recomputes its points' layer variances and pays one write call per row, and measured
    /// (N = 4096, d = 784, depth 4, one thread, CPU time) tiles of 512/1024/2048/4096 cost 1.32/1.15/1.05/1.01×
    /// the in-memory computation.
    /// </summary>
    public const int MaxAutoTile = 2048;

    /// <summary>Smallest tile the balance rule shrinks to (below it the per-tile costs dominate).</summary>
    public const int MinBalancedTile = 256;

    /// <summary>Tiles wanted per worker (all ranks) so that block-cyclic assignment is balanced.</summary>
    public const int TilesPerWorker = 3;

    /// <summary>
    /// Test hook, called with the rank after this rank's first tile (or at once when it has none): the
    /// failure tests make one rank throw or die there. Installed by NtkFast.Distributed's
    /// <c>FaultInjection</c> from NTKFAST_FAULT in the <c>ntk</c> process; null in every other use.
    /// </summary>
    internal static Action<int>? AfterFirstTile { get; set; }

    /// <summary>
    /// Bytes per worker for a tile edge: the output blocks, the transpose scratch of a symmetric run,
    /// and the source's workspace.
    /// </summary>
    public static long PerWorkerBytes(IKernelBlockSource source, int tile, bool symmetric)
    {
        ArgumentNullException.ThrowIfNull(source);
        long t2 = (long)tile * tile * sizeof(double);
        return (ValuesPerEntry(source) * t2) + (symmetric ? t2 : 0) + source.WorkspaceBytes(tile, tile);
    }

    /// <summary>Values of one entry of every output together (the outputs' count for scalar kernels).</summary>
    internal static long ValuesPerEntry(IKernelBlockSource source)
    {
        long v = 0;
        for (int o = 0; o < source.Outputs; o++) v += NpyTileFile.EntrySize(source.EntryShape(o));
        return v;
    }

    /// <summary>
    /// Collective over <paramref name="comm"/>: computes the window of the source's matrices and writes
    /// output k to <paramref name="paths"/>[k] (null = not wanted). Throws on a local error (the caller
    /// aborts the job); returns only when every file is complete and in place.
    /// </summary>
    public static TiledRunReport Run(IKernelBlockSource source, IReadOnlyList<string?> paths, KernelOutputPlan options, Communicator comm,
        IReadOnlyList<KernelSideFile>? sideFiles = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(comm);
        if (paths.Count != source.Outputs) throw new ArgumentException($"{paths.Count} paths for {source.Outputs} outputs", nameof(paths));
        var sw = Stopwatch.StartNew();

        int r0 = options.RowStart, r1 = options.RowEnd < 0 ? source.Rows : options.RowEnd;
        int c0 = options.ColStart, c1 = options.ColEnd < 0 ? source.Cols : options.ColEnd;
        if (r0 < 0 || r1 > source.Rows || r0 >= r1) throw new ArgumentException($"rows {r0}:{r1} are not a non-empty range within 0:{source.Rows}", nameof(options));
        if (c0 < 0 || c1 > source.Cols || c0 >= c1) throw new ArgumentException($"columns {c0}:{c1} are not a non-empty range within 0:{source.Cols}", nameof(options));
        int outs = source.Outputs;
        var entryShapes = new IReadOnlyList<int>[outs];
        var entry = new int[outs];
        var offset = new long[outs + 1]; // output o's values in a tile start at offset[o]·(tile entries)
        for (int o = 0; o < outs; o++)
        {
            entryShapes[o] = source.EntryShape(o);
            entry[o] = NpyTileFile.EntrySize(entryShapes[o]);
            offset[o + 1] = offset[o] + entry[o];
        }
        long perEntry = offset[outs];
        bool symmetric = source.IsSymmetric && r0 == c0 && r1 == c1 && perEntry == outs;

        int threads = options.Threads > 0 ? options.Threads : Numerics.NtkParallel.MaxThreads;
        long limit = options.MemoryLimitBytes > 0 ? options.MemoryLimitBytes : MemoryBudget.DefaultLimit();
        long fixedBytes = MemoryBudget.RuntimeBaselineBytes + source.FixedBytes;
        int tile = options.TileSize;
        if (tile <= 0)
        {
            tile = MemoryBudget.ChooseTileSize(limit, fixedBytes, threads, t => PerWorkerBytes(source, t, symmetric), MaxAutoTile);
            if (tile == 0)
            {
                // Fewer workers before giving up: one thread with 64-wide tiles is the floor.
                threads = 1;
                tile = MemoryBudget.ChooseTileSize(limit, fixedBytes, 1, t => PerWorkerBytes(source, t, symmetric), MaxAutoTile);
            }
            if (tile == 0)
                throw new ArgumentException(
                    $"--memory-limit {MemoryBudget.Format(limit)} is too small: this run needs at least {MemoryBudget.Format(fixedBytes + PerWorkerBytes(source, 64, symmetric))} (runtime, inputs and one 64×64 tile)");
            // Balance: enough tiles for every worker of every rank, without going below MinBalancedTile.
            long wanted = (long)TilesPerWorker * comm.Size * threads;
            while (tile > MinBalancedTile && new TileGrid(r1 - r0, c1 - c0, tile, symmetric).Count < wanted)
                tile = Math.Max(MinBalancedTile, tile / 2 / 64 * 64);
            // Entries of several values: a worker's buffer stays what scalar outputs' largest tiles take
            // (outputs × MaxAutoTile² values), not q² times more.
            while (tile > 1 && perEntry * tile * tile > (long)outs * MaxAutoTile * MaxAutoTile) tile /= 2;
        }
        // A tile larger than the window is the window (one tile: the in-memory case), and a tile's
        // buffer of every output must be one .NET array.
        tile = Math.Min(tile, Math.Max(r1 - r0, c1 - c0));
        if (perEntry * tile * tile > Array.MaxLength)
            throw new ArgumentException($"--tile {tile}: {source.Outputs} outputs of {tile}×{tile} do not fit one array; use a tile of at most {(int)Math.Sqrt(Array.MaxLength / (double)perEntry)}", nameof(options));
        if (comm.Size > 1 && options.InputChecksum != 0) InputChecksum.EnsureSameOnAllRanks(comm, options.InputChecksum);
        var grid = new TileGrid(r1 - r0, c1 - c0, tile, symmetric, r0, c0);
        int mine = grid.CountOf(comm.Rank, comm.Size);
        int workers = Math.Max(1, Math.Min(threads, mine));
        long predicted = fixedBytes + (workers * PerWorkerBytes(source, tile, symmetric));

        using var outputs = new TiledOutputs(comm, paths, r1 - r0, c1 - c0, options.WriteMode, entryShapes, sideFiles);
        Action<int>? fault = AfterFirstTile;

        // Tile buffers: native, 2 MiB-aligned and advised for huge pages (one fault per 2 MiB instead
        // of 512), allocated once per run and reused by every tile of the worker.
        var buffers = new Memory.NativeBuffer[workers];
        var scratch = new Memory.NativeBuffer?[workers];
        using var release = new BufferRelease(buffers, scratch);
        for (int w = 0; w < workers; w++)
        {
            buffers[w] = new Memory.NativeBuffer(perEntry * tile * tile);
            scratch[w] = symmetric ? new Memory.NativeBuffer((long)tile * tile) : null;
        }
        int rank = comm.Rank, size = comm.Size;
        int done = 0;
        Action<long, long>? tileDone = options.TileDone;
        long myEntries = 0;
        if (tileDone is not null)
            for (int k = 0; k < mine; k++) { Tile t = grid[rank + (k * size)]; myEntries += (long)t.Rows * t.Cols; }
        bool failed = false;
        try
        {
            Numerics.NtkParallel.ForWithWorker(mine, workers, (w, k) =>
            {
                if (Volatile.Read(ref failed)) return; // a sibling failed: stop early, the run is lost anyway
                try
                {
                    ComputeAndWrite(w, k);
                }
                catch
                {
                    Volatile.Write(ref failed, true);
                    throw;
                }
            });
            if (mine == 0) fault?.Invoke(comm.Rank);
        }
        catch (Exception e)
        {
            // This rank's run is lost: remove the partial files now (the caller is about to abort the
            // job, so no collective clean-up will happen), and report the tile's own error.
            outputs.Abandon();
            if (e is AggregateException { InnerExceptions.Count: > 0 } ae)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ae.Flatten().InnerExceptions[0]).Throw();
            throw;
        }

        if (!outputs.Commit())
            throw new IOException("another rank failed; no output was written");
        return new TiledRunReport(tile, grid.Count, mine, comm.Size, workers, predicted, sw.Elapsed.TotalSeconds);

        void ComputeAndWrite(int w, int k)
        {
            Tile t = grid[rank + (k * size)];
            int n = t.Rows * t.Cols;
            Span<double> buf = buffers[w].Span((int)(perEntry * n));
            source.ComputeBlock(t.Row0, t.Rows, t.Col0, t.Cols, buf);
            for (int o = 0; o < outs; o++)
            {
                if (outputs[o] is not { } file) continue;
                int e = entry[o];
                ReadOnlySpan<double> block = buf.Slice((int)(offset[o] * n), n * e);
                EnsureFinite(block, t, o, paths[o]!, e);
                file.WriteBlock(t.Row0 - r0, (t.Col0 - c0) * e, t.Rows, t.Cols * e, block, t.Cols * e);
                if (t.Mirror) file.WriteBlockTransposed(t.Row0 - r0, t.Col0 - c0, t.Rows, t.Cols, block, t.Cols, scratch[w]!.Span(n));
            }
            if (Interlocked.Increment(ref done) == 1) fault?.Invoke(rank);
            tileDone?.Invoke(n, myEntries);
        }
    }

    /// <summary>
    /// A kernel entry that is NaN or ±∞ (inputs near the double range, e.g. xᵀx' overflowing for values
    /// ~1e154 and above, or σw, β so large the recursion overflows) fails the run with one clear line
    /// instead of being written silently.
    /// </summary>
    internal static void EnsureFinite(ReadOnlySpan<double> block, Tile t, int output, string path, int entry = 1)
    {
        int bad = IndexOfNonFinite(block);
        if (bad < 0) return;
        int i = t.Row0 + (bad / (t.Cols * entry)), j = t.Col0 + (bad % (t.Cols * entry) / entry);
        throw new InvalidDataException(
            $"kernel entry ({i}, {j}) for {System.IO.Path.GetFileName(path)} is {block[bad]}: the inputs or --weight-std/--beta are too large for float64 (σw²·xᵀx'/d + β² must stay below ~1e308 through every layer); scale the data down. Nothing was written");
    }

    /// <summary>Index of the first NaN/±∞ in <paramref name="v"/>, or −1.</summary>
    internal static int IndexOfNonFinite(ReadOnlySpan<double> v) => Numerics.FiniteScan.IndexOfNonFinite(v);

    private sealed class BufferRelease(Memory.NativeBuffer?[] buffers, Memory.NativeBuffer?[] scratch) : IDisposable
    {
        public void Dispose()
        {
            foreach (Memory.NativeBuffer? b in buffers) b?.Dispose();
            foreach (Memory.NativeBuffer? b in scratch) b?.Dispose();
        }
    }
}
