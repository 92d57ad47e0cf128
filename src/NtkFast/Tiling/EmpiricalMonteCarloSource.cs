using System.Numerics;
using System.Runtime.CompilerServices;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Tiling;

/// <summary>
/// The Monte Carlo mean and standard deviation of the empirical kernels over K networks as an
/// <see cref="IKernelBlockSource"/>, bitwise the same blocks as <see cref="EmpiricalMonteCarlo.Run{T}(MlpArchitecture, Matrix, Matrix?, int, ulong, EmpiricalOutputs, int, bool, EmpiricalMethod, Action{int})"/>.
/// Outputs in order: NTK mean, NTK std (if wanted), NNGP mean (if wanted), NNGP std (if wanted).
/// </summary>
/// <remarks>
/// A block loops over the networks s = 0 … K−1 in order: network s is regenerated from seed S + s exactly as
/// <see cref="EmpiricalMonteCarlo"/> draws it, the features of the block's row and column points are computed
/// (forward/backward passes of those points only), its block kernel follows (<see cref="EmpiricalBlockKernel{T}"/>,
/// the in-memory arithmetic), and the running mean and M2 are updated with the same Welford step in the same
/// order — so every entry's arithmetic is the whole-matrix run's. Memory is per block (features of rows + cols
/// points, one network's block kernels and parameters), never the whole matrix; the cost beside the whole run is
/// the per-block forward/backward passes, ≈ 2·width/tile of the Gram work per network (use large tiles).
/// </remarks>
public sealed class EmpiricalMonteCarloSource<T> : IKernelBlockSource where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly MlpArchitecture _a;
    private readonly Matrix _x, _x2;
    private readonly int _samples;
    private readonly ulong _seed;
    private readonly bool _ntkStd, _nngp, _nngpStd;
    private readonly EmpiricalBlockKernel<T> _kernel;
    private readonly IReadOnlyList<int> _ntkEntry;
    private readonly System.Collections.Concurrent.ConcurrentBag<Worker> _workers = [];

    /// <param name="architecture">The networks' architecture (network s: parameters from seed + s, as <see cref="EmpiricalMonteCarlo"/>).</param>
    /// <param name="x">Points (rows).</param>
    /// <param name="x2">Column points, or null for x itself (symmetric).</param>
    /// <param name="samples">K ≥ 1.</param>
    /// <param name="seed">S.</param>
    /// <param name="outputs">Trace or every output pair.</param>
    /// <param name="trainableFrom">First K weight layers frozen.</param>
    /// <param name="method">Structured formula or the Jacobian reference.</param>
    /// <param name="ntkStd">Also the NTK's standard deviation.</param>
    /// <param name="nngp">Also the NNGP's mean.</param>
    /// <param name="nngpStd">Also the NNGP's standard deviation (needs <paramref name="nngp"/>).</param>
    public EmpiricalMonteCarloSource(MlpArchitecture architecture, Matrix x, Matrix? x2, int samples, ulong seed,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, EmpiricalMethod method = EmpiricalMethod.Structured,
        bool ntkStd = true, bool nngp = true, bool nngpStd = true)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(x);
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "samples (number of initialisations) must be at least 1.");
        if (x.Cols != architecture.InputWidth) throw new ArgumentException($"x has {x.Cols} features per point, the network takes {architecture.InputWidth}.", nameof(x));
        if (x.Rows < 1) throw new ArgumentException("x has no points.", nameof(x));
        if (x2 is not null && x2.Cols != architecture.InputWidth) throw new ArgumentException($"x2 has {x2.Cols} features per point, the network takes {architecture.InputWidth}.", nameof(x2));
        if (x2 is not null && x2.Rows < 1) throw new ArgumentException("x2 has no points.", nameof(x2));
        if ((uint)trainableFrom >= (uint)architecture.Depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom must be in [0, {architecture.Depth - 1}].");
        if (nngpStd && !nngp) throw new ArgumentException("the NNGP's std needs its mean", nameof(nngpStd));
        _a = architecture;
        _x = x;
        _x2 = x2 ?? x;
        _samples = samples;
        _seed = seed;
        _ntkStd = ntkStd;
        _nngp = nngp;
        _nngpStd = nngpStd;
        _kernel = new EmpiricalBlockKernel<T>(architecture, trainableFrom, outputs, method, nngp);
        _ntkEntry = outputs == EmpiricalOutputs.Full ? [architecture.OutputWidth, architecture.OutputWidth] : [];
        IsSymmetric = x2 is null;
    }

    public int Rows => _x.Rows;
    public int Cols => _x2.Rows;
    public bool IsSymmetric { get; }
    public int Outputs => 1 + (_ntkStd ? 1 : 0) + (_nngp ? 1 : 0) + (_nngpStd ? 1 : 0);

    public IReadOnlyList<int> EntryShape(int output) => output < (_ntkStd ? 2 : 1) ? _ntkEntry : [];

    /// <summary>Nothing beyond the inputs the caller holds: every network's features are per block.</summary>
    public long FixedBytes => 0;

    /// <summary>One network's parameters, the features of the block's points, one network's block kernels, and the scratch.</summary>
    public long WorkspaceBytes(int rows, int cols)
    {
        long n = (long)rows * cols;
        return ((long)_a.ParameterCount * Unsafe.SizeOf<T>()) + (_kernel.FeatureBytesPerPoint * ((long)rows + cols))
            + _kernel.FeatureScratchBytes(Math.Max(rows, cols)) + _kernel.BlockBytes(rows, cols)
            + (n * (_kernel.NtkEntry + (_nngp ? 1 : 0)) * sizeof(double) * (_ntkStd ? 1 : 2));
    }

    private sealed class Worker(MlpArchitecture a)
    {
        public readonly Mlp<T> Net = new(a, new T[a.ParameterCount]);
        public readonly EmpiricalBlockKernel<T>.Scratch Scratch = new();
        public EmpiricalFeatures<T>? Rows, Cols;
        public double[] Ntk = [], Nngp = [], NtkM2 = [], NngpM2 = [];
    }

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        if (row0 < 0 || rows < 1 || row0 + rows > Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"rows {row0}:{row0 + rows} outside 0:{Rows}");
        if (col0 < 0 || cols < 1 || col0 + cols > Cols) throw new ArgumentOutOfRangeException(nameof(cols), $"cols {col0}:{col0 + cols} outside 0:{Cols}");
        int n = rows * cols, ne = n * _kernel.NtkEntry;
        long need = ((long)ne * (_ntkStd ? 2 : 1)) + ((_nngp ? n : 0) * (_nngpStd ? 2L : 1L));
        if (destination.Length < need) throw new ArgumentException($"destination needs {need} elements", nameof(destination));
        if (!_workers.TryTake(out Worker? w)) w = new Worker(_a);
        try
        {
            Compute(w, row0, rows, col0, cols, destination, n, ne);
        }
        finally
        {
            _workers.Add(w);
        }
    }

    private void Compute(Worker w, int row0, int rows, int col0, int cols, Span<double> destination, int n, int ne)
    {
        int at = 0;
        Span<double> ntkMean = destination.Slice(at, ne); at += ne;
        Span<double> ntkM2 = _ntkStd ? destination.Slice(at, ne) : default; if (_ntkStd) at += ne;
        Span<double> nngpMean = _nngp ? destination.Slice(at, n) : default; if (_nngp) at += n;
        Span<double> nngpM2 = _nngpStd ? destination.Slice(at, n) : default;
        ntkMean.Clear(); ntkM2.Clear(); nngpMean.Clear(); nngpM2.Clear();
        if (w.Ntk.Length < ne) w.Ntk = new double[ne];
        if (_nngp && w.Nngp.Length < n) w.Nngp = new double[n];
        Span<double> ntk = w.Ntk.AsSpan(0, ne), nngp = _nngp ? w.Nngp.AsSpan(0, n) : default;
        if (w.Rows is null || w.Rows.Capacity < rows) w.Rows = _kernel.Allocate(rows);
        bool diag = IsSymmetric && row0 == col0 && rows == cols;
        if (!diag && (w.Cols is null || w.Cols.Capacity < cols)) w.Cols = _kernel.Allocate(cols);
        for (int s = 0; s < _samples; s++)
        {
            // Network s exactly as EmpiricalMonteCarlo draws it (FillParallel is thread-count independent).
            GaussianStream.FillParallel(unchecked(_seed + (ulong)s), 0, w.Net.Parameters);
            _kernel.Fill(w.Net, _x, row0, rows, w.Rows, w.Scratch, Communicator.Single);
            if (!diag) _kernel.Fill(w.Net, _x2, col0, cols, w.Cols!, w.Scratch, Communicator.Single);
            _kernel.Block(w.Rows, 0, rows, diag ? w.Rows : w.Cols!, 0, cols, diag, w.Scratch, ntk, nngp);
            Accumulate(s + 1, ntk, ntkMean, ntkM2);
            if (_nngp) Accumulate(s + 1, nngp, nngpMean, nngpM2);
        }
        if (_ntkStd) EmpiricalMonteCarlo.FinishStd(_samples, ntkM2);
        if (_nngpStd) EmpiricalMonteCarlo.FinishStd(_samples, nngpM2);
    }

    // EmpiricalMonteCarlo's Welford step; without M2 the mean's arithmetic is the same.
    private static void Accumulate(int count, ReadOnlySpan<double> v, Span<double> mean, Span<double> m2)
    {
        if (!m2.IsEmpty)
        {
            EmpiricalMonteCarlo.Welford(count, v, mean, m2);
            return;
        }
        double inv = 1.0 / count;
        for (int i = 0; i < v.Length; i++) mean[i] += (v[i] - mean[i]) * inv;
    }
}
