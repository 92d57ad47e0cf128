using BenchmarkDotNet.Attributes;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Numerics;

/// <summary>dgemm / sgemm C = A·B at N = 512, 1024, 2048 on NtkParallel.MaxThreads threads (default: all cores).</summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private double[] _a = [], _b = [], _c = [];
    private float[] _af = [], _bf = [], _cf = [];

    [Params(512, 1024, 2048)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = new double[N * N];
        _b = new double[N * N];
        _c = new double[N * N];
        for (int i = 0; i < _a.Length; i++) { _a[i] = rng.NextDouble() - 0.5; _b[i] = rng.NextDouble() - 0.5; }
        _af = Array.ConvertAll(_a, x => (float)x);
        _bf = Array.ConvertAll(_b, x => (float)x);
        _cf = new float[N * N];
    }

    [Benchmark]
    [Flops(2, "N", "N", "N")]
    public void Dgemm() => Gemm.Multiply(Op.None, Op.None, N, N, N, 1.0, _a, N, _b, N, 0.0, _c, N);

    [Benchmark]
    [Flops(2, "N", "N", "N")]
    public void Sgemm() => Gemm.Multiply(Op.None, Op.None, N, N, N, 1f, _af, N, _bf, N, 0f, _cf, N);
}

/// <summary>Small and odd sizes against the plain triple loop a newcomer would write (the scalar baseline).</summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class SmallGemmBenchmarks
{
    private double[] _a = [], _b = [], _c = [];

    [Params(8, 65, 127)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _a = new double[N * N];
        _b = new double[N * N];
        _c = new double[N * N];
        for (int i = 0; i < _a.Length; i++) { _a[i] = rng.NextDouble(); _b[i] = rng.NextDouble(); }
    }

    [Benchmark(Baseline = true)]
    [Flops(2, "N", "N", "N")]
    public void ScalarTripleLoop()
    {
        int n = N;
        double[] a = _a, b = _b, c = _c;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < n; p++) s += a[i * n + p] * b[p * n + j];
                c[i * n + j] = s;
            }
    }

    [Benchmark]
    [Flops(2, "N", "N", "N")]
    public void Dgemm() => Gemm.Multiply(Op.None, Op.None, N, N, N, 1.0, _a, N, _b, N, 0.0, _c, N);
}
