using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NtkFast.Empirical;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Tiling;

/// <summary>
/// Per-point features of one network on a run of points (local index 0 … Count−1), from which any block of
/// its empirical kernels is computed: for the structured formula the activations α(l) of the trainable layers
/// and the stacked cotangents [δ(l+1)_0 | … | δ(l+1)_(nL−1)] (network precision); for the reference method the
/// per-sample Jacobian rows J[(i,k), p] and the last hidden activations (float64).
/// </summary>
internal sealed class EmpiricalFeatures<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public EmpiricalFeatures(int capacity) => Capacity = capacity;

    /// <summary>Points the arrays hold.</summary>
    public int Capacity { get; }

    public T[][] Act { get; set; } = [];
    public T[][] Cot { get; set; } = [];
    public double[] Jacobian { get; set; } = [];
    public double[] Hidden { get; set; } = [];

    /// <summary>Bytes of the arrays.</summary>
    public long Bytes
    {
        get
        {
            long v = 0;
            foreach (T[] a in Act) v += a.LongLength;
            foreach (T[] c in Cot) v += c.LongLength;
            return (v * Unsafe.SizeOf<T>()) + ((Jacobian.LongLength + Hidden.LongLength) * sizeof(double));
        }
    }
}

/// <summary>
/// The empirical NTK / NNGP of one network for any block of rows × columns, from per-point features
/// (<see cref="EmpiricalFeatures{T}"/>): the in-memory code's arithmetic (<see cref="EmpiricalKernel.ComputeStructured"/>
/// for the trace and every-output-pair kernels, its Jacobian reference for <see cref="EmpiricalMethod.Jacobian"/>)
/// restricted to the block, so the block is bitwise the same block of the whole matrices: every piece is
/// position-independent (the GEMM engine's c_ij depends only on the two rows, whichever of Syrk/Cross/Multiply
/// computes it; the forward/backward passes are per point; the element-wise steps are per entry).
/// Shared by the one-network source (features of every point, kept) and the Monte Carlo source (features of a
/// block's points, recomputed per network).
/// </summary>
internal sealed class EmpiricalBlockKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Points per forward/backward batch while features are built (bounds that workspace).</summary>
    public const int FeatureBatch = 512;

    private const int ChunkDoubles = 1 << 26; // 512 MiB per broadcast

    private readonly MlpArchitecture _a;
    private readonly int _trainableFrom, _q;
    private readonly bool _full, _jacobian, _nngp;

    public EmpiricalBlockKernel(MlpArchitecture architecture, int trainableFrom, EmpiricalOutputs outputs, EmpiricalMethod method, bool nngp)
    {
        _a = architecture;
        _trainableFrom = trainableFrom;
        _q = architecture.OutputWidth;
        _full = outputs == EmpiricalOutputs.Full;
        _jacobian = method == EmpiricalMethod.Jacobian;
        _nngp = nngp;
    }

    /// <summary>Values of one NTK entry: nL² for every output pair, else 1.</summary>
    public int NtkEntry => _full ? _q * _q : 1;

    /// <summary>Feature values of one point, in bytes.</summary>
    public long FeatureBytesPerPoint
    {
        get
        {
            if (_jacobian) return ((long)_q * _a.ParameterCount + (_nngp ? _a.Width(_a.Depth - 1) : 0)) * sizeof(double);
            long perPoint = 0;
            for (int l = _trainableFrom; l < _a.Depth; l++)
            {
                perPoint += _a.Width(l);
                if (l + 1 < _a.Depth) perPoint += (long)_q * _a.Width(l + 1);
            }
            return perPoint * Unsafe.SizeOf<T>();
        }
    }

    /// <summary>Scratch of one block rows × cols, in bytes (what <see cref="Scratch"/> grows to).</summary>
    public long BlockBytes(int rows, int cols)
    {
        long n = (long)rows * cols;
        if (_jacobian) return n * _q * _q * sizeof(double);
        return (2 * n * Unsafe.SizeOf<T>()) + (_full ? 2 * n * sizeof(double) : 0);
    }

    /// <summary>The transient workspace of building features (a batch's forward/backward buffers and inputs), in bytes.</summary>
    public long FeatureScratchBytes(int points)
    {
        int b = Math.Clamp(points, 1, FeatureBatch);
        long widths = 0;
        for (int l = 0; l <= _a.Depth; l++) widths += _a.Width(l);
        long t = (3L * b * widths) + ((long)b * _a.InputWidth) + _a.MaxWidth;
        if (_jacobian) t += (3L * widths) + _a.ParameterCount + _q;
        return t * Unsafe.SizeOf<T>();
    }

    /// <summary>Feature arrays for <paramref name="capacity"/> points.</summary>
    public EmpiricalFeatures<T> Allocate(int capacity)
    {
        var f = new EmpiricalFeatures<T>(capacity);
        int depth = _a.Depth;
        if (_jacobian)
        {
            long j = (long)capacity * _q * _a.ParameterCount;
            long h = _nngp ? (long)capacity * _a.Width(depth - 1) : 0;
            if (j > Array.MaxLength || h > Array.MaxLength)
                throw new ArgumentException($"{capacity} points are too many for the reference Jacobian ({j} values in one array).", "x");
            f.Jacobian = new double[j];
            f.Hidden = new double[h];
            return f;
        }
        var act = new T[depth][];
        var cot = new T[depth][];
        for (int l = 0; l < depth; l++)
        {
            long a = l >= _trainableFrom ? (long)capacity * _a.Width(l) : 0;
            long c = l > _trainableFrom ? (long)capacity * _q * _a.Width(l) : 0;
            if (a > Array.MaxLength || c > Array.MaxLength)
                throw new ArgumentException($"{capacity} points are too many for one feature array of layer {l}.", "x");
            act[l] = new T[a];
            cot[l] = new T[c];
        }
        f.Act = act;
        f.Cot = cot;
        return f;
    }

    /// <summary>Reusable buffers of one worker (grown on demand).</summary>
    public sealed class Scratch
    {
        internal T[] Xs = [], Grad = [], Cot = [];
        internal MlpWorkspace<T>? Batch, Single;
        internal T[] GT = [], DT = [];
        internal double[] G = [], D = [], Prod = [];
    }

    /// <summary>
    /// Features of points[first … first+count) (rows of <paramref name="points"/>, converted to T) into
    /// <paramref name="f"/> at local indices 0 … count−1. Collective over <paramref name="comm"/> when it has
    /// several ranks: rank r builds the batches b ≡ r (mod P), then every batch is broadcast (as bytes) from its
    /// owner, so every rank holds the single process's bits.
    /// </summary>
    public void Fill(Mlp<T> net, Matrix points, int first, int count, EmpiricalFeatures<T> f, Scratch s, Communicator comm)
    {
        int d = _a.InputWidth, depth = _a.Depth;
        int batch = Math.Min(count, FeatureBatch);
        if (s.Xs.Length < batch * d) s.Xs = new T[batch * d];
        if (s.Batch is null || s.Batch.Capacity < batch) s.Batch = new MlpWorkspace<T>(_a, batch);
        if (_jacobian)
        {
            s.Single ??= new MlpWorkspace<T>(_a, 1);
            if (s.Grad.Length < _a.ParameterCount) s.Grad = new T[_a.ParameterCount];
            if (s.Cot.Length < _q) s.Cot = new T[_q];
        }
        int rank = comm.Rank, ranks = comm.Size, batches = (count + FeatureBatch - 1) / FeatureBatch;
        for (int j = rank; j < batches; j += ranks)
        {
            int at = j * FeatureBatch, b = Math.Min(FeatureBatch, count - at);
            Span<T> xb = s.Xs.AsSpan(0, b * d);
            ReadOnlySpan<double> src = points.Data.AsSpan((first + at) * d, b * d);
            for (int i = 0; i < xb.Length; i++) xb[i] = T.CreateTruncating(src[i]);
            if (_jacobian) FillJacobian(net, xb, b, at, f, s);
            else
            {
                net.Forward(xb, s.Batch);
                for (int l = _trainableFrom; l < depth; l++)
                {
                    int w = _a.Width(l);
                    s.Batch.Activation(l, xb)[..(b * w)].CopyTo(f.Act[l].AsSpan(at * w));
                }
                EmpiricalKernel.StoreCotangents(net, s.Batch, _trainableFrom, f.Cot, b, at);
            }
        }
        if (ranks == 1) return;
        // Every batch from its owner, byte for byte (no arithmetic: the bits are the owner's).
        for (int j = 0; j < batches; j++)
        {
            int at = j * FeatureBatch, b = Math.Min(FeatureBatch, count - at), owner = j % ranks;
            if (_jacobian)
            {
                long jw = (long)_q * _a.ParameterCount;
                Broadcast(comm, f.Jacobian.AsSpan(checked((int)(at * jw)), checked((int)(b * jw))), owner);
                if (f.Hidden.Length > 0)
                {
                    int h = _a.Width(depth - 1);
                    Broadcast(comm, f.Hidden.AsSpan(at * h, b * h), owner);
                }
                continue;
            }
            for (int l = _trainableFrom; l < depth; l++)
            {
                int w = _a.Width(l);
                comm.Broadcast(MemoryMarshal.AsBytes(f.Act[l].AsSpan(at * w, b * w)), owner);
                if (f.Cot[l].Length > 0)
                    comm.Broadcast(MemoryMarshal.AsBytes(f.Cot[l].AsSpan((int)((long)at * _q * w), b * _q * w)), owner);
            }
        }
    }

    private static void Broadcast(Communicator comm, Span<double> data, int owner)
    {
        for (int at = 0; at < data.Length; at += ChunkDoubles)
            comm.Broadcast(MemoryMarshal.AsBytes(data.Slice(at, Math.Min(ChunkDoubles, data.Length - at))), owner);
    }

    // The reference's features (EmpiricalKernel.Jacobian and LastHidden, per point): one single-point backward
    // pass per (point, output) widened to float64, and the batch's last hidden activations.
    private void FillJacobian(Mlp<T> net, ReadOnlySpan<T> xb, int b, int at, EmpiricalFeatures<T> f, Scratch s)
    {
        int d = _a.InputWidth, p = _a.ParameterCount;
        Span<T> grad = s.Grad.AsSpan(0, p), cot = s.Cot.AsSpan(0, _q);
        for (int i = 0; i < b; i++)
            for (int k = 0; k < _q; k++)
            {
                cot.Clear();
                cot[k] = T.One;
                net.Gradient(xb.Slice(i * d, d), cot, s.Single!, grad, _trainableFrom);
                Span<double> row = f.Jacobian.AsSpan(checked((int)((((long)(at + i) * _q) + k) * p)), p);
                for (int t = 0; t < p; t++) row[t] = double.CreateTruncating(grad[t]);
            }
        if (f.Hidden.Length == 0) return;
        net.Forward(xb, s.Batch!);
        int h = _a.Width(_a.Depth - 1);
        ReadOnlySpan<T> act = s.Batch!.Activation(_a.Depth - 1, xb)[..(b * h)];
        Span<double> dst = f.Hidden.AsSpan(at * h, b * h);
        for (int i = 0; i < dst.Length; i++) dst[i] = double.CreateTruncating(act[i]);
    }

    /// <summary>
    /// The block rows × cols: rows are points r0 … r0+rows−1 of <paramref name="fr"/>, columns c0 … of
    /// <paramref name="fc"/>; <paramref name="diag"/>: the same points on both sides (a Gram block, one
    /// triangle of work). Writes the NTK block (rows·cols entries of <see cref="NtkEntry"/> values) and, if
    /// <paramref name="nngp"/> is not empty, the NNGP block.
    /// </summary>
    public void Block(EmpiricalFeatures<T> fr, int r0, int rows, EmpiricalFeatures<T> fc, int c0, int cols, bool diag, Scratch s,
        Span<double> ntk, Span<double> nngp)
    {
        int n = rows * cols;
        if (_jacobian)
        {
            JacobianBlock(fr, r0, rows, fc, c0, cols, s, ntk, nngp);
            return;
        }
        if (s.GT.Length < n) { s.GT = new T[n]; s.DT = new T[n]; }
        Span<T> gT = s.GT.AsSpan(0, n), dT = s.DT.AsSpan(0, n);
        int depth = _a.Depth, q = _q;
        double beta2 = _a.Beta * _a.Beta, sw2 = _a.WeightStd * _a.WeightStd;
        if (_full && s.G.Length < n) { s.G = new double[n]; s.D = new double[n]; }
        Span<double> g = _full ? s.G.AsSpan(0, n) : default, dd = _full ? s.D.AsSpan(0, n) : default;
        ntk.Clear();
        for (int l = _trainableFrom; l < depth; l++)
        {
            int nl = _a.Width(l);
            ReadOnlySpan<T> ar = fr.Act[l].AsSpan(r0 * nl, rows * nl);
            if (diag) EmpiricalKernel.SyrkT(rows, nl, sw2 / nl, ar, nl, gT);
            else EmpiricalKernel.CrossT(rows, cols, nl, sw2 / nl, ar, nl, fc.Act[l].AsSpan(c0 * nl, cols * nl), nl, gT);
            bool last = l == depth - 1;
            int w = last ? 0 : _a.Width(l + 1), qw = q * w;
            ReadOnlySpan<T> cr = last ? default : fr.Cot[l + 1].AsSpan((int)((long)r0 * qw), rows * qw);
            ReadOnlySpan<T> cc = last ? default : fc.Cot[l + 1].AsSpan((int)((long)c0 * qw), cols * qw);
            if (!_full)
            {
                // The trace path of EmpiricalKernel.ComputeStructured.
                if (last)
                {
                    KernelAccumulate.AddShifted<T>(ntk, gT, beta2, nngp);
                    continue;
                }
                if (diag) EmpiricalKernel.SyrkT(rows, qw, 1.0 / q, cr, qw, dT);
                else EmpiricalKernel.CrossT(rows, cols, qw, 1.0 / q, cr, qw, cc, qw, dT);
                KernelAccumulate.AddProduct<T>(ntk, gT, beta2, dT);
                continue;
            }
            // Every output pair: the Full path of EmpiricalKernel.ComputeStructured.
            EmpiricalKernel.Widen<T>(gT, g);
            if (beta2 != 0) TensorPrimitives.Add(g, beta2, g);
            if (last)
            {
                EmpiricalKernel.AddFullPair(ntk, g, g, q, 0, 0, diagonalOnly: true);
                if (!nngp.IsEmpty) g.CopyTo(nngp);
                continue;
            }
            for (int k = 0; k < q; k++)
                for (int k2 = 0; k2 < q; k2++)
                {
                    ReadOnlySpan<T> ak = cr[(k * w)..], bk = (diag ? cr : cc)[(k2 * w)..];
                    if (diag && k == k2) EmpiricalKernel.SyrkT(rows, w, 1.0, ak, qw, dT);
                    else EmpiricalKernel.CrossT(rows, cols, w, 1.0, ak, qw, bk, qw, dT);
                    EmpiricalKernel.Widen<T>(dT, dd);
                    EmpiricalKernel.AddFullPair(ntk, g, dd, q, k, k2, diagonalOnly: false);
                }
        }
    }

    // EmpiricalKernel.JacobianReference restricted to the block: J_r·J_cᵀ in float64, then the trace or every pair.
    private void JacobianBlock(EmpiricalFeatures<T> fr, int r0, int rows, EmpiricalFeatures<T> fc, int c0, int cols, Scratch s,
        Span<double> ntk, Span<double> nngp)
    {
        int q = _q, p = _a.ParameterCount;
        long size = (long)rows * q * cols * q;
        if (size > Array.MaxLength) throw new ArgumentException($"a {rows}×{cols} block of the reference's J·J2ᵀ ({size} values) does not fit one array; use a smaller --tile");
        if (s.Prod.LongLength < size) s.Prod = new double[size];
        Span<double> prod = s.Prod.AsSpan(0, (int)size);
        ReadOnlySpan<double> j1 = fr.Jacobian.AsSpan(checked((int)((long)r0 * q * p)), checked((int)((long)rows * q * p)));
        ReadOnlySpan<double> j2 = fc.Jacobian.AsSpan(checked((int)((long)c0 * q * p)), checked((int)((long)cols * q * p)));
        Gemm.Multiply(Op.None, Op.Transpose, rows * q, cols * q, p, 1.0, j1, p, j2, p, 0.0, prod, cols * q);
        ntk.Clear();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                for (int k = 0; k < q; k++)
                    for (int k2 = 0; k2 < q; k2++)
                    {
                        double v = prod[(int)((long)((i * q) + k) * cols * q) + (j * q) + k2];
                        if (_full) ntk[(((i * cols) + j) * q + k) * q + k2] = v;
                        else if (k == k2) ntk[(i * cols) + j] += v / q;
                    }
        if (nngp.IsEmpty) return;
        int h = _a.Width(_a.Depth - 1);
        double sw2 = _a.WeightStd * _a.WeightStd, b2 = _a.Beta * _a.Beta;
        ReadOnlySpan<double> ax = fr.Hidden, ax2 = fc.Hidden;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double sum = 0;
                for (int t = 0; t < h; t++) sum += ax[((r0 + i) * h) + t] * ax2[((c0 + j) * h) + t];
                nngp[(i * cols) + j] = sw2 / h * sum + b2;
            }
    }
}
