using System.Numerics;
using System.Runtime.InteropServices;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Tiling;

/// <summary>
/// The empirical NTK Θ̂ (trace over outputs, (1/nL)·Σ_k Θ̂_kk) and optionally the empirical NNGP of one
/// network as an <see cref="IKernelBlockSource"/>. Outputs in order: NTK, then NNGP (if wanted).
/// </summary>
/// <remarks>
/// The per-point features of the structured formula (docs/design.md §1) — activations α(l)(x) for the
/// trainable layers and the stacked cotangents [δ(l+1)_0(x) | … | δ(l+1)_(nL−1)(x)] — are computed once for
/// every point (forward and backward passes in batches of <see cref="FeatureBatch"/> points) and kept:
/// N·Σ_l (n_l + nL·n_(l+1)) values of the network's precision, O(N), never O(N²). A block is then the
/// same per-layer chain as <see cref="EmpiricalKernel.ComputeStructured"/>: G = σw²/n_l·A Aᵀ and
/// D = (1/nL)·C Cᵀ on the block's rows and columns, ntk = fma(G + β², D, ntk) layer by layer, the last
/// layer adding G + β² (which is the NNGP). Bitwise the same block of the full matrix because every piece
/// is position-independent: the GEMM engine gives the same c_ij for the same two rows wherever they sit
/// and whichever of Syrk/Cross/Multiply computes it, the forward/backward GEMMs likewise per point, and
/// the element-wise accumulation is one FMA chain per entry.
/// </remarks>
public sealed class EmpiricalKernelSource<T> : IKernelBlockSource where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Points per forward/backward batch while the features are built (bounds that workspace).</summary>
    public const int FeatureBatch = 512;

    private readonly MlpArchitecture _a;
    private readonly int _trainableFrom;
    private readonly bool _nngp;
    private readonly T[][] _actX, _actX2, _cotX, _cotX2;
    private readonly long _featureBytes;
    private readonly System.Collections.Concurrent.ConcurrentBag<T[]> _workspaces = [];

    /// <param name="network">The network (its precision T is used for the GEMMs; kernels are float64).</param>
    /// <param name="x">Points (rows), converted to T as <see cref="EmpiricalKernel.Compute{T}(Mlp{T}, Matrix, Matrix?, EmpiricalOutputs, int, bool, EmpiricalMethod)"/> does.</param>
    /// <param name="x2">Column points, or null for x itself (symmetric).</param>
    /// <param name="trainableFrom">First K weight layers frozen (0 … L−1).</param>
    /// <param name="nngp">Also the empirical NNGP (second output).</param>
    public EmpiricalKernelSource(Mlp<T> network, Matrix x, Matrix? x2, int trainableFrom = 0, bool nngp = false)
        : this(network, x, x2, trainableFrom, nngp, Communicator.Single)
    {
    }

    /// <summary>
    /// Collective over <paramref name="comm"/>: every rank computes the features of the point batches
    /// b ≡ rank (mod P) only, then each batch is broadcast (as bytes) from its owner, so every rank holds the
    /// same bits as a single process would compute, for 1/P of the forward/backward work.
    /// </summary>
    public EmpiricalKernelSource(Mlp<T> network, Matrix x, Matrix? x2, int trainableFrom, bool nngp, Communicator comm)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(x);
        _a = network.Architecture;
        if (x.Cols != _a.InputWidth) throw new ArgumentException($"x has {x.Cols} features per point, the network takes {_a.InputWidth}.", nameof(x));
        if (x.Rows < 1) throw new ArgumentException("x has no points.", nameof(x));
        if (x2 is not null && x2.Cols != _a.InputWidth) throw new ArgumentException($"x2 has {x2.Cols} features per point, the network takes {_a.InputWidth}.", nameof(x2));
        if (x2 is not null && x2.Rows < 1) throw new ArgumentException("x2 has no points.", nameof(x2));
        if ((uint)trainableFrom >= (uint)_a.Depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom (frozen first layers) must be in [0, {_a.Depth - 1}].");
        _trainableFrom = trainableFrom;
        _nngp = nngp;
        IsSymmetric = x2 is null;
        Rows = x.Rows;
        Cols = x2?.Rows ?? x.Rows;
        (_actX, _cotX) = Features(network, x, comm);
        (_actX2, _cotX2) = x2 is null ? (_actX, _cotX) : Features(network, x2, comm);
        long values = 0;
        for (int l = 0; l < _a.Depth; l++)
        {
            values += _actX[l].LongLength + _cotX[l].LongLength;
            if (!IsSymmetric) values += _actX2[l].LongLength + _cotX2[l].LongLength;
        }
        _featureBytes = values * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    }

    public int Rows { get; }
    public int Cols { get; }
    public bool IsSymmetric { get; }
    public int Outputs => _nngp ? 2 : 1;

    /// <summary>The per-point features of both point sets (the batch workspace used while building them is transient).</summary>
    public long FixedBytes => _featureBytes;

    /// <summary>Two rows×cols Gram blocks of T (activations and cotangents).</summary>
    public long WorkspaceBytes(int rows, int cols) => 2L * rows * cols * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>Bytes of features a source for these point counts holds (for memory planning before building it).</summary>
    public static long FeatureBytes(MlpArchitecture architecture, int trainableFrom, int points)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        long perPoint = 0;
        for (int l = trainableFrom; l < architecture.Depth; l++)
        {
            perPoint += architecture.Width(l);
            if (l + 1 < architecture.Depth) perPoint += (long)architecture.OutputWidth * architecture.Width(l + 1);
        }
        return perPoint * points * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    }

    private (T[][] Act, T[][] Cot) Features(Mlp<T> net, Matrix points, Communicator comm)
    {
        int n = points.Rows, d = _a.InputWidth, depth = _a.Depth, q = _a.OutputWidth;
        var act = new T[depth][];
        var cot = new T[depth][];
        for (int l = 0; l < depth; l++)
        {
            long a = l >= _trainableFrom ? (long)n * _a.Width(l) : 0;
            long c = l > _trainableFrom ? (long)n * q * _a.Width(l) : 0;
            if (a > Array.MaxLength || c > Array.MaxLength)
                throw new ArgumentException($"{n} points are too many for one feature array of layer {l}.", nameof(points));
            act[l] = new T[a];
            cot[l] = new T[c];
        }
        T[] xs = new T[(long)Math.Min(n, FeatureBatch) * d];
        var ws = new MlpWorkspace<T>(_a, Math.Min(n, FeatureBatch));
        int rank = comm.Rank, ranks = comm.Size, batches = (n + FeatureBatch - 1) / FeatureBatch;
        for (int j = rank; j < batches; j += ranks)
        {
            int first = j * FeatureBatch, b = Math.Min(FeatureBatch, n - first);
            Span<T> xb = xs.AsSpan(0, b * d);
            ReadOnlySpan<double> src = points.Data.AsSpan(first * d, b * d);
            for (int i = 0; i < xb.Length; i++) xb[i] = T.CreateTruncating(src[i]);
            net.Forward(xb, ws);
            for (int l = _trainableFrom; l < depth; l++)
            {
                int w = _a.Width(l);
                ws.Activation(l, xb)[..(b * w)].CopyTo(act[l].AsSpan(first * w));
            }
            EmpiricalKernel.StoreCotangents(net, ws, _trainableFrom, cot, b, first);
        }
        if (ranks > 1)
        {
            // Every batch from its owner, byte for byte (no arithmetic: the bits are the owner's).
            for (int j = 0; j < batches; j++)
            {
                int first = j * FeatureBatch, b = Math.Min(FeatureBatch, n - first);
                for (int l = _trainableFrom; l < depth; l++)
                {
                    int w = _a.Width(l);
                    comm.Broadcast(MemoryMarshal.AsBytes(act[l].AsSpan(first * w, b * w)), j % ranks);
                    if (cot[l].Length > 0)
                        comm.Broadcast(MemoryMarshal.AsBytes(cot[l].AsSpan((int)((long)first * q * w), b * q * w)), j % ranks);
                }
            }
        }
        return (act, cot);
    }

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        if (row0 < 0 || rows < 1 || row0 + rows > Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"rows {row0}:{row0 + rows} outside 0:{Rows}");
        if (col0 < 0 || cols < 1 || col0 + cols > Cols) throw new ArgumentOutOfRangeException(nameof(cols), $"cols {col0}:{col0 + cols} outside 0:{Cols}");
        int n = rows * cols;
        if (destination.Length < Outputs * n) throw new ArgumentException($"destination needs {Outputs * n} elements", nameof(destination));
        if (!_workspaces.TryTake(out T[]? ws) || ws.Length < 2 * n) ws = new T[2 * n];
        try
        {
            Span<double> ntk = destination[..n];
            Span<double> nngp = _nngp ? destination.Slice(n, n) : default;
            Block(row0, rows, col0, cols, ws.AsSpan(0, n), ws.AsSpan(n, n), ntk, nngp);
        }
        finally
        {
            _workspaces.Add(ws);
        }
    }

    // The trace path of EmpiricalKernel.ComputeStructured, restricted to rows × cols.
    private void Block(int row0, int rows, int col0, int cols, Span<T> gT, Span<T> dT, Span<double> ntk, Span<double> nngp)
    {
        int depth = _a.Depth, q = _a.OutputWidth;
        // A diagonal block of a symmetric kernel is a Gram matrix of one point set: one triangle of work.
        bool diag = IsSymmetric && row0 == col0 && rows == cols;
        double beta2 = _a.Beta * _a.Beta, sw2 = _a.WeightStd * _a.WeightStd;
        ntk.Clear();
        for (int l = _trainableFrom; l < depth; l++)
        {
            int nl = _a.Width(l);
            ReadOnlySpan<T> ar = _actX[l].AsSpan(row0 * nl, rows * nl);
            if (diag) EmpiricalKernel.SyrkT(rows, nl, sw2 / nl, ar, nl, gT);
            else EmpiricalKernel.CrossT(rows, cols, nl, sw2 / nl, ar, nl, _actX2[l].AsSpan(col0 * nl, cols * nl), nl, gT);
            if (l == depth - 1)
            {
                KernelAccumulate.AddShifted<T>(ntk, gT, beta2, nngp);
                continue;
            }
            int qw = q * _a.Width(l + 1);
            ReadOnlySpan<T> cr = _cotX[l + 1].AsSpan((int)((long)row0 * qw), rows * qw);
            if (diag) EmpiricalKernel.SyrkT(rows, qw, 1.0 / q, cr, qw, dT);
            else EmpiricalKernel.CrossT(rows, cols, qw, 1.0 / q, cr, qw, _cotX2[l + 1].AsSpan((int)((long)col0 * qw), cols * qw), qw, dT);
            KernelAccumulate.AddProduct<T>(ntk, gT, beta2, dT);
        }
    }
}
