using BenchmarkDotNet.Attributes;
using NtkFast.Activations;

namespace NtkFast.Benchmarks.Activations;

/// <summary>Element-wise value over a span (driver, SIMD) vs a scalar Value(x) loop; double, odd length.</summary>
[MemoryDiagnoser]
public class ActivationForwardBenchmarks
{
    [Params("relu", "tanh", "softplus", "gelu")]
    public string Name { get; set; } = "relu";

    public const int N = 6 * 512 + 7;
    private Activation _act = Relu.Instance;
    private double[] _x = [], _y = [];

    [GlobalSetup]
    public void Setup()
    {
        _act = ActivationRegistry.Parse(Name);
        var rng = new Random(2);
        _x = new double[N];
        _y = new double[N];
        for (int i = 0; i < N; i++) _x[i] = 6 * rng.NextDouble() - 3;
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        for (int i = 0; i < N; i++) _y[i] = _act.Value(_x[i]);
    }

    [Benchmark]
    public void Span() => _act.Forward(_x, _y);
}
