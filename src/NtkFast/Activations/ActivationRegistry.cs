using System.Globalization;

namespace NtkFast.Activations;

/// <summary>
/// Parses activation names of docs/design.md §3 ("relu", "leaky_relu:0.2", "elu:1.0", …): case-insensitive,
/// surrounding spaces ignored, an optional ":parameter" for the parameterised ones (leaky_relu, elu),
/// in invariant culture. Unknown names and bad parameters throw <see cref="ArgumentException"/>
/// listing the known names.
/// </summary>
public static class ActivationRegistry
{
    /// <summary>Every accepted name (parameterised ones shown with their parameter placeholder).</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
    [
        "relu", "leaky_relu[:A]", "abs", "erf", "identity", "sign", "sin", "cos",
        "gelu", "tanh", "sigmoid", "softplus", "silu", "elu[:A]",
    ];

    private static string Known => string.Join(", ", KnownNames);

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
        Activation? act = head switch
        {
            "relu" => Relu.Instance,
            "leaky_relu" => new LeakyRelu(Parameter(name, arg, LeakyRelu.DefaultSlope)),
            "abs" => Abs.Instance,
            "erf" => Erf.Instance,
            "identity" or "linear" => Identity.Instance,
            "sign" => Sign.Instance,
            "sin" => Sin.Instance,
            "cos" => Cos.Instance,
            "gelu" => Gelu.Instance,
            "tanh" => Tanh.Instance,
            "sigmoid" => Sigmoid.Instance,
            "softplus" => Softplus.Instance,
            "silu" or "swish" => Silu.Instance,
            "elu" => new Elu(Parameter(name, arg, Elu.DefaultAlpha)),
            _ => null,
        };
        if (act is null) throw new ArgumentException($"Unknown activation '{name}'. Known: {Known}.", nameof(name));
        if (arg is not null && head is not ("leaky_relu" or "elu"))
            throw new ArgumentException($"Activation '{head}' takes no parameter (got '{name}'). Known: {Known}.", nameof(name));
        return act;
    }

    private static double Parameter(string name, string? arg, double defaultValue)
    {
        if (arg is null) return defaultValue;
        if (!double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new ArgumentException($"Bad parameter in activation '{name}': '{arg}' is not a finite number. Known: {Known}.", nameof(name));
        return v;
    }
}
