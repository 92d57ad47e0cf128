using System.Globalization;
using NtkFast.Activations;
using NtkFast.Kernels;

namespace NtkFast.Cli.Options;

/// <summary>
/// The option group of an infinite-width kernel or a network's nonlinearity and scales: --depth,
/// --activation, --beta, --weight-std, --trainable-from, --quadrature-degree. Owns their parsing,
/// validation, help text and defaults (taken from <see cref="KernelSpec"/>'s constants), so every
/// command that takes them accepts the same values with the same messages.
/// </summary>
internal static class KernelSpecOptions
{
    /// <summary>Option names of the group (commands that reject them together with another input use this).</summary>
    public static readonly string[] Names = ["depth", "activation", "beta", "weight-std", "trainable-from", "quadrature-degree"];

    /// <summary>--beta: bias standard deviation, finite and ≥ 0.</summary>
    public static double Beta(CliArgs args) => Finite(args, "beta", KernelSpec.DefaultBeta);

    /// <summary>--weight-std: σw, finite and ≥ 0.</summary>
    public static double WeightStd(CliArgs args) => Finite(args, "weight-std", KernelSpec.DefaultWeightStd);

    private static double Finite(CliArgs args, string name, double fallback)
    {
        double v = args.Double(name, fallback, min: 0);
        if (!double.IsFinite(v)) throw new CliException($"option --{name}: must be finite, got {v.ToString(CultureInfo.InvariantCulture)}");
        return v;
    }

    /// <summary>An activation name of the registry (parameters after ':'), as --activation gives it.</summary>
    public static Activation Activation(string name)
    {
        try { return ActivationRegistry.Parse(name); }
        catch (ArgumentException e) { throw new CliException($"option --activation: {CliMessages.WithoutParameter(e)}"); }
    }

    /// <summary>
    /// --quadrature-degree: only for activations without a closed-form dual (a closed form is exact; the
    /// option would be silently ignored, so it is an error), in <see cref="KernelSpec.MinQuadratureDegree"/> …
    /// <see cref="KernelSpec.MaxQuadratureDegree"/>. Null when not given.
    /// </summary>
    public static int? QuadratureDegree(CliArgs args, Activation activation)
    {
        if (!args.Has("quadrature-degree")) return null;
        int q = args.Int("quadrature-degree", min: KernelSpec.MinQuadratureDegree, max: KernelSpec.MaxQuadratureDegree);
        if (activation.HasClosedFormDual)
            throw new CliException($"option --quadrature-degree: {CliMessages.Name(activation.Name)} has a closed-form dual kernel (exact); the option applies only to activations computed numerically");
        return q;
    }

    /// <summary>The whole group as a <see cref="KernelSpec"/> (--depth and --activation required).</summary>
    public static KernelSpec Kernel(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int depth = args.Int("depth", min: 1);
        if (depth > MaxDepth) throw new CliException($"option --depth: {depth} layers is more than the {MaxDepth} accepted");
        Activation activation = Activation(args.Required("activation"));
        double beta = Beta(args), weightStd = WeightStd(args);
        int trainableFrom = args.Int("trainable-from", 0, min: 0, max: depth - 1);
        int? q = QuadratureDegree(args, activation);
        return new KernelSpec(depth, activation, beta, weightStd, trainableFrom, q);
    }

    /// <summary>Largest --depth accepted (each layer is one pass over the kernel; deeper is a typo).</summary>
    public const int MaxDepth = 10_000;

    /// <summary>Help lines of the group.</summary>
    public static string Help { get; } = string.Create(CultureInfo.InvariantCulture, $"""
          --depth L              number of weight layers, 1 … {MaxDepth}
          --activation NAME      {Wrap(string.Join(", ", ActivationRegistry.All.Select(e => e.Usage)), 56, 27)}
          --beta B               bias standard deviation (default {KernelSpec.DefaultBeta})
          --weight-std S         weight standard deviation σw (default {KernelSpec.DefaultWeightStd})
          --trainable-from K     NTK of a network whose first K weight layers are frozen (0 … L−1; default 0)
          --quadrature-degree Q  activations without a closed-form dual only: instead of the default (the
                                 certified Mehler series for smooth σ, the kink-aware rule otherwise) use
                                 the polar quadrature rule with Q nodes per piece ({KernelSpec.MinQuadratureDegree} … {KernelSpec.MaxQuadratureDegree}; slower
                                 than the series); an error for closed-form activations (they are exact)

        """);

    private static string Wrap(string text, int width, int indent)
    {
        var lines = new List<string>();
        string line = "";
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width) { lines.Add(line); line = word; }
            else line = line.Length == 0 ? word : line + " " + word;
        }
        if (line.Length > 0) lines.Add(line);
        return string.Join("\n" + new string(' ', indent), lines);
    }
}

/// <summary>The CLI's one way of turning library exceptions and user-given names into message text.</summary>
internal static class CliMessages
{
    /// <summary>The exception's message without .NET's " (Parameter 'x')" suffix.</summary>
    public static string WithoutParameter(ArgumentException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string s = e.Message;
        int i = s.IndexOf(" (Parameter", StringComparison.Ordinal);
        return i < 0 ? s : s[..i];
    }

    /// <summary>Like <see cref="Name"/> without the quotes (for option names after "--").</summary>
    public static string Bare(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string clean = string.Concat(name.Take(64).Select(c => char.IsControl(c) ? '?' : c));
        return name.Length > 64 ? clean + "…" : clean;
    }

    /// <summary>A name from a file or an argument, safe to echo: control characters replaced, at most 64 characters.</summary>
    public static string Name(string? name)
    {
        if (name is null) return "''";
        string clean = string.Concat(name.Take(64).Select(c => char.IsControl(c) ? '?' : c));
        return name.Length > 64 ? $"'{clean}…'" : $"'{clean}'";
    }
}
