using System.Globalization;
using NtkFast.Activations;
using NtkFast.Networks;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk init</c>: a network with iid N(0, 1) parameters from a seed, saved as a parameter .npz.</summary>
internal sealed class InitCommand : ICommand
{
    public string Name => "init";
    public string Summary => "initialise an MLP (NTK parameterisation) from a seed and save it as .npz";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "float32" };

    public string Help => """
        usage: ntk init --widths N0,N1,...,NL --activation NAME --seed S --out net.npz
                        [--beta 0.1] [--weight-std 1] [--float32]

        Creates a fully connected network in the NTK parameterisation
          a~(l+1) = (weight_std / sqrt(n_l)) W(l) a(l) + beta b(l),  a(l) = act(a~(l)),  f = a~(L)
        with every weight and bias drawn iid N(0, 1) from the seed (the same seed gives
        the same network on every machine and thread count; --float32 rounds it).

          --widths       input width, hidden widths, output width (at least two, each >= 1)
          --activation   relu, leaky_relu:A, abs, erf, identity, sign, sin, cos, gelu, tanh,
                         sigmoid, softplus, silu, elu:A, ...
          --beta         bias scale (default 0.1)
          --weight-std   weight scale sigma_w (default 1)
          --seed         integer in [0, 2^64)
          --float32      store single-precision parameters (default float64)
          --out          the parameter file: W0, b0, W1, b1, ... (W_l shaped (n(l+1), n(l))),
                         beta, weight_std, activation — loadable with numpy.load

        """;

    public int Run(CliArgs args)
    {
        int[] widths = ParseWidths(args.Required("widths"));
        Activation activation = Options.KernelSpecOptions.Activation(args.Required("activation"));
        double beta = Options.KernelSpecOptions.Beta(args);
        double weightStd = Options.KernelSpecOptions.WeightStd(args);
        ulong seed = ParseSeed(args.Required("seed"));
        bool single = args.Flag("float32");
        string outPath = args.Required("out");
        args.EnsureAllUsed();

        var arch = new MlpArchitecture(widths, activation, beta, weightStd);
        if (single) MlpFile.Write(outPath, Mlp<float>.Initialize(arch, seed));
        else MlpFile.Write(outPath, Mlp<double>.Initialize(arch, seed));
        return ExitCodes.Ok;
    }

    internal static int[] ParseWidths(string s)
    {
        string[] parts = s.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length < 2) throw new CliException($"option --widths needs at least two comma-separated widths (input and output), got '{s}'");
        var w = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out w[i]))
                throw new CliException($"option --widths: entry {i} '{parts[i]}' is not an integer");
            if (w[i] < 1) throw new CliException($"option --widths: entry {i} is {w[i]}; every width must be at least 1");
        }
        return w;
    }

    internal static ulong ParseSeed(string s)
    {
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed))
            throw new CliException($"option --seed: '{s}' is not an integer in [0, 2^64)");
        return seed;
    }
}
