using BenchmarkDotNet.Attributes;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.LinearAlgebra;

internal static class SpdFactory
{
    /// <summary>Symmetric, diagonally dominant (so positive definite) n×n matrix, O(n²) to build.</summary>
    public static double[] Create(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double v = rng.NextDouble() - 0.5;
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        for (int i = 0; i < n; i++) a[i * n + i] += n;
        return a;
    }

    /// <summary>Gaussian kernel Gram matrix on random points in 8-D (fast-decaying spectrum, like an NTK).</summary>
    public static double[] KernelGram(int n, int seed)
    {
        var rng = new Random(seed);
        const int D = 8;
        var x = new double[n * D];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble();
        var k = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < D; p++) { double d = x[i * D + p] - x[j * D + p]; s += d * d; }
                k[i * n + j] = Math.Exp(-s);
            }
        return k;
    }
}

/// <summary>
/// Cholesky at the sizes (plus an odd one). Peers on this machine (docs/machines.md, 2 threads):
/// OpenBLAS dpotrf 7.2 / 41 / 265 ms at 1024 / 2048 / 4096; MathNet managed 107 / 774 ms.
/// </summary>
[MemoryDiagnoser]
public class CholeskyBenchmarks
{
    private double[] _a = [];
    private double[] _work = [];

    [Params(1024, 1031, 2048, 4096)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = SpdFactory.Create(N, 1);
        _work = new double[_a.Length];
    }

    [IterationSetup]
    public void Copy() => _a.CopyTo(_work, 0);

    [Benchmark]
    public void Factor() => Cholesky.Factor(N, _work, N);
}

/// <summary>Blocked NtkFast Cholesky against the textbook scalar (Cholesky–Banachiewicz) loop.</summary>
[MemoryDiagnoser]
public class CholeskyBaselineBenchmarks
{
    private double[] _a = [];
    private double[] _work = [];

    [Params(511, 1024)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = SpdFactory.Create(N, 2);
        _work = new double[_a.Length];
    }

    [IterationSetup]
    public void Copy() => _a.CopyTo(_work, 0);

    [Benchmark(Baseline = true)]
    public void ScalarTextbook()
    {
        int n = N;
        double[] a = _work;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = a[i * n + j];
                for (int p = 0; p < j; p++) s -= a[i * n + p] * a[j * n + p];
                a[i * n + j] = i == j ? Math.Sqrt(s) : s / a[j * n + j];
            }
        }
    }

    [Benchmark]
    public void NtkFastBlocked() => Cholesky.Factor(N, _work, N);
}

/// <summary>
/// Full symmetric eigendecomposition (values and vectors) and values only. Peers (2 threads):
/// OpenBLAS dsyevd 127 / 803 / 6863 ms at 1024 / 2048 / 4096; MathNet managed 1902 / 20016 ms.
/// </summary>
[MemoryDiagnoser]
public class SymmetricEigenBenchmarks
{
    private double[] _a = [];
    private double[] _work = [];
    private double[] _values = [];
    private double[] _vectors = [];
    private double[] _ws = [];

    [Params(1024, 1031, 2048, 4096)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = SpdFactory.Create(N, 3);
        _work = new double[_a.Length];
        _values = new double[N];
        _vectors = new double[_a.Length];
        _ws = new double[SymmetricEigen.GetWorkspaceLength(N, true)];
    }

    [IterationSetup]
    public void Copy() => _a.CopyTo(_work, 0);

    [Benchmark]
    public void ValuesAndVectors() => SymmetricEigen.Decompose(N, _work, N, _values, _vectors, N, _ws);

    [Benchmark]
    public void ValuesOnly() => SymmetricEigen.Decompose(N, _work, N, _values, Span<double>.Empty, 1, _ws);
}

/// <summary>Top-k eigenpairs of a kernel Gram matrix (kernel PCA) and its operator norm, Lanczos vs the dense solver.</summary>
[MemoryDiagnoser]
public class LanczosBenchmarks
{
    private double[] _k = [];
    private double[] _ws = [];
    private double[] _values = [];
    private double[] _vectors = [];

    [Params(2048)]
    public int N { get; set; }

    [Params(1, 10)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _k = SpdFactory.KernelGram(N, 4);
        _ws = new double[Lanczos.GetWorkspaceLength(N, 400)];
        _values = new double[K];
        _vectors = new double[N * K];
    }

    [Benchmark]
    public int TopK() => Lanczos.Run(N, _k, N, K, 0, _values, _vectors, Span<double>.Empty, Lanczos.DefaultTolerance, 400, _ws);
}
