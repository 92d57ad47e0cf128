using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NtkFast.Activations;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Empirical;

/// <summary>
/// Empirical NTK Θ̂(X, X) (trace, with the empirical NNGP) of a relu MLP by the structured formula:
/// the 784-512-512-512-1 on N = 256 and N = 2048, and an odd multi-output shape.
/// Peers on this machine (docs/machines.md, N = 256): functorch vmap(jacrev)+J·Jᵀ 1.99 s f32 / 3.91 s f64,
/// TorchSharp per-sample loop 1.06 s / 2.12 s, hand-written torch structured formula 14.6 ms / 28 ms (1 thread).
/// Baseline <c>GemmsOnly</c>: exactly the GEMMs the structured path runs (forward, one backward pass per
/// output, the activation and cotangent Gram matrices through Gram.Syrk), with no bias, σ, σ', widening
/// or Hadamard accumulation — Structured / GemmsOnly is the cost of everything else.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(EmpiricalFlopsConfig))]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class EmpiricalNtkBenchmark<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Mlp<T> _net = null!;
    private EmpiricalWorkspace<T> _ws = null!;
    private T[] _x = null!, _bufA = null!, _bufB = null!, _gram = null!;
    private double[] _ntk = null!, _nngp = null!;
    private int[] _widths = null!;
    private int _n;

    /// <summary>"widths x points".</summary>
    [Params("784-512-512-512-1x256", "784-512-512-512-1x2048", "785-511-257-3x255")]
    public string Case { get; set; } = "";

    internal static (int[] Widths, int N) Parse(string c)
    {
        string[] p = c.Split('x');
        return (p[0].Split('-').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(), int.Parse(p[1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Work of the structured path (trace, X2 = X): forward 2N·Σ n_l n_(l+1); backward per output
    /// 2N·Σ_(l=1…L−2) n_(l+1) n_l ·nL (δ(L−1) from δ(L) = e_k is counted too); symmetric Gram matrices
    /// N(N+1)·k (one triangle) for the activations (k = n_l, l = 0…L−1) and the stacked cotangents (k = nL·n_l, l = 1…L−1).
    /// </summary>
    internal static double Flops(string c)
    {
        var (w, n) = Parse(c);
        int depth = w.Length - 1, q = w[^1];
        double f = 0;
        for (int l = 0; l < depth; l++) f += 2.0 * n * w[l] * w[l + 1];
        for (int l = 1; l < depth; l++) f += 2.0 * n * w[l] * w[l + 1] * q;
        for (int l = 0; l < depth; l++) f += (double)n * (n + 1) * w[l];
        for (int l = 1; l < depth; l++) f += (double)n * (n + 1) * w[l] * q;
        return f;
    }

    [GlobalSetup]
    public void Setup()
    {
        var (widths, n) = Parse(Case);
        var arch = new MlpArchitecture(widths, ActivationRegistry.Parse("relu"), beta: 0.1);
        _net = Mlp<T>.Initialize(arch, 1);
        _ws = new EmpiricalWorkspace<T>(arch, n);
        var rx = new double[n * widths[0]];
        GaussianStream.Fill(2, 0, rx);
        _x = rx.Select(T.CreateTruncating).ToArray();
        _ntk = new double[n * n];
        _nngp = new double[n * n];
        _widths = widths;
        _n = n;
        int q = widths[^1];
        _bufA = new T[n * widths.Max() * q];
        _bufB = new T[n * widths.Max() * q];
        _gram = new T[n * n];
    }

    [Benchmark]
    public void Structured() =>
        EmpiricalKernel.ComputeStructured<T>(_net, _x, [], EmpiricalOutputs.Trace, 0, _ws, _ntk, _nngp);

    [Benchmark(Baseline = true)]
    public void GemmsOnly()
    {
        MlpArchitecture a = _net.Architecture;
        int depth = a.Depth, q = _widths[^1], n = _n;
        for (int l = 0; l < depth; l++)
        {
            int nIn = _widths[l], nOut = _widths[l + 1];
            ReadOnlySpan<T> input = l == 0 ? _x : _bufA.AsSpan(0, n * nIn);
            Gemm(Op.None, Op.Transpose, n, nOut, nIn, input, nIn, _net.Weights(l), nIn, _bufB, nOut);
            Syrk(n, nIn, input, nIn);
            (_bufA, _bufB) = (_bufB, _bufA);
        }
        for (int k = 0; k < q; k++)
            for (int l = depth - 1; l >= 1; l--)
                Gemm(Op.None, Op.None, n, _widths[l], _widths[l + 1], _bufA, _widths[l + 1], _net.Weights(l), _widths[l], _bufB, _widths[l]);
        for (int l = 1; l < depth; l++) Syrk(n, q * _widths[l], _bufB, q * _widths[l]);
    }

    private static void Gemm(Op opA, Op opB, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc)
    {
        if (typeof(T) == typeof(double))
            NtkFast.Numerics.Gemm.Multiply(opA, opB, m, n, k, 1.0, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb, 0.0, MemoryMarshal.Cast<T, double>(c), ldc);
        else
            NtkFast.Numerics.Gemm.Multiply(opA, opB, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb, 0f, MemoryMarshal.Cast<T, float>(c), ldc);
    }

    private void Syrk(int n, int k, ReadOnlySpan<T> a, int lda)
    {
        if (typeof(T) == typeof(double))
            Gram.Syrk(n, k, 1.0, MemoryMarshal.Cast<T, double>(a), lda, 0.0, MemoryMarshal.Cast<T, double>(_gram.AsSpan()), n);
        else
            Gram.Syrk(n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda, 0f, MemoryMarshal.Cast<T, float>(_gram.AsSpan()), n);
    }
}

internal sealed class EmpiricalFlopsConfig : ManualConfig
{
    public EmpiricalFlopsConfig() => AddColumn(new NtkFast.Benchmarks.Numerics.CaseGflopsColumn("EmpGFLOPs", "structured empirical-NTK work (forward, backward per output, one-triangle Gram matrices) per second", EmpiricalNtkBenchmark<float>.Flops));
}
