using BenchmarkDotNet.Attributes;
using NtkFast.Activations;
using NtkFast.Tiling;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Distributed;

/// <summary>
/// Out-of-core against in-memory for the analytic relu NTK (depth 4, d = 784, as MNIST), both ending with
/// the .npy on disk: in-memory = InfiniteWidth.Compute (all threads) + Npy.Write; out-of-core =
/// TiledKernelWriter (tiles on all threads, written in place). Plus one off-diagonal tile on one thread,
/// the per-tile throughput the cluster model in docs/notes/mpi.md uses. Files go to NTKFAST_BENCH_DIR
/// or the temp folder.
/// </summary>
[MemoryDiagnoser]
public class OutOfCoreKernelBenchmarks
{
    [Params(2047)]
    public int N { get; set; }

    private const int D = 784;
    private Matrix _x = null!;
    private KernelSpec _spec = null!;
    private string _out = "";
    private double[] _tile = [], _ws = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _x = new Matrix(N, D);
        for (int i = 0; i < _x.Data.Length; i++) _x.Data[i] = rng.NextDouble() * 2 - 1;
        _spec = new KernelSpec(4, ActivationRegistry.Parse("relu"), 0.1, 1.0, 0, null);
        _out = Path.Combine(Environment.GetEnvironmentVariable("NTKFAST_BENCH_DIR") ?? Path.GetTempPath(), "ntk-bench-ooc.npy");
        _tile = new double[512 * 512];
        _ws = new double[InfiniteWidth.GetWorkspaceLength(_spec, 512, 512, false, workers: 1)];
    }

    [Benchmark(Baseline = true, Description = "in-memory: Compute + Npy.Write")]
    public void InMemory()
    {
        KernelResult r = InfiniteWidth.Compute(_spec, _x, null, KernelOutputs.Ntk);
        AtomicFile.Write(_out, s => Npy.Write(s, r.Ntk!.Data, [N, N]));
    }

    [Benchmark(Description = "out-of-core: tiles of 512 into the file")]
    public void OutOfCore512() => TiledKernelWriter.Run(new AnalyticKernelSource(_spec, _x, null, ntk: true, nngp: false), [_out],
        new KernelOutputPlan { TileSize = 512 }, Communicator.Single);

    [Benchmark(Description = "out-of-core: tiles of 1024 into the file")]
    public void OutOfCore1024() => TiledKernelWriter.Run(new AnalyticKernelSource(_spec, _x, null, ntk: true, nngp: false), [_out],
        new KernelOutputPlan { TileSize = 1024 }, Communicator.Single);

    [Benchmark(Description = "one 512² off-diagonal tile, 1 thread (no I/O)")]
    public void OneTile() => InfiniteWidth.ComputeBlock(_spec, _x.Data, N, _x.Data, N, D, 0, 512, 1024, 512, default, _tile, 512, _ws);

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_out);
}
