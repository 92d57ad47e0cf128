using System.Diagnostics;
using System.Globalization;
using NtkFast.Dynamics;
using NtkFast.Activations;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Cli.Commands;

/// <summary>
/// <c>ntk predict</c>: what a network trained by gradient descent outputs at time t (docs/design.md §1
/// "Training and function-space dynamics", §3): kernel regression with the NTK at any t ≥ 0 or ∞.
/// </summary>
internal sealed partial class PredictCommand : ICommand
{
    public string Name => "predict";
    public string Summary => "predict the trained network's outputs at time t (NTK regression, ensembles)";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(StringComparer.Ordinal) { "ensemble", "labels" };

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk predict --x X.npy --y Y.npy --x-test XT.npy --depth 3 --activation relu --out P.npy   # t = ∞",
        "ntk predict --x X.npy --y Y.npy --x-test XT.npy --depth 3 --activation relu --time 1,10,100 --ensemble --out-std PS.npy --out P.npy",
        "ntk predict --kernel-train K.npy --kernel-test KX.npy --y Y.npy --out P.npy   # from precomputed kernels",
        "ntk predict --x X.npy --y labels.npy --labels --x-test XT.npy --y-test YT.npy --depth 2 --activation relu --out P.npy   # classification",
    ];

    public string Help => """
        usage: ntk predict --x X.npy --y Y.npy --x-test XT.npy --out P.npy
                           (--depth L --activation NAME [--beta 0.1] [--weight-std 1]
                            [--trainable-from K] [--quadrature-degree Q]  |  --params net.npz)
                           [--time T | T1,T2,... | inf] [--regularization R | abs:R]
                           [--ensemble [--out-std S.npy] [--out-cov C.npy]] [--posterior ntk|nngp]
                           [--out-train PT.npy] [--labels [--y-test YT.npy]]
               ntk predict --kernel-train K.npy --kernel-test KX.npy --y Y.npy --out P.npy
                           [--nngp-train S.npy --nngp-test SX.npy
                            (--nngp-test-diag SXX.npy | --nngp-test-test SXX.npy)]
                           [--posterior ntk|nngp] [--out-std S.npy] [--out-cov C.npy] ...

        Outputs of a network trained by gradient descent on C = 1/(2N) sum_i |f(x_i) - y_i|^2
        for time t = steps x learning rate, in the infinite-width limit (docs/design.md section 1):
          f_t(x*) = f_0(x*) + Theta(x*,X) Theta^-1 (I - exp(-t Theta/N)) (Y - f_0(X))
        t = inf is kernel ("ridge-less") regression. Rows of X, Y, XT are points; Y is N x K.
        Every input (points, targets, kernel files) is a 2-D .npy (float16/32/64, integer or bool
        dtypes, read as float64), FILE.npz:NAME, .csv, or - (-:NAME) for standard input (one option).

        Kernel (one of):
          --depth, --activation, ...  the infinite-width NTK, options as for `ntk kernel`;
                                      the prediction is the mean over initialisations (f_0 = 0)
          --params net.npz            the empirical NTK of this network (`ntk init`/`ntk train`),
                                      f_0 = the network's outputs: the linearised network's own f_t
          precomputed Gram matrices   e.g. written by `ntk kernel` (in memory or --out-of-core);
                                      no --x, --x-test, --params or kernel options.
                                      N training and M test points:
            --kernel-train K.npy      the NTK Theta(X,X), N x N, symmetric (relative 1e-6)
            --kernel-test KX.npy      the NTK Theta(X*,X), M x N (`ntk kernel --x XT --x2 X`)
            --nngp-train S.npy        the NNGP kernel Sigma(X,X), N x N, symmetric
            --nngp-test SX.npy        Sigma(X*,X), M x N
            --nngp-test-diag SXX.npy  Sigma(x*_i,x*_i), M values: variances only
            --nngp-test-test SXX.npy  Sigma(X*,X*), M x M: also full covariances (--out-cov)
                                      With the NNGP blocks the prediction is the infinite ensemble
                                      (f_0 ~ GP(0, Sigma)), as --ensemble: std always written.
                                      A float64 .npy --kernel-test, --nngp-test or --nngp-test-test of
                                      64 MiB or more (NTKFAST_MAP_THRESHOLD bytes) is memory-mapped and
                                      read in row blocks, for every posterior and --out-cov: memory
                                      ~N x N plus a few blocks, the same results as read whole.

          --time            a number >= 0, a comma-separated list, or inf (default inf). Many
                            times cost one eigendecomposition; a list writes a 3-D array (T, M, K)
          --regularization  ridge R >= 0 added to the training kernel's diagonal, relative to its
                            mean diagonal (R) or absolute (abs:R). Needed at t = inf when the
                            kernel is numerically singular (e.g. duplicated training points);
                            for --posterior nngp it is the observation-noise variance
          --ensemble        infinite ensemble over initialisations f_0 ~ GP(0, NNGP): writes the
                            mean to --out and the standard deviation to --out-std (default
                            <out>.std.npy); kernel options or NNGP blocks only
          --posterior       ntk (default): gradient descent on the NTK as above; nngp: exact
                            Gaussian-process regression with the NNGP kernel as prior:
                              mean Sigma(X*,X) Sigma^-1 Y,
                              covariance Sigma(X*,X*) - Sigma(X*,X) Sigma^-1 Sigma(X,X*)
                            (no --time; kernel options or the --nngp-* files)
          --out-std         standard deviation per test point (same for every output), as --out
          --out-cov         full M x M covariance of the test predictions (shared by every output),
                            (T, M, M) for a list of times; needs --ensemble, --posterior nngp or
                            --nngp-test-test. Written a block of rows at a time (never held
                            whole); its M x N intermediates spill to a temporary file beside
                            --out, deleted when done
          --out-train       the predictions on the training points, (N, K) or (T, N, K)
          --labels          Y (and --y-test) hold integer class labels: regress on one-hot targets,
                            write the scores, print train (and test) accuracy of the arg-max
          --out             float64 .npy (or .csv for a single time), shape (M, K) or (T, M, K)

        Errors (exit 2 bad input, 1 computation failed) leave no output file behind; all outputs
        are written together. Runs longer than 2 s report progress on stderr by work done (estimated
        flops, the factorisation of the training kernel included); --quiet silences it.

        """;

    public int Run(CliArgs args)
    {
        string yPath = args.Required("y");
        string outPath = args.Required("out");
        string? timeText = args.Optional("time");
        double[] times = ParseTimes(timeText ?? "inf");
        Regularization reg = ParseRegularization(args.Optional("regularization"));
        bool ensemble = args.Flag("ensemble");
        string? stdPath = args.Optional("out-std");
        string? covPath = args.Optional("out-cov");
        string? trainPath = args.Optional("out-train");
        bool labels = args.Flag("labels");
        string? ytPath = args.Optional("y-test");
        PosteriorKind posterior = ParsePosterior(args.Optional("posterior"));
        KernelFiles? files = KernelFiles.Requested(args) ? KernelFiles.Parse(args) : null;
        string? xPath = null, xtPath = null, paramsPath = null;
        KernelOptions? kernel = null;
        if (files is null)
        {
            xPath = args.Required("x");
            xtPath = args.Required("x-test");
            paramsPath = args.Optional("params");
            kernel = paramsPath is null ? KernelOptions.Parse(args) : null;
            if (paramsPath is not null) KernelOptions.RejectWith(args, "--params");
        }
        args.EnsureAllUsed();

        if (ytPath is not null && !labels) throw new CliException("option --y-test needs --labels");
        if (posterior == PosteriorKind.Nngp)
        {
            if (paramsPath is not null)
                throw new CliException("--posterior nngp needs the NNGP kernel (kernel options or --nngp-train/--nngp-test); --params is one network");
            if (ensemble) throw new CliException("--ensemble is the NTK-trained ensemble; --posterior nngp writes its own spread with --out-std/--out-cov");
            if (!Array.TrueForAll(times, double.IsPositiveInfinity))
                throw new CliException($"--posterior nngp is the Bayesian posterior, it has no time: drop --time {timeText}");
        }
        if (ensemble && paramsPath is not null)
            throw new CliException("--ensemble needs kernel options (an infinite ensemble); --params is one network");
        files?.CheckCombination(posterior, ensemble);
        // Whether a spread (variance) exists, and whether it is the full covariance.
        bool spread = files is not null ? files.HasTestTest : ensemble || (kernel is not null && posterior == PosteriorKind.Nngp);
        bool fullSpread = files is not null ? files.TestTestPath is not null : spread;
        if (stdPath is not null && !spread)
            throw new CliException(files is null ? "option --out-std needs --ensemble" : "option --out-std needs --nngp-train, --nngp-test and --nngp-test-diag (or --nngp-test-test)");
        if (covPath is not null && !fullSpread)
            throw new CliException(files is null ? "option --out-cov needs --ensemble (or --posterior nngp)" : "option --out-cov needs the full test block --nngp-test-test (M x M), with --nngp-train and --nngp-test");
        if (ensemble || (files is not null && spread)) stdPath ??= Path.ChangeExtension(outPath, null) + ".std" + Path.GetExtension(outPath);
        CheckOutput(outPath, "--out", times.Length);
        if (stdPath is not null) CheckOutput(stdPath, "--out-std", times.Length);
        if (covPath is not null) CheckOutput(covPath, "--out-cov", times.Length);
        if (trainPath is not null) CheckOutput(trainPath, "--out-train", times.Length);
        string?[] inputs = [yPath, ytPath, xPath, xtPath, paramsPath, .. files?.Paths ?? []];
        CheckOutputsDistinct(inputs, ("--out", outPath), ("--out-std", stdPath), ("--out-cov", covPath), ("--out-train", trainPath));

        Matrix y;
        Matrix? x = null, xt = null;
        KernelFiles.Loaded? loaded = null;
        if (files is not null)
        {
            y = MatrixFile.Read(yPath, "--y");
            loaded = files.Read(y, yPath, BlockRows(KernelPrediction.DefaultBlockRows));
        }
        else
        {
            x = MatrixFile.Read(xPath!, "--x");
            y = MatrixFile.Read(yPath, "--y");
            xt = MatrixFile.Read(xtPath!, "--x-test");
            if (y.Rows != x.Rows)
                throw new CliException($"--y {yPath} has {y.Rows} rows but --x has {x.Rows}: one target row per input row");
            if (xt.Cols != x.Cols)
                throw new CliException($"--x-test {xtPath} has {xt.Cols} columns but --x has {x.Cols}");
        }
        using IDisposable? maps = loaded;
        int n = y.Rows, m = loaded?.TestPoints ?? xt!.Rows;
        string testRowsName = files is null ? "--x-test" : loaded!.TestName;
        int[]? trainLabels = null, testLabels = null;
        if (labels)
        {
            trainLabels = Labels(y, "--y", yPath);
            try { y = Classification.OneHot(trainLabels); }
            catch (ArgumentException e) { throw new CliException($"--y {yPath}: {FirstSentence(e.Message)}"); }
            if (ytPath is not null)
            {
                Matrix yt = MatrixFile.Read(ytPath, "--y-test");
                if (yt.Rows != m) throw new CliException($"--y-test {ytPath} has {yt.Rows} rows but {testRowsName} has {m}");
                testLabels = Labels(yt, "--y-test", ytPath);
                if (testLabels.Length > 0 && testLabels.Max() >= y.Cols)
                    throw new CliException($"--y-test {ytPath} has label {testLabels.Max()} but the training labels only go up to {y.Cols - 1}");
            }
        }

        var clock = Stopwatch.StartNew();
        var want = new Wanted(labels || trainPath is not null, stdPath is not null || covPath is not null, covPath is not null);
        string scratch = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
        // One transaction for every output. --out-cov is written a block of rows at a time as the library produces them
        // (memory count x M, not M x M, whatever the kernel source); the file is renamed into place with the others only at the end.
        Prediction p;
        using (var outputs = new AtomicOutputs())
        {
            CovarianceFile? covFile = covPath is not null ? new CovarianceFile(outputs.Open(covPath), covPath, times.Length, m) : null;
            p = loaded?.Streamed is { } streamed ? PredictStreamed(streamed, posterior, y, times, reg, want, scratch, covFile)
                : loaded is not null ? PredictFromKernels(loaded.Kernels!, posterior, y, times, reg, want, scratch, covFile)
                : kernel is not null ? PredictAnalytic(kernel, x!, y, xt!, times, reg, ensemble, posterior, want, scratch, covFile)
                : PredictEmpirical(paramsPath!, x!, y, xt!, times, reg);
            Info($"predict: N={n} M={m} K={y.Cols}, {times.Length} time(s), {clock.Elapsed.TotalSeconds:F2} s");
            // Never write NaN/Inf with exit 0 (issue #18 item 6): the library checks its inputs, this is the last guard
            // (a streamed covariance is checked block by block as it is written).
            if (!AllFinite(p.Test) || !AllFinite(p.TestStd) || !AllFinite(p.Train))
                throw new CliException(NonFinitePrediction, ExitCodes.Failure);

            Write(outputs, outPath, p.Test, m, y.Cols);
            if (stdPath is not null) Write(outputs, stdPath, p.TestStd!, m, y.Cols);
            covFile?.Finish();
            if (trainPath is not null) Write(outputs, trainPath, p.Train!, n, y.Cols);
            outputs.Commit();
        }
        if (labels)
        {
            for (int q = 0; q < p.Test.Length; q++)
            {
                string t = FormatTime(p.Times[q]);
                double train = Classification.Accuracy(Classification.ArgMax(p.Train![q]), trainLabels);
                string line = $"t={t}: train accuracy {train.ToString("F4", CultureInfo.InvariantCulture)}";
                if (testLabels is not null)
                    line += $", test accuracy {Classification.Accuracy(Classification.ArgMax(p.Test[q]), testLabels).ToString("F4", CultureInfo.InvariantCulture)}";
                Console.Out.WriteLine(line);
            }
        }
        return ExitCodes.Ok;
    }

    /// <summary>What the outputs need besides the test mean: train predictions, the spread, the full covariance.</summary>
    private readonly record struct Wanted(bool Train, bool Spread, bool Covariance);

    /// <summary>Predictions per time on the test points (and the training points, the spread when asked for).</summary>
    private sealed record Prediction(double[] Times, Matrix[] Test, Matrix[]? Train, Matrix[]? TestStd);

    /// <summary>The library's prediction from Gram blocks (every kernel source but --params goes through here).</summary>
    private static Prediction PredictFromKernels(PredictionKernels k, PosteriorKind posterior, Matrix y, double[] times, Regularization reg,
        Wanted want, string scratch, CovarianceFile? covFile)
    {
        using var work = new StagedWork(PredictionWork(k, posterior, y.Cols, times, want));
        return PredictFromKernels(k, posterior, y, times, reg, want, work, scratch, covFile);
    }

    private static Prediction PredictFromKernels(PredictionKernels k, PosteriorKind posterior, Matrix y, double[] times, Regularization reg,
        Wanted want, StagedWork work, string scratch, CovarianceFile? covFile)
    {
        // --out-cov (want.Covariance) always comes with its file.
        if (covFile is not null) return CovarianceByRows(k, posterior, y, times, reg, want, work, scratch, covFile);
        // The factorisation (an eigendecomposition, ~10 N³ of the estimate, or a Cholesky factor, N³/3) reports from
        // inside, so a large N is not minutes of silence.
        IProgress<double> factor = work.Within(FactorWork(k.TrainPoints, times, posterior, k.NngpTestTest is not null));
        TimePrediction[] r = posterior == PosteriorKind.Ntk
            ? KernelPrediction.Ntk(k, y, times, reg, want.Train, covariance: false, factor)
            : [KernelPrediction.Nngp(k, y, reg, want.Train, covariance: false, factor)];
        work.Done(PredictionWork(k, posterior, y.Cols, times, want));
        return ToPrediction(r, k.TestPoints, y.Cols, want);
    }

    /// <summary>
    /// --out-cov from blocks held in memory: the streamed library calls with readers over the held matrices, so the covariance goes
    /// to its file a block of rows at a time (never the M x M result, nor T of them) and its M x N intermediates are spilled to
    /// <paramref name="scratch"/> as for mapped files. The library's streamed covariance is bit for bit its in-memory one, so the
    /// bytes are those the whole matrix gave.
    /// </summary>
    private static Prediction CovarianceByRows(PredictionKernels k, PosteriorKind posterior, Matrix y, double[] times, Regularization reg,
        Wanted want, StagedWork work, string scratch, CovarianceFile covFile)
    {
        int n = k.TrainPoints, m = k.TestPoints, rows = BlockRows(CovarianceBlockRows(n));
        long total = PredictionWork(k, posterior, y.Cols, times, want), factor = FactorWork(n, times, posterior, spread: true);
        IProgress<double> factorProgress = work.Within(factor);
        Matrix TestTest(int start, int count) => RowBlock(k.NngpTestTest!, start, count);
        TimePrediction[] r;
        if (posterior == PosteriorKind.Ntk)
        {
            IProgress<long> entries = work.Entries(total - factor, factor, KernelPrediction.NtkCovarianceWork(m, n, times.Length));
            r = KernelPrediction.NtkCovariance(k.NtkTrain!, k.NngpTrain!, m,
                (start, count) => new TestRowBlock(RowBlock(k.NtkTest!, start, count), RowBlock(k.NngpTest!, start, count)), TestTest,
                y, times, reg, want.Train, rows, entries, scratch, covFile.Write, factorProgress);
        }
        else
        {
            IProgress<long> entries = work.Entries(total - factor, factor, KernelPrediction.NngpWork(m, n, covariance: true));
            r = [KernelPrediction.Nngp(k.NngpTrain!, m, (start, count) => RowBlock(k.NngpTest!, start, count), null, TestTest, y, reg, want.Train,
                covariance: true, rows, entries, scratch, covFile.Write, factorProgress)];
        }
        work.Done(total);
        return ToPrediction(r, m, y.Cols, want);
    }

    /// <summary>Rows start..start+count of a held matrix, as a reader of the streamed library calls returns them.</summary>
    private static Matrix RowBlock(Matrix a, int start, int count) =>
        new(count, a.Cols, a.Data.AsSpan(start * a.Cols, count * a.Cols).ToArray());

    /// <summary>
    /// Progress of the in-memory paths, whose steps are single library calls: a delayed report whose units are estimated
    /// floating-point operations, advanced as each stage (a kernel block, the prediction) finishes, so the time left is
    /// estimated from the work done, not from the number of stages.
    /// </summary>
    private sealed class StagedWork(long total) : IDisposable
    {
        private readonly Progress _progress = Progress.Delayed("predict: work", Math.Max(total, 1));
        private long _done;

        public void Done(long units)
        {
            _done += units;
            _progress.Report(_done);
        }

        /// <summary>
        /// Progress inside the next stage: a library step reporting its fraction done (0…1) advances the report by that
        /// fraction of <paramref name="units"/>; the caller still calls <see cref="Done"/> with the whole stage afterwards.
        /// </summary>
        public IProgress<double> Within(long units) => new Fraction(this, units);

        /// <summary>
        /// Progress of a streamed library call inside the next stage, after <paramref name="skip"/> of its units (its factorisation,
        /// reported through <see cref="Within"/>): cumulative entries out of <paramref name="entries"/> advance the report in
        /// proportion over the following <paramref name="units"/>.
        /// </summary>
        public IProgress<long> Entries(long units, long skip, long entries) => new EntryFraction(this, units, skip, Math.Max(entries, 1));

        private sealed class EntryFraction(StagedWork owner, long units, long skip, long entries) : IProgress<long>
        {
            public void Report(long value) =>
                owner._progress.Report(owner._done + skip + (long)(Math.Clamp((double)value / entries, 0, 1) * units));
        }

        private sealed class Fraction(StagedWork owner, long units) : IProgress<double>
        {
            public void Report(double value) => owner._progress.Report(owner._done + (long)(Math.Clamp(value, 0, 1) * units));
        }

        public void Dispose() => _progress.Dispose();
    }

    /// <summary>Estimated flops of one analytic kernel entry (closed-form duals; quadrature costs more but the ratio between blocks is what matters).</summary>
    private static long KernelEntryWork(KernelSpec spec) => 300L * spec.Depth;

    /// <summary>
    /// Estimated flops of <see cref="KernelPrediction"/> on these blocks: the factorisation (Cholesky N³/3 at t = ∞ without a spread,
    /// else an eigendecomposition ~10 N³), the test products (2·M·N² per transfer or basis change, 2·M·N·K per time) and the covariance (6·M²·N).
    /// </summary>
    private static long PredictionWork(PredictionKernels k, PosteriorKind posterior, int outputs, double[] times, Wanted want) =>
        PredictionWork(k.TrainPoints, k.TestPoints, outputs, times, posterior, k.NngpTestTest is not null, want.Covariance);

    private static long PredictionWork(long n, long m, long kk, double[] times, PosteriorKind posterior, bool spread, bool covariance)
    {
        if (posterior == PosteriorKind.Nngp) return n * n * n / 3 + m * n * n + 2 * m * n * kk + (covariance ? 2 * m * m * n : 2 * m * n);
        bool eigen = spread || !Array.TrueForAll(times, double.IsPositiveInfinity);
        long w = eigen ? 10 * n * n * n + 2 * m * n * n : n * n * n / 3;
        long perTime = 2 * m * n * kk + (spread ? 4 * m * n * n + (covariance ? 6 * m * m * n : 4 * m * n) : 0);
        return w + times.Length * perTime;
    }

    /// <summary>
    /// Rows of the block files streamed through memory maps (a large --kernel-test, --nngp-test or --nngp-test-test); the same
    /// results as in memory. The full covariance's M x N intermediates are spilled to a temporary file in <paramref name="scratch"/>
    /// (the output's folder), deleted on close.
    /// </summary>
    private static Prediction PredictStreamed(KernelFiles.StreamedKernels k, PosteriorKind posterior, Matrix y, double[] times,
        Regularization reg, Wanted want, string scratch, CovarianceFile? covFile)
    {
        CovarianceRowsSink? sink = covFile is null ? null : covFile.Write;
        int n = (k.NtkTrain ?? k.NngpTrain)!.Rows, m = k.TestPoints;
        // One report in estimated flops, as in memory (the same StagedWork): the factorisation of the N x N block (reported from inside, while the
        // first block is processed) weighted by its cost, then the test blocks' entries sharing the rest of the estimate.
        long total = PredictionWork(n, m, y.Cols, times, posterior, want.Spread, want.Covariance);
        long factor = Math.Clamp(FactorWork(n, times, posterior, want.Spread), 0, Math.Max(total, 1));
        using var work = new StagedWork(total);
        IProgress<double> factorProgress = work.Within(factor);
        IProgress<long> Entries(long entries) => work.Entries(Math.Max(total, 1) - factor, factor, entries);
        TimePrediction[] r;
        if (posterior == PosteriorKind.Ntk && !want.Covariance)
        {
            r = KernelPrediction.Ntk(k.NtkTrain!, k.NngpTrain, m, k.Read, y, times, reg, want.Train, BlockRows(KernelPrediction.DefaultBlockRows),
                Entries((long)m * n), factorProgress);
        }
        else if (posterior == PosteriorKind.Ntk)
        {
            r = KernelPrediction.NtkCovariance(k.NtkTrain!, k.NngpTrain!, m, k.Read, k.TestTest!.Read, y, times, reg, want.Train,
                BlockRows(CovarianceBlockRows(n)), Entries(KernelPrediction.NtkCovarianceWork(m, n, times.Length)), scratch, sink, factorProgress);
        }
        else
        {
            int rows = BlockRows(want.Covariance ? CovarianceBlockRows(n) : KernelPrediction.DefaultBlockRows);
            r = [KernelPrediction.Nngp(k.NngpTrain!, m, k.ReadNngpTest, k.Diagonal is null ? null : k.ReadDiagonal,
                k.TestTest is null ? null : k.TestTest.Read, y, reg, want.Train, want.Covariance, rows, Entries(KernelPrediction.NngpWork(m, n, want.Covariance)),
                scratch, sink, factorProgress)];
        }
        return ToPrediction(r, m, y.Cols, want);
    }

    /// <summary>The factorisation's share of <see cref="PredictionWork(long, long, long, double[], PosteriorKind, bool, bool)"/>: a Cholesky factor (N³/3) for the NNGP posterior and for t = ∞ without a spread, else an eigendecomposition (~10 N³).</summary>
    private static long FactorWork(long n, double[] times, PosteriorKind posterior, bool spread) =>
        posterior == PosteriorKind.Nngp || (!spread && Array.TrueForAll(times, double.IsPositiveInfinity)) ? n * n * n / 3 : 10 * n * n * n;

    /// <summary>
    /// Rows per block of the covariance passes: each output block re-reads every other block's rows, so the reads are
    /// M·M·N / block; a block of N rows (at least the default, at most 2048) keeps them near the M·N of the inputs while
    /// the block matrices (a few block x N) stay within a few N x N.
    /// </summary>
    private static int CovarianceBlockRows(int n) => Math.Clamp(n, KernelPrediction.DefaultBlockRows, 2048);

    /// <summary>Test rows per streamed block: NTKFAST_PREDICT_BLOCK_ROWS (tests use small blocks), else <paramref name="fallback"/>.</summary>
    private static int BlockRows(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("NTKFAST_PREDICT_BLOCK_ROWS"), NumberStyles.None, CultureInfo.InvariantCulture, out int b) && b > 0
            ? b : fallback;

    private static Prediction ToPrediction(TimePrediction[] r, int m, int kk, Wanted want)
    {
        var test = new Matrix[r.Length];
        Matrix[]? train = want.Train ? new Matrix[r.Length] : null;
        Matrix[]? std = want.Spread ? new Matrix[r.Length] : null;
        // The covariance went to its file block by block (the results hold none).
        for (int q = 0; q < r.Length; q++)
        {
            test[q] = r[q].Mean;
            if (train is not null) train[q] = r[q].Train!;
            if (std is not null)
            {
                var s = new Matrix(m, kk);
                double[] sd = r[q].StandardDeviation!;
                for (int i = 0; i < m; i++) s.Row(i).Fill(sd[i]);
                std[q] = s;
            }
        }
        return new Prediction(Array.ConvertAll(r, t => t.Time), test, train, std);
    }

    private static Prediction PredictAnalytic(KernelOptions kernel, Matrix x, Matrix y, Matrix xt, double[] times, Regularization reg,
        bool ensemble, PosteriorKind posterior, Wanted want, string scratch, CovarianceFile? covFile)
    {
        var clock = Stopwatch.StartNew();
        bool nngp = ensemble || posterior == PosteriorKind.Nngp;
        long n = x.Rows, m = xt.Rows, entry = KernelEntryWork(kernel.Spec);
        using var work = new StagedWork(entry * (n * n + m * n + (want.Covariance ? m * m : m))
            + PredictionWork(n, m, y.Cols, times, posterior, nngp, want.Covariance));
        PredictionKernels k = kernel.Compute(x, xt, ntk: posterior == PosteriorKind.Ntk, nngp, fullTest: want.Covariance, work, entry);
        Info($"predict: kernels in {clock.Elapsed.TotalSeconds:F2} s");
        return PredictFromKernels(k, posterior, y, times, reg, want, work, scratch, covFile);
    }

    private static PosteriorKind ParsePosterior(string? s) => s switch
    {
        null or "ntk" => PosteriorKind.Ntk,
        "nngp" => PosteriorKind.Nngp,
        _ => throw new CliException($"option --posterior: '{s}' is not ntk or nngp"),
    };

    /// <summary>No output is an input or another output (checked before any work).</summary>
    private static void CheckOutputsDistinct(string?[] inputs, params (string Option, string? Path)[] outs)
    {
        for (int i = 0; i < outs.Length; i++)
        {
            if (outs[i].Path is not string o) continue;
            AtomicFile.CheckNotAnInput(o, inputs);
            for (int j = 0; j < i; j++)
                if (outs[j].Path is string other && Path.GetFullPath(other) == Path.GetFullPath(o))
                    throw new CliException($"{outs[j].Option} and {outs[i].Option} name the same file {o}");
        }
    }

    private static double[] ParseTimes(string s)
    {
        string[] parts = s.Split(',', StringSplitOptions.TrimEntries);
        var times = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            string p = parts[i];
            if (p is "inf" or "Inf" or "infinity" or "∞") times[i] = double.PositiveInfinity;
            else if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out times[i]) || double.IsNaN(times[i]))
                throw new CliException($"option --time: '{p}' is not a number or inf");
            if (times[i] < 0) throw new CliException($"option --time must be >= 0, got {p}");
        }
        return times;
    }

    private static Regularization ParseRegularization(string? s)
    {
        if (s is null) return Regularization.None;
        bool abs = s.StartsWith("abs:", StringComparison.Ordinal);
        string v = abs ? s[4..] : s;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !double.IsFinite(r) || r < 0)
            throw new CliException($"option --regularization: '{s}' is not a number >= 0 (or abs:number)");
        return abs ? Regularization.Absolute(r) : Regularization.Relative(r);
    }

    private static int[] Labels(Matrix m, string option, string path)
    {
        try { return Classification.LabelsFromColumn(m); }
        catch (ArgumentException e) { throw new CliException($"{option} {path}: --labels needs one column of non-negative integers ({FirstSentence(e.Message)})"); }
    }

    private static string FirstSentence(string s)
    {
        return Options.CliMessages.WithoutParameter(new ArgumentException(s)).TrimEnd('.');
    }

    private static bool AllFinite(Matrix[]? ms)
    {
        if (ms is null) return true;
        foreach (Matrix mat in ms)
            foreach (double v in mat.Data)
                if (!double.IsFinite(v)) return false;
        return true;
    }

    private static bool AllFiniteEach(params Matrix?[] ms) => AllFinite(Array.FindAll(ms, q => q is not null)!);

    private static void CheckOutput(string path, string option, int times)
    {
        if (path == "-") throw new CliException(CliArgs.StandardOutputRefused(option));
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new CliException($"option {option}: '{path}' is a directory");
        string? dir = Path.GetDirectoryName(full);
        if (dir is not null && !Directory.Exists(dir)) throw new CliException($"option {option}: folder does not exist: {dir}");
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".npy" or ".csv")) throw new CliException($"option {option}: unsupported file type '{ext}' (expected .npy or .csv)");
        if (ext == ".csv" && times > 1) throw new CliException($"option {option}: several times give a 3-D array; use .npy");
    }

    private static void Write(AtomicOutputs outputs, string path, Matrix[] perTime, int m, int k)
    {
        Stream s = outputs.Open(path);
        bool csv = Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase);
        if (perTime.Length == 1)
        {
            if (csv) MatrixFile.WriteCsv(s, perTime[0].Data, m, k);
            else Npy.Write(s, perTime[0].Data, [m, k]);
            return;
        }
        var all = new double[perTime.Length * m * k];
        for (int q = 0; q < perTime.Length; q++) perTime[q].Data.CopyTo(all, q * m * k);
        Npy.Write(s, all, [perTime.Length, m, k]);
    }

    private const string NonFinitePrediction = "the prediction has non-finite entries (the kernel or the data overflow float64); nothing was written";

    /// <summary>
    /// --out-cov written as the streamed prediction produces it: the .npy header ([M, M], or [T, M, M] for T times) up front,
    /// then each block of rows in order (or CSV lines for one time), each block checked finite before it is written.
    /// </summary>
    private sealed class CovarianceFile
    {
        private readonly Stream _stream;
        private readonly bool _csv;
        private readonly int _m;
        private readonly long _expected;
        private long _written;

        public CovarianceFile(Stream stream, string path, int times, int m)
        {
            _stream = stream;
            _m = m;
            _csv = Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase);
            _expected = (long)times * m;
            if (!_csv) NtkFast.IO.Npy.WriteFloat64Header(stream, times == 1 ? [m, m] : [times, m, m]);
        }

        public void Write(int timeIndex, int rowStart, Matrix rows)
        {
            if (timeIndex * (long)_m + rowStart != _written) throw new InvalidOperationException("covariance rows out of order");
            foreach (double v in rows.Data)
                if (!double.IsFinite(v)) throw new CliException(NonFinitePrediction, ExitCodes.Failure);
            if (_csv) MatrixFile.WriteCsv(_stream, rows.Data, rows.Rows, _m);
            else NtkFast.IO.Npy.WriteFloat64Elements(_stream, rows.Data);
            _written += rows.Rows;
        }

        /// <summary>Checks that every row arrived.</summary>
        public void Finish()
        {
            if (_written != _expected) throw new InvalidOperationException($"covariance has {_written} of {_expected} rows");
        }
    }

    private static string FormatTime(double t) => double.IsPositiveInfinity(t) ? "inf" : t.ToString("R", CultureInfo.InvariantCulture);

    private static void Info(string line)
    {
        if (!Progress.Quiet) Console.Error.WriteLine(line);
    }
    // ------------------------------------------------------------------ kernel options: the infinite-width NTK

    /// <summary>The options of `ntk kernel` that describe the kernel.</summary>
    private sealed class KernelOptions
    {
        private static readonly string[] Names = Options.KernelSpecOptions.Names;

        private KernelOptions(KernelSpec spec) => Spec = spec;

        public KernelSpec Spec { get; }

        public static KernelOptions Parse(CliArgs args)
        {
            if (!args.Has("depth") && !args.Has("activation"))
                throw new CliException("give the kernel (--depth L --activation NAME, as for `ntk kernel`) or a network (--params net.npz)");
            return new KernelOptions(Options.KernelSpecOptions.Kernel(args));
        }

        /// <summary>Kernel options together with --params are an error (which kernel would be meant?).</summary>
        public static void RejectWith(CliArgs args, string other)
        {
            foreach (string name in Names)
                if (args.Has(name)) throw new CliException($"option --{name} describes an infinite-width kernel; it cannot be combined with {other}");
        }

        /// <summary>Θ(X,X) and Θ(X*,X) (for the NTK), Σ(X,X), Σ(X*,X) and Σ(X*,X*) — full or its diagonal — for the spread or the NNGP posterior.</summary>
        public PredictionKernels Compute(Matrix x, Matrix xt, bool ntk, bool nngp, bool fullTest, StagedWork work, long entryWork)
        {
            KernelOutputs what = ntk && nngp ? KernelOutputs.Both : ntk ? KernelOutputs.Ntk : KernelOutputs.Nngp;
            long n = x.Rows, m = xt.Rows;
            KernelResult train = InfiniteWidth.Compute(Spec, x, null, what);
            work.Done(entryWork * n * n);
            KernelResult cross = InfiniteWidth.Compute(Spec, xt, x, what);
            work.Done(entryWork * m * n);
            Matrix? testTest = !nngp ? null
                : fullTest ? InfiniteWidth.Compute(Spec, xt, null, KernelOutputs.Nngp).Nngp!
                : new Matrix(xt.Rows, 1, InfiniteWidth.Diagonal(Spec, xt).Nngp);
            work.Done(entryWork * (fullTest ? m * m : m));
            // As `ntk kernel` does: inputs so large that σw²·xᵀx'/d + β² overflows are a usage error, named as such
            // (before PredictionKernels, whose own check would name a library parameter).
            if (!AllFiniteEach(train.Ntk, cross.Ntk, train.Nngp, cross.Nngp, testTest))
                throw new CliException("the kernel of --x/--x-test is not finite: the inputs or --weight-std/--beta are too large for float64 "
                    + "(σw²·xᵀx'/d + β² must stay below ~1e308 through every layer); scale the data down");
            return new PredictionKernels(ntk ? train.Ntk : null, ntk ? cross.Ntk : null,
                nngp ? train.Nngp : null, nngp ? cross.Nngp : null, testTest);
        }
    }

    // ------------------------------------------------------------------ --params: the linearised network

    /// <summary>
    /// The network's own linearised dynamics: f_0 = the network's outputs, Θ̂ = its empirical NTK,
    /// all nL×nL output pairs (docs/design.md §1: Θ̂_kk'(x,x') = Σ_l [σw²/n_l·α(l)·α(l)' + β²]·[δ(l+1)_k·δ(l+1)_k']),
    /// flattened to (N·nL)×(N·nL) with the time scale kept at N points.
    /// </summary>
    private static Prediction PredictEmpirical(string paramsPath, Matrix x, Matrix y, Matrix xt, double[] times, Regularization reg)
    {
        Mlp<double> net = MlpFile.Read(paramsPath).ToNetwork<double>();
        MlpArchitecture arch = net.Architecture;
        if (x.Cols != arch.InputWidth)
            throw new CliException($"--x has {x.Cols} columns but the network's input width n0 is {arch.InputWidth}");
        if (y.Cols != arch.OutputWidth)
            throw new CliException($"--y has {y.Cols} columns (after one-hot encoding for --labels) but the network has {arch.OutputWidth} outputs");
        int n = x.Rows, m = xt.Rows, nl = arch.OutputWidth;
        var clock = Stopwatch.StartNew();
        // Work: the layer-wise Gram GEMMs (2·(N+M)·N·(n_l + nL²·n_(l+1)) per layer), then the dynamics on the (N·nL)² kernel.
        long ntkWork = 0;
        for (int l = 0; l < arch.Depth; l++) ntkWork += 2L * (n + m) * n * (arch.Width(l) + (long)nl * nl * arch.Width(l + 1));
        bool eigen = !Array.TrueForAll(times, double.IsPositiveInfinity);
        long nn = (long)n * nl, mm = (long)m * nl;
        long dynWork = (eigen ? 10 * nn * nn * nn + 2 * mm * nn * nn : nn * nn * nn / 3) + times.Length * 2 * (mm + nn) * nn;
        using var work = new StagedWork(ntkWork + dynWork);
        (Matrix thetaTrain, Matrix thetaCross, Matrix f0, Matrix f0t) = EmpiricalNtk(net, x, xt);
        work.Done(ntkWork);
        if (!AllFiniteEach(thetaTrain, thetaCross, f0, f0t))
            throw new CliException("the empirical NTK or the network's outputs have non-finite entries (the network's activations or the NTK's sums of products overflow float64)", ExitCodes.Failure);
        Info($"predict: empirical NTK ({n * nl}×{n * nl}) in {clock.Elapsed.TotalSeconds:F2} s");
        var yFlat = new Matrix(n * nl, 1, (double[])y.Data.Clone());
        var dyn = new KernelDynamics(thetaTrain, yFlat, reg, timeScale: n) { DecompositionProgress = work.Within(eigen ? 10 * nn * nn * nn : nn * nn * nn / 3) };
        Matrix[] test = dyn.PredictTest(times, thetaCross, f0, f0t);
        Matrix[] train = dyn.PredictTrain(times, f0);
        work.Done(dynWork);
        for (int q = 0; q < times.Length; q++)
        {
            test[q] = new Matrix(m, nl, test[q].Data);
            train[q] = new Matrix(n, nl, train[q].Data);
        }
        return new Prediction(times, test, train, null);
    }

    /// <summary>Θ̂(X, X) and Θ̂(X*, X) flattened (row i·nL + k), and f_0 on X and X* as columns.</summary>
    internal static (Matrix ThetaTrain, Matrix ThetaCross, Matrix F0, Matrix F0Test) EmpiricalNtk(Mlp<double> net, Matrix x, Matrix xt)
    {
        MlpArchitecture a = net.Architecture;
        int n = x.Rows, m = xt.Rows, all = n + m, depth = a.Depth, nl = a.OutputWidth;
        var input = new double[all * a.InputWidth];
        x.Data.CopyTo(input, 0);
        xt.Data.CopyTo(input, n * a.InputWidth);
        MlpWorkspace<double> ws = net.CreateWorkspace(all);
        net.Forward(input, ws);
        double[] f = ws.Output.ToArray();
        // Activations α(l), l < L, and back-propagated δ(l+1)_k for every output k.
        var act = new double[depth][];
        for (int l = 0; l < depth; l++) act[l] = ws.Activation(l, input).ToArray();
        var cot = new double[nl][][];
        for (int k = 0; k < nl; k++)
        {
            ws.SetUnitCotangent(k);
            net.BackpropagateCotangents(ws);
            cot[k] = new double[depth][];
            for (int l = 0; l < depth; l++) cot[k][l] = ws.Cotangent(l + 1).ToArray();
        }
        var train = new Matrix(n * nl, n * nl);
        var cross = new Matrix(m * nl, n * nl);
        var ga = new double[all * n];
        var gd = new double[all * n];
        double b2 = a.Beta * a.Beta;
        for (int l = 0; l < depth; l++)
        {
            int w = a.Width(l), wn = a.Width(l + 1);
            double scale = a.WeightStd * a.WeightStd / w;
            // G_A = σw²/n_l·α(l)(all)·α(l)(X)ᵀ + β²
            Gemm.Multiply(Op.None, Op.Transpose, all, n, w, scale, act[l], w, act[l], w, 0.0, ga, n);
            for (int i = 0; i < ga.Length; i++) ga[i] += b2;
            for (int k = 0; k < nl; k++)
                for (int k2 = 0; k2 < nl; k2++)
                {
                    Gemm.Multiply(Op.None, Op.Transpose, all, n, wn, 1.0, cot[k][l], wn, cot[k2][l], wn, 0.0, gd, n);
                    for (int i = 0; i < all; i++)
                    {
                        Matrix target = i < n ? train : cross;
                        int row = (i < n ? i : i - n) * nl + k;
                        for (int j = 0; j < n; j++) target[row, j * nl + k2] += ga[i * n + j] * gd[i * n + j];
                    }
                }
        }
        // Symmetrise the training block against round-off in the GEMMs' summation order.
        for (int i = 0; i < n * nl; i++)
            for (int j = 0; j < i; j++)
            {
                double v = 0.5 * (train[i, j] + train[j, i]);
                train[i, j] = v;
                train[j, i] = v;
            }
        var f0 = new Matrix(n * nl, 1, f.AsSpan(0, n * nl).ToArray());
        var f0t = new Matrix(m * nl, 1, f.AsSpan(n * nl, m * nl).ToArray());
        return (train, cross, f0, f0t);
    }
}
