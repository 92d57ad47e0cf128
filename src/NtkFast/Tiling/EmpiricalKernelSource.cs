using System.Numerics;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Tiling;

/// <summary>
/// The empirical NTK Θ̂ and optionally the empirical NNGP of one network as an <see cref="IKernelBlockSource"/>:
/// the trace over outputs ((1/nL)·Σ_k Θ̂_kk, scalar entries) or every output pair (entries nL×nL, a file of shape
/// (N, M, nL, nL)), by the structured formula or the per-sample Jacobian reference. Outputs in order: NTK, then
/// NNGP (if wanted).
/// </summary>
/// <remarks>
/// The per-point features of the structured formula (docs/design.md §1) — activations α(l)(x) for the
/// trainable layers and the stacked cotangents [δ(l+1)_0(x) | … | δ(l+1)_(nL−1)(x)] — are computed once for
/// every point (forward and backward passes in batches of <see cref="FeatureBatch"/> points) and kept:
/// N·Σ_l (n_l + nL·n_(l+1)) values of the network's precision, O(N), never O(N²). A block is then the
/// same per-layer chain as <see cref="EmpiricalKernel.ComputeStructured"/>: G = σw²/n_l·A Aᵀ and
/// D = (1/nL)·C Cᵀ on the block's rows and columns, ntk = fma(G + β², D, ntk) layer by layer, the last
/// layer adding G + β² (which is the NNGP); for every output pair the same chain per pair (k, k′) in float64.
/// The reference keeps J[(i,k), p] (N·nL·P doubles, as the in-memory reference) and a block is J_r·J_cᵀ.
/// Bitwise the same block of the full matrix because every piece is position-independent: the GEMM engine
/// gives the same c_ij for the same two rows wherever they sit and whichever of Syrk/Cross/Multiply computes
/// it, the forward/backward GEMMs likewise per point, and the element-wise accumulation is one FMA chain per entry.
/// </remarks>
public sealed class EmpiricalKernelSource<T> : IKernelBlockSource where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Points per forward/backward batch while the features are built (bounds that workspace).</summary>
    public const int FeatureBatch = EmpiricalBlockKernel<T>.FeatureBatch;

    private readonly MlpArchitecture _a;
    private readonly bool _nngp;
    private readonly EmpiricalBlockKernel<T> _kernel;
    private readonly EmpiricalFeatures<T> _fx, _fx2;
    private readonly long _featureBytes;
    private readonly IReadOnlyList<int> _ntkEntry;
    private readonly System.Collections.Concurrent.ConcurrentBag<EmpiricalBlockKernel<T>.Scratch> _workspaces = [];

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
        : this(network, x, x2, trainableFrom, nngp, comm, EmpiricalOutputs.Trace)
    {
    }

    /// <summary>
    /// As the collective constructor, for the trace or every output pair (<paramref name="outputs"/>) by the
    /// structured formula or the per-sample Jacobian reference (<paramref name="method"/>): blocks are bitwise
    /// those of <see cref="EmpiricalKernel.Compute{T}(Mlp{T}, Matrix, Matrix?, EmpiricalOutputs, int, bool, EmpiricalMethod)"/>
    /// with the same arguments.
    /// </summary>
    public EmpiricalKernelSource(Mlp<T> network, Matrix x, Matrix? x2, int trainableFrom, bool nngp, Communicator comm,
        EmpiricalOutputs outputs, EmpiricalMethod method = EmpiricalMethod.Structured)
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
        if (outputs is not (EmpiricalOutputs.Trace or EmpiricalOutputs.Full)) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "not trace or full");
        if (method is not (EmpiricalMethod.Structured or EmpiricalMethod.Jacobian)) throw new ArgumentOutOfRangeException(nameof(method), method, "not structured or Jacobian");
        _nngp = nngp;
        _kernel = new EmpiricalBlockKernel<T>(_a, trainableFrom, outputs, method, nngp);
        _ntkEntry = outputs == EmpiricalOutputs.Full ? [_a.OutputWidth, _a.OutputWidth] : [];
        IsSymmetric = x2 is null;
        Rows = x.Rows;
        Cols = x2?.Rows ?? x.Rows;
        var scratch = new EmpiricalBlockKernel<T>.Scratch();
        _fx = _kernel.Allocate(x.Rows);
        _kernel.Fill(network, x, 0, x.Rows, _fx, scratch, comm);
        if (x2 is null) _fx2 = _fx;
        else
        {
            _fx2 = _kernel.Allocate(x2.Rows);
            _kernel.Fill(network, x2, 0, x2.Rows, _fx2, scratch, comm);
        }
        _featureBytes = _fx.Bytes + (IsSymmetric ? 0 : _fx2.Bytes);
    }

    public int Rows { get; }
    public int Cols { get; }
    public bool IsSymmetric { get; }
    public int Outputs => _nngp ? 2 : 1;

    /// <summary>The NTK's entries: nL×nL for every output pair, else scalars; the NNGP's are scalars.</summary>
    public IReadOnlyList<int> EntryShape(int output) => output == 0 ? _ntkEntry : [];

    /// <summary>The per-point features of both point sets (the batch workspace used while building them is transient).</summary>
    public long FixedBytes => _featureBytes;

    /// <summary>The Gram blocks of T (activations and cotangents; float64 copies for every output pair; J_r·J_cᵀ for the reference).</summary>
    public long WorkspaceBytes(int rows, int cols) => _kernel.BlockBytes(rows, cols);

    /// <summary>Bytes of features a trace, structured source for these point counts holds (for memory planning before building it).</summary>
    public static long FeatureBytes(MlpArchitecture architecture, int trainableFrom, int points) =>
        FeatureBytes(architecture, trainableFrom, points, EmpiricalMethod.Structured, nngp: false);

    /// <summary>Bytes of features a source of this method holds for these point counts (for memory planning before building it).</summary>
    public static long FeatureBytes(MlpArchitecture architecture, int trainableFrom, int points, EmpiricalMethod method, bool nngp)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return new EmpiricalBlockKernel<T>(architecture, trainableFrom, EmpiricalOutputs.Trace, method, nngp).FeatureBytesPerPoint * points;
    }

    public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
    {
        if (row0 < 0 || rows < 1 || row0 + rows > Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"rows {row0}:{row0 + rows} outside 0:{Rows}");
        if (col0 < 0 || cols < 1 || col0 + cols > Cols) throw new ArgumentOutOfRangeException(nameof(cols), $"cols {col0}:{col0 + cols} outside 0:{Cols}");
        int n = rows * cols, e = _kernel.NtkEntry;
        long need = ((long)n * e) + (_nngp ? n : 0);
        if (destination.Length < need) throw new ArgumentException($"destination needs {need} elements", nameof(destination));
        if (!_workspaces.TryTake(out EmpiricalBlockKernel<T>.Scratch? ws)) ws = new EmpiricalBlockKernel<T>.Scratch();
        try
        {
            // A diagonal block of a symmetric kernel is a Gram matrix of one point set: one triangle of work.
            bool diag = IsSymmetric && row0 == col0 && rows == cols;
            Span<double> ntk = destination[..(n * e)];
            Span<double> nngp = _nngp ? destination.Slice(n * e, n) : default;
            _kernel.Block(_fx, row0, rows, _fx2, col0, cols, diag, ws, ntk, nngp);
        }
        finally
        {
            _workspaces.Add(ws);
        }
    }
}
