using NtkFast.Numerics;
using NtkFast.Tiling;

namespace NtkFast.Architectures;

/// <summary>
/// Blocks of the empirical NTK and NNGP of finite <see cref="ArchitectureNetwork"/>s for <see cref="KernelOutput.Write"/>
/// (in memory as one tile, out of core, MPI): one network, or the mean (and sample standard deviation) over K
/// networks drawn with seeds S … S+K−1. Outputs, in this order, those asked for: mean NTK, mean NNGP, NTK std,
/// NNGP std. Each block computes the per-sample Jacobians of its rows and columns only (memory
/// (rows + cols)·K_out·P) and folds the networks in seed order (Welford), so every block is bitwise the same
/// whatever the tiling, the thread count or the number of MPI ranks. With <c>trainableFrom</c> = K the NTK sums
/// over the parameters of affine layers K … only (the first K frozen, as for training); the networks run in their
/// own precision (float32 networks: float32 Jacobians and products, results in float64).
/// </summary>
public sealed class ArchEmpiricalSource : IKernelBlockSource
{
    private readonly ArchitectureNetwork[] _nets;
    private readonly ImageSet _x, _x2;
    private readonly bool _ntk, _nngp, _ntkStd, _nngpStd;
    private readonly int _trainableFrom;

    /// <summary>
    /// K networks of <paramref name="architecture"/> (seeds <paramref name="seed"/> + s, in float32 when
    /// <paramref name="float32"/>) on <paramref name="x"/> against <paramref name="x2"/> (null: x).
    /// </summary>
    public ArchEmpiricalSource(Architecture architecture, ulong seed, int networks, ImageSet x, ImageSet? x2,
        bool ntk, bool nngp, bool ntkStd = false, bool nngpStd = false, int trainableFrom = 0, bool float32 = false)
        : this(Draw(architecture, seed, networks, x, float32), x, x2, ntk, nngp, ntkStd, nngpStd, trainableFrom)
    {
    }

    /// <summary>The given networks (all of one architecture, input shape and precision).</summary>
    public ArchEmpiricalSource(IReadOnlyList<ArchitectureNetwork> networks, ImageSet x, ImageSet? x2,
        bool ntk, bool nngp, bool ntkStd = false, bool nngpStd = false, int trainableFrom = 0)
    {
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(x);
        if (networks.Count == 0) throw new ArgumentException("no networks", nameof(networks));
        if (!ntk && !nngp) throw new ArgumentException("Nothing to compute: neither NTK nor NNGP wanted.", nameof(ntk));
        if ((ntkStd && !ntk) || (nngpStd && !nngp)) throw new ArgumentException("a standard deviation needs its mean", nameof(ntkStd));
        _nets = [.. networks];
        _x = x;
        _x2 = x2 ?? x;
        IsSymmetric = x2 is null;
        _ntk = ntk; _nngp = nngp; _ntkStd = ntkStd; _nngpStd = nngpStd;
        _trainableFrom = trainableFrom;
        _ = _nets[0].TrainableOffset(trainableFrom); // ArgumentOutOfRangeException now, not in a block
        // shapes and the NNGP's readout are checked now, on one point, not in the middle of a run
        ImageSet probe = Slice(x, 0, Math.Min(1, x.Count));
        (_, Matrix? g) = _nets[0].EmpiricalKernel(probe, x2 is null ? null : Slice(x2, 0, Math.Min(1, x2.Count)), trainableFrom);
        if (nngp && g is null) throw new ArchitectureException("the architecture does not end with a dense readout, so it has no empirical NNGP of its last features");
    }

    private static ArchitectureNetwork[] Draw(Architecture architecture, ulong seed, int networks, ImageSet x, bool float32)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(networks, 1);
        var nets = new ArchitectureNetwork[networks];
        for (int s = 0; s < networks; s++)
            nets[s] = float32
                ? ArchitectureNetwork<float>.Initialize(architecture, x.Height, x.Width, x.Channels, seed + (ulong)s)
                : ArchitectureNetwork.Initialize(architecture, x.Height, x.Width, x.Channels, seed + (ulong)s);
        return nets;
    }

    public int Rows => _x.Count;
    public int Cols => _x2.Count;
    public bool IsSymmetric { get; }
    public int Outputs => (_ntk ? 1 : 0) + (_nngp ? 1 : 0) + (_ntkStd ? 1 : 0) + (_nngpStd ? 1 : 0);

    /// <summary>The inputs and every network's parameters.</summary>
    public long FixedBytes => ((long)_x.Data.Length + (IsSymmetric ? 0 : _x2.Data.Length)) * sizeof(double) + (long)_nets.Length * _nets[0].ParameterCount * Element;

    private int Element => _nets[0].IsFloat32 ? sizeof(float) : sizeof(double);

    /// <summary>The Jacobians of the block's rows and columns, the product of all outputs, and the Welford state.</summary>
    public long WorkspaceBytes(int rows, int cols)
    {
        long k = _nets[0].Outputs, p = _nets[0].ParameterCount;
        return ((rows + (long)cols) * k * p + rows * (long)cols * k * k) * Element + rows * (long)cols * 6 * sizeof(double);
    }

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        int n = rows * cols;
        ImageSet xr = Slice(_x, row0, rows), xc = Slice(_x2, col0, cols);
        var mean = new double[n]; var m2 = new double[n]; var meanS = new double[n]; var m2S = new double[n];
        for (int s = 0; s < _nets.Length; s++)
        {
            (Matrix t, Matrix? g) = _nets[s].EmpiricalKernel(xr, xc, _trainableFrom);
            Welford(mean, m2, t.Data, s);
            if (_nngp) Welford(meanS, m2S, g!.Data, s);
        }
        int o = 0;
        if (_ntk) { mean.CopyTo(destination.Slice(o, n)); o += n; }
        if (_nngp) { meanS.CopyTo(destination.Slice(o, n)); o += n; }
        if (_ntkStd) { Std(m2, destination.Slice(o, n)); o += n; }
        if (_nngpStd) Std(m2S, destination.Slice(o, n));
    }

    private void Std(double[] m2, Span<double> dst)
    {
        int k = _nets.Length;
        for (int i = 0; i < dst.Length; i++) dst[i] = k > 1 ? Math.Sqrt(m2[i] / (k - 1)) : 0;
    }

    /// <summary>Welford's update of the running mean and sum of squared deviations with sample number <paramref name="s"/> (0-based).</summary>
    internal static void Welford(double[] mean, double[] m2, double[] v, int s)
    {
        for (int i = 0; i < mean.Length; i++)
        {
            double d = v[i] - mean[i];
            mean[i] += d / (s + 1);
            m2[i] += d * (v[i] - mean[i]);
        }
    }

    private static ImageSet Slice(ImageSet x, int first, int count) =>
        first == 0 && count == x.Count ? x : new ImageSet(x.Data.AsSpan(first * x.Stride, count * x.Stride).ToArray(), count, x.Height, x.Width, x.Channels);
}
