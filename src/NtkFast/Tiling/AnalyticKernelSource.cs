using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Tiling;

/// <summary>
/// The infinite-width Θ(L) and/or Σ(L) as an <see cref="IKernelBlockSource"/>: each block comes from
/// <see cref="InfiniteWidth.ComputeBlock(KernelSpec, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, int, int, int, int, int, Span{double}, Span{double}, int, Span{double}, Span{double})"/>,
/// which is bitwise the same block of the full matrices. Outputs in order: NTK (if wanted), then NNGP (if wanted).
/// Each block runs on the calling thread (a one-worker workspace); the tiled writer supplies the parallelism.
/// </summary>
public sealed class AnalyticKernelSource : IKernelBlockSource
{
    private readonly KernelSpec _spec;
    private readonly Matrix _x, _x2;
    private readonly bool _ntk, _nngp;
    // One workspace per concurrent caller, reused: tiles share a size, so after the first tile of each
    // thread nothing is allocated (bounded memory, no GC churn).
    private readonly System.Collections.Concurrent.ConcurrentBag<double[]> _workspaces = [];

    /// <param name="spec">Network and activation.</param>
    /// <param name="x">Points (rows).</param>
    /// <param name="x2">Column points, or null for x itself (the symmetric case).</param>
    /// <param name="ntk">Compute Θ(L).</param>
    /// <param name="nngp">Compute Σ(L).</param>
    public AnalyticKernelSource(KernelSpec spec, Matrix x, Matrix? x2, bool ntk, bool nngp)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(x);
        if (!ntk && !nngp) throw new ArgumentException("Nothing to compute: neither NTK nor NNGP wanted.", nameof(ntk));
        if (x2 is not null && x2.Cols != x.Cols) throw new ArgumentException($"x2 has {x2.Cols} features per point, x has {x.Cols}.", nameof(x2));
        _spec = spec;
        _x = x;
        _x2 = x2 ?? x;
        _ntk = ntk;
        _nngp = nngp;
        IsSymmetric = x2 is null;
    }

    public int Rows => _x.Rows;
    public int Cols => _x2.Rows;
    public bool IsSymmetric { get; }
    public int Outputs => (_ntk ? 1 : 0) + (_nngp ? 1 : 0);
    public long FixedBytes => ((long)_x.Data.Length + (IsSymmetric ? 0 : _x2.Data.Length)) * sizeof(double);

    public long WorkspaceBytes(int rows, int cols) => InfiniteWidth.GetWorkspaceLength(_spec, rows, cols, false, workers: 1) * sizeof(double);

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        int n = rows * cols;
        long need = InfiniteWidth.GetWorkspaceLength(_spec, rows, cols, false, workers: 1);
        if (!_workspaces.TryTake(out double[]? ws) || ws.Length < need) ws = new double[need];
        try
        {
            Span<double> ntk = _ntk ? destination[..n] : default;
            Span<double> nngp = _nngp ? destination.Slice(_ntk ? n : 0, n) : default;
            InfiniteWidth.ComputeBlock(_spec, _x.Data, _x.Rows, _x2.Data, _x2.Rows, _x.Cols, row0, rows, col0, cols,
                nngp, ntk, cols, ws.AsSpan(0, (int)need));
        }
        finally
        {
            _workspaces.Add(ws);
        }
    }
}
