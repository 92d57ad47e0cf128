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
        /// (<see cref="Kernels"/>) or, when a test-sized file (M x N or M x M) is large, the training blocks in memory and the
        /// test rows streamed from memory maps (<see cref="Streamed"/>).
        /// </summary>
        public sealed class Loaded(PredictionKernels? kernels, StreamedKernels? streamed, string testName) : IDisposable
        {
            public PredictionKernels? Kernels { get; } = kernels;
            public StreamedKernels? Streamed { get; } = streamed;
            public string TestName { get; } = testName;
            public int TestPoints => Kernels?.TestPoints ?? Streamed!.TestPoints;
            public void Dispose() => Streamed?.Dispose();
        }

        /// <summary>Rows of an M-row block: a mapped file, or a block read whole (small files beside a mapped one).</summary>
        public interface IRows : IDisposable
        {
            int Rows { get; }
            int Cols { get; }
            Matrix Read(int start, int count);
        }

        /// <summary>
        /// Reused result matrices, one per block height: the streamed predictions use a block's rows before asking for the
        /// next block of the same reader (KernelPrediction's contract), so a reader need not allocate a block per call.
        /// </summary>
        private sealed class RowBuffers(int cols)
        {
            private readonly Dictionary<int, Matrix> _byRows = [];

            public Matrix Get(int rows)
            {
                if (!_byRows.TryGetValue(rows, out Matrix? m)) _byRows[rows] = m = new Matrix(rows, cols);
                return m;
            }
        }

        private sealed class MatrixRows(Matrix a) : IRows
        {
            private readonly RowBuffers _buffers = new(a.Cols);
            public int Rows => a.Rows;
            public int Cols => a.Cols;
            public Matrix Read(int start, int count)
            {
                Matrix r = _buffers.Get(count);
                a.Data.AsSpan(start * a.Cols, count * a.Cols).CopyTo(r.Data);
                return r;
            }
            public void Dispose() { }
        }

        private sealed class MappedRows(MappedNpyMatrix a) : IRows
        {
            private readonly RowBuffers _buffers = new(a.Cols);
            public int Rows => a.Rows;
            public int Cols => a.Cols;
            public Matrix Read(int start, int count)
            {
                Matrix r = _buffers.Get(count);
                a.ReadRows(start, count, r.Data);
                return r;
            }
            public void Dispose() => a.Dispose();
        }

        /// <summary>
        /// A mapped square Σ(X*,X*), checked as <see cref="ReadSymmetric"/> checks a block read whole (finite, square, symmetric
        /// within the tolerance, with the same messages and the same reported entry) in two passes of row blocks, and read back
        /// symmetrised ((a_ij + a_ji)/2, as <see cref="KernelMatrices.Symmetrize"/>) a block of rows at a time.
        /// </summary>
        private sealed class SymmetricMappedRows : IRows
        {
            private readonly MappedNpyMatrix _a;
            private readonly RowBuffers _rows, _cols;

            private SymmetricMappedRows(MappedNpyMatrix a, Matrix diagonal)
            {
                _a = a;
                Diagonal = diagonal;
                _rows = new RowBuffers(a.Cols);
                _cols = new RowBuffers(a.Rows);
            }

            public int Rows => _a.Rows;
            public int Cols => _a.Cols;

            /// <summary>The diagonal as an M x 1 column.</summary>
            public Matrix Diagonal { get; }

            public static SymmetricMappedRows Open(MappedNpyMatrix a, string option, string path, int blockRows)
            {
                int m = a.Rows;
                double scale = 0;
                var buffer = new double[(long)Math.Min(blockRows, m) * a.Cols];
                for (int s0 = 0; s0 < m; s0 += blockRows)
                {
                    int c = Math.Min(blockRows, m - s0);
                    a.ReadRows(s0, c, buffer);
                    foreach (double v in buffer.AsSpan(0, c * a.Cols)) scale = Math.Max(scale, Math.Abs(v));
                }
                if (a.Rows != a.Cols)
                    throw new CliException($"{Label(option, path)} has shape ({a.Rows}, {a.Cols}): a training or test-test kernel must be square");
                double worst = 0, wv = 0, wt = 0;
                int wi = 0, wj = 0;
                var diag = new Matrix(m, 1);
                var cols = new double[(long)m * Math.Min(blockRows, m)];
                for (int s0 = 0; s0 < m; s0 += blockRows)
                {
                    int c = Math.Min(blockRows, m - s0);
                    a.ReadRows(s0, c, buffer);
                    a.ReadColumns(s0, c, cols);
                    for (int i = s0; i < s0 + c; i++)
                    {
                        diag[i, 0] = buffer[(long)(i - s0) * m + i];
                        for (int j = 0; j < i; j++)
                        {
                            double aij = buffer[(long)(i - s0) * m + j], aji = cols[(long)j * c + (i - s0)];
                            double d = Math.Abs(aij - aji);
                            if (d > worst || double.IsNaN(d)) { worst = d; wi = i; wj = j; wv = aij; wt = aji; }
                        }
                    }
                }
                double rel = scale == 0 ? worst : worst / scale;
                if (rel > KernelMatrices.DefaultSymmetryTolerance)
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"{Label(option, path)} (shape ({m}, {m})) is not symmetric: entries ({wi}, {wj}) = {wv:G6} and ({wj}, {wi}) = {wt:G6} differ by {rel:G3} of the largest entry (tolerance {KernelMatrices.DefaultSymmetryTolerance:G1})"));
                return new SymmetricMappedRows(a, diag);
            }

            public Matrix Read(int start, int count)
            {
                int m = _a.Rows;
                Matrix rows = _rows.Get(count);
                _a.ReadRows(start, count, rows.Data);
                double[] cols = _cols.Get(count).Data;
                _a.ReadColumns(start, count, cols);
                for (int i = 0; i < count; i++)
                    for (int j = 0; j < m; j++)
                        if (j != start + i) rows[i, j] = 0.5 * (rows[i, j] + cols[(long)j * count + i]);
                return rows;
            }

            public void Dispose() => _a.Dispose();
        }

        /// <summary>The training blocks, and the test rows read a block at a time (mapped files, or rows of an in-memory block).</summary>
        public sealed class StreamedKernels(Matrix? ntkTrain, Matrix? nngpTrain, int testPoints, IRows? ntkTest,
            IRows? nngpTest, Matrix? diagonal, IRows? testTest) : IDisposable
        {
            public Matrix? NtkTrain { get; } = ntkTrain;
            public Matrix? NngpTrain { get; } = nngpTrain;
            public int TestPoints { get; } = testPoints;

            /// <summary>Σ(x*_i, x*_i) when a Σ(X*,X*) block (diagonal or full) was given.</summary>
            public Matrix? Diagonal { get; } = diagonal;

            /// <summary>Rows of the symmetrised full Σ(X*,X*), when given.</summary>
            public IRows? TestTest { get; } = testTest;

            /// <summary>Rows [start, start + count) of Θ(X*,X), and with the spread of Σ(X*,X) and of the prior variances.</summary>
            public TestRowBlock Read(int start, int count)
            {
                Matrix k = ntkTest!.Read(start, count);
                Matrix? s = nngpTest?.Read(start, count);
                Matrix? d = Diagonal is null ? null : Rows(Diagonal, start, count);
                return new TestRowBlock(k, s, d);
            }

            /// <summary>Rows of Σ(X*,X).</summary>
            public Matrix ReadNngpTest(int start, int count) => nngpTest!.Read(start, count);

            /// <summary>Rows of the prior variances.</summary>
            public Matrix ReadDiagonal(int start, int count) => Rows(Diagonal!, start, count);

            private static Matrix Rows(Matrix a, int start, int count) =>
                new(count, a.Cols, a.Data.AsSpan(start * a.Cols, count * a.Cols).ToArray());

            public void Dispose()
            {
                ntkTest?.Dispose();
                nngpTest?.Dispose();
                TestTest?.Dispose();
            }
        }

        /// <summary>A plain float64 .npy file large enough to map (NTKFAST_MAP_THRESHOLD), opened mapped; else null.</summary>
        private static MappedNpyMatrix? TryMap(string option, string? path) =>
            path is not null && MappedNpyMatrix.ShouldMap(path) ? MappedNpyMatrix.TryOpen(path, "--" + option) : null;

        /// <summary>
        /// Reads and checks every block against the others and against Y (N rows). A large --kernel-test, --nngp-test or
        /// --nngp-test-test is mapped, not read, and the prediction streams its rows (the other blocks are read whole).
        /// <paramref name="blockRows"/> is the row block of the two checking passes over a mapped Σ(X*,X*).
        /// </summary>
        public Loaded Read(Matrix y, string yPath, int blockRows)
        {
            MappedNpyMatrix? kx = null, sx = null, sxx = null;
            try
            {
                kx = TryMap("kernel-test", KernelTestPath);
                sx = TryMap("nngp-test", NngpTestPath);
                sxx = TryMap("nngp-test-test", TestTestPath);
                if (kx is null && sx is null && sxx is null) return ReadInMemory(y, yPath);
                return ReadStreamed(y, yPath, kx, sx, sxx, blockRows);
            }
            catch
            {
                kx?.Dispose();
                sx?.Dispose();
                sxx?.Dispose();
                throw;
            }
        }

        /// <summary>As <see cref="ReadInMemory"/>, in the same order with the same messages, keeping the mapped files mapped.</summary>
        private Loaded ReadStreamed(Matrix y, string yPath, MappedNpyMatrix? kxMap, MappedNpyMatrix? sxMap, MappedNpyMatrix? sxxMap, int blockRows)
        {
            Matrix? k = null, s = null;
            string trainName;
            Matrix train = ReadTrain(y, yPath, out k, out s, out trainName);
            int n = train.Rows;
            IRows? kx = null, sx = null, sxx = null;
            try
            {
                string testName;
                if (KernelTestPath is not null)
                {
                    kx = Cross("kernel-test", KernelTestPath, kxMap, n, trainName, train);
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
                    sx = Cross("nngp-test", NngpTestPath, sxMap, n, trainName, train);
                    if (kx is not null && sx.Rows != kx.Rows)
                        throw new CliException($"{Label("nngp-test", NngpTestPath)} has shape ({sx.Rows}, {sx.Cols}) but {testName} has shape ({kx.Rows}, {kx.Cols}): both are M x N over the same points");
                }
                int m = (kx ?? sx)!.Rows;
                string testShape = $"({m}, {n})";
                Matrix? diag = null;
                if (DiagPath is not null) diag = ReadDiagonal(m, testName, testShape);
                if (TestTestPath is not null)
                {
                    if (sxxMap is not null)
                    {
                        var rows = SymmetricMappedRows.Open(sxxMap, "nngp-test-test", TestTestPath, blockRows);
                        sxx = rows;
                        diag = rows.Diagonal;
                    }
                    else
                    {
                        Matrix a = ReadSymmetric("nngp-test-test", TestTestPath);
                        sxx = new MatrixRows(a);
                        diag = new Matrix(a.Rows, 1);
                        for (int i = 0; i < a.Rows; i++) diag[i, 0] = a[i, i];
                    }
                    if (sxx.Rows != m)
                        throw new CliException($"{Label("nngp-test-test", TestTestPath)} has shape ({sxx.Rows}, {sxx.Cols}) but {testName} has shape {testShape}: expected M x M = ({m}, {m})");
                }
                return new Loaded(null, new StreamedKernels(k, s, m, kx, sx, diag, sxx), testName);
            }
            catch
            {
                // The maps not yet wrapped are disposed by Read; the wrapped ones here (disposing twice is harmless).
                kx?.Dispose();
                sx?.Dispose();
                sxx?.Dispose();
                throw;
            }
        }

        /// <summary>A test-vs-train block, mapped (checked for one column per training point) or read whole (<see cref="ReadCross"/>).</summary>
        private static IRows Cross(string option, string path, MappedNpyMatrix? mapped, int n, string trainName, Matrix train)
        {
            if (mapped is null) return new MatrixRows(ReadCross(option, path, n, trainName, train));
            if (mapped.Cols != n)
                throw new CliException($"{Label(option, path)} has shape ({mapped.Rows}, {mapped.Cols}) but {trainName} has shape {Shape(train)}: a test-vs-train kernel needs one column per training point ({n})");
            return new MappedRows(mapped);
        }

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

        /// <summary>The training kernel (--kernel-train, else --nngp-train), checked against the targets' rows.</summary>
        private Matrix ReadTrain(Matrix y, string yPath, out Matrix? k, out Matrix? s, out string trainName)
        {
            k = s = null;
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
            if (y.Rows != train.Rows)
                throw new CliException($"--y {yPath} has {y.Rows} rows but {trainName} has shape {Shape(train)}: one target row per training point");
            return train;
        }

        private Loaded ReadInMemory(Matrix y, string yPath)
        {
            Matrix? k = null, kx = null, s = null, sx = null, sxx = null;
            string trainName, testName;
            Matrix train = ReadTrain(y, yPath, out k, out s, out trainName);
            int n = train.Rows;
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
