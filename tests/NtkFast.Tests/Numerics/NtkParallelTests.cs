using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>
/// The worker pool's hand-over between jobs. A worker used to decrement the active count before
/// signalling completion, and the caller returned as soon as it saw the count at 0; a signal landing
/// after the next job's reset then released that job's caller while its workers still ran on its
/// stack-held state (an access violation in CI). Back-to-back jobs must never have a task running
/// after the call that started it returned.
/// </summary>
[Collection(SerialNumericsCollection.Name)]
public class NtkParallelTests
{
    private struct Probe : IParallelAction
    {
        public int[] Counters; // [0] tasks running now, [1] tasks finished in this job

        public readonly void Invoke(int index)
        {
            Interlocked.Increment(ref Counters[0]);
            Thread.SpinWait(20 * (index + 1));
            Interlocked.Increment(ref Counters[1]);
            Interlocked.Decrement(ref Counters[0]);
        }
    }

    [Fact]
    public void No_task_outlives_its_job_across_many_back_to_back_jobs()
    {
        int saved = NtkParallel.MaxThreads;
        try
        {
            foreach (int threads in new[] { 2, 3 })
            {
                NtkParallel.MaxThreads = threads;
                for (int job = 0; job < 20000; job++)
                {
                    var probe = new Probe { Counters = new int[2] };
                    int count = 1 + (job % 5);
                    NtkParallel.For(count, ref probe);
                    Assert.Equal(0, Volatile.Read(ref probe.Counters[0]));
                    Assert.Equal(count, Volatile.Read(ref probe.Counters[1]));
                }
            }
        }
        finally
        {
            NtkParallel.MaxThreads = saved;
        }
    }
}
