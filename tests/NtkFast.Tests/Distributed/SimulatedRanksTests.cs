using System.Collections.Concurrent;
using NtkFast.Activations;
using NtkFast.Tiling;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// <see cref="EmpiricalMonteCarlo"/> on several ranks and the rank-split feature build of <see cref="EmpiricalKernelSource{T}"/>
/// with P ranks simulated by P threads in this process (point-to-point queues, broadcast through a shared
/// slot): rank counts, K &lt; P, outputs and methods the mpirun tests do not cover, bitwise against the single process.
/// </summary>
public sealed class SimulatedRanksTests
{
    private sealed class World(int size)
    {
        public readonly Barrier Barrier = new(size);
        public readonly BlockingCollection<(int Tag, byte[] Data)>[,] Queues = MakeQueues(size);
        public byte[]? Slot;

        private static BlockingCollection<(int, byte[])>[,] MakeQueues(int size)
        {
            var q = new BlockingCollection<(int, byte[])>[size, size];
            for (int a = 0; a < size; a++) for (int b = 0; b < size; b++) q[a, b] = [];
            return q;
        }
    }

    private sealed class ThreadRank(World world, int rank, int size) : Communicator
    {
        public override int Rank => rank;
        public override int Size => size;
        public override bool IsMpi => false;
        public override void Barrier() => world.Barrier.SignalAndWait();
        public override void AllreduceSum(Span<double> values) => throw new NotSupportedException();
        public override void AllreduceSum(Span<long> values) => throw new NotSupportedException();
        public override void AllreduceMax(Span<long> values) => throw new NotSupportedException();

        public override void Broadcast(Span<byte> buffer, int root)
        {
            if (rank == root) world.Slot = buffer.ToArray();
            world.Barrier.SignalAndWait();
            if (rank != root)
            {
                Assert.Equal(buffer.Length, world.Slot!.Length);
                world.Slot.CopyTo(buffer);
            }
            world.Barrier.SignalAndWait();
        }

        public override void Send(ReadOnlySpan<byte> data, int destination, int tag) => world.Queues[rank, destination].Add((tag, data.ToArray()));

        public override int Receive(Span<byte> buffer, int source, int tag)
        {
            (int t, byte[] d) = world.Queues[source, rank].Take();
            Assert.Equal(tag, t);
            d.CopyTo(buffer);
            return d.Length;
        }

        public override string Describe() => "threads";
    }

    private static T?[] OnRanks<T>(int p, Func<Communicator, T?> body)
    {
        var world = new World(p);
        var results = new T?[p];
        Exception? error = null;
        Thread[] threads = Enumerable.Range(0, p).Select(r => new Thread(() =>
        {
            try { results[r] = body(new ThreadRank(world, r, p)); }
            catch (Exception e) { error ??= e; }
        })).ToArray();
        foreach (Thread t in threads) t.Start();
        foreach (Thread t in threads) Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a simulated rank hung");
        if (error is not null) throw new InvalidOperationException("a simulated rank failed", error);
        return results;
    }

    private static Matrix Points(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var m = new Matrix(n, d);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = (rng.NextDouble() * 2) - 1;
        return m;
    }

    [Theory]
    [InlineData(1, 3, EmpiricalOutputs.Trace, EmpiricalMethod.Structured, true)]
    [InlineData(3, 7, EmpiricalOutputs.Trace, EmpiricalMethod.Structured, true)]
    [InlineData(5, 3, EmpiricalOutputs.Full, EmpiricalMethod.Structured, false)] // K < P: ranks 3, 4 idle
    [InlineData(2, 4, EmpiricalOutputs.Trace, EmpiricalMethod.Jacobian, true)]
    [InlineData(4, 1, EmpiricalOutputs.Trace, EmpiricalMethod.Structured, true)]  // K = 1: std is 0
    public void Monte_carlo_on_P_ranks_is_bitwise_the_single_process(int p, int k, EmpiricalOutputs outputs, EmpiricalMethod method, bool nngp)
    {
        var arch = new MlpArchitecture([3, 12, 8, 2], ActivationRegistry.Parse("tanh"), beta: 0.2);
        Matrix x = Points(9, 3, 1), x2 = Points(5, 3, 2);
        MonteCarloResult single = EmpiricalMonteCarlo.Run<double>(arch, x, x2, k, 99, outputs, 0, nngp, method);
        MonteCarloResult?[] r = OnRanks(p, comm => EmpiricalMonteCarlo.Run<double>(comm, arch, x, x2, k, 99, outputs, 0, nngp, method));
        for (int i = 1; i < p; i++) Assert.Null(r[i]);
        MonteCarloResult d = r[0]!;
        Assert.Equal(single.NtkMean, d.NtkMean);
        Assert.Equal(single.NtkStd, d.NtkStd);
        Assert.Equal(single.NngpMean, d.NngpMean);
        Assert.Equal(single.NngpStd, d.NngpStd);
        Assert.Equal(single.NtkShape, d.NtkShape);
        if (k > 1) Assert.Contains(d.NtkStd, v => v > 0);
        else Assert.All(d.NtkStd, v => Assert.Equal(0.0, v));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Features_built_by_several_ranks_give_the_single_process_blocks(int p)
    {
        // 1100 points: 3 feature batches of 512, owned round-robin by the ranks and broadcast.
        var arch = new MlpArchitecture([2, 6, 5, 2], ActivationRegistry.Parse("relu"));
        var net = Mlp<float>.Initialize(arch, 4);
        Matrix x = Points(1100, 2, 3), x2 = Points(40, 2, 4);
        var single = new EmpiricalKernelSource<float>(net, x, x2, 1, nngp: true);
        var want = new double[2 * 1100 * 40];
        single.ComputeBlock(0, 1100, 0, 40, want);
        double[]?[] got = OnRanks(p, comm =>
        {
            var s = new EmpiricalKernelSource<float>(net, x, x2, 1, nngp: true, comm);
            var dst = new double[2 * 1100 * 40];
            s.ComputeBlock(0, 1100, 0, 40, dst);
            return dst;
        });
        foreach (double[]? g in got) Assert.Equal(want, g);
    }
}
