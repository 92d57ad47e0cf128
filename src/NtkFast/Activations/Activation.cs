namespace NtkFast.Activations;

/// <summary>E[σ(u)σ(v)] and E[σ'(u)σ'(v)] for (u, v) ~ N(0, [[a, b], [b, c]]).</summary>
public readonly record struct DualValue(double Ess, double Edd);

/// <summary>
/// A nonlinearity σ: its value and derivative (scalar and over spans, float and double,
/// for the finite networks) and its dual kernel (for the infinite-width kernels).
/// One virtual call per span, never per element: implementations run vectorised loops.
/// Derivatives at kinks follow torch (relu'(0) = 0, …; see design.md §1).
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

    public override string ToString() => Name;

    protected static void CheckDualSpans(ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        if (c.Length != b.Length) throw new ArgumentException($"c has length {c.Length}, b has {b.Length}.", nameof(c));
        if (ess.Length < b.Length) throw new ArgumentException($"ess has length {ess.Length}, needs {b.Length}.", nameof(ess));
        if (edd.Length < b.Length) throw new ArgumentException($"edd has length {edd.Length}, needs {b.Length}.", nameof(edd));
    }
}
