using System.Numerics;
using System.Runtime.InteropServices;
using NtkFast.Networks;
using NtkFast.Numerics;
using NtkFast.Tiling;

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
    /// <summary>
    /// Test hook, called with the rank after this rank's first network (after sending it, on ranks other
    /// than 0; at once on a rank that has none): the MPI failure tests make one rank throw, die or pause
    /// in the middle of a Monte Carlo run. Installed by NtkFast.Distributed's <c>FaultInjection</c> from
    /// NTKFAST_FAULT in the <c>ntk</c> process; null in every other use.
    /// </summary>
    internal static Action<int>? AfterFirstNetwork { get; set; }

    /// <summary>Runs K initialisations; <paramref name="x2"/> empty means X2 = X. <paramref name="progress"/> gets the samples done.</summary>
    public static MonteCarloResult Run<T>(MlpArchitecture architecture, ReadOnlySpan<T> x, ReadOnlySpan<T> x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured, Action<int>? progress = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Run(Communicator.Single, architecture, x, x2, samples, seed, outputs, trainableFrom, nngp, method, progress)!;

    /// <summary>Double-precision matrix convenience.</summary>
    public static MonteCarloResult Run<T>(MlpArchitecture architecture, Matrix x, Matrix? x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured, Action<int>? progress = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Run<T>(Communicator.Single, architecture, x, x2, samples, seed, outputs, trainableFrom, nngp, method, progress)!;

    /// <summary>Double-precision matrix convenience of the collective form.</summary>
    public static MonteCarloResult? Run<T>(Communicator comm, MlpArchitecture architecture, Matrix x, Matrix? x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured, Action<int>? progress = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        return Run(comm, architecture, EmpiricalKernel.ToT<T>(x.Data), x2 is null ? [] : EmpiricalKernel.ToT<T>(x2.Data),
            samples, seed, outputs, trainableFrom, nngp, method, progress);
    }

    /// <summary>
    /// Collective over <paramref name="comm"/>: the K initialisations split among its ranks, with a result
    /// BITWISE identical to the single process for any number of ranks. Returns the mean and std on rank
    /// 0 and null on every other rank.
    /// </summary>
    /// <remarks>
    /// Network k (0 ≤ k &lt; K) is drawn from seed S + k — the same network whatever the rank count — and is
    /// computed by rank k mod P. Rank 0 folds the K kernels into the running mean and M2 in network order
    /// k = 0, 1, …, K−1 with the same Welford update whatever P: its own kernels directly, the others'
    /// received point-to-point as they are finished. The reduction is therefore the single process's
    /// exact sequence of floating-point operations; a Chan-style merge of per-rank moments
    /// (<see cref="MonteCarloMoments"/>) would agree only to rounding (~1e-16 relative), because the
    /// order of the additions would depend on P. Cost of the canonical order: every kernel crosses to rank
    /// 0 (K·N·M·8 bytes in total, one message per network and output, in pieces of at most 1 GiB) and rank
    /// 0 does the O(N·M) Welford update of every network — small beside a kernel's O(N·M·Σ widths) work.
    /// Memory per rank: one kernel, plus the mean and M2 on rank 0.
    /// </remarks>
    public static MonteCarloResult? Run<T>(Communicator comm, MlpArchitecture architecture, ReadOnlySpan<T> x, ReadOnlySpan<T> x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured, Action<int>? progress = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(comm);
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

        int rank = comm.Rank, ranks = comm.Size;
        var ntk = new double[size];
        double[]? g = nngp ? new double[(long)n * m] : null;
        var net = new Mlp<T>(architecture, new T[architecture.ParameterCount]);
        var ws = method == EmpiricalMethod.Structured ? new EmpiricalWorkspace<T>(architecture, n, x2.IsEmpty ? 0 : m) : null;

        Action<int>? fault = AfterFirstNetwork;
        if (rank != 0)
        {
            for (int s = rank; s < samples; s += ranks)
            {
                Sample(net, ws, x, x2, seed, s, outputs, trainableFrom, nngp, method, ntk, g);
                Send(comm, ntk, s);
                if (g is not null) Send(comm, g, s);
                if (s == rank) fault?.Invoke(rank);
            }
            if (rank >= samples) fault?.Invoke(rank);
            return null;
        }

        var tMean = new double[size];
        var tM2 = new double[size];
        double[]? gMean = nngp ? new double[(long)n * m] : null;
        double[]? gM2 = nngp ? new double[(long)n * m] : null;
        for (int s = 0; s < samples; s++)
        {
            int owner = s % ranks;
            if (owner == 0)
            {
                Sample(net, ws, x, x2, seed, s, outputs, trainableFrom, nngp, method, ntk, g);
                if (s == 0) fault?.Invoke(0);
            }
            else
            {
                Receive(comm, ntk, owner, s);
                if (g is not null) Receive(comm, g, owner, s);
            }
            Welford(s + 1, ntk, tMean, tM2);
            if (g is not null) Welford(s + 1, g, gMean!, gM2!);
            progress?.Invoke(s + 1);
        }
        FinishStd(samples, tM2);
        if (gM2 is not null) FinishStd(samples, gM2);
        return new MonteCarloResult(samples, n, m, q, outputs, tMean, tM2, gMean, gM2);
    }

    // Sample s: the network of seed S + s and its kernels.
    private static void Sample<T>(Mlp<T> net, EmpiricalWorkspace<T>? ws, ReadOnlySpan<T> x, ReadOnlySpan<T> x2, ulong seed, int s,
        EmpiricalOutputs outputs, int trainableFrom, bool nngp, EmpiricalMethod method, double[] ntk, double[]? g)
        where T : unmanaged, IFloatingPointIeee754<T>
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
    }

    private const int ChunkDoubles = 1 << 27; // 1 GiB per message

    // Tags carry the network index (mod 2^15, within MPI's guaranteed tag range) so a mismatch cannot pass silently.
    private static int Tag(int sample) => sample & 0x7FFF;

    private static void Send(Communicator comm, double[] data, int sample)
    {
        for (int at = 0; at < data.Length; at += ChunkDoubles)
            comm.Send(MemoryMarshal.AsBytes(data.AsSpan(at, Math.Min(ChunkDoubles, data.Length - at))), 0, Tag(sample));
    }

    private static void Receive(Communicator comm, double[] data, int source, int sample)
    {
        for (int at = 0; at < data.Length; at += ChunkDoubles)
        {
            Span<byte> piece = MemoryMarshal.AsBytes(data.AsSpan(at, Math.Min(ChunkDoubles, data.Length - at)));
            int got = comm.Receive(piece, source, Tag(sample));
            if (got != piece.Length) throw new IOException($"rank {source} sent {got} bytes of network {sample}'s kernel, expected {piece.Length}");
        }
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
