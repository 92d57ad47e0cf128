using NtkFast.Quadrature;

namespace NtkFast.Activations;

/// <summary>E[σ(u)σ(v)] and E[σ'(u)σ'(v)] for (u, v) ~ N(0, [[a, b], [b, c]]).</summary>
public readonly record struct DualValue(double Ess, double Edd);

/// <summary>
/// A nonlinearity σ: its value and derivative (scalar and over spans, float and double,
/// for the finite networks) and its dual kernel (for the infinite-width kernels).
/// One virtual call per span, never per element: implementations run vectorised loops.
/// Derivatives at kinks follow torch (relu'(0) = 0, …; see docs/design.md §1).
/// </summary>
public abstract class Activation
{
    /// <summary>Canonical name, parseable by <see cref="ActivationRegistry.Parse"/> (e.g. "leaky_relu:0.2").</summary>
    public abstract string Name { get; }

    /// <summary>True when <see cref="Dual(double, double, double)"/> is a closed form rather than quadrature.</summary>
    public virtual bool HasClosedFormDual => false;

    public abstract double Value(double x);
    public abstract double Derivative(double x);

    /// <summary>y[i] = σ(x[i]); x and y may be the same span.</summary>
    public abstract void Forward(ReadOnlySpan<double> x, Span<double> y);
    /// <summary>y[i] = σ(x[i]); x and y may be the same span.</summary>
    public abstract void Forward(ReadOnlySpan<float> x, Span<float> y);
    /// <summary>d[i] = σ'(x[i]); x and d may be the same span.</summary>
    public abstract void Derivative(ReadOnlySpan<double> x, Span<double> d);
    /// <summary>d[i] = σ'(x[i]); x and d may be the same span.</summary>
    public abstract void Derivative(ReadOnlySpan<float> x, Span<float> d);

    /// <summary>
    /// Dual kernel at one covariance [[a, b], [b, c]] (a, c ≥ 0, b² ≤ ac up to rounding;
    /// the correlation is clipped to [−1, 1]). Never NaN for finite input.
    /// </summary>
    public abstract DualValue Dual(double a, double b, double c);

    /// <summary>E[σ(u)²] and E[σ'(u)²] for u ~ N(0, a).</summary>
    public virtual DualValue DualDiagonal(double a) => Dual(a, a, a);

    /// <summary>
    /// Batched dual kernel for one row of a Gram tile: the variance <paramref name="a"/> is
    /// fixed, b[j] and c[j] vary. Writes ess[j] = E[σ(u)σ(v)], edd[j] = E[σ'(u)σ'(v)].
    /// Implementations hoist whatever depends on <paramref name="a"/> alone out of the loop.
    /// </summary>
    public virtual void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckDualSpans(b, c, ess, edd);
        for (int j = 0; j < b.Length; j++)
        {
            DualValue v = Dual(a, b[j], c[j]);
            ess[j] = v.Ess;
            edd[j] = v.Edd;
        }
    }

    /// <summary>
    /// Prepares the dual kernel for many triples whose variances come from one list (the per-point
    /// variances of a layer): whatever depends on a variance alone is computed once per entry here, and
    /// <see cref="PreparedDual.Row"/> then evaluates rows of triples by index. Results are bitwise those of
    /// <see cref="Dual(double, double, double)"/> at the same (a, b, c). The default keeps nothing and calls
    /// the batched <see cref="Dual(double, ReadOnlySpan{double}, ReadOnlySpan{double}, Span{double}, Span{double})"/>;
    /// quadrature activations precompute their Hermite coefficients (docs/notes/quad.md).
    /// </summary>
    public virtual PreparedDual PrepareDual(ReadOnlySpan<double> variances) => new(this, variances);

    public override string ToString() => Name;

    private SpanFunction? _forward, _derivative;
    private SpanFunction ForwardFunction => _forward ??= Forward;
    private SpanFunction DerivativeFunction => _derivative ??= Derivative;

    /// <summary>
    /// The dual kernel by quadrature (<see cref="BivariateGaussian"/>: polar rule split at the rays where
    /// u or v vanish, graded for large variances), whatever <see cref="Dual(double, double, double)"/> does.
    /// Every activation gets this for free; activations without a closed form return it from
    /// <see cref="Dual(double, double, double)"/> wherever their faster Mehler series is not certified
    /// (docs/notes/quad.md). Accurate to 1e−9 relative at the default degree (docs/notes/act.md).
    /// </summary>
    public DualValue NumericDual(double a, double b, double c) => NumericDual(a, b, c, BivariateQuadrature.Default);

    /// <inheritdoc cref="NumericDual(double, double, double)"/>
    public DualValue NumericDual(double a, double b, double c, BivariateQuadrature quadrature)
    {
        (double ess, double edd) = BivariateGaussian.Expect(ForwardFunction, ForwardFunction, DerivativeFunction, DerivativeFunction, a, b, c, quadrature);
        return new DualValue(ess, edd);
    }

    /// <summary>Batched <see cref="NumericDual(double, double, double, BivariateQuadrature)"/> over one row (a fixed).</summary>
    public void NumericDual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd, BivariateQuadrature quadrature)
    {
        CheckDualSpans(b, c, ess, edd);
        for (int j = 0; j < b.Length; j++)
        {
            DualValue v = NumericDual(a, b[j], c[j], quadrature);
            ess[j] = v.Ess;
            edd[j] = v.Edd;
        }
    }

    /// <summary>
    /// This activation with its dual kernel forced through quadrature (same name, values and derivatives;
    /// <see cref="HasClosedFormDual"/> false) — to cross-check closed forms end to end, or to pick a degree.
    /// </summary>
    public Activation WithNumericDual(BivariateQuadrature? quadrature = null) => new NumericDualActivation(this, quadrature ?? BivariateQuadrature.Default);

    /// <summary>
    /// A user-defined activation from scalar value and derivative functions. Its dual kernel comes from
    /// quadrature; kinks must sit at 0 (the rule splits there), elsewhere the function should be smooth.
    /// </summary>
    public static Activation Custom(string name, Func<double, double> value, Func<double, double> derivative)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(derivative);
        return new CustomActivation(name, value, derivative);
    }

    /// <summary>Throws unless the destination holds at least <paramref name="source"/> elements.</summary>
    protected static void CheckLength(int source, int destination)
    {
        if (destination < source) throw new ArgumentException($"Destination has length {destination}, needs {source}.", nameof(destination));
    }

    protected static void CheckDualSpans(ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        if (c.Length != b.Length) throw new ArgumentException($"c has length {c.Length}, b has {b.Length}.", nameof(c));
        if (ess.Length < b.Length) throw new ArgumentException($"ess has length {ess.Length}, needs {b.Length}.", nameof(ess));
        if (edd.Length < b.Length) throw new ArgumentException($"edd has length {edd.Length}, needs {b.Length}.", nameof(edd));
    }
}

/// <summary>
/// A dual kernel prepared for a list of variances (<see cref="Activation.PrepareDual"/>). Immutable after
/// construction; <see cref="Row"/> and <see cref="Diagonal"/> may be called from many threads at once.
/// </summary>
public class PreparedDual
{
    private readonly double[] _variances;

    /// <summary>Keeps a copy of <paramref name="variances"/>; evaluates through <paramref name="activation"/>'s batched dual.</summary>
    public PreparedDual(Activation activation, ReadOnlySpan<double> variances)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Activation = activation;
        _variances = variances.ToArray();
    }

    public Activation Activation { get; }

    /// <summary>Number of variances.</summary>
    public int Count => _variances.Length;

    /// <summary>Variance number <paramref name="index"/>.</summary>
    public double Variance(int index) => _variances[index];

    /// <summary>Dual at (v, v, v), v = <see cref="Variance"/>(<paramref name="index"/>): bitwise <see cref="Activation.DualDiagonal"/>(v).</summary>
    public virtual DualValue Diagonal(int index) => Activation.DualDiagonal(_variances[index]);

    /// <summary>
    /// ess[j], edd[j] = dual at (Variance(row), b[j], Variance(cols[j])). <paramref name="c"/> must hold those
    /// variances, c[j] = Variance(cols[j]) (callers have them at hand; implementations may use either).
    /// </summary>
    public virtual void Row(int row, ReadOnlySpan<int> cols, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        CheckRow(row, cols, b, c, ess, edd);
        Activation.Dual(_variances[row], b, c, ess, edd);
    }

    /// <summary>Throws ArgumentException unless the spans and indices of a <see cref="Row"/> call are consistent.</summary>
    protected void CheckRow(int row, ReadOnlySpan<int> cols, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        if ((uint)row >= (uint)_variances.Length) throw new ArgumentException($"row {row} is outside 0…{_variances.Length - 1}.", nameof(row));
        if (cols.Length != b.Length) throw new ArgumentException($"cols has length {cols.Length}, b has {b.Length}.", nameof(cols));
        if (c.Length != b.Length) throw new ArgumentException($"c has length {c.Length}, b has {b.Length}.", nameof(c));
        if (ess.Length < b.Length) throw new ArgumentException($"ess has length {ess.Length}, needs {b.Length}.", nameof(ess));
        if (edd.Length < b.Length) throw new ArgumentException($"edd has length {edd.Length}, needs {b.Length}.", nameof(edd));
        for (int j = 0; j < cols.Length; j++)
        {
            int k = cols[j];
            if ((uint)k >= (uint)_variances.Length) throw new ArgumentException($"cols[{j}] = {k} is outside 0…{_variances.Length - 1}.", nameof(cols));
            if (BitConverter.DoubleToInt64Bits(c[j]) != BitConverter.DoubleToInt64Bits(_variances[k]))
                throw new ArgumentException($"c[{j}] = {c[j]} is not Variance(cols[{j}]) = {_variances[k]}.", nameof(c));
        }
    }
}
