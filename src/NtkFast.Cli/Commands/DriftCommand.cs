using System.Globalization;
using System.Text;
using NtkFast.Empirical;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;

using NtkFast.Cli.Options;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk drift</c>: kernel and weight movement during gradient descent at several widths (the 1/√n rates of Theorem 2, Lemma 1).</summary>
internal sealed class DriftCommand : ICommand
{
    public string Name => "drift";
    public string Summary => "kernel and weight movement during GD training at several widths (CSV report)";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "float32" };

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk drift --x X.npy --y Y.npy --depth 4 --hidden 100,500,2000 --activation relu --seed 0 --lr 1.0 --steps 200 --report drift.csv",
    ];

    public string Help =>
        """
        usage: ntk drift --x X.npy --y Y.npy --depth L --hidden 64,256,1024 --activation NAME --seed S
                         --lr 1.0 --steps 100 [--every 10] [--beta 0.1] [--weight-std 1]
                         [--trainable-from K] [--float32] --report drift.csv

        For each hidden width n, trains a network with widths d, n, …, n, nL (L weight layers,
        initialised as `ntk init --seed S`) by full-batch gradient descent on the MSE cost and records,
        at steps 0, every, 2·every, …, steps:
          cost                  C(θ_t)
          ntk_op                ‖Θ̂_t‖_op = λ_max/N of the empirical NTK (trace) on X
          kernel_move_op        ‖Θ̂_t − Θ̂_0‖_op / ‖Θ̂_0‖_op
          kernel_move_frobenius ‖Θ̂_t − Θ̂_0‖_F / ‖Θ̂_0‖_F
          weight_move_l         ‖W(l)(t) − W(l)(0)‖_op / √n_l   (l = 0 … L−1; 0 for frozen layers)
          weight_rel_l          ‖W(l)(t) − W(l)(0)‖_op / ‖W(l)(0)‖_op
        Operator norms by Lanczos (relative tolerance 1e-10). CSV columns: width,step, then the above.
        Prints on stdout the log-log slope against the width of each final-step quantity (−0.5 is the
        theory's 1/√n; weight_move_0 stays O(1) because n_0 = d is fixed — see weight_rel_0).
        A quantity with no slope says why, e.g. "n/a (all zero)" (layers before a sign activation do not move).

        """;

    public int Run(CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string xPath = args.Required("x"), yPath = args.Required("y");
        int depth = args.Int("depth", min: 2);
        int[] hidden = NetworkOptions.ParseWidths(args.Required("hidden"), "hidden", minEntries: 1);
        var activation = Options.KernelSpecOptions.Activation(args.Required("activation"));
        ulong seed = NetworkOptions.Seed(args);
        double lr = args.Double("lr", min: 0, minExclusive: true);
        int steps = args.Int("steps", min: 0);
        int every = args.Int("every", Math.Max(1, steps / 10), min: 1);
        double beta = Options.KernelSpecOptions.Beta(args);
        double weightStd = Options.KernelSpecOptions.WeightStd(args);
        int trainableFrom = args.Int("trainable-from", 0, min: 0, max: depth - 1);
        bool single = args.Flag("float32");
        string reportPath = args.OutputPath("report", ".csv");
        args.EnsureAllUsed();

        Matrix x = PointSetOptions.Read(xPath, "x"), y = PointSetOptions.Read(yPath, "y");
        PointSetOptions.CheckTargets(x, y);

        var sb = new StringBuilder("width,step,cost,ntk_op,kernel_move_op,kernel_move_frobenius");
        for (int l = 0; l < depth; l++) sb.Append(CultureInfo.InvariantCulture, $",weight_move_{l}");
        for (int l = 0; l < depth; l++) sb.Append(CultureInfo.InvariantCulture, $",weight_rel_{l}");
        sb.Append('\n');
        var finals = new List<DriftRecord>();
        foreach (int w in hidden)
        {
            var widths = new int[depth + 1];
            widths[0] = x.Cols;
            for (int l = 1; l < depth; l++) widths[l] = w;
            widths[depth] = y.Cols;
            var arch = new MlpArchitecture(widths, activation, beta, weightStd);
            List<DriftRecord> recs = single
                ? TrainingDrift.Run<float>(arch, x, y, lr, steps, every, seed, trainableFrom)
                : TrainingDrift.Run<double>(arch, x, y, lr, steps, every, seed, trainableFrom);
            foreach (DriftRecord r in recs)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{r.Width},{r.Step},{r.Cost:R},{r.NtkOp:R},{r.KernelMoveOp:R},{r.KernelMoveFrobenius:R}");
                foreach (double v in r.WeightMove) sb.Append(CultureInfo.InvariantCulture, $",{v:R}");
                foreach (double v in r.WeightMoveRelative) sb.Append(CultureInfo.InvariantCulture, $",{v:R}");
                sb.Append('\n');
            }
            finals.Add(recs[^1]);
        }

        using (var outs = new AtomicOutputs())
        {
            outs.Open(reportPath).Write(Encoding.UTF8.GetBytes(sb.ToString()));
            outs.Commit();
        }

        if (finals.Count >= 2 && steps > 0)
        {
            double[] ws = finals.Select(r => (double)r.Width).ToArray();
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"log-log slope vs width at step {steps}: kernel_move_op {Slope(ws, finals.Select(r => r.KernelMoveOp).ToArray())}");
            line.Append(CultureInfo.InvariantCulture, $", kernel_move_frobenius {Slope(ws, finals.Select(r => r.KernelMoveFrobenius).ToArray())}");
            for (int l = trainableFrom; l < depth; l++)
                line.Append(CultureInfo.InvariantCulture, $", weight_move_{l} {Slope(ws, finals.Select(r => r.WeightMove[l]).ToArray())}");
            Console.Out.WriteLine(line.ToString());
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The log-log slope to three decimals, or why there is none: a quantity that does not move (e.g. the layers
    /// before a `sign` activation, whose derivative is 0) has no logarithm, and "NaN" would read as a failure.
    /// </summary>
    internal static string Slope(double[] widths, double[] values)
    {
        double s = TrainingDrift.LogLogSlope(widths, values);
        if (double.IsFinite(s)) return s.ToString("F3", CultureInfo.InvariantCulture);
        if (values.Any(v => !double.IsFinite(v))) return "n/a (not finite)";
        if (values.All(v => v == 0)) return "n/a (all zero)";
        if (values.Count(v => v > 0) < 2) return "n/a (nonzero at fewer than two widths)";
        return "n/a (one width)";
    }
}
