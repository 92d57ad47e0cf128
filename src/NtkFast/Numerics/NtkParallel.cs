namespace NtkFast.Numerics;

/// <summary>
/// Thread control for every parallel loop in NtkFast. Work is always split into
/// tiles whose boundaries do not depend on the thread count, and every tile is
/// computed by the same code in the same order, so results are bitwise identical
/// whatever <see cref="MaxThreads"/> is. Set it from code, or with the environment
/// variable <c>NTKFAST_THREADS</c> (read once at start-up).
/// </summary>
public static class NtkParallel
{
    private static int s_maxThreads = ReadEnvironment();

    /// <summary>Largest number of threads a parallel loop may use (≥ 1).</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), "MaxThreads must be at least 1.");
    }

    private static int ReadEnvironment()
    {
        string? s = Environment.GetEnvironmentVariable("NTKFAST_THREADS");
        if (s is not null && int.TryParse(s, out int n) && n >= 1) return n;
        return Environment.ProcessorCount;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every tile index in [0, count). Tiles are
    /// handed out dynamically (load balance), which is safe for determinism because
    /// a tile's result never depends on which thread computes it.
    /// Runs inline when one thread suffices.
    /// </summary>
    public static void For(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        int threads = Math.Min(MaxThreads, count);
        if (threads <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(worker, tile) with a worker index in [0, workers) so the
    /// caller can give each worker its own slice of a workspace. Tiles are claimed from a
    /// shared counter; the result of a tile must not depend on the worker.
    /// </summary>
    public static void ForWithWorker(int count, int workers, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (count <= 0) return;
        workers = Math.Max(1, Math.Min(workers, count));
        if (workers == 1)
        {
            for (int i = 0; i < count; i++) body(0, i);
            return;
        }
        int next = -1;
        var tasks = new Task[workers - 1];
        for (int w = 1; w < workers; w++)
        {
            int worker = w;
            tasks[w - 1] = Task.Factory.StartNew(() =>
            {
                int t;
                while ((t = Interlocked.Increment(ref next)) < count) body(worker, t);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        int tile;
        while ((tile = Interlocked.Increment(ref next)) < count) body(0, tile);
        Task.WaitAll(tasks);
    }
}
