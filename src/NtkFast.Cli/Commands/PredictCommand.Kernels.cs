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

        /// <summary>The blocks as read, and the option naming the M test rows (for messages).</summary>
        public sealed record Loaded(PredictionKernels Kernels, string TestName);

        /// <summary>Reads and checks every block against the others and against Y (N rows).</summary>
        public Loaded Read(Matrix y, string yPath)
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
            if (DiagPath is not null)
            {
                sxx = MatrixFile.Read(DiagPath, "--nngp-test-diag");
                if (sxx.Cols != 1 || sxx.Rows != m)
                    throw new CliException($"{Label("nngp-test-diag", DiagPath)} has shape {Shape(sxx)} but {testName} has shape {Shape(test)}: expected the {m} prior variances Sigma(x*_i, x*_i), shape ({m},) or ({m}, 1)");
                for (int i = 0; i < m; i++)
                    if (sxx[i, 0] < 0)
                        throw new CliException($"{Label("nngp-test-diag", DiagPath)}: entry {i} is {sxx[i, 0].ToString("G6", CultureInfo.InvariantCulture)}, a variance must be >= 0");
            }
            if (TestTestPath is not null)
            {
                sxx = ReadSymmetric("nngp-test-test", TestTestPath);
                if (sxx.Rows != m)
                    throw new CliException($"{Label("nngp-test-test", TestTestPath)} has shape {Shape(sxx)} but {testName} has shape {Shape(test)}: expected M x M = ({m}, {m})");
            }
            return new Loaded(new PredictionKernels(k, kx, s, sx, sxx), testName);
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
