using BenchmarkDotNet.Attributes;
using NtkFast.Activations;
using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Kernels;

/// <summary>
/// Σ(L) and Θ(L) together for a whole data set (issue 4 workloads). <c>Fused</c> is the library
/// (one SYRK, then all layers per 64×128 tile, one triangle, allocation-free with a caller workspace);
/// <c>LayerByLayer</c> is the straightforward algorithm a numpy user writes, in C#: full GEMM Gram, then per
/// layer a full N×N pass calling the scalar dual for every entry (both triangles), with N×N temporaries.
/// </summary>
/// <remarks>
/// Peer on this machine (docs/machines.md): vectorised numpy 1.00 s, torch 2.29 s for relu N=4096,
/// d=784, L=4. The machine limit: one SYRK (≈ 0.13 s) plus (L−1)·N²/2 dual evaluations.
/// Workloads: relu/erf N=4096 d=784 L=4; tanh (quadrature dual) N=1024 d=784 L=4; deep low-dimensional
/// relu N=8192 d=16 L=8 (the layer recursion dominates). Odd size 1023 keeps partial tiles measured.
/// </remarks>
[MemoryDiagnoser]
public class KernelBenchmarks : KernelWorkload
{
    [Params("relu/4096/784/4", "erf/4096/784/4", "relu/8192/16/8", "relu/1023/784/4")]
    public string Workload { get; set; } = "relu/4096/784/4";

    [GlobalSetup]
    public void Setup() => Setup(Workload);
}

/// <summary>
/// The quadrature workload (tanh has no closed-form dual) in its own class, so it can be filtered:
/// each numeric dual costs ~50–250 µs, so N = 1024 (1.6 M evaluations) runs for minutes per operation.
/// </summary>
[MemoryDiagnoser]
public class KernelQuadratureBenchmarks : KernelWorkload
{
    [Params("tanh/1024/784/4", "tanh/255/784/4")]
    public string Workload { get; set; } = "tanh/1024/784/4";

    [GlobalSetup]
    public void Setup() => Setup(Workload);
}

/// <summary>Workload "activation/N/d/L": data, spec and buffers, and the two implementations.</summary>
public abstract class KernelWorkload
{
    private Matrix _x = null!;
    private KernelSpec _spec = null!;
    private double[] _nngp = [], _ntk = [], _workspace = [];

    private int N => _x.Rows;

    protected void Setup(string workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        string[] p = workload.Split('/');
        int n = int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture);
        int d = int.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture);
        int depth = int.Parse(p[3], System.Globalization.CultureInfo.InvariantCulture);
        var rng = new Random(7);
        _x = new Matrix(n, d);
        for (int i = 0; i < _x.Data.Length; i++) _x.Data[i] = rng.NextDouble(); // MNIST-like: non-negative pixels
        _spec = new KernelSpec(depth, ActivationRegistry.Parse(p[0]), 0.1, 1.0);
        _nngp = new double[(long)n * n];
        _ntk = new double[(long)n * n];
        _workspace = new double[InfiniteWidth.GetWorkspaceLength(_spec, n, n)];
    }

    [Benchmark]
    public void Fused() => InfiniteWidth.ComputeBlock(_spec, _x.Data, N, _x.Data, N, _x.Cols, 0, N, 0, N, _nngp, _ntk, N, _workspace);

    [Benchmark(Baseline = true)]
    public void LayerByLayer()
    {
        int n = N, d = _x.Cols;
        double w2 = _spec.WeightStd * _spec.WeightStd, b2 = _spec.Beta * _spec.Beta;
        Activation act = _spec.Activation;
        double[] sigma = _nngp, theta = _ntk;
        Gemm.Multiply(Op.None, Op.Transpose, n, n, d, w2 / d, _x.Data, d, _x.Data, d, 0.0, sigma, n);
        for (int e = 0; e < sigma.Length; e++) theta[e] = sigma[e] += b2;
        var diag = new double[n];
        var ess = new double[(long)n * n];
        var edd = new double[(long)n * n];
        for (int l = 1; l < _spec.Depth; l++)
        {
            for (int i = 0; i < n; i++) diag[i] = sigma[(long)i * n + i];
            NtkParallel.For(n, i =>
            {
                for (int j = 0; j < n; j++)
                {
                    DualValue v = act.Dual(diag[i], sigma[(long)i * n + j], diag[j]);
                    ess[(long)i * n + j] = v.Ess;
                    edd[(long)i * n + j] = v.Edd;
                }
            });
            for (long e = 0; e < sigma.Length; e++)
            {
                sigma[e] = w2 * ess[e] + b2;
                theta[e] = theta[e] * (w2 * edd[e]) + sigma[e];
            }
        }
    }
}
