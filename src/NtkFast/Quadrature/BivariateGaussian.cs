using System.Runtime.CompilerServices;

namespace NtkFast.Quadrature;

/// <summary>y[i] = f(x[i]) over spans (e.g. an activation's vectorised Forward or Derivative).</summary>
public delegate void SpanFunction(ReadOnlySpan<double> x, Span<double> y);

/// <summary>
/// Accuracy knobs of <see cref="BivariateGaussian"/>. <see cref="Degree"/> is the number of
/// Gauss–Legendre nodes per angular piece and per radial panel; the Gauss rules for the smooth
/// regime use 2·Degree nodes. See docs/notes/act.md for the measured error table behind the default.
/// </summary>
public readonly record struct BivariateQuadrature(int Degree)
{
    /// <summary>The default, chosen by measurement (1e−9 relative over variances 1e−6…100, all correlations).</summary>
    public static BivariateQuadrature Default => new(DefaultDegree);
    public const int DefaultDegree = 10;

    internal void Validate()
    {
        if (Degree < 2 || Degree > 64) throw new ArgumentOutOfRangeException(nameof(Degree), Degree, "Quadrature degree must be in 2…64.");
    }
}

/// <summary>
/// Gaussian expectations E[g(u)·h(v)] for (u, v) ~ N(0, [[a, b], [b, c]]), accurate where a plain
/// Gauss–Hermite grid is not: at kinks of g and h at 0 (relu', elu', sign…) and for large variances
/// (where a smooth σ is nearly a step).
/// </summary>
/// <remarks>
/// Method. With u = √a·z₁, v = √c·(ρz₁ + √(1−ρ²)z₂) and (z₁, z₂) in polar coordinates (r, θ), u and v
/// vanish on four rays; θ ∈ [0, π] splits into two arcs between those rays (of lengths ψ = atan2(S, b)
/// and π − ψ, S = √(ac − b²) by Kahan's trick), and θ + π is the same arc with (u, v) → (−u, −v).
/// On each arc u = √a·r·sin τ and v = ±√c·r·sin(L − τ) (τ the distance to one end, L − τ to the other,
/// both computed directly so nothing cancels near the rays), so kinks of g and h at 0 lie on arc ends:
/// the integrand is smooth inside every piece.
/// Angle: Gauss–Legendre per piece; each arc is graded geometrically toward an end whose function is
/// steep (piece widths 1/√a, 2/√a, 4/√a… up to the arc's middle), since sin τ·√a·r changes sign there.
/// Radius, for each angle: with k = max(|∂u/∂r|, |∂v/∂r|), a mild ray (k ≤ 1) uses the Gauss rule of the
/// weight r·e^{−r²/2} (exact for polynomials, e.g. relu²); a steep ray uses composite Gauss–Legendre on
/// [0, 1/k], [1/k, 2/k], … (panels at most 1.5 wide) up to r = 8 (neglected mass e^{−32}).
/// Degenerate covariances (a = 0, c = 0, S = 0, i.e. ρ = ±1) become the 1-D expectation
/// E[g(√a z)·h(±√c z)], integrated on the half line with the same mild/steep choice, so zero variances
/// give g(0)·E[h(v)] exactly and nothing is NaN.
/// </remarks>
public static class BivariateGaussian
{
    private const double RMax = 8.0;
    private const double MaxPanel = 1.5;
    private const double AngularGrade = 0.5;
    private const double MildSlope = 0.25;
    private const double InvTwoPi = 0.15915494309189533577;

    /// <summary>
    /// Plain tensor Gauss–Hermite E[g(u)h(v)] through the Cholesky factor of [[a, b], [b, c]]
    /// (u = √a z₁, v = (b/√a) z₁ + √(c − b²/a) z₂), n² nodes. Exact for polynomials of degree ≤ 2n − 1 in each
    /// variable and fine for smooth, mildly scaled integrands; slow to converge at kinks and at large variances
    /// (measured in docs/notes/act.md), which is why the activations use <see cref="Expect(SpanFunction, SpanFunction, SpanFunction?, SpanFunction?, double, double, double, BivariateQuadrature)"/>.
    /// Degenerate covariances are exact: a zero variance or |ρ| = 1 leaves a 1-D rule.
    /// </summary>
    public static double ExpectGaussHermite(Func<double, double> g, Func<double, double> h, double a, double b, double c, int n)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(h);
        GaussRule rule = GaussHermite.Get(n);
        a = a > 0 ? a : 0.0;
        c = c > 0 ? c : 0.0;
        double sa = Math.Sqrt(a), sc = Math.Sqrt(c);
        double w = b * b;
        double disc = Math.FusedMultiplyAdd(a, c, -w) + Math.FusedMultiplyAdd(-b, b, w); // before clipping b
        b = Math.Clamp(b, -sa * sc, sa * sc);
        double l21 = sa > 0 ? b / sa : 0.0;
        double l22 = sa > 0 ? Math.Sqrt(Math.Max(disc, 0.0) / a) : sc;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double z1 = rule.X[i];
            double gi = g(sa * z1);
            if (l22 == 0)
            {
                sum += rule.W[i] * gi * h(l21 * z1);
                continue;
            }
            double inner = 0;
            for (int k = 0; k < n; k++) inner += rule.W[k] * h(l21 * z1 + l22 * rule.X[k]);
            sum += rule.W[i] * gi * inner;
        }
        return sum;
    }

    /// <summary>E[g(u)h(v)] with the default quadrature.</summary>
    public static double Expect(SpanFunction g, SpanFunction h, double a, double b, double c)
    {
        (double e, _) = Expect(g, h, null, null, a, b, c, BivariateQuadrature.Default);
        return e;
    }

    /// <summary>
    /// (E[g₁(u)h₁(v)], E[g₂(u)h₂(v)]) sharing the nodes (g₂, h₂ may be null: the second result is then 0).
    /// Variances below 0 are treated as 0; the correlation is clipped to [−1, 1].
    /// </summary>
    public static (double E1, double E2) Expect(SpanFunction g1, SpanFunction h1, SpanFunction? g2, SpanFunction? h2,
        double a, double b, double c, BivariateQuadrature quadrature)
    {
        ArgumentNullException.ThrowIfNull(g1);
        ArgumentNullException.ThrowIfNull(h1);
        if ((g2 is null) != (h2 is null)) throw new ArgumentException("g2 and h2 must both be given or both be null.", nameof(g2));
        quadrature.Validate();
        if (double.IsNaN(a) || double.IsNaN(b) || double.IsNaN(c)) throw new ArgumentException("Covariance entries must not be NaN.", nameof(b));
        a = a > 0 ? a : 0.0;
        c = c > 0 ? c : 0.0;
        double sa = Math.Sqrt(a), sc = Math.Sqrt(c);
        double sac = sa * sc;
        // Discriminant from the unclipped b, so b = a = c gives S = 0 exactly (√a·√c may round below a).
        double w = b * b;
        double disc = Math.FusedMultiplyAdd(a, c, -w) + Math.FusedMultiplyAdd(-b, b, w);
        b = Math.Clamp(b, -sac, sac);
        double s = disc > 0 ? Math.Sqrt(disc) : 0.0;

        int n = quadrature.Degree;
        var nodes = new NodeSet(t_ws ??= new Workspace());
        if (s == 0.0)
        {
            // One-dimensional: u = √a z, v = ±√c z (or one of them identically 0).
            AddRadial(ref nodes, sa, b < 0 ? -sc : sc, 1.0, n, halfNormal: true);
        }
        else
        {
            double psi = Math.Atan2(s, b);        // angle between the u = 0 and v = 0 rays
            double psiC = Math.Atan2(s, -b);      // π − ψ
            // Arc 1 (length ψ): u = √a r sin τ, v = −√c r sin(ψ − τ).
            AddArc(ref nodes, psi, sa, -sc, n);
            // Arc 2 (length π − ψ): v = √c r sin τ, u = √a r sin(π − ψ − τ).
            AddArcSwapped(ref nodes, psiC, sa, sc, n);
        }
        return nodes.Evaluate(g1, h1, g2, h2);
    }

    private static void AddArc(ref NodeSet nodes, double length, double sa, double scSigned, int n)
    {
        if (length <= 0) return;
        GaussRule gl = GaussLegendre.Get(n);
        // Grade from the start (u = 0 ray: steepness √a) and from the end (v = 0 ray: steepness √c).
        double half = 0.5 * length;
        // Both ends are graded for the steeper of the two functions: near a ray where one argument
        // vanishes the other is small too whenever the arcs are short (|ρ| → 1).
        double steep = Math.Max(sa, Math.Abs(scSigned));
        AddHalfArc(ref nodes, gl, half, steep, length, sa, scSigned, fromStart: true, n);
        AddHalfArc(ref nodes, gl, half, steep, length, sa, scSigned, fromStart: false, n);
    }

    private static void AddArcSwapped(ref NodeSet nodes, double length, double sa, double sc, int n)
    {
        if (length <= 0) return;
        GaussRule gl = GaussLegendre.Get(n);
        double half = 0.5 * length;
        // τ measured from the v = 0 ray; u uses the distance to the other end.
        AddHalfArcSwapped(ref nodes, gl, half, length, sa, sc, fromStart: true, n);
        AddHalfArcSwapped(ref nodes, gl, half, length, sa, sc, fromStart: false, n);
    }

    /// <summary>Half an arc of type 1: u = √a r sin τ, v = scSigned·r·sin(L − τ).</summary>
    private static void AddHalfArc(ref NodeSet nodes, GaussRule gl, double half, double steepNear,
        double length, double sa, double scSigned, bool fromStart, int n)
    {
        // Pieces measured from this end: [0, w], [w, 2w], [2w, 4w], … up to the middle.
        double grade = steepNear > 0 ? Math.Min(AngularGrade / steepNear, half) : half;
        double lo = 0;
        while (lo < half)
        {
            double hi = lo == 0 ? Math.Min(grade, half) : Math.Min(2 * lo, half);
            if (half - hi < 0.25 * (hi - lo)) hi = half;
            double mid = 0.5 * (lo + hi), hw = 0.5 * (hi - lo);
            for (int i = 0; i < n; i++)
            {
                double d = mid + hw * gl.X[i];          // distance from this end
                double other = length - d;              // distance from the other end (≥ L/2)
                double tau = fromStart ? d : other;     // distance from the start (u = 0 ray)
                double rest = fromStart ? other : d;    // distance from the end (v = 0 ray)
                double alpha = sa * Math.Sin(tau);
                double beta = scSigned * Math.Sin(rest);
                AddRadial(ref nodes, alpha, beta, hw * gl.W[i] * InvTwoPi, n, halfNormal: false);
            }
            lo = hi;
        }
    }

    /// <summary>Half an arc of type 2: v = √c r sin τ, u = √a r sin(L − τ), τ from the v = 0 ray.</summary>
    private static void AddHalfArcSwapped(ref NodeSet nodes, GaussRule gl, double half, double length, double sa, double sc, bool fromStart, int n)
    {
        double steepNear = Math.Max(sa, sc);
        double grade = steepNear > 0 ? Math.Min(AngularGrade / steepNear, half) : half;
        double lo = 0;
        while (lo < half)
        {
            double hi = lo == 0 ? Math.Min(grade, half) : Math.Min(2 * lo, half);
            if (half - hi < 0.25 * (hi - lo)) hi = half;
            double mid = 0.5 * (lo + hi), hw = 0.5 * (hi - lo);
            for (int i = 0; i < n; i++)
            {
                double d = mid + hw * gl.X[i];
                double other = length - d;
                double tauV = fromStart ? d : other;   // distance from the v = 0 ray
                double tauU = fromStart ? other : d;   // distance from the u = 0 ray
                AddRadial(ref nodes, sa * Math.Sin(tauU), sc * Math.Sin(tauV), hw * gl.W[i] * InvTwoPi, n, halfNormal: false);
            }
            lo = hi;
        }
    }

    /// <summary>
    /// Adds the radial (or half-line) nodes for the ray u = α·r, v = β·r with outer weight ω:
    /// Σ ω·ω_r·[g(α r)h(β r) + g(−α r)h(−β r)] approximates ω·∫₀^∞ (…)·w(r) dr, where w is r e^{−r²/2}
    /// (polar) or the half-normal density / 2 (1-D case, the ½ folded in below).
    /// </summary>
    private static void AddRadial(ref NodeSet nodes, double alpha, double beta, double omega, int n, bool halfNormal)
    {
        double k = Math.Max(Math.Abs(alpha), Math.Abs(beta));
        if (halfNormal) omega *= 0.5;
        if (k <= MildSlope)
        {
            GaussRule rule = halfNormal ? HalfLineRules.HalfNormal(2 * n) : HalfLineRules.Radial(2 * n);
            for (int m = 0; m < rule.X.Length; m++)
                nodes.Add(alpha * rule.X[m], beta * rule.X[m], omega * rule.W[m]);
            return;
        }
        GaussRule gl = GaussLegendre.Get(n);
        double lo = 0, first = Math.Min(1.0 / k, MaxPanel);
        while (lo < RMax)
        {
            double hi = lo == 0 ? first : Math.Min(Math.Min(2 * lo, lo + MaxPanel), RMax);
            if (RMax - hi < 0.25 * (hi - lo)) hi = RMax;
            double mid = 0.5 * (lo + hi), hw = 0.5 * (hi - lo);
            for (int i = 0; i < n; i++)
            {
                double r = mid + hw * gl.X[i];
                double wr = halfNormal ? 0.79788456080286535588 * Math.Exp(-0.5 * r * r) : r * Math.Exp(-0.5 * r * r);
                nodes.Add(alpha * r, beta * r, omega * hw * gl.W[i] * wr);
            }
            lo = hi;
        }
    }

    /// <summary>
    /// Flat node lists (u-arguments, v-arguments, weights) in a per-thread buffer that grows on demand
    /// (so after warm-up nothing is allocated), then one batched call per function over [u, −u] and [v, −v].
    /// </summary>
    private struct NodeSet
    {
        private double[] _u, _v, _w;
        private int _count;

        public NodeSet(Workspace ws)
        {
            _u = ws.U;
            _v = ws.V;
            _w = ws.W;
            _count = 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(double u, double v, double w)
        {
            if (_count == _u.Length) Grow();
            _u[_count] = u;
            _v[_count] = v;
            _w[_count] = w;
            _count++;
        }

        private void Grow()
        {
            int n = 2 * _u.Length;
            Array.Resize(ref _u, n);
            Array.Resize(ref _v, n);
            Array.Resize(ref _w, n);
            Workspace ws = t_ws!;
            ws.U = _u;
            ws.V = _v;
            ws.W = _w;
        }

        public readonly (double, double) Evaluate(SpanFunction g1, SpanFunction h1, SpanFunction? g2, SpanFunction? h2)
        {
            int m = _count;
            Workspace ws = t_ws!;
            ws.EnsureScratch(2 * m);
            Span<double> gu = ws.GU.AsSpan(0, 2 * m);
            Span<double> hv = ws.HV.AsSpan(0, 2 * m);
            for (int i = 0; i < m; i++)
            {
                gu[i] = _u[i];
                gu[m + i] = -_u[i];
                hv[i] = _v[i];
                hv[m + i] = -_v[i];
            }
            ReadOnlySpan<double> w = _w.AsSpan(0, m);
            Span<double> gv = ws.GV.AsSpan(0, 2 * m);
            Span<double> hvv = ws.HVV.AsSpan(0, 2 * m);
            double e1 = Pass(g1, h1, gu, hv, w, gv, hvv, m);
            double e2 = g2 is null ? 0.0 : Pass(g2, h2!, gu, hv, w, gv, hvv, m);
            return (e1, e2);
        }

        private static double Pass(SpanFunction g, SpanFunction h, ReadOnlySpan<double> gu, ReadOnlySpan<double> hv,
            ReadOnlySpan<double> w, Span<double> gv, Span<double> hvv, int m)
        {
            g(gu, gv);
            h(hv, hvv);
            double sum = 0;
            for (int i = 0; i < m; i++)
                sum += w[i] * (gv[i] * hvv[i] + gv[m + i] * hvv[m + i]);
            return sum;
        }
    }

    private sealed class Workspace
    {
        public double[] U = new double[4096], V = new double[4096], W = new double[4096];
        public double[] GU = [], HV = [], GV = [], HVV = [];

        public void EnsureScratch(int n)
        {
            if (GU.Length >= n) return;
            GU = new double[n];
            HV = new double[n];
            GV = new double[n];
            HVV = new double[n];
        }
    }

    [ThreadStatic] private static Workspace? t_ws;
}
