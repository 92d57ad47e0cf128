using BenchmarkDotNet.Attributes;
using NtkFast.Activations;
using NtkFast.Tiling;
using NtkFast.Empirical;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Distributed;

/// <summary>
/// Out-of-core against in-memory for the EMPIRICAL NTK (trace) of one float64 network 784-512-512-1 (relu),
/// both ending with the .npy on disk: in-memory = EmpiricalKernel.Compute (all threads, symmetric Syrk) +
/// Npy.Write; out-of-core = EmpiricalKernelSource (per-point features once) + TiledKernelWriter (tiles on all
/// threads, written in place). Plus the per-point feature build alone and one off-diagonal 512² tile on one
/// thread (the per-tile throughput). Files go to NTKFAST_BENCH_DIR or the temp folder.
/// </summary>
[MemoryDiagnoser]
public class EmpiricalOutOfCoreBenchmarks
{
    [Params(2047)]
    public int N { get; set; }

    private const int D = 784;
    private Matrix _x = null!;
    private Mlp<double> _net = null!;
    private EmpiricalKernelSource<double> _source = null!;
    private string _out = "";
    private double[] _tile = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _x = new Matrix(N, D);
        for (int i = 0; i < _x.Data.Length; i++) _x.Data[i] = rng.NextDouble() * 2 - 1;
        _net = Mlp<double>.Initialize(new MlpArchitecture([D, 512, 512, 1], ActivationRegistry.Parse("relu")), 1);
        _source = new EmpiricalKernelSource<double>(_net, _x, null);
        _out = Path.Combine(Environment.GetEnvironmentVariable("NTKFAST_BENCH_DIR") ?? Path.GetTempPath(), "ntk-bench-emp-ooc.npy");
        _tile = new double[512 * 512];
    }

    [Benchmark(Baseline = true, Description = "in-memory: EmpiricalKernel.Compute + Npy.Write")]
    public void InMemory()
    {
        EmpiricalKernelResult r = EmpiricalKernel.Compute(_net, _x, null, nngp: false);
        AtomicFile.Write(_out, s => Npy.Write(s, r.Ntk, [N, N]));
    }

    [Benchmark(Description = "out-of-core: features + tiles of 512 into the file")]
    public void OutOfCore512() => TiledKernelWriter.Run(new EmpiricalKernelSource<double>(_net, _x, null), [_out],
        new KernelOutputPlan { TileSize = 512 }, Communicator.Single);

    [Benchmark(Description = "out-of-core: features + tiles of 1024 into the file")]
    public void OutOfCore1024() => TiledKernelWriter.Run(new EmpiricalKernelSource<double>(_net, _x, null), [_out],
        new KernelOutputPlan { TileSize = 1024 }, Communicator.Single);

    [Benchmark(Description = "per-point features only (forward + backward of N points)")]
    public object Features() => new EmpiricalKernelSource<double>(_net, _x, null);

    [Benchmark(Description = "one 512² off-diagonal tile, 1 thread (no I/O)")]
    public void OneTile()
    {
        int saved = NtkParallel.MaxThreads;
        NtkParallel.MaxThreads = 1;
        try { _source.ComputeBlock(0, 512, 1024, 512, _tile); }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_out);
}
