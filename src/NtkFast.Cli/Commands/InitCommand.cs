using NtkFast.Cli.Options;
using NtkFast.Networks;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk init</c>: a network with iid N(0, 1) parameters from a seed, saved as a parameter .npz.</summary>
internal sealed class InitCommand : ICommand
{
    public string Name => "init";
    public string Summary => "initialise an MLP (NTK parameterisation) from a seed and save it as .npz";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "float32" };

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk init --widths 2,512,512,1 --activation relu --seed 0 --out net.npz",
        "ntk init --widths 784,1000,10 --activation tanh --seed 1 --weight-std 1.5 --float32 --out net32.npz",
        "ntk init --arch \"conv:64,3x3,same relu gap dense:10\" --input-shape 28,28,1 --seed 0 --out cnn.npz",
    ];

    public string Help => """
        usage: ntk init --widths N0,N1,...,NL --activation NAME --seed S --out net.npz
                        [--beta 0.1] [--weight-std 1] [--float32]

        Creates a fully connected network in the NTK parameterisation
          a~(l+1) = (weight_std / sqrt(n_l)) W(l) a(l) + beta b(l),  a(l) = act(a~(l)),  f = a~(L)
        with every weight and bias drawn iid N(0, 1) from the seed (the same seed gives
        the same network on every machine and thread count; --float32 rounds it).

        """ + NetworkOptions.FreshHelp + """
          --float32              store single-precision parameters (default float64)
          --out FILE             the parameter file: W0, b0, W1, b1, ... (W_l shaped (n(l+1), n(l))),
                                 beta, weight_std, activation — loadable with numpy.load

        """ + Options.ArchOptions.InitHelp + "\n";

    public int Run(CliArgs args)
    {
        if (Options.ArchOptions.Requested(args)) return Options.ArchOptions.RunInit(args);
        MlpArchitecture arch = NetworkOptions.Fresh(args);
        ulong seed = NetworkOptions.Seed(args);
        bool single = args.Flag("float32");
        string outPath = args.Required("out");
        args.EnsureAllUsed();

        if (single) MlpFile.Write(outPath, Mlp<float>.Initialize(arch, seed));
        else MlpFile.Write(outPath, Mlp<double>.Initialize(arch, seed));
        return ExitCodes.Ok;
    }
}
