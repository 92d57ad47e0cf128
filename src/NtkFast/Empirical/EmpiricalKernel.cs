using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Empirical;

/// <summary>
/// Empirical (finite-width) NTK and NNGP of an <see cref="Mlp{T}"/> (docs/design.md §1 "Empirical kernels"):
/// <code>Θ̂_kk'(x,x') = Σ_{l=K}^{L−1} [σw²/n_l · α(l)(x)·α(l)(x') + β²] · [δ(l+1)_k(x) · δ(l+1)_k'(x')]</code>
/// with the first K weight layers frozen (K = trainableFrom). The GEMMs run in the network's precision;
/// the kernel is accumulated in float64. δ(L)_k = e_k, so the last layer adds its activation Gram
/// matrix to the diagonal output pairs without a cotangent GEMM, and that same matrix is the empirical
/// NNGP. X2 = X (pass an empty x2) uses symmetric Gram products (one triangle of work).
/// </summary>
public static class EmpiricalKernel
{
    /// <summary>Allocating convenience: Θ̂ (and the empirical NNGP) of <paramref name="network"/> on X (n points) and X2 (m points; empty = X).</summary>
    public static EmpiricalKernelResult Compute<T>(Mlp<T> network, ReadOnlySpan<T> x, ReadOnlySpan<T> x2,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        MlpArchitecture a = network.Architecture;
        int d = a.InputWidth;
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"x has {x.Length} elements, not a positive multiple of the input width {d}.", nameof(x));
        if (x2.Length % d != 0)
            throw new ArgumentException($"x2 has {x2.Length} elements, not a multiple of the input width {d}.", nameof(x2));
        int n = x.Length / d, m = x2.IsEmpty ? n : x2.Length / d;
        int q = a.OutputWidth;
        long size = (long)n * m * (outputs == EmpiricalOutputs.Full ? q * q : 1);
        if (size > Array.MaxLength) throw new ArgumentException($"the kernel ({size} elements) is too large for one array.", nameof(x));
        var ntk = new double[size];
        double[]? g = nngp ? new double[(long)n * m] : null;
        if (method == EmpiricalMethod.Jacobian)
            JacobianReference(network, x, x2, outputs, trainableFrom, ntk, g);
        else
        {
            var ws = new EmpiricalWorkspace<T>(a, n, x2.IsEmpty ? 0 : m);
            ComputeStructured(network, x, x2, outputs, trainableFrom, ws, ntk, g);
        }
        return new EmpiricalKernelResult(n, m, q, outputs, ntk, g);
    }

    /// <summary>Double-precision matrices convenience (the network's precision is used for the GEMMs).</summary>
    public static EmpiricalKernelResult Compute<T>(Mlp<T> network, Matrix x, Matrix? x2 = null,
        EmpiricalOutputs outputs = EmpiricalOutputs.Trace, int trainableFrom = 0, bool nngp = true,
        EmpiricalMethod method = EmpiricalMethod.Structured)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        T[] xs = ToT<T>(x.Data);
        T[] x2s = x2 is null ? [] : ToT<T>(x2.Data);
        return Compute(network, xs, x2s, outputs, trainableFrom, nngp, method);
    }

    internal static T[] ToT<T>(double[] data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[data.Length];
        for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(data[i]);
        return r;
    }

    /// <summary>
    /// Structured fast path, allocation-free: writes Θ̂ into <paramref name="ntk"/> (N×M or N×M×nL×nL) and,
    /// if not empty, the empirical NNGP into <paramref name="nngp"/> (N×M). <paramref name="x2"/> empty means X2 = X.
    /// </summary>
    public static void ComputeStructured<T>(Mlp<T> network, ReadOnlySpan<T> x, ReadOnlySpan<T> x2,
        EmpiricalOutputs outputs, int trainableFrom, EmpiricalWorkspace<T> workspace, Span<double> ntk, Span<double> nngp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(workspace);
        MlpArchitecture a = network.Architecture;
        if (!ReferenceEquals(workspace.Architecture, a) && !SameShape(workspace.Architecture, a))
            throw new ArgumentException("The workspace was created for another architecture.", nameof(workspace));
        int depth = a.Depth, q = a.OutputWidth, d = a.InputWidth;
        if ((uint)trainableFrom >= (uint)depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom (frozen first layers) must be in [0, {depth - 1}].");
        if (x.Length == 0 || x.Length % d != 0)
            throw new ArgumentException($"x has {x.Length} elements, not a positive multiple of the input width {d}.", nameof(x));
        bool sym = x2.IsEmpty;
        if (!sym && x2.Length % d != 0)
            throw new ArgumentException($"x2 has {x2.Length} elements, not a multiple of the input width {d}.", nameof(x2));
        int n = x.Length / d, m = sym ? n : x2.Length / d;
        if (n > workspace.CapacityX || (!sym && m > workspace.CapacityX2))
            throw new ArgumentException($"The workspace holds {workspace.CapacityX}×{workspace.CapacityX2} points, asked for {n}×{(sym ? 0 : m)}.", nameof(workspace));
        bool full = outputs == EmpiricalOutputs.Full;
        long nm = (long)n * m;
        if (ntk.Length != nm * (full ? q * q : 1))
            throw new ArgumentException($"ntk has {ntk.Length} elements, expected {nm * (full ? q * q : 1)}.", nameof(ntk));
        if (!nngp.IsEmpty && nngp.Length != nm)
            throw new ArgumentException($"nngp has {nngp.Length} elements, expected {nm}.", nameof(nngp));

        // Forward passes, then one backward pass per output; cotangents of layers K+1 … L−1 are stored
        // side by side (row i: [δ_0(x_i) | δ_1(x_i) | …]) so Σ_k Δ_k Δ'_kᵀ is a single GEMM of inner size nL·n_l.
        MlpWorkspace<T> wx = workspace.X, wx2 = sym ? wx : workspace.X2!;
        network.Forward(x, wx);
        StoreCotangents(network, wx, trainableFrom, workspace.CotX, n);
        if (!sym)
        {
            network.Forward(x2, wx2);
            StoreCotangents(network, wx2, trainableFrom, workspace.CotX2, m);
        }

        ntk.Clear();
        Span<T> gT = workspace.ScratchT.AsSpan(0, (int)nm);
        Span<T> dT = workspace.ScratchT2.AsSpan(0, (int)nm);
        Span<double> g = full ? workspace.FullG.AsSpan(0, (int)nm) : default;
        Span<double> dd = full ? workspace.FullD.AsSpan(0, (int)nm) : default;
        double beta2 = a.Beta * a.Beta, sw2 = a.WeightStd * a.WeightStd;
        for (int l = trainableFrom; l < depth; l++)
        {
            int nl = a.Width(l);
            // G = σw²/n_l·A(l)A'(l)ᵀ in T (β² is added in float64 when G is used).
            ReadOnlySpan<T> ax = wx.Activation(l, x);
            if (sym) SyrkT(n, nl, sw2 / nl, ax, nl, gT);
            else CrossT(n, m, nl, sw2 / nl, ax, nl, wx2.Activation(l, x2), nl, gT);
            bool last = l == depth - 1;
            int w = last ? 0 : a.Width(l + 1);
            T[] cx = workspace.CotX[l + 1 < depth ? l + 1 : 0], cx2 = sym ? cx : workspace.CotX2[l + 1 < depth ? l + 1 : 0];

            if (!full)
            {
                if (last)
                {
                    // δ(L)_k·δ(L)_k' = [k = k']: (1/nL)·Σ_k adds G + β² itself, which is also the empirical NNGP.
                    KernelAccumulate.AddShifted<T>(ntk, gT, beta2, nngp);
                }
                else
                {
                    // Σ_k Δ_k Δ'_kᵀ / nL in one product of inner size nL·w, then ntk += (G + β²) ⊙ D in one pass.
                    if (sym) SyrkT(n, q * w, 1.0 / q, cx, q * w, dT);
                    else CrossT(n, m, q * w, 1.0 / q, cx, q * w, cx2, q * w, dT);
                    KernelAccumulate.AddProduct<T>(ntk, gT, beta2, dT);
                }
                continue;
            }

            Widen(gT, g);
            if (beta2 != 0) TensorPrimitives.Add(g, beta2, g);
            if (last)
            {
                AddFullPair(ntk, g, g, q, 0, 0, diagonalOnly: true);
                if (!nngp.IsEmpty) g.CopyTo(nngp);
                continue;
            }
            for (int k = 0; k < q; k++)
                for (int k2 = 0; k2 < q; k2++)
                {
                    ReadOnlySpan<T> ak = cx.AsSpan(k * w), bk = cx2.AsSpan(k2 * w);
                    if (sym && k == k2) SyrkT(n, w, 1.0, ak, q * w, dT);
                    else CrossT(n, m, w, 1.0, ak, q * w, bk, q * w, dT);
                    Widen(dT, dd);
                    AddFullPair(ntk, g, dd, q, k, k2, diagonalOnly: false);
                }
        }
    }

    private static bool SameShape(MlpArchitecture p, MlpArchitecture r)
    {
        if (p.Widths.Count != r.Widths.Count) return false;
        for (int i = 0; i < p.Widths.Count; i++) if (p.Widths[i] != r.Widths[i]) return false;
        return true;
    }

    /// <summary>ntk[i,j,k,k2] += g[i,j]·d[i,j] (diagonalOnly: ntk[i,j,k,k] += g[i,j] for every k).</summary>
    internal static void AddFullPair(Span<double> ntk, ReadOnlySpan<double> g, ReadOnlySpan<double> d, int q, int k, int k2, bool diagonalOnly)
    {
        int qq = q * q;
        for (int ij = 0; ij < g.Length; ij++)
        {
            if (diagonalOnly)
                for (int kk = 0; kk < q; kk++) ntk[ij * qq + kk * q + kk] += g[ij];
            else
                ntk[ij * qq + k * q + k2] = Math.FusedMultiplyAdd(g[ij], d[ij], ntk[ij * qq + k * q + k2]);
        }
    }

    /// <summary>
    /// After a forward pass of n points: one backward pass per output; δ(l)_k of point i goes to
    /// store[l][((first + i)·nL + k)·n_l …] for l = K+1 … L−1 (first: where this batch starts in store).
    /// </summary>
    internal static void StoreCotangents<T>(Mlp<T> net, MlpWorkspace<T> ws, int trainableFrom, T[][] store, int n, int first = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MlpArchitecture a = net.Architecture;
        int depth = a.Depth, q = a.OutputWidth;
        if (depth == 1 || trainableFrom == depth - 1) return; // only the last layer: no cotangent needed
        for (int k = 0; k < q; k++)
        {
            ws.SetUnitCotangent(k);
            net.BackpropagateCotangents(ws, trainableFrom);
            for (int l = trainableFrom + 1; l < depth; l++)
            {
                int w = a.Width(l);
                ReadOnlySpan<T> c = ws.Cotangent(l);
                Span<T> dst = store[l];
                for (int i = 0; i < n; i++)
                    c.Slice(i * w, w).CopyTo(dst.Slice((int)(((long)(first + i) * q + k) * w), w));
            }
        }
    }

    internal static void Widen<T>(ReadOnlySpan<T> src, Span<double> dst) where T : unmanaged
    {
        if (typeof(T) == typeof(double)) MemoryMarshal.Cast<T, double>(src).CopyTo(dst);
        else TensorPrimitives.ConvertTruncating<float, double>(MemoryMarshal.Cast<T, float>(src), dst);
    }

    internal static void SyrkT<T>(int n, int k, double alpha, ReadOnlySpan<T> a, int lda, Span<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            Gram.Syrk(n, k, alpha, MemoryMarshal.Cast<T, double>(a), lda, 0.0, MemoryMarshal.Cast<T, double>(c), n);
        else
            Gram.Syrk(n, k, (float)alpha, MemoryMarshal.Cast<T, float>(a), lda, 0f, MemoryMarshal.Cast<T, float>(c), n);
    }

    internal static void CrossT<T>(int n, int m, int k, double alpha, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c)
        where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            Gram.Cross(n, m, k, alpha, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb, 0.0, MemoryMarshal.Cast<T, double>(c), m);
        else
            Gram.Cross(n, m, k, (float)alpha, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb, 0f, MemoryMarshal.Cast<T, float>(c), m);
    }

    // ───────────────────────────── reference: Jacobian contraction ─────────────────────────────

    /// <summary>
    /// Reference path: J[(i,k), p] = ∂f_k(x_i)/∂θ_p from one single-point backward pass per (i, k)
    /// (frozen layers' entries zero), then Θ̂ = J·J2ᵀ in float64; the NNGP by plain float64 dot products.
    /// Memory N·nL·P doubles.
    /// </summary>
    private static void JacobianReference<T>(Mlp<T> net, ReadOnlySpan<T> x, ReadOnlySpan<T> x2, EmpiricalOutputs outputs,
        int trainableFrom, Span<double> ntk, Span<double> nngp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MlpArchitecture a = net.Architecture;
        int depth = a.Depth;
        if ((uint)trainableFrom >= (uint)depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom (frozen first layers) must be in [0, {depth - 1}].");
        int d = a.InputWidth, q = a.OutputWidth, p = a.ParameterCount;
        bool sym = x2.IsEmpty;
        if (sym) x2 = x;
        int n = x.Length / d, m = x2.Length / d;
        double[] j1 = Jacobian(net, x, trainableFrom);
        double[] j2 = sym ? j1 : Jacobian(net, x2, trainableFrom);
        var prod = new double[(long)n * q * m * q];
        Gemm.Multiply(Op.None, Op.Transpose, n * q, m * q, p, 1.0, j1, p, j2, p, 0.0, prod, m * q);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                for (int k = 0; k < q; k++)
                    for (int k2 = 0; k2 < q; k2++)
                    {
                        double v = prod[(long)(i * q + k) * m * q + j * q + k2];
                        if (outputs == EmpiricalOutputs.Full) ntk[((i * m + j) * q + k) * q + k2] = v;
                        else if (k == k2) ntk[i * m + j] += v / q;
                    }
        if (nngp.IsEmpty) return;
        int h = a.Width(depth - 1);
        double[] ax = LastHidden(net, x), ax2 = sym ? ax : LastHidden(net, x2);
        double sw2 = a.WeightStd * a.WeightStd, b2 = a.Beta * a.Beta;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int t = 0; t < h; t++) s += ax[i * h + t] * ax2[j * h + t];
                nngp[i * m + j] = sw2 / h * s + b2;
            }
    }

    private static double[] Jacobian<T>(Mlp<T> net, ReadOnlySpan<T> x, int trainableFrom)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MlpArchitecture a = net.Architecture;
        int d = a.InputWidth, q = a.OutputWidth, p = a.ParameterCount, n = x.Length / d;
        var ws = net.CreateWorkspace(1);
        var grad = new T[p];
        var cot = new T[q];
        var j = new double[(long)n * q * p];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < q; k++)
            {
                Array.Clear(cot);
                cot[k] = T.One;
                net.Gradient(x.Slice(i * d, d), cot, ws, grad, trainableFrom);
                long row = (long)(i * q + k) * p;
                for (int t = 0; t < p; t++) j[row + t] = double.CreateTruncating(grad[t]);
            }
        return j;
    }

    private static double[] LastHidden<T>(Mlp<T> net, ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        MlpArchitecture a = net.Architecture;
        int n = x.Length / a.InputWidth;
        var ws = net.CreateWorkspace(n);
        net.Forward(x, ws);
        ReadOnlySpan<T> act = ws.Activation(a.Depth - 1, x);
        var r = new double[act.Length];
        for (int i = 0; i < r.Length; i++) r[i] = double.CreateTruncating(act[i]);
        return r;
    }
}
