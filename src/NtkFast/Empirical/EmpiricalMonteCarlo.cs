using System.Numerics;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Empirical;

/// <summary>Mean and standard deviation of the empirical kernels over independent initialisations.</summary>
public sealed class MonteCarloResult
{
    internal MonteCarloResult(int samples, int n, int m, int outputs, EmpiricalOutputs kind,
        double[] ntkMean, double[] ntkStd, double[]? nngpMean, double[]? nngpStd)
    {
        Samples = samples; N = n; M = m; OutputCount = outputs; Kind = kind;
        NtkMean = ntkMean; NtkStd = ntkStd; NngpMean = nngpMean; NngpStd = nngpStd;
    }

    /// <summary>Number of initialisations K.</summary>
    public int Samples { get; }

    /// <summary>Points of X.</summary>
    public int N { get; }

    /// <summary>Points of X2.</summary>
    public int M { get; }

    /// <summary>nL.</summary>
    public int OutputCount { get; }

    /// <summary>Layout of the NTK arrays (as <see cref="EmpiricalKernelResult.Kind"/>).</summary>
    public EmpiricalOutputs Kind { get; }

    /// <summary>Mean of Θ̂ over the K initialisations.</summary>
    public double[] NtkMean { get; }

    /// <summary>Sample standard deviation (divisor K−1; 0 when K = 1) of Θ̂, entrywise. Standard error of the mean = std/√K.</summary>
    public double[] NtkStd { get; }

    /// <summary>Mean of the empirical NNGP (null if not requested).</summary>
    public double[]? NngpMean { get; }

    /// <summary>Sample standard deviation of the empirical NNGP (null if not requested).</summary>
    public double[]? NngpStd { get; }

    /// <summary>Shape of the NTK arrays.</summary>
    public int[] NtkShape => Kind == EmpiricalOutputs.Trace ? [N, M] : [N, M, OutputCount, OutputCount];
}

/// <summary>
/// Monte Carlo estimates of the empirical kernels over K independent initialisations: sample s
/// (0 ≤ s &lt; K) is <see cref="Mlp{T}.Initialize"/>(architecture, seed + s). Streaming (Welford):
/// memory is one kernel, its mean and its sum of squared deviations, never K copies; the result
/// does not depend on the thread count.
/// </summary>
public static class EmpiricalMonteCarlo
{
    /// <summary>Runs K initialisations; <paramref name="x2"/> empty means X2 = X. <paramref name="progress"/> gets the samples done.</summary>
    public static MonteCarloResult Run<T>(MlpArchitecture architecture, ReadOnlySpan<T> x, ReadOnlySpan<T> x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured, Action<int>? progress = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "samples (number of initialisations) must be at least 1.");
        int d = architecture.InputWidth, q = architecture.OutputWidth;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"x has {x.Length} elements, not a positive multiple of the input width {d}.", nameof(x));
        if (x2.Length % d != 0)
            throw new ArgumentException($"x2 has {x2.Length} elements, not a multiple of the input width {d}.", nameof(x2));
        if ((uint)trainableFrom >= (uint)architecture.Depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom must be in [0, {architecture.Depth - 1}].");
        int n = x.Length / d, m = x2.IsEmpty ? n : x2.Length / d;
        long size = (long)n * m * (outputs == EmpiricalOutputs.Full ? q * q : 1);
        if (size > Array.MaxLength) throw new ArgumentException($"the kernel ({size} elements) is too large for one array.", nameof(x));

        var ntk = new double[size];
        double[]? g = nngp ? new double[(long)n * m] : null;
        var tMean = new double[size];
        var tM2 = new double[size];
        double[]? gMean = nngp ? new double[(long)n * m] : null;
        double[]? gM2 = nngp ? new double[(long)n * m] : null;
        var net = new Mlp<T>(architecture, new T[architecture.ParameterCount]);
        var ws = method == EmpiricalMethod.Structured ? new EmpiricalWorkspace<T>(architecture, n, x2.IsEmpty ? 0 : m) : null;
        for (int s = 0; s < samples; s++)
        {
            GaussianStream.FillParallel(unchecked(seed + (ulong)s), 0, net.Parameters);
            if (ws is not null)
                EmpiricalKernel.ComputeStructured(net, x, x2, outputs, trainableFrom, ws, ntk, g);
            else
            {
                EmpiricalKernelResult r = EmpiricalKernel.Compute(net, x, x2, outputs, trainableFrom, nngp, method);
                r.Ntk.CopyTo(ntk, 0);
                r.Nngp?.CopyTo(g!, 0);
            }
            Welford(s + 1, ntk, tMean, tM2);
            if (g is not null) Welford(s + 1, g, gMean!, gM2!);
            progress?.Invoke(s + 1);
        }
        FinishStd(samples, tM2);
        if (gM2 is not null) FinishStd(samples, gM2);
        return new MonteCarloResult(samples, n, m, q, outputs, tMean, tM2, gMean, gM2);
    }

    /// <summary>Double-precision matrix convenience.</summary>
    public static MonteCarloResult Run<T>(MlpArchitecture architecture, Matrix x, Matrix? x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured, Action<int>? progress = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        return Run(architecture, EmpiricalKernel.ToT<T>(x.Data), x2 is null ? [] : EmpiricalKernel.ToT<T>(x2.Data),
            samples, seed, outputs, trainableFrom, nngp, method, progress);
    }

    /// <summary>Welford update with the count-th sample v: mean += (v − mean)/count, m2 += (v − mean_old)(v − mean_new).</summary>
    internal static void Welford(int count, ReadOnlySpan<double> v, Span<double> mean, Span<double> m2)
    {
        double inv = 1.0 / count;
        for (int i = 0; i < v.Length; i++)
        {
            double delta = v[i] - mean[i];
            mean[i] += delta * inv;
            m2[i] += delta * (v[i] - mean[i]);
        }
    }

    /// <summary>m2 → sqrt(m2/(K−1)) in place (0 for K = 1).</summary>
    internal static void FinishStd(int count, Span<double> m2)
    {
        if (count < 2) { m2.Clear(); return; }
        double inv = 1.0 / (count - 1);
        for (int i = 0; i < m2.Length; i++) m2[i] = Math.Sqrt(Math.Max(m2[i], 0) * inv);
    }
}
