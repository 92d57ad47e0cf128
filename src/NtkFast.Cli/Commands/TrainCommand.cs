using NtkFast.Architectures;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;

using NtkFast.Cli.Options;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk train</c>: full-batch gradient descent on the MSE cost, from a parameter file to a parameter file.</summary>
internal sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train an MLP by full-batch gradient descent on the MSE cost";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "float32", "allow-divergence" };

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk train --params net.npz --x X.npy --y Y.npy --lr 1 --steps 200 --out trained.npz --log loss.csv",
        "ntk train --params net.npz --x X.npy --y Y.npy --lr 0.5 --steps 1000 --trainable-from 1 --out trained.npz   # first layer frozen",
    ];

    /// <summary>Default of --divergence-factor: the cost may not exceed its start by more than this factor.</summary>
    public const double DefaultDivergenceFactor = 1e4;

    /// <summary>Steps in a row the cost may grow while above its start before the run counts as diverged.</summary>
    public const int MaxGrowingSteps = 100;

    /// <summary>Largest --steps accepted (each step is a full pass over the data).</summary>
    public const int MaxSteps = 100_000_000;

    public string Help => """
        usage: ntk train --params net.npz --x X.npy --y Y.npy --lr ETA --steps S --out trained.npz
                         [--log loss.csv] [--trainable-from K] [--float32]
                         [--divergence-factor F | --allow-divergence]

        Full-batch gradient descent  theta <- theta - ETA * grad C(theta)  on the cost
          C(theta) = 1/(2N) sum_i |f(x_i) - y_i|^2
        over the N rows of X (N x n0) and Y (N x nL), .npy (float32/float64) or .csv.

          --params          network parameter file (from `ntk init` or numpy; see `ntk init --help`),
                            an MLP's or an architecture network's (`ntk init --arch`; --x then N×H×W×C)
          --lr              learning rate ETA > 0 (the paper uses 1.0 with beta = 0.1)
          --steps           number of steps S, 0 … 100000000
          --out             the trained parameter file (same layout; written only on success)
          --log             CSV "step,cost": the cost before each step, and after the last one;
                            also written when training diverges (up to the step that failed)
          --trainable-from  K: freeze the first K weight layers W0..W(K-1) (default 0; an
                            architecture network: its first K dense/conv layers)
          --float32         train in single precision (default: the precision of --params)
          --divergence-factor F
                            training has diverged when the cost exceeds F x its start
                            (F > 1, default 1e4), or grows for 100 steps in a row while above
                            its start, or any cost or parameter is not finite
          --allow-divergence
                            write the network even if the cost grew (non-finite values still fail)

        Progress goes to stderr on long runs. A diverged run exits 1 and writes no network.

        """;

    public int Run(CliArgs args)
    {
        string paramsPath = args.Required("params");
        string xPath = args.Required("x");
        string yPath = args.Required("y");
        double lr = args.Double("lr", min: 0, minExclusive: true);
        int steps = args.Int("steps", min: 0, max: MaxSteps);
        bool allowDivergence = args.Flag("allow-divergence");
        double factor = args.Double("divergence-factor", DefaultDivergenceFactor, min: 1, minExclusive: true);
        if (allowDivergence && args.Has("divergence-factor")) throw new CliException("--allow-divergence and --divergence-factor exclude each other");
        string outPath = args.OutputPath("out");
        string? logPath = args.OptionalOutputPath("log");
        bool single = args.Flag("float32");
        int trainableFrom = args.Int("trainable-from", 0, min: 0);
        args.EnsureAllUsed();
        // An output naming an input would replace it (issue #18 item 2: `--log x.csv` overwrote the data): refused,
        // as `kernel` and `predict` do — also `--out` = `--params` (write the trained network beside it).
        NtkFast.IO.AtomicFile.CheckNotAnInput(outPath, paramsPath, xPath, yPath);
        if (logPath is not null)
        {
            NtkFast.IO.AtomicFile.CheckNotAnInput(logPath, paramsPath, xPath, yPath);
            if (Path.GetFullPath(logPath) == Path.GetFullPath(outPath)) throw new CliException($"--out and --log name the same file {outPath}");
        }
        var rule = new DivergenceRule(allowDivergence ? double.PositiveInfinity : factor, allowDivergence ? int.MaxValue : MaxGrowingSteps);


        if (ArchitectureNetworkFile.IsArchitectureFile(paramsPath))
            return Options.ArchOptions.RunTrain(paramsPath, xPath, yPath, lr, steps, trainableFrom, single, rule, outPath, logPath);
        MlpFileContents file = MlpFile.Read(paramsPath);
        MlpArchitecture arch = file.Architecture;
        NetworkOptions.CheckTrainableFrom(trainableFrom, arch.Depth);
        Matrix x = PointSetOptions.Read(xPath, "x");
        Matrix y = PointSetOptions.Read(yPath, "y");
        string network = $"--params {CliMessages.Name(paramsPath)}";
        PointSetOptions.CheckInputWidth(x, "x", arch.InputWidth, network);
        PointSetOptions.CheckTargets(x, y);
        if (y.Cols != arch.OutputWidth)
            throw new CliException($"--y has {y.Cols} columns but the network ({network}) has {arch.OutputWidth} outputs");

        return single || file.IsFloat32
            ? Train<float>(file.ToNetwork<float>(), x, y, lr, steps, trainableFrom, rule, outPath, logPath)
            : Train<double>(file.ToNetwork<double>(), x, y, lr, steps, trainableFrom, rule, outPath, logPath);
    }

    /// <summary>When a run counts as diverged: cost above <c>Factor</c> × its start, or growing <c>GrowingSteps</c> steps in a row while above its start.</summary>
    internal readonly record struct DivergenceRule(double Factor, int GrowingSteps)
    {
        /// <summary>Null while the run is healthy, else why it diverged (costs[0…step] are known).</summary>
        public string? Check(ReadOnlySpan<double> costs, int step, ref int growing)
        {
            double c = costs[step];
            if (!double.IsFinite(c)) return $"the cost is {c.ToString(CultureInfo.InvariantCulture)} at step {step}";
            double start = costs[0];
            if (step == 0) return null;
            if (c > Factor * start + 1e-300)
                return $"the cost rose from {start.ToString("G4", CultureInfo.InvariantCulture)} to {c.ToString("G4", CultureInfo.InvariantCulture)} (more than {Factor.ToString("G4", CultureInfo.InvariantCulture)}x) by step {step}";
            growing = c > costs[step - 1] && c > start ? growing + 1 : 0;
            if (growing >= GrowingSteps)
                return $"the cost grew for {growing} steps in a row, to {c.ToString("G4", CultureInfo.InvariantCulture)} at step {step} (start {start.ToString("G4", CultureInfo.InvariantCulture)})";
            return null;
        }
    }

    private static int Train<T>(Mlp<T> net, Matrix x, Matrix y, double lr, int steps, int trainableFrom, DivergenceRule rule, string outPath, string? logPath)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] xs = Convert<T>(x.Data);
        T[] ys = Convert<T>(y.Data);
        MlpWorkspace<T> ws = net.CreateWorkspace(x.Rows);
        return TrainLoop(
            () => net.TrainStep(xs, ys, lr, ws, trainableFrom),
            () => { net.Forward(xs, ws); return net.MseCost(ys, ws); },
            () => AllFinite(net.Parameters),
            stream => MlpFile.Write(stream, net),
            lr, steps, rule, outPath, logPath);
    }

    /// <summary>
    /// Gradient descent for any network: <paramref name="step"/> takes one step and returns the cost before it,
    /// <paramref name="finalCost"/> the cost after the last; divergence (see <see cref="DivergenceRule"/>) writes
    /// nothing but the log and fails with exit 1.
    /// </summary>
    internal static int TrainLoop(Func<double> step, Func<double> finalCost, Func<bool> allFinite, Action<Stream> write,
        double lr, int steps, DivergenceRule rule, string outPath, string? logPath)
    {
        var costs = new double[steps + 1];
        // Progress on stderr only for long runs: started once 2 s have passed, so short runs stay silent.
        var clock = Stopwatch.StartNew();
        Progress? progress = null;
        string? diverged = null;
        int last = steps, growing = 0;
        try
        {
            for (int s = 0; s < steps && diverged is null; s++)
            {
                costs[s] = step();
                if ((diverged = rule.Check(costs, s, ref growing)) is not null) last = s;
                if (progress is null && clock.Elapsed.TotalSeconds > 2) progress = new Progress("train", steps);
                progress?.Report(s + 1);
            }
            if (diverged is null)
            {
                costs[steps] = finalCost();
                diverged = rule.Check(costs, steps, ref growing);
                if (diverged is null && !allFinite()) diverged = $"non-finite parameters after {steps} steps";
            }
        }
        finally { progress?.Finish(); }

        using var outputs = new AtomicOutputs();
        if (diverged is null) write(outputs.Open(outPath));
        if (logPath is not null)
        {
            // The log is the evidence of a failed run too: written up to the step that failed.
            var sb = new StringBuilder("step,cost\n");
            for (int s = 0; s <= last; s++)
                sb.Append(s.ToString(CultureInfo.InvariantCulture)).Append(',').Append(costs[s].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
            outputs.Open(logPath).Write(bytes);
        }
        outputs.Commit();
        if (diverged is not null)
            throw new CliException($"training diverged: {diverged}; nothing written to {CliMessages.Name(outPath)}{(logPath is null ? "" : $" (the cost log is in {CliMessages.Name(logPath)})")}; try a smaller --lr than {lr.ToString(CultureInfo.InvariantCulture)}", ExitCodes.Failure);
        return ExitCodes.Ok;
    }

    private static bool AllFinite<T>(T[] theta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (T v in theta) if (!T.IsFinite(v)) return false;
        return true;
    }

    private static T[] Convert<T>(double[] data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return (T[])(object)data;
        var r = new T[data.Length];
        for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(data[i]);
        return r;
    }
}
