using NtkFast.Numerics;
using NtkFast.Quadrature;

namespace NtkFast.Activations;

/// <summary>
/// An activation whose dual kernel comes from quadrature: the Mehler (Hermite) series with a rigorous
/// truncation bound where it is certified (<see cref="MehlerSeries"/>: smooth σ, moderate variances), the
/// kink-aware polar rule of <see cref="BivariateGaussian"/> everywhere else. The choice is a function of
/// (a, b, c) alone, so the scalar, batched and prepared duals return the same bits.
/// </summary>
public abstract class QuadratureActivation : Activation
{
    // Direct-mapped cache of Hermite coefficient records by variance (immutable records, benign races:
    // a record is a pure function of the variance, so whichever thread computes it stores the same bits).
    private const int CacheSize = 1024;
    private readonly MehlerRecord?[] _cache = new MehlerRecord?[CacheSize];

    /// <summary>
    /// Quadrature of the polar rule. At the default the series is used wherever it is certified; any other
    /// degree (<see cref="Activation.WithNumericDual"/> with an explicit rule, `--quadrature-degree`) means the
    /// polar rule at that degree throughout — a cross-check of the series, and of closed forms.
    /// </summary>
    public virtual BivariateQuadrature Quadrature => BivariateQuadrature.Default;

    /// <summary>True when the Mehler series is tried before the polar rule (the default quadrature).</summary>
    public bool UsesSeries => Quadrature.Degree == BivariateQuadrature.DefaultDegree;

    public override DualValue Dual(double a, double b, double c)
    {
        if (UsesSeries && a > 0 && c > 0 && MehlerSeries.TryEvaluate(Record(a), Record(c), b, out double ess, out double edd))
            return new DualValue(ess, edd);
        return NumericDual(a, b, c, Quadrature);
    }

    public override void Dual(double a, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
    {
        if (!UsesSeries)
        {
            NumericDual(a, b, c, ess, edd, Quadrature);
            return;
        }
        CheckDualSpans(b, c, ess, edd);
        MehlerRecord ra = Record(a);
        for (int j = 0; j < b.Length; j++)
        {
            DualValue v = a > 0 && c[j] > 0 && MehlerSeries.TryEvaluate(ra, Record(c[j]), b[j], out double s, out double d)
                ? new DualValue(s, d) : NumericDual(a, b[j], c[j], Quadrature);
            ess[j] = v.Ess;
            edd[j] = v.Edd;
        }
    }

    /// <summary>Hermite coefficients at every variance once (in parallel); rows then cost a dot product per triple.</summary>
    public override PreparedDual PrepareDual(ReadOnlySpan<double> variances) => UsesSeries ? new MehlerPreparedDual(this, variances) : base.PrepareDual(variances);

    /// <summary>The coefficient record of variance <paramref name="v"/> (cached).</summary>
    internal MehlerRecord Record(double v)
    {
        if (!(v >= MehlerSeries.MinVariance && v <= MehlerSeries.MaxVariance)) return MehlerRecord.Ineligible(v);
        long bits = BitConverter.DoubleToInt64Bits(v);
        int slot = (int)((ulong)(bits * unchecked((long)0x9E3779B97F4A7C15UL)) >> 54) & (CacheSize - 1);
        MehlerRecord? r = Volatile.Read(ref _cache[slot]);
        if (r is not null && BitConverter.DoubleToInt64Bits(r.Variance) == bits) return r;
        r = MehlerSeries.Compute(this, v);
        Volatile.Write(ref _cache[slot], r);
        return r;
    }

    /// <summary>Prepared dual of a quadrature activation: one coefficient record per variance.</summary>
    private sealed class MehlerPreparedDual : PreparedDual
    {
        private readonly QuadratureActivation _act;
        private readonly MehlerRecord[] _records;

        public MehlerPreparedDual(QuadratureActivation act, ReadOnlySpan<double> variances) : base(act, variances)
        {
            _act = act;
            var records = new MehlerRecord[variances.Length];
            NtkParallel.For(records.Length, i => records[i] = act.Record(Variance(i)));
            _records = records;
        }

        public override DualValue Diagonal(int index)
        {
            double v = Variance(index);
            MehlerRecord r = _records[index];
            if (v > 0 && MehlerSeries.TryEvaluate(r, r, v, out double ess, out double edd)) return new DualValue(ess, edd);
            return _act.NumericDual(v, v, v, _act.Quadrature);
        }

        public override void Row(int row, ReadOnlySpan<int> cols, ReadOnlySpan<double> b, ReadOnlySpan<double> c, Span<double> ess, Span<double> edd)
        {
            CheckRow(row, cols, b, c, ess, edd);
            double a = Variance(row);
            MehlerRecord ra = _records[row];
            for (int j = 0; j < b.Length; j++)
            {
                DualValue v = a > 0 && c[j] > 0 && MehlerSeries.TryEvaluate(ra, _records[cols[j]], b[j], out double s, out double d)
                    ? new DualValue(s, d) : _act.NumericDual(a, b[j], c[j], _act.Quadrature);
                ess[j] = v.Ess;
                edd[j] = v.Edd;
            }
        }
    }
}

/// <summary>tanh(x); tanh'(x) = sech²(x). Dual kernel by quadrature.</summary>
public sealed class Tanh : SmoothActivation<TanhOp<double>, TanhOp<float>, TanhDerivativeOp<double>, TanhDerivativeOp<float>>
{
    public static Tanh Instance { get; } = new();
    public override string Name => "tanh";
}

/// <summary>sigmoid(x) = 1/(1 + e^{−x}); derivative e^{−|x|}/(1 + e^{−|x|})². Dual kernel by quadrature.</summary>
public sealed class Sigmoid : SmoothActivation<SigmoidOp<double>, SigmoidOp<float>, SigmoidDerivativeOp<double>, SigmoidDerivativeOp<float>>
{
    public static Sigmoid Instance { get; } = new();
    public override string Name => "sigmoid";
}

/// <summary>softplus(x) = log(1 + eˣ) (no cut-off, computed as max(x, 0) + log1p(e^{−|x|})); derivative sigmoid(x).</summary>
public sealed class Softplus : SmoothActivation<SoftplusOp<double>, SoftplusOp<float>, SigmoidOp<double>, SigmoidOp<float>>
{
    public static Softplus Instance { get; } = new();
    public override string Name => "softplus";
}

/// <summary>silu(x) = x·sigmoid(x) (swish); derivative s(1 + x(1 − s)). Dual kernel by quadrature.</summary>
public sealed class Silu : SmoothActivation<SiluOp<double>, SiluOp<float>, SiluDerivativeOp<double>, SiluDerivativeOp<float>>
{
    public static Silu Instance { get; } = new();
    public override string Name => "silu";
}

/// <summary>gelu(x) = x·Φ(x) exactly (not the tanh approximation); derivative Φ(x) + x·φ(x). Dual kernel by quadrature.</summary>
public sealed class Gelu : SmoothActivation<GeluOp<double>, GeluOp<float>, GeluDerivativeOp<double>, GeluDerivativeOp<float>>
{
    public static Gelu Instance { get; } = new();
    public override string Name => "gelu";
}

/// <summary>
/// elu(x) = x for x &gt; 0, A·(eˣ − 1) otherwise (default A = 1); elu'(x) = 1 for x &gt; 0, A·eˣ otherwise,
/// so elu'(0) = A (torch). The derivative jumps at 0 unless A = 1; the polar rule splits there.
/// </summary>
public sealed class Elu : QuadratureActivation
{
    public const double DefaultAlpha = 1.0;

    public Elu(double alpha = DefaultAlpha)
    {
        if (!double.IsFinite(alpha)) throw new ArgumentException($"elu alpha must be finite, got {alpha}.", nameof(alpha));
        Alpha = alpha;
    }

    public double Alpha { get; }
    public override string Name => "elu:" + Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
    public override double Value(double x) => EluOp<double>.Invoke(x, Alpha);
    public override double Derivative(double x) => EluDerivativeOp<double>.Invoke(x, Alpha);
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => ElementwiseDriver.MapScalar<EluOp<double>, double>(x, Alpha, y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => ElementwiseDriver.MapScalar<EluOp<float>, float>(x, (float)Alpha, y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) => ElementwiseDriver.MapScalar<EluDerivativeOp<double>, double>(x, Alpha, d);
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) => ElementwiseDriver.MapScalar<EluDerivativeOp<float>, float>(x, (float)Alpha, d);
}

/// <summary>A user activation from scalar delegates (see <see cref="Activation.Custom"/>).</summary>
internal sealed class CustomActivation(string name, Func<double, double> value, Func<double, double> derivative) : QuadratureActivation
{
    public override string Name => name;
    public override double Value(double x) => value(x);
    public override double Derivative(double x) => derivative(x);
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) { CheckLength(x.Length, y.Length); for (int i = 0; i < x.Length; i++) y[i] = value(x[i]); }
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) { CheckLength(x.Length, y.Length); for (int i = 0; i < x.Length; i++) y[i] = (float)value(x[i]); }
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) { CheckLength(x.Length, d.Length); for (int i = 0; i < x.Length; i++) d[i] = derivative(x[i]); }
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) { CheckLength(x.Length, d.Length); for (int i = 0; i < x.Length; i++) d[i] = (float)derivative(x[i]); }
}

/// <summary>Wraps an activation, forcing its dual kernel through quadrature (see <see cref="Activation.WithNumericDual"/>).</summary>
internal sealed class NumericDualActivation(Activation inner, BivariateQuadrature quadrature) : QuadratureActivation
{
    public override BivariateQuadrature Quadrature => quadrature;
    public override string Name => inner.Name;
    public override double Value(double x) => inner.Value(x);
    public override double Derivative(double x) => inner.Derivative(x);
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) => inner.Forward(x, y);
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) => inner.Forward(x, y);
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) => inner.Derivative(x, d);
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) => inner.Derivative(x, d);
}
