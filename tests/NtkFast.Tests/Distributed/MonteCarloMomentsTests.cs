using NtkFast.Tiling;
using Xunit;

namespace NtkFast.Tests.Distributed;

public class MonteCarloMomentsTests
{
    /// <summary>P ranks simulated by P threads: Allreduce = every rank posts its values, all sum them in rank order.</summary>
    private sealed class ThreadRanks(Barrier barrier, object?[] slots, int rank) : Communicator
    {
        public override int Rank => rank;
        public override int Size => slots.Length;
        public override bool IsMpi => false;
        public override void Barrier() => barrier.SignalAndWait();
        public override void AllreduceSum(Span<double> values)
        {
            slots[rank] = values.ToArray();
            barrier.SignalAndWait();
            values.Clear();
            foreach (object? o in slots) { double[] v = (double[])o!; for (int i = 0; i < values.Length; i++) values[i] += v[i]; }
            barrier.SignalAndWait();
        }
        public override void AllreduceSum(Span<long> values)
        {
            slots[rank] = values.ToArray();
            barrier.SignalAndWait();
            values.Clear();
            foreach (object? o in slots) { long[] v = (long[])o!; for (int i = 0; i < values.Length; i++) values[i] += v[i]; }
            barrier.SignalAndWait();
        }
        public override void AllreduceMax(Span<long> values) => throw new NotSupportedException();
        public override void Broadcast(Span<byte> buffer, int root) => throw new NotSupportedException();
        public override void Send(ReadOnlySpan<byte> data, int destination, int tag) => throw new NotSupportedException();
        public override int Receive(Span<byte> buffer, int source, int tag) => throw new NotSupportedException();
        public override string Describe() => "threads";
    }

    [Fact]
    public void Single_rank_matches_the_two_pass_formulas()
    {
        var rng = new Random(3);
        const int k = 9, len = 5;
        double[][] samples = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, len).Select(_ => 1e6 + rng.NextDouble()).ToArray()).ToArray();
        var m = new MonteCarloMoments(len);
        foreach (double[] s in samples) m.Add(s);
        double[] mean = new double[len], std = new double[len];
        Assert.Equal(k, m.Reduce(Communicator.Single, mean, std));
        for (int i = 0; i < len; i++)
        {
            double mu = samples.Average(s => s[i]);
            double sd = Math.Sqrt(samples.Sum(s => (s[i] - mu) * (s[i] - mu)) / (k - 1));
            Assert.Equal(mu, mean[i], 1e-9);
            Assert.Equal(sd, std[i], 1e-9); // offsets of 1e6: the naive Σx² − n·mean² would lose ~all digits
        }
    }

    [Fact]
    public void Ranks_combine_to_the_same_statistics_as_one_process()
    {
        var rng = new Random(4);
        const int k = 11, len = 3;
        double[][] samples = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, len).Select(_ => rng.NextDouble() * 10).ToArray()).ToArray();
        var whole = new MonteCarloMoments(len);
        foreach (double[] s in samples) whole.Add(s);
        double[] mean1 = new double[len], std1 = new double[len];
        whole.Reduce(Communicator.Single, mean1, std1);

        foreach (int p in (int[])[2, 4, 13])
        {
            var barrier = new Barrier(p);
            var slots = new object?[p];
            var means = new double[p][];
            var stds = new double[p][];
            var totals = new long[p];
            var threads = Enumerable.Range(0, p).Select(r => new Thread(() =>
            {
                var m = new MonteCarloMoments(len);
                foreach (int s in MonteCarloMoments.SamplesOf(k, r, p)) m.Add(samples[s]);
                means[r] = new double[len];
                stds[r] = new double[len];
                totals[r] = m.Reduce(new ThreadRanks(barrier, slots, r), means[r], stds[r]);
            })).ToArray();
            foreach (Thread t in threads) t.Start();
            foreach (Thread t in threads) t.Join();
            for (int r = 0; r < p; r++)
            {
                Assert.Equal(k, totals[r]);
                Assert.Equal(means[0], means[r]); // every rank receives the same bits
                for (int i = 0; i < len; i++)
                {
                    Assert.Equal(mean1[i], means[r][i], 1e-12);
                    Assert.Equal(std1[i], stds[r][i], 1e-12);
                }
            }
        }
        Assert.Equal([0, 4, 8], MonteCarloMoments.SamplesOf(k, 0, 4));
        Assert.Equal([3, 7], MonteCarloMoments.SamplesOf(k, 3, 4));
    }
}
