using System.Globalization;

namespace NtkFast.Activations;

/// <summary>How an activation's dual kernel is computed (docs/design.md §3, docs/notes/act.md).</summary>
public enum DualKind
{
    /// <summary>A closed form (arc-cosine family, erf, sin/cos, sign, identity).</summary>
    ClosedForm,
    /// <summary>Smooth σ: the certified Mehler (Hermite) series, the polar rule where it is not certified.</summary>
    Smooth,
    /// <summary>The kink-aware polar quadrature rule (derivative jumps, e.g. elu with A ≠ 1).</summary>
    Quadrature,
}

/// <summary>
/// One row of the activation table: the name, a one-line description, how the dual kernel is computed,
/// and the factory. <paramref name="Parameter"/> names the optional ":A" parameter (null: takes none);
/// <paramref name="Examples"/> are canonical spellings (the default and, for parameterised entries, one
/// other value) that help texts, docs and the test theories use.
/// </summary>
public sealed record ActivationInfo(
    string Name,
    string Description,
    DualKind Kind,
    string? Parameter,
    double DefaultParameter,
    Func<double, Activation> Factory,
    IReadOnlyList<string> Examples,
    IReadOnlyList<string> Aliases)
{
    /// <summary>The name as shown in help texts: "leaky_relu[:A]" for parameterised entries.</summary>
    public string Usage => Parameter is null ? Name : $"{Name}[:{Parameter}]";

    /// <summary>The activation at the default parameter.</summary>
    public Activation Create() => Factory(DefaultParameter);
}

/// <summary>
/// The activation table (<see cref="All"/>) and the parser of docs/design.md §3 names ("relu", "leaky_relu:0.2",
/// "elu:1.0", …): case-insensitive, surrounding spaces ignored, an optional ":parameter" for the
/// parameterised ones, in invariant culture. Unknown names and bad parameters throw
/// <see cref="ArgumentException"/> listing the known names. Adding an activation = one file + one row here.
/// </summary>
public static class ActivationRegistry
{
    private static ActivationInfo Plain(string name, string description, DualKind kind, Activation instance, params string[] aliases) =>
        new(name, description, kind, null, 0.0, _ => instance, [name], aliases);

    private static ActivationInfo WithParameter(string name, string description, DualKind kind, double defaultValue, double example, Func<double, Activation> factory) =>
        new(name, description, kind, "A", defaultValue, factory, [name, name + ":" + example.ToString("R", CultureInfo.InvariantCulture)], []);

    /// <summary>Every activation, in the order help texts list them.</summary>
    public static IReadOnlyList<ActivationInfo> All { get; } =
    [
        Plain("relu", "max(x, 0)", DualKind.ClosedForm, Relu.Instance),
        WithParameter("leaky_relu", "x for x > 0, A·x otherwise (A = 0.01)", DualKind.ClosedForm, LeakyRelu.DefaultSlope, 0.2, a => new LeakyRelu(a)),
        Plain("abs", "|x|", DualKind.ClosedForm, Abs.Instance),
        Plain("erf", "error function", DualKind.ClosedForm, Erf.Instance),
        Plain("identity", "x (linear network)", DualKind.ClosedForm, Identity.Instance, "linear"),
        Plain("sign", "sign(x), derivative 0", DualKind.ClosedForm, Sign.Instance),
        Plain("sin", "sin(x)", DualKind.ClosedForm, Sin.Instance),
        Plain("cos", "cos(x)", DualKind.ClosedForm, Cos.Instance),
        Plain("gelu", "x·Φ(x) (exact)", DualKind.Smooth, Gelu.Instance),
        Plain("tanh", "tanh(x)", DualKind.Smooth, Tanh.Instance),
        Plain("sigmoid", "1/(1 + e^-x)", DualKind.Smooth, Sigmoid.Instance),
        Plain("softplus", "log(1 + e^x)", DualKind.Smooth, Softplus.Instance),
        Plain("silu", "x·sigmoid(x) (swish)", DualKind.Smooth, Silu.Instance, "swish"),
        Plain("mish", "x·tanh(softplus(x))", DualKind.Smooth, Mish.Instance),
        WithParameter("elu", "x for x > 0, A·(e^x − 1) otherwise (A = 1)", DualKind.Quadrature, Elu.DefaultAlpha, 0.5, a => new Elu(a)),
    ];

    /// <summary>Every accepted name as help texts show it (parameterised ones with their placeholder, "leaky_relu[:A]").</summary>
    public static IReadOnlyList<string> KnownNames { get; } = All.Select(e => e.Usage).ToArray();

    private static string Known => string.Join(", ", KnownNames);

    /// <summary>The table row for <paramref name="name"/> (its head before any ':'; aliases accepted), or null.</summary>
    public static ActivationInfo? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string s = name.Trim().ToLowerInvariant();
        int colon = s.IndexOf(':');
        string head = colon >= 0 ? s[..colon].Trim() : s;
        foreach (ActivationInfo e in All)
            if (e.Name == head || e.Aliases.Contains(head)) return e;
        return null;
    }

    public static Activation Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string s = name.Trim().ToLowerInvariant();
        string head = s;
        string? arg = null;
        int colon = s.IndexOf(':');
        if (colon >= 0)
        {
            head = s[..colon].Trim();
            arg = s[(colon + 1)..].Trim();
        }
        ActivationInfo? entry = Find(head);
        if (entry is null) throw new ArgumentException($"Unknown activation '{IO.Printable.Quote(name)}'. Known: {Known}.", nameof(name));
        if (arg is not null && entry.Parameter is null)
            throw new ArgumentException($"Activation '{IO.Printable.Quote(head)}' takes no parameter (got '{IO.Printable.Quote(name)}'). Known: {Known}.", nameof(name));
        return entry.Factory(Parameter(name, arg, entry.DefaultParameter));
    }

    private static double Parameter(string name, string? arg, double defaultValue)
    {
        if (arg is null) return defaultValue;
        if (!double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new ArgumentException($"Bad parameter in activation '{IO.Printable.Quote(name)}': '{IO.Printable.Quote(arg)}' is not a finite number. Known: {Known}.", nameof(name));
        return v;
    }
}
