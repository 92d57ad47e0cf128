using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Architectures;

/// <summary>
/// Infinite-width NNGP Σ and NTK Θ of an <see cref="Architecture"/> (docs/notes/arch.md): the scalar kernels of
/// the network's output between inputs. Dense-only architectures that are today's MLP (one activation, one σw
/// and β, NTK parameterisation) run through <see cref="InfiniteWidth"/> and are bitwise its kernels; everything
/// else runs the pixel-pair recursion (<see cref="PairRecursion"/>; only its diagonal, <see cref="DiagonalRecursion"/>,
/// when the architecture has no pooling), one pair of inputs at a time.
/// </summary>
/// <remarks>Results are bitwise independent of the thread count and of the block: every entry is a function of its
/// pair alone (a symmetric kernel's entry (i, j), i &gt; j, is the pair (j, i)).</remarks>
public static class ArchitectureKernels
{
    /// <summary>Σ and/or Θ of x against x2 (or itself when null): N×M matrices.</summary>
    public static KernelResult Compute(Architecture arch, ImageSet x, ImageSet? x2 = null, KernelOutputs outputs = KernelOutputs.Both)
    {
        ArgumentNullException.ThrowIfNull(x);
        return ComputeBlock(arch, x, x2, 0, x.Count, 0, (x2 ?? x).Count, outputs);
    }

    /// <summary>Rows [rowStart, +rowCount) × columns [colStart, +colCount) of <see cref="Compute"/>, bitwise the same block.</summary>
    public static KernelResult ComputeBlock(Architecture arch, ImageSet x, ImageSet? x2, int rowStart, int rowCount, int colStart, int colCount,
        KernelOutputs outputs = KernelOutputs.Both, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(arch);
        ArgumentNullException.ThrowIfNull(x);
        if ((outputs & ~KernelOutputs.Both) != 0 || outputs == KernelOutputs.None)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "outputs must be Nngp, Ntk or Both.");
        var nngp = (outputs & KernelOutputs.Nngp) != 0 ? new Matrix(rowCount, colCount) : null;
        var ntk = (outputs & KernelOutputs.Ntk) != 0 ? new Matrix(rowCount, colCount) : null;
        var plan = Plan.Create(arch, x, x2);
        plan.Block(rowStart, rowCount, colStart, colCount, nngp is null ? default : nngp.Data, ntk is null ? default : ntk.Data, colCount, workers);
        return new KernelResult(nngp, ntk, null);
    }

    /// <summary>
    /// The MLP <see cref="KernelSpec"/> an architecture is (dense layers alternating with one activation, one σw and β,
    /// NTK parameterisation, on N×d inputs), or null.
    /// </summary>
    public static KernelSpec? AsMlp(Architecture arch, int inputHeight = 1, int inputWidth = 1)
    {
        ArgumentNullException.ThrowIfNull(arch);
        if (arch.Parameterization != Parameterization.Ntk || inputHeight != 1 || inputWidth != 1) return null;
        IReadOnlyList<Layer> l = arch.Layers;
        if (l.Count % 2 == 0) return null;
        Activations.Activation? act = null;
        double? w = null, b = null;
        for (int i = 0; i < l.Count; i++)
        {
            if (i % 2 == 0)
            {
                if (l[i] is not DenseLayer d) return null;
                double dw = d.WeightStd ?? arch.WeightStd, db = d.Beta ?? arch.Beta;
                if ((w is double pw && pw != dw) || (b is double pb && pb != db)) return null;
                w = dw; b = db;
            }
            else
            {
                if (l[i] is not ActivationLayer a) return null;
                if (act is not null && !ReferenceEquals(act, a.Activation) && act.Name != a.Activation.Name) return null;
                act = a.Activation;
            }
        }
        int depth = (l.Count + 1) / 2;
        return new KernelSpec(depth, act ?? Activations.Identity.Instance, b!.Value, w!.Value);
    }

    /// <summary>A compiled architecture bound to its inputs; computes blocks.</summary>
    internal sealed class Plan
    {
        public required Architecture Arch;
        public required ImageSet X, X2;
        public required bool Symmetric;
        public KernelSpec? Mlp;
        public ArchProgram? Program;

        public static Plan Create(Architecture arch, ImageSet x, ImageSet? x2)
        {
            ImageSet other = x2 ?? x;
            if (other.Height != x.Height || other.Width != x.Width || other.Channels != x.Channels)
                throw new ArchitectureException($"x has inputs of shape {x.ShapeString}, x2 of {other.ShapeString}");
            var plan = new Plan { Arch = arch, X = x, X2 = other, Symmetric = x2 is null };
            // Compile first: it validates the architecture against the input shape (one clear message).
            plan.Program = ArchProgram.Compile(arch, x.Height, x.Width, x.Channels);
            if (Array.Exists(plan.Program.Ops, o => o.Kind == OpKind.MaxPool))
                throw new ArchitectureException("maxpool has no closed-form infinite-width kernel (the maximum of correlated Gaussians): estimate its NTK/NNGP with finite networks, `ntk empirical --arch … --monte-carlo K`");
            plan.Mlp = AsMlp(arch, x.Height, x.Width);
            return plan;
        }

        public long WorkerBytes => Mlp is not null ? 0 : PairEngine.BytesFor(Program!);

        public void Block(int r0, int rows, int c0, int cols, Span<double> nngp, Span<double> ntk, int ld, int workers, PairEngine[]? pool = null)
        {
            if (r0 < 0 || rows < 0 || r0 + rows > X.Count) throw new ArgumentOutOfRangeException(nameof(rows), $"rows [{r0}, {r0 + rows}) outside [0, {X.Count}).");
            if (c0 < 0 || cols < 0 || c0 + cols > X2.Count) throw new ArgumentOutOfRangeException(nameof(cols), $"cols [{c0}, {c0 + cols}) outside [0, {X2.Count}).");
            if (rows == 0 || cols == 0) return;
            if (Mlp is not null)
            {
                var xm = new Matrix(X.Count, X.Channels, X.Data);
                var x2m = Symmetric ? xm : new Matrix(X2.Count, X2.Channels, X2.Data);
                double[] ws = new double[InfiniteWidth.GetWorkspaceLength(Mlp, rows, cols, false, workers)];
                InfiniteWidth.ComputeBlock(Mlp, xm.Data, xm.Rows, x2m.Data, x2m.Rows, xm.Cols, r0, rows, c0, cols, nngp, ntk, ld, ws);
                return;
            }
            ArchProgram prog = Program!;
            bool wantT = !ntk.IsEmpty;
            int threads = workers == 0 ? NtkParallel.MaxThreads : Math.Min(workers, NtkParallel.MaxThreads);
            PairEngine[] engines = pool ?? new PairEngine[Math.Max(1, threads)];
            for (int i = 0; i < engines.Length; i++) engines[i] ??= PairEngine.For(prog);

            // Per-input variances before each activation, from the input's pair with itself.
            int vl = Math.Max(1, prog.VarLength);
            int stride = X.Stride;
            double[] varRows = new double[(long)rows * vl], varCols = new double[(long)cols * vl];
            ImageSet xs = X, x2s = X2;
            NtkParallel.ForWithWorker(rows + cols, engines.Length, (worker, k) =>
            {
                bool isRow = k < rows;
                ImageSet set = isRow ? xs : x2s;
                int idx = isRow ? r0 + k : c0 + k - rows;
                ReadOnlySpan<double> xi = set.Data.AsSpan(idx * stride, stride);
                Span<double> v = isRow ? varRows.AsSpan(k * vl, vl) : varCols.AsSpan((k - rows) * vl, vl);
                engines[worker].Run(xi, xi, v, v, record: true, wantT: false);
            });

            // Pairs: a symmetric kernel's entry (i, j) with i > j is computed as the pair (j, i).
            double[] outS = new double[(long)rows * cols], outT = wantT ? new double[(long)rows * cols] : [];
            NtkParallel.ForWithWorker(rows * cols, engines.Length, (worker, e) =>
            {
                int r = e / cols, c = e % cols;
                int i = r0 + r, j = c0 + c;
                bool swap = Symmetric && i > j;
                if (Symmetric && i != j)
                {
                    // Computed once when both orientations are in the block.
                    int rr = j - r0, cc = i - c0;
                    if (swap && rr >= 0 && rr < rows && cc >= 0 && cc < cols) return;
                }
                ReadOnlySpan<double> xa, xb; Span<double> va; ReadOnlySpan<double> vb;
                if (!swap)
                {
                    xa = xs.Data.AsSpan(i * stride, stride); xb = x2s.Data.AsSpan(j * stride, stride);
                    va = varRows.AsSpan(r * vl, vl); vb = varCols.AsSpan(c * vl, vl);
                }
                else
                {
                    xa = xs.Data.AsSpan(j * stride, stride); xb = xs.Data.AsSpan(i * stride, stride);
                    va = varCols.AsSpan(c * vl, vl); vb = varRows.AsSpan(r * vl, vl);
                }
                (double s, double t) = engines[worker].Run(xa, xb, va, vb, record: false, wantT);
                outS[e] = s;
                if (wantT) outT[e] = t;
            });
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    int e = r * cols + c, i = r0 + r, j = c0 + c;
                    if (Symmetric && i > j)
                    {
                        int rr = j - r0, cc = i - c0;
                        if (rr >= 0 && rr < rows && cc >= 0 && cc < cols) e = rr * cols + cc;
                    }
                    if (!nngp.IsEmpty) nngp[r * ld + c] = outS[e];
                    if (wantT) ntk[r * ld + c] = outT[e];
                }
        }
    }
}
