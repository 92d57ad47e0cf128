using NtkFast.Numerics;
using BenchmarkDotNet.Attributes;
using NtkFast.Activations;

namespace NtkFast.Benchmarks.Activations;

/// <summary>
/// Dual-kernel throughput over one Gram row (a fixed, b[j], c[j] varying), the shape the kernel assembly
/// consumes: vectorised batched closed forms vs a scalar per-triple loop (baseline), and the quadrature
/// path (tanh at the default degree). Odd length so the padded tail is always measured. Triples/s =
/// N / mean time. The 2-core figure comes from <see cref="BatchedTwoThreads"/> (two rows in parallel).
/// </summary>
[MemoryDiagnoser]
public class DualKernelBenchmarks
{
    [Params("relu", "erf")] // BatchedVector256 below maps any non-erf name to relu's kernel
    public string Name { get; set; } = "relu";

    public const int N = 6 * 512 + 7;
    private Activation _act = Relu.Instance;
    private double[] _b = [], _c = [], _ess = [], _edd = [], _ess2 = [], _edd2 = [];

    [GlobalSetup]
    public void Setup()
    {
        _act = ActivationRegistry.Parse(Name);
        var rng = new Random(1);
        _b = new double[N]; _c = new double[N]; _ess = new double[N]; _edd = new double[N]; _ess2 = new double[N]; _edd2 = new double[N];
        for (int j = 0; j < N; j++)
        {
            _c[j] = 0.2 + 2 * rng.NextDouble();
            _b[j] = (2 * rng.NextDouble() - 1) * Math.Sqrt(1.3 * _c[j]);
        }
    }

    [Benchmark(Baseline = true)]
    public void ScalarLoop()
    {
        for (int j = 0; j < N; j++)
        {
            DualValue v = _act.Dual(1.3, _b[j], _c[j]);
            _ess[j] = v.Ess;
            _edd[j] = v.Edd;
        }
    }

    [Benchmark]
    public void Batched() => _act.Dual(1.3, _b, _c, _ess, _edd);

    /// <summary>The Vector256 path forced (what runs without AVX-512; bitwise the same results).</summary>
    [Benchmark]
    public void BatchedVector256()
    {
        if (_act is Erf) BatchedDual.ErfRow(1.3, _b, _c, _ess, _edd, IsaPath.Vector256);
        else BatchedDual.ArcCosineRow(0.0, 0.0, 1.3, _b, _c, _ess, _edd, IsaPath.Vector256);
    }

    [Benchmark]
    public void BatchedTwoThreads() => Parallel.For(0, 2, t =>
    {
        if (t == 0) _act.Dual(1.3, _b, _c, _ess, _edd);
        else _act.Dual(1.3, _b, _c, _ess2, _edd2);
    });
}

/// <summary>Quadrature dual kernel (tanh, default degree) on a short row; compare per-triple time with relu's.</summary>
[MemoryDiagnoser]
public class QuadratureDualBenchmarks
{
    [Params(0.5, 30.0)]
    public double Variance { get; set; } = 0.5;

    public const int N = 33;
    private double[] _b = [], _c = [], _ess = [], _edd = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _b = new double[N]; _c = new double[N]; _ess = new double[N]; _edd = new double[N];
        for (int j = 0; j < N; j++)
        {
            _c[j] = Variance * (0.5 + rng.NextDouble());
            _b[j] = (2 * rng.NextDouble() - 1) * Math.Sqrt(Variance * _c[j]);
        }
    }

    [Benchmark(Baseline = true)]
    public void ReluClosedForm() => Relu.Instance.Dual(Variance, _b, _c, _ess, _edd);

    [Benchmark]
    public void TanhQuadrature() => Tanh.Instance.Dual(Variance, _b, _c, _ess, _edd);

    [Benchmark]
    public void ReluQuadrature() => Relu.Instance.NumericDual(Variance, _b, _c, _ess, _edd, NtkFast.Quadrature.BivariateQuadrature.Default);
}
