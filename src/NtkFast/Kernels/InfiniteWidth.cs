using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NtkFast.Numerics;

namespace NtkFast.Kernels;

/// <summary>
/// Infinite-width kernels of a fully connected network (Jacot et al. 2018, Proposition 1 and Theorem 1;
/// docs/design.md §1): the NNGP kernel Σ(L) and the neural tangent kernel Θ(L) between data sets.
/// </summary>
/// <example><code>
/// var spec = new KernelSpec(depth: 4, activation: ActivationRegistry.Parse("relu"), beta: 0.1, weightStd: 1.0);
/// Matrix x = MatrixFile.Read("X.npy");                                  // N×d, rows = points
/// KernelResult k = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Both); // x2 = null: X against itself
/// Matrix theta = k.Ntk!, sigma = k.Nngp!;                               // N×N
/// </code></example>
/// <remarks>
/// <para>Every entry is a fixed chain of floating-point operations of its two points: full, symmetric,
/// rectangular and block computations give bitwise identical values for the same pair of points, and
/// results do not depend on <see cref="NtkParallel.MaxThreads"/>. Σ(x, x') and Σ(x', x) are bitwise equal.</para>
/// <para>For a network with nL outputs the kernels are Σ(L) ⊗ Id and Θ(L) ⊗ Id; these methods return the
/// scalar kernels.</para>
/// <para>Inputs are not checked for NaN/Inf (the CLI's readers reject them); a non-finite input gives
/// non-finite entries in its rows and columns only.</para>
/// </remarks>
public static class InfiniteWidth
{
    /// <summary>
    /// Σ(L) and/or Θ(L) of the points x (N×d) against x2 (M×d), or against themselves when
    /// <paramref name="x2"/> is null (one triangle computed, then mirrored). Returns N×M matrices.
    /// </summary>
    public static KernelResult Compute(KernelSpec spec, Matrix x, Matrix? x2 = null, KernelOutputs outputs = KernelOutputs.Both)
    {
        ArgumentNullException.ThrowIfNull(x);
        return ComputeBlock(spec, x, x2, 0, x.Rows, 0, (x2 ?? x).Rows, outputs);
    }

    /// <summary>Drops the storage disposed <see cref="KernelResult"/>s handed back for reuse (see <see cref="KernelResult.Dispose"/>).</summary>
    public static void ReleasePooledMemory() => Memory.OutputPool.Clear();

    /// <summary>
    /// The block rows [rowStart, rowStart + rowCount) × columns [colStart, colStart + colCount) of the kernels
    /// of <see cref="Compute(KernelSpec, Matrix, Matrix?, KernelOutputs)"/>, computed on its own and bitwise
    /// identical to the same block of the full result (for tiled, out-of-core or distributed assembly; see
    /// <see cref="KernelTiling"/>). Returns rowCount×colCount matrices.
    /// </summary>
    public static KernelResult ComputeBlock(KernelSpec spec, Matrix x, Matrix? x2, int rowStart, int rowCount, int colStart, int colCount,
        KernelOutputs outputs = KernelOutputs.Both)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(x);
        Matrix other = x2 ?? x;
        if (other.Cols != x.Cols)
            throw new ArgumentException($"x2 has {other.Cols} features per point, x has {x.Cols}.", nameof(x2));
        CheckOutputs(outputs);
        CheckRange(rowStart, rowCount, x.Rows, nameof(rowStart), nameof(rowCount));
        CheckRange(colStart, colCount, other.Rows, nameof(colStart), nameof(colCount));
        bool contributions = (outputs & KernelOutputs.LayerContributions) != 0;
        long plane0 = (long)rowCount * colCount;
        Matrix? nngp = (outputs & KernelOutputs.Nngp) != 0 ? new Matrix(rowCount, colCount, Memory.OutputPool.Rent(plane0)) : null;
        Matrix? ntk = (outputs & KernelOutputs.Ntk) != 0 ? new Matrix(rowCount, colCount, Memory.OutputPool.Rent(plane0)) : null;
        double[]? layers = contributions ? new double[checked((long)spec.Depth * rowCount * colCount)] : null;
        double[] workspace = new double[GetWorkspaceLength(spec, rowCount, colCount, contributions)];
        ComputeBlock(spec, x.Data, x.Rows, other.Data, other.Rows, x.Cols, rowStart, rowCount, colStart, colCount,
            nngp is null ? default : nngp.Data, ntk is null ? default : ntk.Data, colCount, workspace, layers);
        Matrix[]? parts = null;
        if (layers is not null)
        {
            parts = new Matrix[spec.Depth];
            int plane = rowCount * colCount;
            for (int l = 0; l < spec.Depth; l++)
                parts[l] = new Matrix(rowCount, colCount, layers.AsSpan(l * plane, plane).ToArray());
        }
        return new KernelResult(nngp, ntk, parts);
    }

    /// <summary>
    /// Workspace (doubles) for <see cref="ComputeBlock(KernelSpec, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, int, int, int, int, int, Span{double}, Span{double}, int, Span{double}, Span{double})"/>
    /// with up to <paramref name="workers"/> threads (0 = <see cref="NtkParallel.MaxThreads"/>): the per-point
    /// layer variances (2·L·(rows + cols)) plus one tile buffer set per thread (~260 KiB, more with
    /// <paramref name="layerContributions"/>). A smaller workspace runs on fewer threads, same results.
    /// </summary>
    public static long GetWorkspaceLength(KernelSpec spec, int rowCount, int colCount, bool layerContributions = false, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegative(colCount);
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        if (workers == 0) workers = NtkParallel.MaxThreads;
        return KernelAssembly.DiagonalLength(spec.Depth, rowCount, colCount) + workers * KernelAssembly.WorkerLength(spec.Depth, layerContributions);
    }

    /// <summary>
    /// Allocation-free form: fills the block rows [rowStart, +rowCount) × columns [colStart, +colCount) of
    /// Σ(L) into <paramref name="nngp"/> and Θ(L) into <paramref name="ntk"/> (row-major, leading dimension
    /// <paramref name="ldOut"/> ≥ colCount; an empty span = not wanted, at least one wanted), and, when
    /// <paramref name="layerContributions"/> is not empty, the L per-layer NTK terms (term l at offset
    /// (l−1)·rowCount·ldOut). x is n×d and x2 m×d, row-major; pass the same span for both to compute a
    /// kernel of one point set (a square block on the diagonal then computes one triangle and mirrors it).
    /// </summary>
    public static void ComputeBlock(KernelSpec spec, ReadOnlySpan<double> x, int n, ReadOnlySpan<double> x2, int m, int d,
        int rowStart, int rowCount, int colStart, int colCount,
        Span<double> nngp, Span<double> ntk, int ldOut, Span<double> workspace, Span<double> layerContributions = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, "d (features per point) must be at least 1.");
        if (x.Length < (long)n * d) throw new ArgumentException($"x has {x.Length} elements, needs n·d = {(long)n * d}.", nameof(x));
        if (x2.Length < (long)m * d) throw new ArgumentException($"x2 has {x2.Length} elements, needs m·d = {(long)m * d}.", nameof(x2));
        CheckRange(rowStart, rowCount, n, nameof(rowStart), nameof(rowCount));
        CheckRange(colStart, colCount, m, nameof(colStart), nameof(colCount));
        if (rowCount == 0 || colCount == 0) return;
        if (nngp.IsEmpty && ntk.IsEmpty && layerContributions.IsEmpty)
            throw new ArgumentException("Nothing to compute: nngp, ntk and layerContributions are all empty.", nameof(ntk));
        if (ldOut < colCount) throw new ArgumentOutOfRangeException(nameof(ldOut), ldOut, $"ldOut must be at least colCount = {colCount}.");
        long need = rowCount == 0 ? 0 : (long)(rowCount - 1) * ldOut + colCount;
        if (!nngp.IsEmpty && nngp.Length < need) throw new ArgumentException($"nngp has {nngp.Length} elements, needs {need}.", nameof(nngp));
        if (!ntk.IsEmpty && ntk.Length < need) throw new ArgumentException($"ntk has {ntk.Length} elements, needs {need}.", nameof(ntk));
        bool contributions = !layerContributions.IsEmpty;
        if (contributions && layerContributions.Length < (long)(spec.Depth - 1) * rowCount * ldOut + need)
            throw new ArgumentException($"layerContributions needs {(long)(spec.Depth - 1) * rowCount * ldOut + need} elements.", nameof(layerContributions));

        long diag = KernelAssembly.DiagonalLength(spec.Depth, rowCount, colCount);
        long perWorker = KernelAssembly.WorkerLength(spec.Depth, contributions);
        long workers = (workspace.Length - diag) / perWorker;
        if (workers < 1)
            throw new ArgumentException($"workspace has {workspace.Length} elements, needs at least {diag + perWorker} (see GetWorkspaceLength).", nameof(workspace));
        bool same = n == m && Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(x2));
        KernelAssembly.Run(spec, x, x2, d, same, rowStart, rowCount, colStart, colCount, nngp, ntk, layerContributions, ldOut,
            workspace, (int)Math.Min(workers, NtkParallel.MaxThreads));
    }

    /// <summary>The diagonals Σ(L)(x_i, x_i) and Θ(L)(x_i, x_i) alone (bitwise the diagonal of the full matrices).</summary>
    public static KernelDiagonal Diagonal(KernelSpec spec, Matrix x)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(x);
        var nngp = new double[x.Rows];
        var ntk = new double[x.Rows];
        double[] workspace = new double[GetDiagonalWorkspaceLength(spec, x.Rows)];
        Diagonal(spec, x.Data, x.Rows, x.Cols, nngp, ntk, workspace);
        return new KernelDiagonal(nngp, ntk);
    }

    /// <summary>Workspace (doubles) for <see cref="Diagonal(KernelSpec, ReadOnlySpan{double}, int, int, Span{double}, Span{double}, Span{double})"/>: 2·L·n.</summary>
    public static long GetDiagonalWorkspaceLength(KernelSpec spec, int n)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return 2L * spec.Depth * n;
    }

    /// <summary>Allocation-free diagonal: Σ(L)(x_i, x_i) into <paramref name="nngp"/>, Θ(L)(x_i, x_i) into <paramref name="ntk"/> (either may be empty).</summary>
    public static void Diagonal(KernelSpec spec, ReadOnlySpan<double> x, int n, int d, Span<double> nngp, Span<double> ntk, Span<double> workspace)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, "d (features per point) must be at least 1.");
        if (x.Length < (long)n * d) throw new ArgumentException($"x has {x.Length} elements, needs n·d = {(long)n * d}.", nameof(x));
        if (!nngp.IsEmpty && nngp.Length < n) throw new ArgumentException($"nngp has {nngp.Length} elements, needs {n}.", nameof(nngp));
        if (!ntk.IsEmpty && ntk.Length < n) throw new ArgumentException($"ntk has {ntk.Length} elements, needs {n}.", nameof(ntk));
        long need = GetDiagonalWorkspaceLength(spec, n);
        if (workspace.Length < need) throw new ArgumentException($"workspace has {workspace.Length} elements, needs {need}.", nameof(workspace));
        int len = spec.Depth * n;
        Span<double> sig = workspace[..len], sdot = workspace.Slice(len, len);
        KernelAssembly.ComputeDiagonals(spec, x, d, 0, n, sig, sdot);
        for (int i = 0; i < n; i++)
        {
            if (!nngp.IsEmpty) nngp[i] = sig[(spec.Depth - 1) * n + i];
            if (!ntk.IsEmpty) ntk[i] = KernelAssembly.NtkFromDiagonal(spec.Depth, spec.TrainableFrom, sig, sdot, n, i);
        }
    }

    private static void CheckOutputs(KernelOutputs outputs)
    {
        if ((outputs & ~(KernelOutputs.Both | KernelOutputs.LayerContributions)) != 0)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "Unknown KernelOutputs flags.");
        if (outputs == KernelOutputs.None) throw new ArgumentException("Nothing to compute: outputs is None.", nameof(outputs));
    }

    private static void CheckRange(int start, int count, int total, string startName, string countName)
    {
        if (start < 0 || start > total) throw new ArgumentOutOfRangeException(startName, start, $"{startName} must be in [0, {total}].");
        if (count < 0 || count > total - start) throw new ArgumentOutOfRangeException(countName, count, $"{countName} must be in [0, {total - start}] ({startName} = {start}, {total} points).");
    }
}
