using System.Globalization;
using System.Numerics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NtkFast.Activations;
using System.Runtime.InteropServices;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Networks;

/// <summary>
/// One full-batch gradient-descent step (forward + backward + update) of a relu MLP:
/// the 784-2048-2048-2048-1 on a batch of 1024 (58.1 GFLOP per step; TorchSharp on
/// this machine: 326 ms float32, 695 ms float64) and an odd shape so tile tails are measured.
/// Baseline: only the step's GEMMs (forward A·Wᵀ, backward δ·W and δᵀ·A per layer) through the plain
/// <c>Gemm.Multiply</c>, so Step / GemmsOnly is the cost of everything the network code adds
/// (bias, activations, σ', cost, bias sums). UnfusedStep: ∇C into a gradient buffer, then θ −= η∇C.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class TrainStepBenchmark<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Mlp<T> _net = null!;
    private MlpWorkspace<T> _ws = null!;
    private T[] _x = null!, _y = null!, _grad = null!, _bufA = null!, _bufB = null!;
    private int[] _widths = null!;
    private int _n;

    /// <summary>"widths x batch".</summary>
    [Params("784-2048-2048-2048-1x1024", "785-1023-1025-3x257")]
    public string Case { get; set; } = "";

    internal static (int[] Widths, int Batch) Parse(string c)
    {
        string[] p = c.Split('x');
        return (p[0].Split('-').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(), int.Parse(p[1], CultureInfo.InvariantCulture));
    }

    [GlobalSetup]
    public void Setup()
    {
        var (widths, n) = Parse(Case);
        var relu = ActivationRegistry.Parse("relu");
        var arch = new MlpArchitecture(widths, relu, beta: 0.1);
        _net = Mlp<T>.Initialize(arch, 1);
        _ws = _net.CreateWorkspace(n);
        _x = new T[n * widths[0]];
        _y = new T[n * widths[^1]];
        var rx = new double[_x.Length];
        var ry = new double[_y.Length];
        GaussianStream.Fill(2, 0, rx);
        GaussianStream.Fill(3, 0, ry);
        for (int i = 0; i < rx.Length; i++) _x[i] = T.CreateTruncating(rx[i]);
        for (int i = 0; i < ry.Length; i++) _y[i] = T.CreateTruncating(ry[i]);
        _grad = new T[arch.ParameterCount];
        _widths = widths;
        _n = n;
        _bufA = new T[n * widths.Max()];
        _bufB = new T[n * widths.Max()];
    }

    /// <summary>The library's step: the weight-gradient GEMM accumulates straight into W (β = 1).</summary>
    [Benchmark]
    public double Step() => _net.TrainStep(_x, _y, 1e-6, _ws);

    [Benchmark(Baseline = true)]
    public void GemmsOnly()
    {
        MlpArchitecture a = _net.Architecture;
        for (int l = 0; l < a.Depth; l++)
        {
            int nIn = _widths[l], nOut = _widths[l + 1];
            ReadOnlySpan<T> input = l == 0 ? _x : _bufA.AsSpan(0, _n * nIn);
            Gemm(Op.None, Op.Transpose, _n, nOut, nIn, input, nIn, _net.Weights(l), nIn, 0, _bufB, nOut);
        }
        for (int l = a.Depth - 1; l >= 0; l--)
        {
            int nIn = _widths[l], nOut = _widths[l + 1];
            if (l > 0) Gemm(Op.None, Op.None, _n, nIn, nOut, _bufB, nOut, _net.Weights(l), nIn, 0, _bufA, nIn);
            ReadOnlySpan<T> input = l == 0 ? _x : _bufA.AsSpan(0, _n * nIn);
            Gemm(Op.Transpose, Op.None, nOut, nIn, _n, _bufB, nOut, input, nIn, 1, _net.Weights(l), nIn);
        }
    }

    private static void Gemm(Op oa, Op ob, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, double beta, Span<T> c, int ldc)
    {
        // α = 1/√k keeps the magnitudes as in the network (no overflow or denormals over many
        // iterations); the in-place weight update (β = 1) gets a tiny α so W stays ≈ unchanged.
        double alpha = (beta == 0 ? 1.0 : 1e-6) / Math.Sqrt(k);
        if (typeof(T) == typeof(float))
            NtkFast.Numerics.Gemm.Multiply(oa, ob, m, n, k, (float)alpha, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb, (float)beta, MemoryMarshal.Cast<T, float>(c), ldc);
        else
            NtkFast.Numerics.Gemm.Multiply(oa, ob, m, n, k, alpha, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb, beta, MemoryMarshal.Cast<T, double>(c), ldc);
    }

    [Benchmark]
    public double UnfusedStep()
    {
        double c = _net.MseGradient(_x, _y, _ws, _grad);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_grad, T.CreateTruncating(-1e-6), _net.Parameters, _net.Parameters);
        return c;
    }

    internal static double Flops(string c)
    {
        var (w, n) = Parse(c);
        return new MlpArchitecture(w, Identity.Instance).TrainingStepFlops(n);
    }
}

/// <summary>Adds a GFLOP/s column computed from the mean time and the case's FLOP count.</summary>
internal sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new NtkFast.Benchmarks.Numerics.CaseGflopsColumn("GFLOPs", "floating-point operations per second of a forward + backward + update step (2·m·n·k per GEMM)", TrainStepBenchmark<float>.Flops));
}
