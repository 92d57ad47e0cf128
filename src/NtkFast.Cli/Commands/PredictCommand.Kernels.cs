using System.Globalization;
using NtkFast.Dynamics;
using NtkFast.IO;
using NtkFast.Numerics;

namespace NtkFast.Cli.Commands;

internal sealed partial class PredictCommand
{
    // ------------------------------------------------------------------ precomputed Gram matrices (--kernel-train …)

    /// <summary>
    /// The precomputed-kernel inputs: the Gram blocks as files (e.g. from <c>ntk kernel</c>, in memory or
    /// out of core), checked for shape and symmetry with messages naming the files, then handed to
    /// <see cref="KernelPrediction"/> like the analytic kernels.
    /// </summary>
    private sealed class KernelFiles
    {
        private static readonly string[] Options = ["kernel-train", "kernel-test", "nngp-train", "nngp-test", "nngp-test-diag", "nngp-test-test"];

        private KernelFiles(string? kernelTrain, string? kernelTest, string? nngpTrain, string? nngpTest, string? diag, string? testTest)
        {
            KernelTrainPath = kernelTrain;
            KernelTestPath = kernelTest;
            NngpTrainPath = nngpTrain;
            NngpTestPath = nngpTest;
            DiagPath = diag;
            TestTestPath = testTest;
        }

        public string? KernelTrainPath { get; }
        public string? KernelTestPath { get; }
        public string? NngpTrainPath { get; }
        public string? NngpTestPath { get; }
        public string? DiagPath { get; }
        public string? TestTestPath { get; }

        /// <summary>A Σ(X*,X*) block (diagonal or full) is given: the prediction has a spread.</summary>
        public bool HasTestTest => DiagPath is not null || TestTestPath is not null;

        public string?[] Paths => [KernelTrainPath, KernelTestPath, NngpTrainPath, NngpTestPath, DiagPath, TestTestPath];

        /// <summary>Any precomputed-kernel option selects this mode.</summary>
        public static bool Requested(CliArgs args)
        {
            foreach (string o in Options)
                if (args.Has(o)) return true;
            return false;
        }

        /// <summary>The file options; the options of the other modes (points, kernel spec, network) are errors.</summary>
        public static KernelFiles Parse(CliArgs args)
        {
            string given = "--" + Array.Find(Options, args.Has);
            foreach (string other in (string[])["x", "x-test", "params", .. NtkFast.Cli.Options.KernelSpecOptions.Names])
                if (args.Has(other))
                    throw new CliException($"option --{other} cannot be combined with precomputed kernels ({given}): the kernel files already hold the kernel between the points");
            return new KernelFiles(args.Optional("kernel-train"), args.Optional("kernel-test"), args.Optional("nngp-train"),
                args.Optional("nngp-test"), args.Optional("nngp-test-diag"), args.Optional("nngp-test-test"));
        }

        /// <summary>Missing companions and blocks the chosen posterior cannot use (before reading anything).</summary>
        public void CheckCombination(PosteriorKind posterior, bool ensemble)
        {
            Companion(KernelTestPath, "kernel-test", KernelTrainPath, "--kernel-train (the N x N training NTK)");
            Companion(KernelTrainPath, "kernel-train", KernelTestPath, "--kernel-test (the M x N test-vs-train NTK)");
            Companion(NngpTestPath, "nngp-test", NngpTrainPath, "--nngp-train (the N x N training NNGP kernel)");
            Companion(NngpTrainPath, "nngp-train", NngpTestPath, "--nngp-test (the M x N test-vs-train NNGP kernel)");
            if (DiagPath is not null && TestTestPath is not null)
                throw new CliException("give one of --nngp-test-diag (variances) and --nngp-test-test (full covariances), not both");
            if (HasTestTest && NngpTrainPath is null)
                throw new CliException($"option --{(DiagPath is not null ? "nngp-test-diag" : "nngp-test-test")} needs --nngp-train and --nngp-test");
            if (posterior == PosteriorKind.Ntk)
            {
                if (KernelTrainPath is null)
                    throw new CliException("the NTK prediction needs --kernel-train and --kernel-test (or --posterior nngp with the --nngp-* files)");
                if (NngpTrainPath is not null && !HasTestTest)
                    throw new CliException("--nngp-train/--nngp-test give the ensemble's spread, which also needs --nngp-test-diag (variances) or --nngp-test-test (covariances)");
                if (ensemble && NngpTrainPath is null)
                    throw new CliException("--ensemble with precomputed kernels needs --nngp-train, --nngp-test and --nngp-test-diag or --nngp-test-test");
            }
            else
            {
                if (NngpTrainPath is null) throw new CliException("--posterior nngp needs --nngp-train and --nngp-test");
                if (KernelTrainPath is not null)
                    throw new CliException("--posterior nngp uses only the NNGP kernel: drop --kernel-train and --kernel-test");
            }
        }

        private static void Companion(string? have, string haveName, string? need, string needText)
        {
            if (have is not null && need is null) throw new CliException($"option --{haveName} needs {needText}");
        }

        /// <summary>
        /// The blocks as read, and the option naming the M test rows (for messages): either every block in memory
        /// (<see cref="Kernels"/>) or, for large test-vs-train files, the training blocks in memory and the test
        /// rows streamed from memory maps (<see cref="Streamed"/>).
        /// </summary>
        public sealed class Loaded(PredictionKernels? kernels, StreamedKernels? streamed, string testName) : IDisposable
        {
            public PredictionKernels? Kernels { get; } = kernels;
            public StreamedKernels? Streamed { get; } = streamed;
            public string TestName { get; } = testName;
            public int TestPoints => Kernels?.TestPoints ?? Streamed!.TestPoints;
            public void Dispose() => Streamed?.Dispose();
        }

        /// <summary>The training blocks, and the test rows read a block at a time (mapped files, or rows of an in-memory block).</summary>
        public sealed class StreamedKernels(Matrix ntkTrain, Matrix? nngpTrain, int testPoints, MappedNpyMatrix ntkTest,
            MappedNpyMatrix? nngpTestMapped, Matrix? nngpTest, Matrix? diagonal) : IDisposable
        {
            public Matrix NtkTrain { get; } = ntkTrain;
            public Matrix? NngpTrain { get; } = nngpTrain;
            public int TestPoints { get; } = testPoints;

            /// <summary>Rows [start, start + count) of Θ(X*,X), and with the spread of Σ(X*,X) and of the prior variances.</summary>
            public TestRowBlock Read(int start, int count)
            {
                Matrix k = ntkTest.ReadRows(start, count);
                Matrix? s = nngpTestMapped?.ReadRows(start, count) ?? (nngpTest is null ? null : Rows(nngpTest, start, count));
                Matrix? d = diagonal is null ? null : Rows(diagonal, start, count);
                return new TestRowBlock(k, s, d);
            }

            private static Matrix Rows(Matrix a, int start, int count) =>
                new(count, a.Cols, a.Data.AsSpan(start * a.Cols, count * a.Cols).ToArray());

            public void Dispose()
            {
                ntkTest.Dispose();
                nngpTestMapped?.Dispose();
            }
        }

        /// <summary>A plain float64 .npy file large enough to map (NTKFAST_MAP_THRESHOLD), opened mapped; else null.</summary>
        private static MappedNpyMatrix? TryMap(string option, string path) =>
            MappedNpyMatrix.ShouldMap(path) ? MappedNpyMatrix.TryOpen(path, "--" + option) : null;

        /// <summary>
        /// Reads and checks every block against the others and against Y (N rows). With <paramref name="streamable"/>
        /// (the NTK prediction without full covariances) a large --kernel-test (and --nngp-test) is mapped, not read.
        /// </summary>
        public Loaded Read(Matrix y, string yPath, bool streamable)
        {
            if (streamable && KernelTestPath is not null && TryMap("kernel-test", KernelTestPath) is { } mapped)
            {
                try { return ReadStreamed(y, yPath, mapped); }
                catch { mapped.Dispose(); throw; }
            }
            return ReadInMemory(y, yPath);
        }

        private Loaded ReadStreamed(Matrix y, string yPath, MappedNpyMatrix kx)
        {
            Matrix k = ReadSymmetric("kernel-train", KernelTrainPath!);
            string trainName = Label("kernel-train", KernelTrainPath!);
            int n = k.Rows;
            if (y.Rows != n)
                throw new CliException($"--y {yPath} has {y.Rows} rows but {trainName} has shape {Shape(k)}: one target row per training point");
            string testName = Label("kernel-test", KernelTestPath!);
            if (kx.Cols != n)
                throw new CliException($"{testName} has shape ({kx.Rows}, {kx.Cols}) but {trainName} has shape {Shape(k)}: a test-vs-train kernel needs one column per training point ({n})");
            int m = kx.Rows;
            Matrix? s = null, sx = null, diag = null;
            MappedNpyMatrix? sxMap = null;
            try
            {
                if (NngpTrainPath is not null)
                {
                    s = ReadSymmetric("nngp-train", NngpTrainPath);
                    if (s.Rows != n)
                        throw new CliException($"{Label("nngp-train", NngpTrainPath)} has shape {Shape(s)} but {trainName} has shape {Shape(k)}: both are N x N over the same training points");
                }
                if (NngpTestPath is not null)
                {
                    sxMap = TryMap("nngp-test", NngpTestPath);
                    (int rows, int cols) = sxMap is not null ? (sxMap.Rows, sxMap.Cols) : Dims(sx = MatrixFile.Read(NngpTestPath, "--nngp-test"));
                    string sxName = Label("nngp-test", NngpTestPath);
                    if (cols != n)
                        throw new CliException($"{sxName} has shape ({rows}, {cols}) but {trainName} has shape {Shape(k)}: a test-vs-train kernel needs one column per training point ({n})");
                    if (rows != m)
                        throw new CliException($"{sxName} has shape ({rows}, {cols}) but {testName} has shape ({m}, {n}): both are M x N over the same points");
                }
                if (DiagPath is not null) diag = ReadDiagonal(m, testName, $"({m}, {n})");
                if (TestTestPath is not null)
                {
                    Matrix sxx = ReadSymmetric("nngp-test-test", TestTestPath);
                    if (sxx.Rows != m)
                        throw new CliException($"{Label("nngp-test-test", TestTestPath)} has shape {Shape(sxx)} but {testName} has shape ({m}, {n}): expected M x M = ({m}, {m})");
                    diag = new Matrix(m, 1);
                    for (int i = 0; i < m; i++) diag[i, 0] = sxx[i, i];
                }
                return new Loaded(null, new StreamedKernels(k, s, m, kx, sxMap, sx, diag), testName);
            }
            catch
            {
                sxMap?.Dispose();
                throw;
            }
        }

        private static (int Rows, int Cols) Dims(Matrix a) => (a.Rows, a.Cols);

        /// <summary>--nngp-test-diag: M prior variances, each >= 0.</summary>
        private Matrix ReadDiagonal(int m, string testName, string testShape)
        {
            Matrix sxx = MatrixFile.Read(DiagPath!, "--nngp-test-diag");
            if (sxx.Cols != 1 || sxx.Rows != m)
                throw new CliException($"{Label("nngp-test-diag", DiagPath!)} has shape {Shape(sxx)} but {testName} has shape {testShape}: expected the {m} prior variances Sigma(x*_i, x*_i), shape ({m},) or ({m}, 1)");
            for (int i = 0; i < m; i++)
                if (sxx[i, 0] < 0)
                    throw new CliException($"{Label("nngp-test-diag", DiagPath!)}: entry {i} is {sxx[i, 0].ToString("G6", CultureInfo.InvariantCulture)}, a variance must be >= 0");
            return sxx;
        }

        private Loaded ReadInMemory(Matrix y, string yPath)
        {
            Matrix? k = null, kx = null, s = null, sx = null, sxx = null;
            string trainName, testName;
            if (KernelTrainPath is not null)
            {
                k = ReadSymmetric("kernel-train", KernelTrainPath);
                trainName = Label("kernel-train", KernelTrainPath);
            }
            else
            {
                s = ReadSymmetric("nngp-train", NngpTrainPath!);
                trainName = Label("nngp-train", NngpTrainPath!);
            }
            Matrix train = (k ?? s)!;
            int n = train.Rows;
            if (y.Rows != n)
                throw new CliException($"--y {yPath} has {y.Rows} rows but {trainName} has shape {Shape(train)}: one target row per training point");
            if (KernelTestPath is not null)
            {
                kx = ReadCross("kernel-test", KernelTestPath, n, trainName, train);
                testName = Label("kernel-test", KernelTestPath);
            }
            else testName = Label("nngp-test", NngpTestPath!);
            if (NngpTrainPath is not null && s is null)
            {
                s = ReadSymmetric("nngp-train", NngpTrainPath);
                if (s.Rows != n)
                    throw new CliException($"{Label("nngp-train", NngpTrainPath)} has shape {Shape(s)} but {trainName} has shape {Shape(train)}: both are N x N over the same training points");
            }
            if (NngpTestPath is not null)
            {
                sx = ReadCross("nngp-test", NngpTestPath, n, trainName, train);
                if (kx is not null && sx.Rows != kx.Rows)
                    throw new CliException($"{Label("nngp-test", NngpTestPath)} has shape {Shape(sx)} but {testName} has shape {Shape(kx)}: both are M x N over the same points");
            }
            int m = (kx ?? sx)!.Rows;
            Matrix test = (kx ?? sx)!;
            if (DiagPath is not null) sxx = ReadDiagonal(m, testName, Shape(test));
            if (TestTestPath is not null)
            {
                sxx = ReadSymmetric("nngp-test-test", TestTestPath);
                if (sxx.Rows != m)
                    throw new CliException($"{Label("nngp-test-test", TestTestPath)} has shape {Shape(sxx)} but {testName} has shape {Shape(test)}: expected M x M = ({m}, {m})");
            }
            return new Loaded(new PredictionKernels(k, kx, s, sx, sxx), null, testName);
        }

        private static string Label(string option, string path) => $"--{option} {path}";

        private static string Shape(Matrix a) => $"({a.Rows}, {a.Cols})";

        /// <summary>A square block, symmetric within <see cref="KernelMatrices.DefaultSymmetryTolerance"/>, then symmetrised in place.</summary>
        private static Matrix ReadSymmetric(string option, string path)
        {
            Matrix a = MatrixFile.Read(path, "--" + option);
            if (a.Rows != a.Cols)
                throw new CliException($"{Label(option, path)} has shape {Shape(a)}: a training or test-test kernel must be square");
            (double rel, int i, int j) = KernelMatrices.Asymmetry(a);
            if (rel > KernelMatrices.DefaultSymmetryTolerance)
                throw new CliException(string.Create(CultureInfo.InvariantCulture,
                    $"{Label(option, path)} (shape {Shape(a)}) is not symmetric: entries ({i}, {j}) = {a[i, j]:G6} and ({j}, {i}) = {a[j, i]:G6} differ by {rel:G3} of the largest entry (tolerance {KernelMatrices.DefaultSymmetryTolerance:G1})"));
            KernelMatrices.Symmetrize(a);
            return a;
        }

        /// <summary>A test-vs-train block: one column per training point.</summary>
        private static Matrix ReadCross(string option, string path, int n, string trainName, Matrix train)
        {
            Matrix a = MatrixFile.Read(path, "--" + option);
            if (a.Cols != n)
                throw new CliException($"{Label(option, path)} has shape {Shape(a)} but {trainName} has shape {Shape(train)}: a test-vs-train kernel needs one column per training point ({n})");
            return a;
        }
    }
}
