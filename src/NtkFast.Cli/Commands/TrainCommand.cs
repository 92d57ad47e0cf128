using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk train</c>: full-batch gradient descent on the MSE cost, from a parameter file to a parameter file.</summary>
internal sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train an MLP by full-batch gradient descent on the MSE cost";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "float32" };

    public string Help => """
        usage: ntk train --params net.npz --x X.npy --y Y.npy --lr ETA --steps S --out trained.npz
                         [--log loss.csv] [--trainable-from K] [--float32]

        Full-batch gradient descent  theta <- theta - ETA * grad C(theta)  on the cost
          C(theta) = 1/(2N) sum_i |f(x_i) - y_i|^2
        over the N rows of X (N x n0) and Y (N x nL), .npy (float32/float64) or .csv.

          --params          network parameter file (from `ntk init` or numpy; see `ntk init --help`)
          --lr              learning rate ETA > 0 (the paper uses 1.0 with beta = 0.1)
          --steps           number of steps S >= 0
          --out             the trained parameter file (same layout; written only on success)
          --log             CSV "step,cost": the cost before each step, and after the last one
          --trainable-from  K: freeze the first K weight layers W0..W(K-1) (default 0)
          --float32         train in single precision (default: the precision of --params)

        Progress goes to stderr on long runs. Nothing is written if training fails or diverges.

        """;

    public int Run(CliArgs args)
    {
        string paramsPath = args.Required("params");
        string xPath = args.Required("x");
        string yPath = args.Required("y");
        double lr = args.Double("lr", min: 0, minExclusive: true);
        int steps = args.Int("steps", min: 0);
        string outPath = args.Required("out");
        string? logPath = args.Optional("log");
        bool single = args.Flag("float32");
        int trainableFrom = args.Int("trainable-from", 0, min: 0);
        args.EnsureAllUsed();

        CheckOutputFolder(outPath, "--out");
        if (logPath is not null) CheckOutputFolder(logPath, "--log");

        MlpFileContents file = MlpFile.Read(paramsPath);
        MlpArchitecture arch = file.Architecture;
        if (trainableFrom >= arch.Depth)
            throw new CliException($"option --trainable-from must be in [0, {arch.Depth - 1}] for a network of depth {arch.Depth}, got {trainableFrom}");
        Matrix x = MatrixFile.Read(xPath, "--x");
        Matrix y = MatrixFile.Read(yPath, "--y");
        if (x.Cols != arch.InputWidth)
            throw new CliException($"--x {xPath} has {x.Cols} columns but the network's input width n0 is {arch.InputWidth}");
        if (y.Rows != x.Rows)
            throw new CliException($"--y {yPath} has {y.Rows} rows but --x has {x.Rows}: one target row per input row");
        if (y.Cols != arch.OutputWidth)
            throw new CliException($"--y {yPath} has {y.Cols} columns but the network has {arch.OutputWidth} outputs");

        return single || file.IsFloat32
            ? Train<float>(file.ToNetwork<float>(), x, y, lr, steps, trainableFrom, outPath, logPath)
            : Train<double>(file.ToNetwork<double>(), x, y, lr, steps, trainableFrom, outPath, logPath);
    }

    private static int Train<T>(Mlp<T> net, Matrix x, Matrix y, double lr, int steps, int trainableFrom, string outPath, string? logPath)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] xs = Convert<T>(x.Data);
        T[] ys = Convert<T>(y.Data);
        MlpWorkspace<T> ws = net.CreateWorkspace(x.Rows);
        var costs = new double[steps + 1];
        // Progress on stderr only for long runs: started once 2 s have passed, so short runs stay silent.
        var clock = Stopwatch.StartNew();
        Progress? progress = null;
        try
        {
            for (int s = 0; s < steps; s++)
            {
                double c = net.TrainStep(xs, ys, lr, ws, trainableFrom);
                CheckFinite(c, s, lr);
                costs[s] = c;
                if (progress is null && clock.Elapsed.TotalSeconds > 2) progress = new Progress("train", steps);
                progress?.Report(s + 1);
            }
            net.Forward(xs, ws);
            costs[steps] = net.MseCost(ys, ws);
            CheckFinite(costs[steps], steps, lr);
            if (!AllFinite(net.Parameters))
                throw new CliException($"training diverged (non-finite parameters after {steps} steps); try a smaller --lr than {lr.ToString(CultureInfo.InvariantCulture)}", ExitCodes.Failure);
        }
        finally { progress?.Finish(); }

        using var outputs = new AtomicOutputs();
        MlpFile.Write(outputs.Open(outPath), net);
        if (logPath is not null)
        {
            var sb = new StringBuilder("step,cost\n");
            for (int s = 0; s <= steps; s++)
                sb.Append(s.ToString(CultureInfo.InvariantCulture)).Append(',').Append(costs[s].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
            outputs.Open(logPath).Write(bytes);
        }
        outputs.Commit();
        return ExitCodes.Ok;
    }

    private static void CheckFinite(double cost, int step, double lr)
    {
        if (!double.IsFinite(cost))
            throw new CliException($"training diverged: the cost is {cost.ToString(CultureInfo.InvariantCulture)} at step {step}; try a smaller --lr than {lr.ToString(CultureInfo.InvariantCulture)}", ExitCodes.Failure);
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

    private static void CheckOutputFolder(string path, string option)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliException($"option {option}: '{path}' is a directory");
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new CliException($"option {option}: folder does not exist: {dir}");
    }
}
