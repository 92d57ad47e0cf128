using NtkFast.Numerics;

namespace NtkFast.Dynamics;

public static partial class KernelPrediction
{
    /// <summary>
    /// The NTK ensemble with its full M×M covariance (<see cref="Ntk(PredictionKernels, Matrix, ReadOnlySpan{double}, Regularization, bool, bool, IProgress{double}?)"/>
    /// with <c>covariance: true</c>), the test blocks read <paramref name="blockRows"/> rows at a time: <paramref name="readBlock"/>
    /// gives Θ(X*_b,X) and Σ(X*_b,X) (its diagonal is not used), <paramref name="readTestTestRows"/> (start, count) gives rows of the
    /// symmetric Σ(X*,X*) (count×M). The M×N transfer matrix A = Θ(X*,X)·Θ⁻¹·(I − e^{−tΘ/N}) and the rows of Σ(X*,X) are spilled a
    /// block at a time to temporary files in <paramref name="scratchDirectory"/> (default the system's; unlinked once open) and read
    /// back a block at a time, so memory is the N×N blocks and their factor, a few count×N blocks and the M×M result — not M×N.
    /// Each matrix a reader returns is used before the reader is called again (a reader may reuse it).
    /// Every entry is the same chain of operations as in memory (each GEMM entry is one fixed FMA chain wherever it sits), so the
    /// mean, variances and covariance are bit for bit the in-memory overload's. <paramref name="progress"/> receives cumulative
    /// work in kernel entries: per time M·N (the transfer rows) plus M·M·N/N = M·M per output row (the products).
    /// With <paramref name="covarianceRows"/> the covariance is not held: it receives each time's rows a block at a time, in order
    /// (time by time, rows ascending), and the results' <see cref="TimePrediction.Covariance"/> is null; memory is then a block
    /// of rows (count×M) instead of M×M, the values the same bit for bit.
    /// <paramref name="factorProgress"/> receives the fraction done (0…1) of the eigendecomposition of Θ + ρI, the O(N³) step taken
    /// while the first block is processed, before any entries are reported (<see cref="KernelDynamics.DecompositionProgress"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A block has the wrong shape or a non-finite entry.</exception>
    /// <exception cref="SingularKernelException">t = ∞ and Θ + ρI is numerically singular.</exception>
    public static TimePrediction[] NtkCovariance(Matrix ntkTrain, Matrix nngpTrain, int testPoints, Func<int, int, TestRowBlock> readBlock,
        Func<int, int, Matrix> readTestTestRows, Matrix targets, ReadOnlySpan<double> times, Regularization regularization = default,
        bool train = false, int blockRows = DefaultBlockRows, IProgress<long>? progress = null, string? scratchDirectory = null,
        CovarianceRowsSink? covarianceRows = null, IProgress<double>? factorProgress = null)
    {
        ArgumentNullException.ThrowIfNull(ntkTrain);
        ArgumentNullException.ThrowIfNull(nngpTrain);
        ArgumentNullException.ThrowIfNull(readBlock);
        ArgumentNullException.ThrowIfNull(readTestTestRows);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(testPoints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockRows);
        if (times.Length == 0) throw new ArgumentException("give at least one time.", nameof(times));
        int n = ntkTrain.Rows, m = testPoints;
        KernelDynamics? dyn = null;
        var result = new TimePrediction[times.Length];
        using var spill = new BlockSpill(scratchDirectory);
        using var sigmaSpill = new BlockSpill(scratchDirectory);
        long done = 0;
        // Buffers reused across blocks (a full block and the last, shorter one), so the passes do not leave a block of
        // garbage per pair of blocks for the collector.
        var rowBuffers = new BlockBuffers();
        for (int q = 0; q < times.Length; q++)
        {
            var mean = new Matrix(m, targets.Cols);
            // Pass 1: A's rows and Σ(X*,X)'s rows spilled, and the mean A·Y, block by block.
            for (int start = 0; start < m; start += blockRows)
            {
                int count = Math.Min(blockRows, m - start);
                TestRowBlock b = readBlock(start, count);
                if (dyn is null)
                {
                    _ = new PredictionKernels(ntkTrain, b.NtkTest, nngpTrain, b.NngpTest);
                    dyn = new KernelDynamics(ntkTrain, targets, regularization) { DecompositionProgress = factorProgress };
                }
                CheckBlock(b.NtkTest, count, n, "the Θ(X*,X) block");
                CheckBlock(b.NngpTest!, count, n, "the Σ(X*,X) block");
                Matrix a = dyn.TransferMatrix(times[q], b.NtkTest);
                MatrixProducts.Multiply(a, targets).Data.CopyTo(mean.Data, (long)start * targets.Cols);
                spill.Write((long)start * n, a.Data);
                if (q == 0) sigmaSpill.Write((long)start * n, b.NngpTest!.Data);
                done += (long)count * n;
                progress?.Report(done);
            }
            // Pass 2: cov[I, J] = Σ**[I, J] + (A_I·Σ)·A_Jᵀ − A_I·Σ(X*_J,X)ᵀ − (A_J·Σ(X*_I,X)ᵀ)ᵀ, as Ensemble does for the whole matrix
            // (the same GEMM calls as MatrixProducts.MultiplyTransposeB, on blocks).
            var target = new CovarianceRowsTarget(m, covarianceRows);
            var variance = new double[m];
            int bmax = Math.Min(blockRows, m);
            var asa = new double[(long)bmax * bmax];
            var crossIj = new double[(long)bmax * bmax];
            var crossJi = new double[(long)bmax * bmax];
            for (int i0 = 0; i0 < m; i0 += blockRows)
            {
                int bi = Math.Min(blockRows, m - i0);
                Matrix ai = new(bi, n), si = new(bi, n);
                spill.Read((long)i0 * n, ai.Data);
                sigmaSpill.Read((long)i0 * n, si.Data);
                Matrix aSigma = MatrixProducts.Multiply(ai, nngpTrain);
                Matrix sxx = readTestTestRows(i0, bi);
                CheckBlock(sxx, bi, m, "the Σ(X*,X*) rows");
                (Matrix cov, int c0) = target.Rows(i0, bi);
                for (int j0 = 0; j0 < m; j0 += blockRows)
                {
                    int bj = Math.Min(blockRows, m - j0);
                    Matrix aj = ai, sj = si;
                    if (j0 != i0)
                    {
                        (aj, sj) = rowBuffers.Get(bj, n);
                        spill.Read((long)j0 * n, aj.Data);
                        sigmaSpill.Read((long)j0 * n, sj.Data);
                    }
                    Gemm.Multiply(Op.None, Op.Transpose, bi, bj, n, 1.0, aSigma.Data, n, aj.Data, n, 0.0, asa, bj);     // (A_I Σ) A_Jᵀ
                    Gemm.Multiply(Op.None, Op.Transpose, bi, bj, n, 1.0, ai.Data, n, sj.Data, n, 0.0, crossIj, bj);     // cross[i, j]
                    Gemm.Multiply(Op.None, Op.Transpose, bj, bi, n, 1.0, aj.Data, n, si.Data, n, 0.0, crossJi, bi);     // cross[j, i]
                    for (int i = 0; i < bi; i++)
                        for (int j = 0; j < bj; j++)
                            cov[c0 + i, j0 + j] = sxx[i, j0 + j] + asa[i * bj + j] - crossIj[i * bj + j] - crossJi[j * bi + i];
                }
                for (int i = 0; i < bi; i++) variance[i0 + i] = Math.Max(0, cov[c0 + i, i0 + i]);
                target.Done(q, i0, cov);
                done += (long)bi * m;
                progress?.Report(done);
            }
            result[q] = new TimePrediction(times[q], mean, null, variance, target.Full);
        }
        if (train)
        {
            Matrix[] trainPred = dyn!.PredictTrain(times);
            for (int q = 0; q < times.Length; q++)
                result[q] = new TimePrediction(times[q], result[q].Mean, trainPred[q], result[q].Variance, result[q].Covariance);
        }
        return result;
    }

    /// <summary>Total work <see cref="NtkCovariance"/> reports: per time M·N + M·M.</summary>
    public static long NtkCovarianceWork(int testPoints, int trainPoints, int times) =>
        times * ((long)testPoints * trainPoints + (long)testPoints * testPoints);

    /// <summary>
    /// The NNGP posterior of <see cref="Nngp(PredictionKernels, Matrix, Regularization, bool, bool, IProgress{double}?)"/> with the test blocks read
    /// <paramref name="blockRows"/> rows at a time: <paramref name="readNngpTest"/> (start, count) gives Σ(X*_b,X) (count×N);
    /// <paramref name="readDiagonal"/> the prior variances (count×1) when only variances are wanted, or null; for
    /// <paramref name="covariance"/>, <paramref name="readTestTestRows"/> gives rows of the symmetric Σ(X*,X*) (count×M) and
    /// W = L⁻¹·Σ(X,X*) (N×M) is spilled a block of columns at a time to a temporary file in <paramref name="scratchDirectory"/>
    /// (unlinked once open). Each matrix a reader returns is used before the reader is called again (a reader may reuse it).
    /// Memory: the N×N block and its factor, a few N×count blocks, and the M×M result when asked for. Each column of W and
    /// each GEMM entry is the same chain of operations whatever the block, so the results are the in-memory overload's bit for bit.
    /// <paramref name="progress"/>: cumulative entries, M·N for the solves and M·M for the covariance rows.
    /// With <paramref name="covarianceRows"/> the covariance is handed over a block of rows at a time (ascending) instead of held
    /// (the result's <see cref="TimePrediction.Covariance"/> is null): memory count×M instead of M×M, the same values.
    /// <paramref name="factorProgress"/> receives the fraction done (0…1) of the Cholesky factorisation of Σ + ρI, the O(N³) step
    /// taken after the first block is read, before any entries are reported.
    /// </summary>
    /// <exception cref="ArgumentException">A block has the wrong shape or a non-finite entry.</exception>
    /// <exception cref="SingularKernelException">Σ + ρI is numerically singular.</exception>
    public static TimePrediction Nngp(Matrix nngpTrain, int testPoints, Func<int, int, Matrix> readNngpTest,
        Func<int, int, Matrix>? readDiagonal, Func<int, int, Matrix>? readTestTestRows, Matrix targets,
        Regularization regularization = default, bool train = false, bool covariance = false,
        int blockRows = DefaultBlockRows, IProgress<long>? progress = null, string? scratchDirectory = null,
        CovarianceRowsSink? covarianceRows = null, IProgress<double>? factorProgress = null)
    {
        ArgumentNullException.ThrowIfNull(nngpTrain);
        ArgumentNullException.ThrowIfNull(readNngpTest);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(testPoints);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockRows);
        if (covariance && readTestTestRows is null)
            throw new ArgumentException("the full covariance needs the rows of Σ(X*,X*).", nameof(readTestTestRows));
        if (covarianceRows is not null && !covariance)
            throw new ArgumentException("rows of the covariance need covariance: true.", nameof(covarianceRows));
        int n = nngpTrain.Rows, m = testPoints, k = targets.Cols;
        bool spread = covariance || readDiagonal is not null;
        Matrix? l = null, z = null;
        var mean = new Matrix(m, k);
        var variance = new double[m];
        using BlockSpill? spill = covariance ? new BlockSpill(scratchDirectory) : null;
        long done = 0;
        for (int start = 0; start < m; start += blockRows)
        {
            int count = Math.Min(blockRows, m - start);
            Matrix sx = readNngpTest(start, count);
            Matrix? d = !covariance && readDiagonal is not null ? readDiagonal(start, count) : null;
            if (l is null)
            {
                _ = new PredictionKernels(null, null, nngpTrain, sx, d);
                DynamicsChecks.Finite(targets, nameof(targets));
                if (targets.Rows != n) throw new ArgumentException($"targets have {targets.Rows} rows but the kernel has {n} points.", nameof(targets));
                (l, z) = NngpPosterior.Factor(nngpTrain, targets, regularization, factorProgress);
            }
            CheckBlock(sx, count, n, "the Σ(X*,X) block");
            if (d is not null) CheckBlock(d, count, 1, "the Σ(X*,X*) diagonal block");
            Matrix w = NngpPosterior.Solve(l, sx);                               // N×count
            MatrixProducts.MultiplyTransposeA(w, z!).Data.CopyTo(mean.Data, (long)start * k);
            if (covariance) spill!.Write((long)start * n, w.Data);
            else if (d is not null && m == 1)
            {
                // In memory a 1×1 Σ(X*,X*) is the full block (NngpPosterior takes the covariance formula): the same here.
                variance[0] = Math.Max(0, d[0, 0] - MatrixProducts.MultiplyTransposeA(w, w)[0, 0]);
            }
            else if (d is not null)
                for (int i = 0; i < count; i++)
                {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += w[j, i] * w[j, i];
                    variance[start + i] = Math.Max(0, d[i, 0] - s);
                }
            done += (long)count * n;
            progress?.Report(done);
        }
        Matrix? fullCov = null;
        if (covariance)
        {
            var target = new CovarianceRowsTarget(m, covarianceRows);
            var buffers = new BlockBuffers();
            int bmax = Math.Min(blockRows, m);
            var wtw = new double[(long)bmax * bmax];
            for (int i0 = 0; i0 < m; i0 += blockRows)
            {
                int bi = Math.Min(blockRows, m - i0);
                var wi = new Matrix(n, bi);
                spill!.Read((long)i0 * n, wi.Data);
                Matrix sxx = readTestTestRows!(i0, bi);
                CheckBlock(sxx, bi, m, "the Σ(X*,X*) rows");
                (Matrix cov, int c0) = target.Rows(i0, bi);
                for (int j0 = 0; j0 < m; j0 += blockRows)
                {
                    int bj = Math.Min(blockRows, m - j0);
                    Matrix wj = wi;
                    if (j0 != i0) { wj = buffers.Get(bj, n).A; spill.Read((long)j0 * n, wj.Data); }
                    // W_Iᵀ·W_J: the GEMM call of MatrixProducts.MultiplyTransposeA on the blocks.
                    Gemm.Multiply(Op.Transpose, Op.None, bi, bj, n, 1.0, wi.Data, bi, wj.Data, bj, 0.0, wtw, bj);
                    for (int i = 0; i < bi; i++)
                        for (int j = 0; j < bj; j++) cov[c0 + i, j0 + j] = sxx[i, j0 + j] - wtw[i * bj + j];
                }
                for (int i = 0; i < bi; i++) variance[i0 + i] = Math.Max(0, cov[c0 + i, i0 + i]);
                target.Done(0, i0, cov);
                done += (long)bi * m;
                progress?.Report(done);
            }
            fullCov = target.Full;
        }
        // The training points' mean reuses the factor (the same arithmetic as factoring again), unless no test block came.
        Matrix? trainMean = !train ? null
            : l is not null ? NngpPosterior.PredictFromFactor(l, z!, nngpTrain, Diagonal(nngpTrain)).Mean
            : NngpPosterior.Predict(nngpTrain, nngpTrain, Diagonal(nngpTrain), targets, regularization).Mean;
        return new TimePrediction(double.PositiveInfinity, mean, trainMean, spread ? variance : null, fullCov);
    }

    /// <summary>Total work the streamed <see cref="Nngp(Matrix, int, Func{int, int, Matrix}, Func{int, int, Matrix}?, Func{int, int, Matrix}?, Matrix, Regularization, bool, bool, int, IProgress{long}?, string?, CovarianceRowsSink?, IProgress{double}?)"/> reports.</summary>
    public static long NngpWork(int testPoints, int trainPoints, bool covariance) =>
        (long)testPoints * trainPoints + (covariance ? (long)testPoints * testPoints : 0);

    /// <summary>
    /// Where a covariance pass puts its rows: the whole M×M matrix (no sink; rows at their own index), or one reused
    /// count×M block per block size handed to the sink when complete (rows from 0).
    /// </summary>
    private sealed class CovarianceRowsTarget(int m, CovarianceRowsSink? sink)
    {
        private readonly Dictionary<int, Matrix> _blocks = [];

        /// <summary>The whole covariance (null with a sink).</summary>
        public Matrix? Full { get; } = sink is null ? new Matrix(m, m) : null;

        /// <summary>The matrix rows i0..i0+count go to, and the index of row i0 in it.</summary>
        public (Matrix Rows, int Offset) Rows(int i0, int count)
        {
            if (Full is not null) return (Full, i0);
            if (!_blocks.TryGetValue(count, out Matrix? b)) _blocks[count] = b = new Matrix(count, m);
            return (b, 0);
        }

        public void Done(int timeIndex, int i0, Matrix rows) => sink?.Invoke(timeIndex, i0, rows);
    }

    /// <summary>Two reusable count×N matrices per block size (the full block and the last, shorter one).</summary>
    private sealed class BlockBuffers
    {
        private readonly Dictionary<int, (Matrix A, Matrix B)> _byRows = [];

        public (Matrix A, Matrix B) Get(int rows, int cols)
        {
            if (!_byRows.TryGetValue(rows, out (Matrix A, Matrix B) m))
                _byRows[rows] = m = (new Matrix(rows, cols), new Matrix(rows, cols));
            return m;
        }
    }

    /// <summary>
    /// Blocks of doubles spilled to a temporary file (unlinked once open, or deleted on close on Windows) and read back by offset: the M×N intermediates of the
    /// covariance passes live in the page cache, which the kernel can drop, not in the process's memory.
    /// </summary>
    private sealed class BlockSpill : IDisposable
    {
        private readonly FileStream _file;

        public BlockSpill(string? directory)
        {
            string dir = string.IsNullOrEmpty(directory) ? Path.GetTempPath() : directory;
            string path = Path.Combine(dir, $".ntk-spill-{Guid.NewGuid():N}.tmp");
            // Windows deletes on close; elsewhere the name is unlinked at once, so not even a killed process leaves the file behind.
            FileOptions options = OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose | FileOptions.RandomAccess : FileOptions.RandomAccess;
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1, options);
            if (!OperatingSystem.IsWindows())
            {
                try { File.Delete(path); }
                catch
                {
                    _file.Dispose();
                    throw;
                }
            }
        }

        public void Write(long offset, ReadOnlySpan<double> values) =>
            RandomAccess.Write(_file.SafeFileHandle, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values), offset * sizeof(double));

        public void Read(long offset, Span<double> values)
        {
            Span<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values);
            long pos = offset * sizeof(double);
            while (bytes.Length > 0)
            {
                int r = RandomAccess.Read(_file.SafeFileHandle, bytes, pos);
                if (r <= 0) throw new IOException("the spill file is shorter than written");
                bytes = bytes[r..];
                pos += r;
            }
        }

        public void Dispose() => _file.Dispose();
    }
}
