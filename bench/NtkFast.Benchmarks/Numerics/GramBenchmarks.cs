using BenchmarkDotNet.Attributes;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Numerics;

/// <summary>
/// Gram matrix X·Xᵀ of N points in d dimensions (the MNIST-sized kernel input): SYRK (one triangle,
/// mirrored) against the full GEMM of the same shape. Both GFLOP/s figures count the full 2·N²·d, so
/// the SYRK column is the "effective" rate.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GramBenchmarks
{
    private double[] _x = [], _g = [];

    [Params(4096)]
    public int N { get; set; }

    [Params(784)]
    public int D { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _x = new double[N * D];
        for (int i = 0; i < _x.Length; i++) _x[i] = rng.NextDouble();
        _g = new double[N * N];
    }

    [Benchmark(Baseline = true)]
    [Flops(2, "N", "N", "D")]
    public void FullGemm() => Gemm.Multiply(Op.None, Op.Transpose, N, N, D, 1.0, _x, D, _x, D, 0.0, _g, N);

    [Benchmark]
    [Flops(2, "N", "N", "D")]
    public void Syrk() => Gram.Syrk(N, D, 1.0, _x, D, 0.0, _g, N);
}
