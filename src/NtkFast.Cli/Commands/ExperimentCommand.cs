using System.Diagnostics;
using NtkFast.Cli.Experiments;
using NtkFast.Numerics;
using static NtkFast.Cli.Experiments.ExperimentOutput;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk experiment NAME</c>: the paper's Section 6 experiments, with figures, CSV data and a summary.</summary>
internal sealed class ExperimentCommand : ICommand
{
    public string Name => "experiment";
    public string Summary => "reproduce the paper's Section 6 experiments (figures, CSV, summary)";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "quick", "paper" };

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk experiment convergence   # the paper's Figure 1 into experiments/convergence/",
        "ntk experiment all --quick --out-dir /tmp/ntk-figures   # all three figures in seconds",
    ];

    public bool TakesPositional => true;

    public string Help => """
        usage: ntk experiment NAME [--out-dir DIR] [--seed S] [--quick | --paper]
                                   [--mnist-images FILE --mnist-labels FILE]      (pca only)

        Reproduces Section 6 of Jacot, Gabriel & Hongler (2018), "Neural Tangent Kernel"
        (ReLU networks, hidden widths all n, one output, beta = 0.1, weight std 1):

          convergence  Figure 1: the empirical NTK of depth-4 nets of two widths on the unit
                       circle, at initialisation and after 200 GD steps on f*(x) = x1*x2,
                       against the analytic limit; ||K - Theta||_op per width and time.
          regression   Figure 2: nets of widths 50 and 1000 trained on 4 points of the unit
                       circle, against the 10/50/90th percentiles of the t -> infinity Gaussian
                       predicted by the analytic NNGP and NTK.
          pca          Figure 3: kernel PCA of the NTK on MNIST digits (eigenvalues from the
                       analytic kernel and from a wide network), digits on components 2 and 3,
                       and nets trained towards f0 + 0.5*f(2) against 0.5*exp(-lambda2*t).
          all          the three, one after the other (each in DIR/NAME).

          --out-dir DIR   where figures (PNG), data (CSV) and summary.txt go
                          (default: experiments/NAME in the current folder)
          --seed S        seed of every random draw (default 0): the same seed gives the same files
          --quick         seconds: tiny widths and step counts (what the test suite runs)
          --paper         the paper's exact settings (hours on 2 cores: see the README)
                          default: a few minutes on 2 cores; each reduction is listed in the summary
          --mnist-images  MNIST images, IDX (gzipped or not); default: shared/data/mnist10k/
          --mnist-labels  images-idx3-ubyte.gz and labels-idx1-ubyte.gz found beside the repository
                          (or under NTKFAST_SHARED_DATA)

        The summary is printed and written to DIR/summary.txt; progress goes to stderr.

        """;

    public int Run(CliArgs args)
    {
        if (args.Positional.Count != 1)
            throw new CliException(args.Positional.Count == 0
                ? "missing experiment NAME (convergence, regression, pca or all)"
                : $"expected one experiment NAME, got {args.Positional.Count}: {string.Join(' ', args.Positional)}");
        string name = args.Positional[0];
        string[] names = name switch
        {
            "convergence" or "regression" or "pca" => [name],
            "all" => ["convergence", "regression", "pca"],
            _ => throw new CliException($"unknown experiment '{name}' (convergence, regression, pca or all)"),
        };
        bool quick = args.Flag("quick"), paper = args.Flag("paper");
        if (quick && paper) throw new CliException("--quick and --paper exclude each other");
        ExperimentSize size = quick ? ExperimentSize.Quick : paper ? ExperimentSize.Paper : ExperimentSize.Default;
        string? outDir = args.Optional("out-dir");
        string seedText = args.Optional("seed") ?? "0";
        if (!ulong.TryParse(seedText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong seed))
            throw new CliException($"option --seed: '{seedText}' is not a non-negative integer");
        string? images = null, labels = null;
        if (names.Contains("pca"))
        {
            images = args.Optional("mnist-images");
            labels = args.Optional("mnist-labels");
        }
        args.EnsureAllUsed();

        // Resolve the data before any work, so a missing file fails in milliseconds.
        (string Images, string Labels)? mnist = names.Contains("pca") ? MnistFiles.Resolve(images, labels) : null;

        foreach (string n in names)
        {
            string dir = outDir is null ? Path.Combine("experiments", n) : names.Length > 1 ? Path.Combine(outDir, n) : outDir;
            RunOne(n, size, seed, dir, mnist, Console.Out, null);
        }
        return ExitCodes.Ok;
    }

    /// <summary>Runs one experiment into <paramref name="dir"/>; returns its output (files and summary).</summary>
    internal static ExperimentOutput RunOne(string name, ExperimentSize size, ulong seed, string dir,
        (string Images, string Labels)? mnist, TextWriter? echo, TextWriter? progress)
    {
        var clock = Stopwatch.StartNew();
        // Read and check the data before anything is written or printed.
        (Matrix Pixels, byte[] Labels)? digits = null;
        if (name == PcaExperiment.Name)
        {
            (string images, string labels) = mnist ?? MnistFiles.Resolve(null, null);
            digits = PcaExperiment.Load(PcaExperiment.Settings.For(size), images, labels);
        }
        var output = new ExperimentOutput(dir, echo, progress);
        output.Line($"ntk experiment {name} — size {size.ToString().ToLowerInvariant()}, seed {seed}, threads {NtkParallel.MaxThreads}");
        switch (name)
        {
            case ConvergenceExperiment.Name:
            {
                var s = ConvergenceExperiment.Settings.For(size);
                Describe(output, s.ToString(), Reductions(s, ConvergenceExperiment.Settings.Paper));
                ConvergenceExperiment.Run(s, seed, output);
                break;
            }
            case RegressionExperiment.Name:
            {
                var s = RegressionExperiment.Settings.For(size);
                Describe(output, s.ToString(), Reductions(s, RegressionExperiment.Settings.Paper));
                RegressionExperiment.Run(s, seed, output);
                break;
            }
            case PcaExperiment.Name:
            {
                var s = PcaExperiment.Settings.For(size);
                Describe(output, s.ToString(), Reductions(s, PcaExperiment.Settings.Paper));
                PcaExperiment.Run(s, seed, digits!.Value, output);
                break;
            }
            default:
                throw new CliException($"unknown experiment '{name}'");
        }
        output.Line($"elapsed: {F(clock.Elapsed.TotalSeconds, "F1")} s");
        output.Line($"files: {string.Join(", ", output.Files.Select(Path.GetFileName).Append("summary.txt"))} in {output.Directory}");
        output.WriteSummary();
        return output;
    }

    private static void Describe(ExperimentOutput output, string settings, IReadOnlyList<string> reductions)
    {
        output.Line($"settings: {settings}");
        if (reductions.Count == 0) output.Line("the paper's settings (no reduction)");
        else output.Line($"reductions against the paper: {string.Join("; ", reductions)}");
        output.Line();
    }

    private static List<string> Reductions(ConvergenceExperiment.Settings s, ConvergenceExperiment.Settings p)
    {
        var r = new List<string>();
        if (!s.Widths.SequenceEqual(p.Widths)) r.Add($"widths {string.Join('/', s.Widths)} instead of {string.Join('/', p.Widths)}");
        if (s.Initialisations != p.Initialisations) r.Add($"{s.Initialisations} initialisations per width instead of {p.Initialisations}");
        if (s.Steps != p.Steps) r.Add($"{s.Steps} GD steps instead of {p.Steps}");
        if (s.TrainPoints != p.TrainPoints) r.Add($"{s.TrainPoints} training inputs instead of {p.TrainPoints}");
        if (s.GridPoints != p.GridPoints) r.Add($"{s.GridPoints} circle points instead of {p.GridPoints}");
        return r;
    }

    private static List<string> Reductions(RegressionExperiment.Settings s, RegressionExperiment.Settings p)
    {
        var r = new List<string>();
        if (!s.Widths.SequenceEqual(p.Widths)) r.Add($"widths {string.Join('/', s.Widths)} instead of {string.Join('/', p.Widths)}");
        if (s.Initialisations != p.Initialisations) r.Add($"{s.Initialisations} initialisations per width instead of {p.Initialisations}");
        if (s.Steps != p.Steps) r.Add($"{s.Steps} GD steps instead of {p.Steps}");
        if (s.GridPoints != p.GridPoints) r.Add($"{s.GridPoints} circle points instead of {p.GridPoints}");
        return r;
    }

    private static List<string> Reductions(PcaExperiment.Settings s, PcaExperiment.Settings p)
    {
        var r = new List<string>();
        if (s.Digits != p.Digits) r.Add($"{s.Digits} digits instead of {p.Digits}");
        if (s.EigenWidth != p.EigenWidth) r.Add($"eigenvalues of a width-{s.EigenWidth} net instead of {p.EigenWidth}");
        if (!s.Widths.SequenceEqual(p.Widths)) r.Add($"trained widths {string.Join('/', s.Widths)} instead of {string.Join('/', p.Widths)}");
        if (s.LearningRate != p.LearningRate || s.Steps != p.Steps)
            r.Add($"{s.Steps} steps at learning rate {F(s.LearningRate)} (t = {F(s.Steps * s.LearningRate)}) instead of {p.Steps} at {F(p.LearningRate)} (t = {F(p.Steps * p.LearningRate)})");
        return r;
    }
}
