using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace NtkFast.Numerics;

/// <summary>
/// Thread control for every parallel loop in NtkFast. Work is always split into
/// tiles whose boundaries do not depend on the thread count, and every tile is
/// computed by the same code in the same order, so results are bitwise identical
/// whatever <see cref="MaxThreads"/> is. Set it from code, or with the environment
/// variable <c>NTKFAST_THREADS</c> (read once at start-up): an integer from 1; values above
/// <see cref="EnvironmentLimit"/> are clamped to it. An invalid value (not an integer, or below 1)
/// never throws: the default (<see cref="Environment.ProcessorCount"/>) is used and
/// <see cref="EnvironmentError"/> says why (the <c>ntk</c> CLI reports it and exits 2).
/// </summary>
/// <remarks>
/// Loops run on a small pool of persistent background threads (created on first use, never more
/// than <see cref="MaxThreads"/> − 1) plus the calling thread. The struct-action overloads
/// (<see cref="For{TAction}(int, ref TAction)"/>, <see cref="ForWithWorker{TAction}(int, int, ref TAction)"/>)
/// allocate nothing. One loop runs on the pool at a time: a loop started from inside a loop body, or
/// from a second thread while the pool is busy, runs serially on its own thread — same results, no
/// deadlock. An exception thrown by a body is rethrown on the calling thread after all workers stop.
/// </remarks>
public static class NtkParallel
{
    /// <summary>The environment variable read once at start-up: <c>NTKFAST_THREADS</c>.</summary>
    public const string EnvironmentVariable = "NTKFAST_THREADS";

    /// <summary>
    /// Largest thread count taken from <c>NTKFAST_THREADS</c> (256): larger values are clamped to it, not
    /// refused, so a generous setting on a big machine still runs (each pool thread costs a stack).
    /// </summary>
    public const int EnvironmentLimit = 256;

    // EnvironmentError is set by ReadEnvironment, so it is declared (and initialised) first.
    private static string? s_environmentError;
    private static int s_maxThreads = ReadEnvironment();

    /// <summary>
    /// Null when <c>NTKFAST_THREADS</c> is unset, empty or a valid integer ≥ 1 (values above
    /// <see cref="EnvironmentLimit"/> are clamped, not errors); else the one-line error naming the variable
    /// and its value. The library then uses <see cref="Environment.ProcessorCount"/> threads.
    /// </summary>
    public static string? EnvironmentError => s_environmentError;

    /// <summary>Largest number of threads a parallel loop may use (≥ 1).</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), "MaxThreads must be at least 1.");
    }

    private static int ReadEnvironment()
    {
        (int threads, s_environmentError) = ParseEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable), Environment.ProcessorCount);
        return threads;
    }

    /// <summary>
    /// The thread count for an <c>NTKFAST_THREADS</c> value and the error, if any (tests call this directly).
    /// Unset or blank: <paramref name="fallback"/>. An integer ≥ 1: itself, at most <see cref="EnvironmentLimit"/>
    /// (so 100000 gives 256). Anything else — not an integer, 0, negative — gives <paramref name="fallback"/>
    /// and the error.
    /// </summary>
    internal static (int Threads, string? Error) ParseEnvironment(string? text, int fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return (fallback, null);
        string t = text.Trim();
        if (long.TryParse(t, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long n))
        {
            if (n >= 1) return ((int)Math.Min(n, EnvironmentLimit), null);
            return (fallback, $"{EnvironmentVariable}='{Shown(text)}' must be at least 1 (a thread count; values above {EnvironmentLimit} are clamped to {EnvironmentLimit}).");
        }
        // Digits only but beyond long: a huge count, clamped like any other large one.
        if (t.TrimStart('+').Length > 0 && t.TrimStart('+').All(char.IsAsciiDigit) && t.Count(c => c == '+') <= 1)
            return (EnvironmentLimit, null);
        return (fallback, $"{EnvironmentVariable}='{Shown(text)}' is not a whole number; give a thread count from 1 (values above {EnvironmentLimit} are clamped to {EnvironmentLimit}).");
    }

    private static string Shown(string text)
    {
        string s = text.Length > 40 ? text[..40] + "…" : text;
        return string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));
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
        var action = new DelegateAction(body);
        For(count, ref action);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(worker, tile) with a worker index in [0, workers) so the
    /// caller can give each worker its own slice of a workspace. Tiles are claimed from a
    /// shared counter; the result of a tile must not depend on the worker.
    /// </summary>
    public static void ForWithWorker(int count, int workers, Action<int, int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var action = new DelegateWorkerAction(body);
        ForWithWorker(count, workers, ref action);
    }

    /// <summary>
    /// Allocation-free parallel loop: <c>action.Invoke(i)</c> for every i in [0, count), on up to
    /// <see cref="MaxThreads"/> threads, indices claimed dynamically. Runs inline for one thread.
    /// </summary>
    public static unsafe void For<TAction>(int count, ref TAction action) where TAction : struct, IParallelAction
    {
        if (count <= 0) return;
        int threads = Math.Min(MaxThreads, count);
        if (threads <= 1 || !WorkerPool.TryEnter())
        {
            for (int i = 0; i < count; i++) action.Invoke(i);
            return;
        }
        // Copy to this frame: the workers get a pointer, which must not point into a movable object.
        TAction local = action;
        WorkerPool.Run(threads, count, Unsafe.AsPointer(ref local), &InvokeAction<TAction>);
        action = local;
    }

    /// <summary>
    /// Allocation-free parallel loop with worker indices in [0, min(workers, MaxThreads, count)).
    /// </summary>
    public static unsafe void ForWithWorker<TAction>(int count, int workers, ref TAction action) where TAction : struct, IParallelWorkerAction
    {
        if (count <= 0) return;
        int threads = Math.Max(1, Math.Min(Math.Min(workers, MaxThreads), count));
        if (threads <= 1 || !WorkerPool.TryEnter())
        {
            for (int i = 0; i < count; i++) action.Invoke(0, i);
            return;
        }
        TAction local = action;
        WorkerPool.Run(threads, count, Unsafe.AsPointer(ref local), &InvokeWorkerAction<TAction>);
        action = local;
    }

    /// <summary>
    /// Runs <c>action.Invoke(member, size)</c> once for every member of a team of <c>size</c> threads that run at the
    /// same time, so members may wait for each other (barriers). <c>size</c> is <paramref name="threads"/> (at most
    /// <see cref="MaxThreads"/>) when the pool is free, else 1 (nested or concurrent loop: the caller alone runs member 0
    /// of a team of 1, and must then not wait for anyone). Allocation-free. A member that throws must release the others
    /// from their waits itself (the pool rethrows the first exception after all members return).
    /// </summary>
    /// <remarks>
    /// Why the members run concurrently: the job has exactly <c>size</c> indices and <c>size</c> threads (the caller and
    /// <c>size</c> − 1 woken workers); a thread claims its next index only after returning from its current one, which
    /// (with a barrier) cannot happen before every member has started, so each index lands on a distinct thread.
    /// </remarks>
    internal static unsafe void Team<TAction>(int threads, ref TAction action) where TAction : struct, ITeamAction
    {
        int size = Math.Min(threads, MaxThreads);
        if (size <= 1 || !WorkerPool.TryEnter())
        {
            action.Invoke(0, 1);
            return;
        }
        TAction local = action;
        WorkerPool.Run(size, size, Unsafe.AsPointer(ref local), &InvokeTeamAction<TAction>);
        action = local;
    }

    private static unsafe void InvokeTeamAction<TAction>(void* state, int worker, int index) where TAction : struct, ITeamAction
        => Unsafe.AsRef<TAction>(state).Invoke(index, WorkerPool.CurrentCount);

    private static unsafe void InvokeAction<TAction>(void* state, int worker, int index) where TAction : struct, IParallelAction
        => Unsafe.AsRef<TAction>(state).Invoke(index);

    private static unsafe void InvokeWorkerAction<TAction>(void* state, int worker, int index) where TAction : struct, IParallelWorkerAction
        => Unsafe.AsRef<TAction>(state).Invoke(worker, index);

    private readonly struct DelegateAction(Action<int> body) : IParallelAction
    {
        public void Invoke(int index) => body(index);
    }

    private readonly struct DelegateWorkerAction(Action<int, int> body) : IParallelWorkerAction
    {
        public void Invoke(int worker, int index) => body(worker, index);
    }

    /// <summary>Persistent worker threads; one job at a time (guarded by s_busy).</summary>
    private static unsafe class WorkerPool
    {
        private static readonly object s_threadsGate = new();
        private static readonly SemaphoreSlim s_wake = new(0);
        private static readonly ManualResetEventSlim s_done = new(false);
        private static int s_threadCount;
        private static int s_busy;
        private static int s_active;
        private static int s_workerSeq;
        private static int s_next;
        private static int s_count;
        private static void* s_state;
        private static delegate*<void*, int, int, void> s_body;
        private static ExceptionDispatchInfo? s_error;

        [ThreadStatic] private static bool t_inLoop;

        /// <summary>The index count of the running job (a team's size).</summary>
        public static int CurrentCount => s_count;

        public static bool TryEnter()
        {
            if (t_inLoop) return false;
            return Interlocked.CompareExchange(ref s_busy, 1, 0) == 0;
        }

        public static void Run(int threads, int count, void* state, delegate*<void*, int, int, void> body)
        {
            try
            {
                EnsureThreads(threads - 1);
                s_state = state;
                s_body = body;
                s_count = count;
                s_error = null;
                Volatile.Write(ref s_next, -1);
                Volatile.Write(ref s_workerSeq, 0);
                s_done.Reset();
                Volatile.Write(ref s_active, threads - 1);
                s_wake.Release(threads - 1);
                t_inLoop = true;
                try { Work(0); }
                finally { t_inLoop = false; }
                // Always wait for the event, never return on seeing s_active = 0: the last worker decrements
                // s_active *then* sets s_done, and a Set arriving after the next job's Reset would release that
                // job's caller while its workers still run on its stack-held state (an access violation, seen
                // once in CI under load). Waiting here consumes each job's Set before the next Reset.
                s_done.Wait();
                s_state = null;
                s_error?.Throw();
            }
            finally
            {
                Volatile.Write(ref s_busy, 0);
            }
        }

        private static void Work(int worker)
        {
            try
            {
                int i;
                while ((i = Interlocked.Increment(ref s_next)) < s_count) s_body(s_state, worker, i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_error, ExceptionDispatchInfo.Capture(e), null);
                Volatile.Write(ref s_next, s_count); // stop handing out tiles
            }
        }

        private static void EnsureThreads(int needed)
        {
            if (Volatile.Read(ref s_threadCount) >= needed) return;
            lock (s_threadsGate)
            {
                while (s_threadCount < needed)
                {
                    var t = new Thread(WorkerLoop, 256 * 1024) { IsBackground = true, Name = $"NtkParallel worker {s_threadCount + 1}" };
                    t.Start();
                    s_threadCount++;
                }
            }
        }

        private static void WorkerLoop()
        {
            t_inLoop = true;
            while (true)
            {
                s_wake.Wait();
                int worker = Interlocked.Increment(ref s_workerSeq);
                Work(worker);
                if (Interlocked.Decrement(ref s_active) == 0) s_done.Set();
            }
        }
    }
}

/// <summary>
/// The body of <see cref="NtkParallel.Team{TAction}(int, ref TAction)"/>: <c>Invoke(member, size)</c> runs once per
/// member, all members at the same time. Like <see cref="IParallelAction"/>, the shared instance must not be mutated.
/// </summary>
internal interface ITeamAction
{
    void Invoke(int member, int size);
}
