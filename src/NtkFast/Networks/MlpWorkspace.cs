namespace NtkFast.Networks;

/// <summary>
/// Caller-owned memory for the forward and backward passes of one <see cref="MlpArchitecture"/>
/// on batches of up to <see cref="Capacity"/> points, and the <b>trace</b> of the last pass:
/// every layer's pre-activations α~(l), activations α(l) and cotangents δ(l), each an
/// N×n_l row-major matrix (rows = points) — what the empirical NTK needs, without recomputation.
/// <para>
/// After <see cref="Mlp{T}.Forward(ReadOnlySpan{T}, MlpWorkspace{T})"/>:
/// <see cref="PreActivation"/>(l) for 1 ≤ l ≤ L (l = L is the output f), <see cref="Activation(int)"/>(l)
/// for 1 ≤ l ≤ L−1 (α(0) is the input X itself; it is not copied).
/// After <see cref="Mlp{T}.BackpropagateCotangents"/>: <see cref="Cotangent"/>(l) = ∂Φ/∂α~(l)
/// for K+1 ≤ l ≤ L, where Φ = Σ_i G_i·f(x_i) and G = <see cref="Cotangent"/>(L) is set by the caller
/// (or by <see cref="Mlp{T}.SetMseCotangent"/>). For the empirical NTK, G = e_k on every row
/// gives δ(l)_k(x_i) = row i of <see cref="Cotangent"/>(l).
/// </para>
/// One workspace serves one pass at a time; use one per thread.
/// </summary>
public sealed class MlpWorkspace<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    private readonly T[] _pre;       // α~(1) … α~(L)
    private readonly T[] _act;       // α(1) … α(L−1)
    private readonly T[] _cot;       // δ(1) … δ(L)
    private readonly long[] _preOffset;
    private readonly long[] _actOffset;

    public MlpWorkspace(MlpArchitecture architecture, int capacity)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        NetworkOps.CheckType<T>();
        Architecture = architecture;
        Capacity = capacity;
        int depth = architecture.Depth;
        _preOffset = new long[depth + 2];
        _actOffset = new long[depth + 1];
        long p = 0;
        for (int l = 1; l <= depth; l++) { _preOffset[l] = p; p += (long)capacity * architecture.Width(l); }
        _preOffset[depth + 1] = p;
        long a = 0;
        for (int l = 1; l < depth; l++) { _actOffset[l] = a; a += (long)capacity * architecture.Width(l); }
        _actOffset[depth] = a;
        if (p > Array.MaxLength)
            throw new ArgumentException($"A batch of {capacity} points needs {p} elements per buffer, more than one array holds; use smaller batches.", nameof(capacity));
        _pre = new T[p];
        _act = new T[a];
        _cot = new T[p];
        Scratch = new T[architecture.MaxWidth];
    }

    public MlpArchitecture Architecture { get; }

    /// <summary>Largest batch this workspace holds.</summary>
    public int Capacity { get; }

    /// <summary>Number of points of the last forward pass (N).</summary>
    public int BatchSize { get; internal set; }

    /// <summary>Scratch of max-width elements: the scaled bias row β·b(l) and the bias-gradient column sums.</summary>
    internal T[] Scratch { get; }

    /// <summary>α~(l), N×n_l, for 1 ≤ l ≤ L (α~(L) = f).</summary>
    public Span<T> PreActivation(int l)
    {
        CheckLayer(l, 1, Architecture.Depth, nameof(l));
        return _pre.AsSpan((int)_preOffset[l], BatchSize * Architecture.Width(l));
    }

    /// <summary>α(l) = σ(α~(l)), N×n_l, for 1 ≤ l ≤ L−1.</summary>
    public Span<T> Activation(int l)
    {
        CheckLayer(l, 1, Architecture.Depth - 1, nameof(l));
        return _act.AsSpan((int)_actOffset[l], BatchSize * Architecture.Width(l));
    }

    /// <summary>α(l) for 0 ≤ l ≤ L−1, with α(0) = <paramref name="x"/> (the input of the forward pass).</summary>
    public ReadOnlySpan<T> Activation(int l, ReadOnlySpan<T> x) => l == 0 ? x[..(BatchSize * Architecture.InputWidth)] : Activation(l);

    /// <summary>δ(l) = ∂Φ/∂α~(l), N×n_l, for 1 ≤ l ≤ L; δ(L) = G is the output cotangent.</summary>
    public Span<T> Cotangent(int l)
    {
        CheckLayer(l, 1, Architecture.Depth, nameof(l));
        return _cot.AsSpan((int)_preOffset[l], BatchSize * Architecture.Width(l));
    }

    /// <summary>
    /// Sets the output cotangent G = δ(L) to the unit vector e_k on every row (G[i, k'] = [k' = k]),
    /// so that <see cref="Mlp{T}.BackpropagateCotangents"/> gives δ(l)_k(x_i) = ∂f_k(x_i)/∂α~(l).
    /// Call after the forward pass (it uses <see cref="BatchSize"/>).
    /// </summary>
    public void SetUnitCotangent(int output)
    {
        int nL = Architecture.OutputWidth;
        if ((uint)output >= (uint)nL) throw new ArgumentOutOfRangeException(nameof(output), output, $"Output index must be in [0, {nL - 1}].");
        Span<T> g = Cotangent(Architecture.Depth);
        g.Clear();
        for (int i = 0; i < BatchSize; i++) g[i * nL + output] = T.One;
    }

    /// <summary>The network's output f(X) = α~(L), N×nL, of the last forward pass.</summary>
    public Span<T> Output => PreActivation(Architecture.Depth);

    /// <summary>Capacity-sized spans of layer l (internal: the passes set <see cref="BatchSize"/> first).</summary>
    internal T[] PreArray => _pre;
    internal T[] ActArray => _act;
    internal T[] CotArray => _cot;
    internal int PreOffset(int l) => (int)_preOffset[l];
    internal int ActOffset(int l) => (int)_actOffset[l];

    internal Span<T> PreRaw(int l, int n) => _pre.AsSpan((int)_preOffset[l], n * Architecture.Width(l));
    internal Span<T> ActRaw(int l, int n) => _act.AsSpan((int)_actOffset[l], n * Architecture.Width(l));
    internal Span<T> CotRaw(int l, int n) => _cot.AsSpan((int)_preOffset[l], n * Architecture.Width(l));

    private static void CheckLayer(int l, int lo, int hi, string name)
    {
        if (l < lo || l > hi)
            throw new ArgumentOutOfRangeException(name, l, $"Layer index must be in [{lo}, {hi}].");
    }
}
