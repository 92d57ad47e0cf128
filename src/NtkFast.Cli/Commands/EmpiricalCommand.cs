using System.Diagnostics;
using System.Globalization;
using System.Text;
using NtkFast.Cli.Distributed;
using NtkFast.Tiling;
using NtkFast.Empirical;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk empirical</c>: the empirical NTK / NNGP of a finite network, or their Monte Carlo mean and std (docs/design.md §1, §3).</summary>
internal sealed class EmpiricalCommand : ICommand
{
    public string Name => "empirical";
    public string Summary => "empirical (finite-width) NTK and NNGP of a network, or Monte Carlo over initialisations";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(["reference", "float32", .. TiledOutputOptions.FlagNames], StringComparer.Ordinal);

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk empirical --params net.npz --x X.npy --out-ntk T.npy --out-nngp S.npy",
        "ntk empirical --monte-carlo 20 --widths 2,1000,1000,1 --activation relu --seed 0 --x X.npy --out-ntk T.npy --out-ntk-std TS.npy",
        "ntk empirical --arch \"conv:256,3x3,same relu gap dense:1\" --seed 0 --monte-carlo 10 --x images.npy --out-ntk T.npy   # CNNs",
    ];

    public string Help =>
        """
        usage: ntk empirical --params net.npz --x X.npy [--x2 X2.npy]
                             --out-ntk T.npy [--out-nngp S.npy] [--outputs trace|full]
                             [--trainable-from K] [--reference] [--float32]
                             [--diagnostics-report R.csv] [--rows a:b --cols c:d]
               ntk empirical --monte-carlo K --widths N0,...,NL --activation NAME --seed S
                             [--beta 0.1] [--weight-std 1] --x X.npy [--x2 X2.npy]
                             --out-ntk T.npy [--out-ntk-std TS.npy]
                             [--out-nngp S.npy] [--out-nngp-std SS.npy] [same options as above]

        The empirical NTK Θ̂_kk'(x_i, x2_j) = Σ_p ∂f_k(x_i)/∂θ_p · ∂f_k'(x2_j)/∂θ_p of a finite network
        (NTK parameterisation), by the layer-wise structured formula (docs/design.md §1), and the empirical
        NNGP σw²/n(L−1)·α(L−1)(x)·α(L−1)(x') + β².

          --params FILE          network parameter .npz (ntk init / ntk train); its precision is used;
                                 an architecture network's (ntk init --arch) gives its per-sample-Jacobian kernels
          --x FILE, --x2 FILE    points, one per row (.npy, .npz:NAME, .csv, - for stdin); --x2 defaults to --x
          --outputs trace|full   trace: (1/nL)·Σ_k Θ̂_kk, shape (N, M) (default; what converges to Θ(L));
                                 full: every output pair, shape (N, M, nL, nL)
          --trainable-from K     the first K weight layers frozen (their parameters excluded), 0 … L−1
                                 (architecture networks: the first K dense/conv layers)
          --reference            per-sample gradients into J, then J·J2ᵀ (slow; for checking)
          --float32              compute in single precision (kernels are accumulated and written in float64)
          --out-ntk FILE         Θ̂ as float64 .npy
          --out-nngp FILE        empirical NNGP as float64 .npy, shape (N, M)
          --diagnostics-report FILE
                                 CSV comparing the (mean) kernels with the infinite-width Θ(L), Σ(L) on X
                                 (needs no --x2): columns kernel,points,outputs,empirical_op,analytic_op,
                                 difference_op,relative_difference_op,relative_frobenius, where
                                 ‖K‖_op = λ_max/N (Lanczos, relative tolerance 1e-10); full outputs
                                 are compared with Θ(L) ⊗ Id.

        Monte Carlo (no --params): K independent networks with the given architecture, seeds S, S+1, …,
        S+K−1 (network s is exactly `ntk init --seed S+s`); streaming, memory of one kernel (tiled: of one
        tile, each tile rerunning every network on its points).
          --out-ntk / --out-nngp          the mean over the K networks
          --out-ntk-std / --out-nngp-std  the sample standard deviation (divisor K−1; zeros for K = 1);
                                          the standard error of the mean is std/√K

        All outputs are written together or not at all. Results are identical for every NTKFAST_THREADS.

        Blocks, out of core and MPI (one network: trace or full outputs, structured or --reference; bitwise
        identical to the in-memory run; --diagnostics-report needs the whole kernel in memory and refuses them):
          --rows a:b, --cols c:d only this block: rows a … b−1 of X, columns c … d−1 of X2
                                 (either side may be omitted: ':b', 'a:')

        """ + TiledOutputOptions.Help +
        """
          Monte Carlo with --rows/--cols, --out-of-core, --tile or --memory-limit: tile by tile, each tile
               looping over the K networks in order (their forward/backward passes are redone per tile:
               prefer large tiles); under MPI the ranks share the tiles. Mean and std are bitwise the
               in-memory result. --diagnostics-report needs the whole kernel and refuses these options.
          Monte Carlo under MPI without them: network k is computed by rank k mod P (seed S+k, as
               single-process); rank 0 folds the kernels in network order, so mean and std are bitwise the
               single-process result for any P, and rank 0 writes the outputs.

        """ + "\n" + Options.ArchOptions.EmpiricalHelp + """

        """;

    // Under mpirun every rank runs the whole command: one network's tiles, or Monte Carlo networks, are split among them.
    public int Run(CliArgs args) => MpiJob.Run(Name, comm => Run(args, comm));

    private static int Run(CliArgs args, Communicator comm)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? archFile = args.Optional("params") is string pp && File.Exists(pp) && pp.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)
            && NtkFast.Architectures.ArchitectureNetworkFile.IsArchitectureFile(pp) ? pp : null;
        if (Options.ArchOptions.Requested(args) || archFile is not null)
            return Options.ArchOptions.RunEmpirical(args, archFile, comm);
        bool monteCarlo = args.Has("monte-carlo");
        int samples = monteCarlo ? args.Int("monte-carlo", min: 1) : 0;
        string? paramsPath = args.Optional("params");
        bool freshGiven = Options.NetworkOptions.AnyFresh(args);
        MlpArchitecture? freshArch = null;
        ulong seed = 0;
        if (monteCarlo && paramsPath is null)
        {
            if (!args.Has("widths")) throw new CliException("--monte-carlo needs --widths");
            if (!args.Has("activation")) throw new CliException("--monte-carlo needs --activation");
            if (!args.Has("seed")) throw new CliException("--monte-carlo needs --seed");
            freshArch = Options.NetworkOptions.Fresh(args);
            seed = Options.NetworkOptions.Seed(args);
        }
        string xPath = args.Required("x");
        string? x2Path = args.Optional("x2");
        string outputsText = args.Optional("outputs") ?? "trace";
        int trainableFrom = args.Int("trainable-from", 0, min: 0);
        bool reference = args.Flag("reference");
        bool single = args.Flag("float32");
        string ntkPath = args.OutputPath("out-ntk", ".npy");
        string? nngpPath = args.OptionalOutputPath("out-nngp", ".npy");
        string? ntkStdPath = args.OptionalOutputPath("out-ntk-std", ".npy");
        string? nngpStdPath = args.OptionalOutputPath("out-nngp-std", ".npy");
        string? reportPath = args.OptionalOutputPath("diagnostics-report", ".csv");
        string? rowsSpec = args.Optional("rows"), colsSpec = args.Optional("cols");
        TiledOutputOptions tiled = TiledOutputOptions.Parse(args);
        args.EnsureAllUsed();
        // An output naming an input would replace it (issue #18 item 2): refused, as `kernel` and `predict` do.
        foreach (string? o in (string?[])[ntkPath, nngpPath, ntkStdPath, nngpStdPath, reportPath])
            if (o is not null) NtkFast.IO.AtomicFile.CheckNotAnInput(o, paramsPath, xPath, x2Path);

        EmpiricalOutputs outputs = outputsText switch
        {
            "trace" => EmpiricalOutputs.Trace,
            "full" => EmpiricalOutputs.Full,
            _ => throw new CliException($"option --outputs: '{outputsText}' is not trace or full"),
        };
        if (reportPath is not null && x2Path is not null)
            throw new CliException("--diagnostics-report compares K(X, X) with the analytic kernel: do not give --x2");
        if (nngpStdPath is not null && nngpPath is null) throw new CliException("--out-nngp-std needs --out-nngp");
        bool window = rowsSpec is not null || colsSpec is not null;
        bool tilingAsked = window || tiled.OutOfCore || tiled.TileSize > 0;
        // Monte Carlo tiles when asked to (every block loops over the K networks; MPI ranks then share the tiles);
        // otherwise it keeps the whole-matrix run with the networks split among MPI ranks.
        bool monteCarloTiles = monteCarlo && (tilingAsked || tiled.MemoryLimitGiven);
        if (reportPath is not null && (tilingAsked || (comm.Size > 1 && !monteCarlo) || monteCarloTiles))
            throw new CliException("--diagnostics-report needs the whole kernel in memory (operator norms): it does not combine with --rows/--cols, --out-of-core, --tile" + (monteCarlo ? ", --memory-limit" : "") + " or MPI");

        MlpArchitecture arch;
        MlpFileContents? file = null;
        if (monteCarlo)
        {
            if (paramsPath is not null) throw new CliException("--monte-carlo draws fresh networks: give --widths/--activation/--seed, not --params");
            arch = freshArch!;
        }
        else
        {
            if (paramsPath is null) throw new CliException("missing required option --params (or --monte-carlo K with --widths)");
            if (freshGiven)
                throw new CliException("--widths/--activation/--seed/--beta/--weight-std describe Monte Carlo networks; with --params the file defines the network");
            if (ntkStdPath is not null) throw new CliException("--out-ntk-std needs --monte-carlo");
            file = MlpFile.Read(paramsPath);
            arch = file.Architecture;
        }
        Options.NetworkOptions.CheckTrainableFrom(trainableFrom, arch.Depth);

        Matrix x = Options.PointSetOptions.Read(xPath, "x");
        Matrix? x2 = x2Path is null ? null : Options.PointSetOptions.Read(x2Path, "x2");
        foreach (string? o in (string?[])[ntkPath, nngpPath, ntkStdPath, nngpStdPath, reportPath])
            if (o is not null) AtomicFile.CheckNotAnInput(o, xPath, x2Path, paramsPath);
        string source = monteCarlo ? "--widths" : $"--params {Options.CliMessages.Name(paramsPath)}";
        Options.PointSetOptions.CheckInputWidth(x, "x", arch.InputWidth, source);
        if (x2 is not null) Options.PointSetOptions.CheckInputWidth(x2, "x2", arch.InputWidth, source);
        int n = x.Rows, m = x2?.Rows ?? n;
        EmpiricalMethod method = reference ? EmpiricalMethod.Jacobian : EmpiricalMethod.Structured;
        bool wantNngp = nngpPath is not null || reportPath is not null;
        single |= file?.IsFloat32 ?? false;

        double[] ntk, ntkStd = [];
        double[]? nngp, nngpStd = null;
        int[] shape;
        if (monteCarloTiles)
        {
            (int r0, int r1) = Options.PointSetOptions.Range("rows", rowsSpec, n);
            (int c0, int c1) = Options.PointSetOptions.Range("cols", colsSpec, m);
            IKernelBlockSource mcSource = new FiniteChecked(single
                ? new EmpiricalMonteCarloSource<float>(arch, x, x2, samples, seed, outputs, trainableFrom, method, ntkStdPath is not null, nngpPath is not null, nngpStdPath is not null)
                : new EmpiricalMonteCarloSource<double>(arch, x, x2, samples, seed, outputs, trainableFrom, method, ntkStdPath is not null, nngpPath is not null, nngpStdPath is not null));
            var mcPaths = new List<string?> { ntkPath };
            if (ntkStdPath is not null) mcPaths.Add(ntkStdPath);
            if (nngpPath is not null) mcPaths.Add(nngpPath);
            if (nngpStdPath is not null) mcPaths.Add(nngpStdPath);
            return KernelOutputWriter.Write(mcSource, mcPaths, tiled.Plan with
            {
                Communicator = comm,
                RowStart = r0, RowEnd = r1, ColStart = c0, ColEnd = c1,
                InputChecksum = KernelOutputWriter.Checksum(x, x2),
            }, tiled.Asked, "ntk empirical");
        }
        if (monteCarlo)
        {
            var clock = Stopwatch.StartNew();
            Progress? progress = null;
            void Report(int done)
            {
                if (progress is null && clock.Elapsed.TotalSeconds > 2) progress = new Progress("monte carlo", samples);
                progress?.Report(done);
            }
            InputChecksum.EnsureSameOnAllRanks(comm, KernelOutputWriter.Checksum(x, x2));
            MonteCarloResult? mc = single
                ? EmpiricalMonteCarlo.Run<float>(comm, arch, x, x2, samples, seed, outputs, trainableFrom, wantNngp, method, Report)
                : EmpiricalMonteCarlo.Run<double>(comm, arch, x, x2, samples, seed, outputs, trainableFrom, wantNngp, method, Report);
            progress?.Finish();
            if (mc is null) return ExitCodes.Ok; // another rank than 0: its networks went to rank 0, which writes
            MonteCarloResult r = mc;
            (ntk, ntkStd, nngp, nngpStd, shape) = (r.NtkMean, r.NtkStd, r.NngpMean, r.NngpStd, r.NtkShape);
        }
        else
        {
            (int r0, int r1) = Options.PointSetOptions.Range("rows", rowsSpec, n);
            (int c0, int c1) = Options.PointSetOptions.Range("cols", colsSpec, m);
            // The diagnostics need the whole matrices (operator norms): that run stays in memory.
            bool tileable = reportPath is null;
            if (tileable)
                return WriteBlocks(file!, single, x, x2, trainableFrom, outputs, method, ntkPath, nngpPath, tiled.Plan with
                {
                    Communicator = comm,
                    RowStart = r0, RowEnd = r1, ColStart = c0, ColEnd = c1,
                    InputChecksum = Checksum(file!, x, x2),
                }, tiled.Asked);
            EmpiricalKernelResult r = single
                ? EmpiricalKernel.Compute(file!.ToNetwork<float>(), x, x2, outputs, trainableFrom, wantNngp, method)
                : EmpiricalKernel.Compute(file!.ToNetwork<double>(), x, x2, outputs, trainableFrom, wantNngp, method);
            (ntk, nngp, shape) = (r.Ntk, r.Nngp, r.NtkShape);
        }
        FiniteChecked.Ensure(ntk);
        if (nngp is not null) FiniteChecked.Ensure(nngp);

        // The kernels computed in memory (Monte Carlo without tiling, or one network with the diagnostics) take the library's one output path as one source (one tile when they fit);
        // the diagnostics CSV is written and renamed in the same transaction.
        KernelSideFile[] side = reportPath is null ? []
            : [new KernelSideFile(reportPath, Encoding.UTF8.GetBytes(DiagnosticsCsv(arch, trainableFrom, x, ntk, nngp!, outputs)))];
        int[] entry = shape[2..];
        var matrices = new List<(double[], IReadOnlyList<int>)> { (ntk, entry) };
        var paths = new List<string?> { ntkPath };
        if (ntkStdPath is not null) { matrices.Add((ntkStd, entry)); paths.Add(ntkStdPath); }
        if (nngpPath is not null) { matrices.Add((nngp!, [])); paths.Add(nngpPath); }
        if (nngpStdPath is not null) { matrices.Add((nngpStd!, [])); paths.Add(nngpStdPath); }
        return KernelOutputWriter.Write(new InMemoryKernelSource(n, m, matrices), paths, tiled.Plan, report: false, "ntk empirical", side);
    }

    /// <summary>
    /// One network's Θ̂ (trace) and NNGP through <see cref="EmpiricalKernelSource{T}"/> and the library's one
    /// output path: tile by tile into the files (a small kernel is one tile), shared among MPI ranks.
    /// </summary>
    private static int WriteBlocks(MlpFileContents file, bool single, Matrix x, Matrix? x2, int trainableFrom, EmpiricalOutputs outputs,
        EmpiricalMethod method, string ntkPath, string? nngpPath, KernelOutputPlan plan, bool report)
    {
        Communicator comm = plan.Communicator;
        IKernelBlockSource source = new FiniteChecked(single
            ? new EmpiricalKernelSource<float>(file.ToNetwork<float>(), x, x2, trainableFrom, nngpPath is not null, comm, outputs, method)
            : new EmpiricalKernelSource<double>(file.ToNetwork<double>(), x, x2, trainableFrom, nngpPath is not null, comm, outputs, method));
        string?[] paths = nngpPath is null ? [ntkPath] : [ntkPath, nngpPath];
        return KernelOutputWriter.Write(source, paths, plan, report, "ntk empirical");
    }

    /// <summary>The checksum of the points and the network's parameters (compared across MPI ranks).</summary>
    private static ulong Checksum(MlpFileContents file, Matrix x, Matrix? x2)
    {
        var c = new InputChecksum();
        c.Add(unchecked((long)KernelOutputWriter.Checksum(x, x2)));
        c.Add<double>(file.ToNetwork<double>().Parameters);
        return c.Value;
    }

    /// <summary>A block source whose blocks must be finite (as the in-memory path checks its matrices): a non-finite entry fails the run.</summary>
    private sealed class FiniteChecked(IKernelBlockSource inner) : IKernelBlockSource
    {
        public int Rows => inner.Rows;
        public int Cols => inner.Cols;
        public bool IsSymmetric => inner.IsSymmetric;
        public int Outputs => inner.Outputs;
        public long FixedBytes => inner.FixedBytes;
        public long WorkspaceBytes(int rows, int cols) => inner.WorkspaceBytes(rows, cols);
        public IReadOnlyList<int> EntryShape(int output) => inner.EntryShape(output);

        public void ComputeBlock(int row0, int rows, int col0, int cols, Span<double> destination)
        {
            inner.ComputeBlock(row0, rows, col0, cols, destination);
            long values = 0;
            for (int o = 0; o < Outputs; o++) values += NpyTileFile.EntrySize(EntryShape(o));
            Ensure(destination[..(int)(values * rows * cols)]);
        }

        /// <summary>Fails the run, as the in-memory path always did, when a kernel value is NaN or ±∞.</summary>
        public static void Ensure(ReadOnlySpan<double> values)
        {
            foreach (double v in values)
                if (!double.IsFinite(v)) throw new CliException("the kernel has non-finite entries (the network's activations overflow)", ExitCodes.Failure);
        }
    }

    /// <summary>The diagnostics CSV: one row for the NTK (vs Θ(L), or Θ(L) ⊗ Id for full outputs) and one for the NNGP (vs Σ(L)).</summary>
    internal static string DiagnosticsCsv(MlpArchitecture arch, int trainableFrom, Matrix x, double[] ntk, double[] nngp, EmpiricalOutputs outputs)
    {
        var spec = new KernelSpec(arch.Depth, arch.Activation, arch.Beta, arch.WeightStd, trainableFrom);
        KernelResult analytic = InfiniteWidth.Compute(spec, x);
        int n = x.Rows, q = arch.OutputWidth;
        var ntkResult = new EmpiricalKernelResult(n, n, q, outputs, ntk, null);
        KernelComparison t = KernelDiagnostics.Compare(ntkResult, analytic.Ntk!);
        KernelComparison s = KernelDiagnostics.Compare(new Matrix(n, n, nngp), analytic.Nngp!, n);
        var sb = new StringBuilder();
        sb.Append("kernel,points,outputs,empirical_op,analytic_op,difference_op,relative_difference_op,relative_frobenius\n");
        Row(sb, outputs == EmpiricalOutputs.Full ? "ntk_full" : "ntk_trace", q, t);
        Row(sb, "nngp", 1, s);
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string name, int outputs, KernelComparison c)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"{name},{c.Points},{outputs},{c.EmpiricalOp:R},{c.AnalyticOp:R},{c.DifferenceOp:R},{c.RelativeDifferenceOp:R},{c.RelativeFrobenius:R}\n");
    }
}
