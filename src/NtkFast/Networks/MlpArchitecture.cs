using NtkFast.Activations;

namespace NtkFast.Networks;

/// <summary>
/// The shape and hyper-parameters of a fully connected network in the NTK parameterisation
/// (docs/design.md §1): widths n0 … nL, the nonlinearity σ, the bias scale β and the weight scale σw.
/// Layer l (0 ≤ l &lt; L) maps n(l) → n(l+1):
/// α~(l+1) = (σw / √n_l) · W(l) α(l) + β · b(l), α(l) = σ(α~(l)) for 1 ≤ l ≤ L−1, f = α~(L).
/// <para>
/// Parameter layout: θ is one contiguous vector W(0), b(0), W(1), b(1), … (the order of the
/// .npz file); W(l) is n(l+1)×n(l) row-major, b(l) has n(l+1) entries.
/// </para>
/// </summary>
public sealed class MlpArchitecture
{
    private readonly int[] _widths;
    private readonly long[] _weightOffsets;
    private readonly long[] _biasOffsets;

    /// <param name="widths">n0 … nL: at least two entries (input and output), every one ≥ 1.</param>
    /// <param name="activation">σ, applied after every hidden layer (not after the output).</param>
    /// <param name="beta">β ≥ 0, the bias scale (paper: 0.1).</param>
    /// <param name="weightStd">σw ≥ 0, the weight scale (paper: 1).</param>
    public MlpArchitecture(IReadOnlyList<int> widths, Activation activation, double beta = 0.1, double weightStd = 1.0)
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(activation);
        if (widths.Count < 2)
            throw new ArgumentException($"A network needs at least two widths (input and output), got {widths.Count}.", nameof(widths));
        for (int i = 0; i < widths.Count; i++)
            if (widths[i] < 1)
                throw new ArgumentException($"Width n{i} = {widths[i]}: every width must be at least 1.", nameof(widths));
        if (!double.IsFinite(beta) || beta < 0)
            throw new ArgumentException($"beta must be finite and non-negative, got {beta}.", nameof(beta));
        if (!double.IsFinite(weightStd) || weightStd < 0)
            throw new ArgumentException($"weightStd must be finite and non-negative, got {weightStd}.", nameof(weightStd));

        _widths = [.. widths];
        Activation = activation;
        Beta = beta;
        WeightStd = weightStd;
        int depth = _widths.Length - 1;
        _weightOffsets = new long[depth];
        _biasOffsets = new long[depth];
        long p = 0;
        for (int l = 0; l < depth; l++)
        {
            _weightOffsets[l] = p;
            p += (long)_widths[l + 1] * _widths[l];
            _biasOffsets[l] = p;
            p += _widths[l + 1];
        }
        if (p > Array.MaxLength)
            throw new ArgumentException($"The network has {p} parameters, more than one array can hold ({Array.MaxLength}).", nameof(widths));
        ParameterCount = (int)p;
        MaxWidth = _widths.Max();
    }

    /// <summary>n0 … nL (a copy-free read-only view).</summary>
    public IReadOnlyList<int> Widths => _widths;

    /// <summary>Width n_l.</summary>
    public int Width(int l) => _widths[l];

    /// <summary>L, the number of weight layers.</summary>
    public int Depth => _widths.Length - 1;

    public int InputWidth => _widths[0];
    public int OutputWidth => _widths[^1];
    public int MaxWidth { get; }

    public Activation Activation { get; }
    public double Beta { get; }
    public double WeightStd { get; }

    /// <summary>Total number of parameters P = Σ_l n(l+1)·(n(l) + 1).</summary>
    public int ParameterCount { get; }

    /// <summary>σw / √n_l, the factor in front of W(l).</summary>
    public double WeightScale(int l) => WeightStd / Math.Sqrt(_widths[l]);

    /// <summary>Offset of W(l) in θ.</summary>
    public int WeightOffset(int l) => (int)_weightOffsets[l];
    /// <summary>Number of entries of W(l): n(l+1)·n(l).</summary>
    public int WeightLength(int l) => _widths[l + 1] * _widths[l];
    /// <summary>Offset of b(l) in θ.</summary>
    public int BiasOffset(int l) => (int)_biasOffsets[l];
    /// <summary>Number of entries of b(l): n(l+1).</summary>
    public int BiasLength(int l) => _widths[l + 1];

    /// <summary>Offset in θ of the first parameter of layer <paramref name="l"/> (= <see cref="WeightOffset"/>); l = L gives P.</summary>
    public int LayerOffset(int l) => l == Depth ? ParameterCount : WeightOffset(l);

    /// <summary>Floating-point operations of one forward + backward + update step on a batch of n points.</summary>
    public double TrainingStepFlops(int n)
    {
        double f = 0;
        for (int l = 0; l < Depth; l++)
        {
            double mk = (double)_widths[l + 1] * _widths[l];
            f += 2.0 * n * mk;                 // forward Z = A·Wᵀ
            f += 2.0 * n * mk;                 // weight gradient Δᵀ·A
            if (l > 0) f += 2.0 * n * mk;      // cotangent Δ·W
        }
        return f;
    }

    public override string ToString() =>
        $"{string.Join('-', _widths)} {Activation.Name} β={Beta} σw={WeightStd}";
}
