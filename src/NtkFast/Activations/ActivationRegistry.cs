namespace NtkFast.Activations;

/// <summary>Parses activation names of design.md §3 ("relu", "leaky_relu:0.2", "elu:1.0", …).</summary>
public static class ActivationRegistry
{
    public static IReadOnlyList<string> KnownNames { get; } = ["identity"];

    public static Activation Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "identity" or "linear" => Identity.Instance,
            _ => throw new ArgumentException($"Unknown activation '{name}'. Known: {string.Join(", ", KnownNames)}.", nameof(name)),
        };
    }
}
