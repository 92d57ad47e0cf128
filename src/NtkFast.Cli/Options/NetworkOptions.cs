using System.Globalization;
using NtkFast.Activations;
using NtkFast.Kernels;
using NtkFast.Networks;

namespace NtkFast.Cli.Options;

/// <summary>
/// The option group of a finite network: a fresh one drawn from a seed (--widths, --activation, --seed,
/// --beta, --weight-std; `init`, `empirical --monte-carlo`, `drift`) or one read from a parameter file
/// (--params; `train`, `empirical`, `predict`), and --trainable-from checked against its depth. Owns
/// parsing, validation, help text and defaults (from <see cref="KernelSpec"/>'s constants), so every
/// command accepts the same values with the same messages.
/// </summary>
internal static class NetworkOptions
{
    /// <summary>Options that describe a fresh network (rejected together with --params).</summary>
    public static readonly string[] FreshNames = ["widths", "activation", "seed", "beta", "weight-std"];

    /// <summary>
    /// Largest parameter count of a network built from --widths: its parameters and one gradient must fit
    /// in .NET arrays (a width of 10⁹ is a typo, reported before anything is allocated).
    /// </summary>
    public const long MaxParameters = 1L << 30;

    /// <summary>--widths N0,N1,…,NL: at least two entries (input and output), each ≥ 1, total parameters bounded.</summary>
    public static int[] Widths(CliArgs args) => ParseWidths(args.Required("widths"), "widths", minEntries: 2);

    /// <summary>A comma-separated list of widths as option --<paramref name="option"/> gives it.</summary>
    public static int[] ParseWidths(string text, string option, int minEntries)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length < minEntries)
            throw new CliException(minEntries == 2
                ? $"option --{option} needs at least two comma-separated widths (input and output), got {CliMessages.Name(text)}"
                : $"option --{option} needs at least {minEntries} comma-separated widths, got {CliMessages.Name(text)}");
        var w = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out w[i]))
                throw new CliException($"option --{option}: entry {i} {CliMessages.Name(parts[i])} is not an integer");
            if (w[i] < 1) throw new CliException($"option --{option}: entry {i} is {w[i]}; every width must be at least 1");
        }
        long parameters = 0;
        for (int i = 0; i + 1 < w.Length; i++) parameters += (long)w[i] * w[i + 1] + w[i + 1];
        if (parameters > MaxParameters)
            throw new CliException($"option --{option}: {text} has {parameters:N0} parameters, more than the {MaxParameters:N0} accepted");
        return w;
    }

    /// <summary>--seed: an integer in [0, 2^64).</summary>
    public static ulong Seed(CliArgs args) => ParseSeed(args.Required("seed"));

    /// <summary>A seed as --seed gives it.</summary>
    public static ulong ParseSeed(string text)
    {
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
            throw new CliException($"option --seed: {CliMessages.Name(text)} is not an integer in [0, 2^64)");
        return seed;
    }

    /// <summary>A fresh network's architecture: --widths, --activation (required), --beta, --weight-std (defaults from <see cref="KernelSpec"/>).</summary>
    public static MlpArchitecture Fresh(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int[] widths = Widths(args);
        Activation activation = KernelSpecOptions.Activation(args.Required("activation"));
        return new MlpArchitecture(widths, activation, KernelSpecOptions.Beta(args), KernelSpecOptions.WeightStd(args));
    }

    /// <summary>True if any option of a fresh network is given (reads them, so they count as used).</summary>
    public static bool AnyFresh(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        bool any = false;
        foreach (string n in FreshNames) any |= args.Has(n);
        return any;
    }

    /// <summary>--trainable-from K (default 0) for a network of <paramref name="depth"/> weight layers: 0 … depth−1.</summary>
    public static int TrainableFrom(CliArgs args, int depth)
    {
        ArgumentNullException.ThrowIfNull(args);
        int k = args.Int("trainable-from", 0, min: 0);
        CheckTrainableFrom(k, depth);
        return k;
    }

    /// <summary>The check of --trainable-from once the depth is known (for networks read from a file after the options).</summary>
    public static void CheckTrainableFrom(int trainableFrom, int depth)
    {
        if (trainableFrom > depth - 1)
            throw new CliException($"option --trainable-from must be in [0, {depth - 1}] for a network of {depth} weight layers, got {trainableFrom}");
    }

    /// <summary>Help lines of a fresh network's options.</summary>
    public static string FreshHelp { get; } = string.Create(CultureInfo.InvariantCulture, $"""
          --widths N0,...,NL     input width, hidden widths, output width (at least two, each >= 1)
          --activation NAME      as for `ntk kernel` (see `ntk help kernel`)
          --seed S               integer in [0, 2^64); the same seed gives the same network everywhere
          --beta B               bias scale (default {KernelSpec.DefaultBeta})
          --weight-std S         weight scale sigma_w (default {KernelSpec.DefaultWeightStd})

        """);

    /// <summary>Help line of --trainable-from for networks.</summary>
    public const string TrainableFromHelp = "  --trainable-from K     freeze the first K weight layers W0..W(K-1) (0 … L−1; default 0)\n";
}
