using NtkFast.Tiling;

namespace NtkFast.Architectures;

/// <summary>
/// Blocks of an architecture's Θ and/or Σ for <see cref="TiledKernelWriter"/> (out of core, MPI): the NTK first,
/// then the NNGP, as <see cref="AnalyticKernelSource"/>. Each block runs on the calling thread; one
/// <see cref="PairRecursion"/> per concurrent caller is reused.
/// </summary>
public sealed class ArchKernelSource : IKernelBlockSource
{
    private readonly ArchitectureKernels.Plan _plan;
    private readonly bool _ntk, _nngp;
    private readonly System.Collections.Concurrent.ConcurrentBag<PairEngine[]> _engines = [];

    public ArchKernelSource(Architecture arch, ImageSet x, ImageSet? x2, bool ntk, bool nngp)
    {
        ArgumentNullException.ThrowIfNull(arch);
        ArgumentNullException.ThrowIfNull(x);
        if (!ntk && !nngp) throw new ArgumentException("Nothing to compute: neither NTK nor NNGP wanted.", nameof(ntk));
        _plan = ArchitectureKernels.Plan.Create(arch, x, x2);
        _ntk = ntk;
        _nngp = nngp;
    }

    public int Rows => _plan.X.Count;
    public int Cols => _plan.X2.Count;
    public bool IsSymmetric => _plan.Symmetric;
    public int Outputs => (_ntk ? 1 : 0) + (_nngp ? 1 : 0);
    public long FixedBytes => ((long)_plan.X.Data.Length + (IsSymmetric ? 0 : _plan.X2.Data.Length)) * sizeof(double);

    public long WorkspaceBytes(int rows, int cols) =>
        _plan.WorkerBytes + ((long)rows + cols) * Math.Max(1, _plan.Program!.VarLength) * sizeof(double) + 2L * rows * cols * sizeof(double);

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        int n = rows * cols;
        if (!_engines.TryTake(out PairEngine[]? engines)) engines = new PairEngine[1];
        try
        {
            Span<double> ntk = _ntk ? destination[..n] : default;
            Span<double> nngp = _nngp ? destination.Slice(_ntk ? n : 0, n) : default;
            _plan.Block(row0, rows, col0, cols, nngp, ntk, cols, workers: 1, engines);
        }
        finally { _engines.Add(engines); }
    }
}
