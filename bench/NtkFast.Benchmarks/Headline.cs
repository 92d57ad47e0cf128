using System.Diagnostics;
using System.Globalization;
using NtkFast.Activations;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks;

/// <summary>
/// The README's headline figures in one process (`-- headline`): best of several runs per workload,
/// Stopwatch-timed after a warm-up. BenchmarkDotNet classes give the detailed, statistically careful
/// numbers per hot path; this gives every headline ratio from one command in a couple of minutes, so
/// all figures come from one quiet window of the shared machine.
/// </summary>
internal static class Headline
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run()
    {
        Console.WriteLine($"threads: {NtkParallel.MaxThreads}, Vector512: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        Console.WriteLine("| workload | best time | rate |");
        Console.WriteLine("|---|---|---|");
        foreach (int n in new[] { 1024, 2048 })
        {
            Gemm64(n); Gemm32(n);
        }
        GramVsGemm(4096, 784);
        Dual("relu"); Dual("erf");
        PreparedDualRate("tanh"); PreparedDualRate("gelu"); PreparedDualRate("tanh", prepareOutside: true);
        PreparedDualTiles("tanh", 1 << 20); PreparedDualTiles("tanh", 1 << 23);
        Kernel("tanh", 2048, 784, 4);
        Kernel("relu", 4096, 784, 4);
        Kernel("relu", 4096, 784, 4, dispose: true);
        Kernel("erf", 4096, 784, 4);
        Kernel("relu", 8192, 16, 8);
        TrainStep<float>(); TrainStep<double>();
        Empirical<float>(256); Empirical<double>(256); Empirical<float>(2048); Empirical<double>(2048);
        Cholesky(2048); Eigen(2048);
    }

    private static void Empirical<T>(int n) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int[] widths = [784, 512, 512, 512, 1];
        var arch = new MlpArchitecture(widths, ActivationRegistry.Parse("relu"), beta: 0.1);
        var net = Mlp<T>.Initialize(arch, 1);
        var ws = new NtkFast.Empirical.EmpiricalWorkspace<T>(arch, n);
        T[] x = Array.ConvertAll(Random(n * 784, 12), T.CreateTruncating);
        double[] ntk = new double[n * n], nngp = new double[n * n];
        double s = Best(7, () => NtkFast.Empirical.EmpiricalKernel.ComputeStructured<T>(net, x, [], NtkFast.Empirical.EmpiricalOutputs.Trace, 0, ws, ntk, nngp));
        Row($"empirical NTK + NNGP, relu 784-512-512-512-1, N={n}, {typeof(T).Name}", s, "");
    }

    internal static double Best(int reps, Action a)
    {
        a();
        double best = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            a();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return best;
    }

    private static void Row(string what, double s, string rate) =>
        Console.WriteLine(string.Create(Inv, $"| {what} | {s * 1e3:F1} ms | {rate} |"));

    internal static double[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.NextDouble() * 2 - 1;
        return a;
    }

    private static void Gemm64(int n)
    {
        double[] a = Random(n * n, 1), b = Random(n * n, 2), c = new double[n * n];
        double s = Best(5, () => Gemm.Multiply(Op.None, Op.None, n, n, n, 1.0, a, n, b, n, 0.0, c, n));
        Row($"dgemm {n}", s, string.Create(Inv, $"{2.0 * n * n * n / s / 1e9:F1} GFLOP/s"));
    }

    private static void Gemm32(int n)
    {
        float[] a = Array.ConvertAll(Random(n * n, 1), v => (float)v), b = Array.ConvertAll(Random(n * n, 2), v => (float)v), c = new float[n * n];
        double s = Best(5, () => Gemm.Multiply(Op.None, Op.None, n, n, n, 1f, a, n, b, n, 0f, c, n));
        Row($"sgemm {n}", s, string.Create(Inv, $"{2.0 * n * n * n / s / 1e9:F1} GFLOP/s"));
    }

    private static void GramVsGemm(int n, int d)
    {
        double[] x = Random(n * d, 3), c = new double[n * n];
        double g = Best(3, () => Gram.Syrk(n, d, 1.0, x, d, 0.0, c, n));
        double f = Best(3, () => Gemm.Multiply(Op.None, Op.Transpose, n, n, d, 1.0, x, d, x, d, 0.0, c, n));
        Row($"Gram X·Xᵀ N={n} d={d} (Syrk)", g, string.Create(Inv, $"{f / g:F2}× faster than the full GEMM ({f * 1e3:F0} ms)"));
    }

    private static void Dual(string name)
    {
        Activation act = ActivationRegistry.Parse(name);
        const int n = 1 << 20;
        var r = new Random(5);
        double[] b = new double[n], c = new double[n], e1 = new double[n], e2 = new double[n];
        for (int j = 0; j < n; j++) { c[j] = 0.2 + 2 * r.NextDouble(); b[j] = (2 * r.NextDouble() - 1) * Math.Sqrt(1.3 * c[j]); }
        const int chunk = 4096;
        double s = Best(5, () => NtkParallel.For(n / chunk, i =>
            act.Dual(1.3, b.AsSpan(i * chunk, chunk), c.AsSpan(i * chunk, chunk), e1.AsSpan(i * chunk, chunk), e2.AsSpan(i * chunk, chunk))));
        Row($"{name} dual kernel, 2^20 triples", s, string.Create(Inv, $"{n / s / 1e6:F0} M triples/s"));
    }

    /// <summary>
    /// A numeric (quadrature) dual through <see cref="Activation.PrepareDual"/>, the shape of <see cref="Dual"/>
    /// (a = 1.3, c ∈ [0.2, 2.2], b uniform in ±√(ac)) but with 4096 distinct variances per 2^20 triples, as in a
    /// kernel (rows and columns index the per-point variances); the time includes preparing the 4096
    /// coefficient records (a fresh activation instance each run, so nothing is cached).
    /// </summary>
    private static Activation MakeNumeric(string name) => name == "tanh" ? new Tanh() : new Gelu();

    /// <remarks><paramref name="prepareOutside"/>: the records are prepared once before timing (evaluation only).</remarks>
    private static void PreparedDualRate(string name, bool prepareOutside = false) // "tanh" or "gelu"
    {
        const int n = 1 << 20, distinct = 4096, chunk = 4096;
        var r = new Random(5);
        double[] v = new double[distinct];
        v[0] = 1.3;
        for (int i = 1; i < distinct; i++) v[i] = 0.2 + 2 * r.NextDouble();
        int[] cols = new int[n];
        double[] b = new double[n], c = new double[n], e1 = new double[n], e2 = new double[n];
        for (int j = 0; j < n; j++) { cols[j] = 1 + r.Next(distinct - 1); c[j] = v[cols[j]]; b[j] = (2 * r.NextDouble() - 1) * Math.Sqrt(1.3 * c[j]); }
        PreparedDual? once = prepareOutside ? MakeNumeric(name).PrepareDual(v) : null;
        double s = Best(3, () =>
        {
            PreparedDual p = once ?? MakeNumeric(name).PrepareDual(v);
            NtkParallel.For(n / chunk, i => p.Row(0, cols.AsSpan(i * chunk, chunk), b.AsSpan(i * chunk, chunk), c.AsSpan(i * chunk, chunk),
                e1.AsSpan(i * chunk, chunk), e2.AsSpan(i * chunk, chunk)));
        });
        string what = prepareOutside ? "evaluation only, 4096 records prepared before timing" : "prepared: 4096 variances incl.";
        Row($"{name} dual kernel (series, {what}), 2^20 triples", s, string.Create(Inv, $"{n / s / 1e6:F1} M triples/s"));
    }

    /// <summary>
    /// As <see cref="PreparedDualRate"/> but with the kernel engine's access pattern: tiles of 64 rows × 128 columns
    /// over 4096 points (each row's a and c from the same 4096 variances, b uniform in ±√(ac)), so a tile's column
    /// coefficients stay in cache; preparation of the 4096 records included. 2^23 triples is one layer of an
    /// N = 4096 kernel (≈ N²/2 entries per 4096 variances), the ratio the kernel engine sees.
    /// </summary>
    private static void PreparedDualTiles(string name, int triples) // "tanh" or "gelu"
    {
        const int distinct = 4096, rows = 64, cols = 128;
        int tiles = triples / (rows * cols);
        var r = new Random(6);
        double[] v = new double[distinct];
        for (int i = 0; i < distinct; i++) v[i] = 0.2 + 2 * r.NextDouble();
        int[] rowIdx = new int[tiles * rows], colIdx = new int[tiles * cols];
        double[] b = new double[tiles * rows * cols], c = new double[tiles * rows * cols];
        for (int t = 0; t < tiles; t++)
        {
            for (int q = 0; q < cols; q++) colIdx[t * cols + q] = (t * cols + q) % distinct;
            for (int i = 0; i < rows; i++)
            {
                int ri = rowIdx[t * rows + i] = r.Next(distinct);
                for (int q = 0; q < cols; q++)
                {
                    int e = (t * rows + i) * cols + q;
                    c[e] = v[colIdx[t * cols + q]];
                    b[e] = (2 * r.NextDouble() - 1) * Math.Sqrt(v[ri] * c[e]);
                }
            }
        }
        double[] e1 = new double[b.Length], e2 = new double[b.Length];
        double s = Best(3, () =>
        {
            Activation act = name == "tanh" ? new Tanh() : new Gelu();
            PreparedDual p = act.PrepareDual(v);
            NtkParallel.For(tiles, t =>
            {
                for (int i = 0; i < rows; i++)
                {
                    int e = (t * rows + i) * cols;
                    p.Row(rowIdx[t * rows + i], colIdx.AsSpan(t * cols, cols), b.AsSpan(e, cols), c.AsSpan(e, cols), e1.AsSpan(e, cols), e2.AsSpan(e, cols));
                }
            });
        });
        Row($"{name} dual kernel (series, prepared, 64×128 tiles over 4096 variances incl.), 2^{System.Numerics.BitOperations.Log2((uint)triples)} triples", s,
            string.Create(Inv, $"{triples / s / 1e6:F1} M triples/s"));
    }

    /// <summary>
    /// The allocating <see cref="InfiniteWidth.Compute"/>; <paramref name="dispose"/>: each result is disposed, so the
    /// next call reuses its pooled storage instead of first-touching fresh memory (see <see cref="KernelResult"/>).
    /// </summary>
    private static void Kernel(string act, int n, int d, int depth, bool dispose = false)
    {
        var x = new Matrix(n, d, Random(n * d, 7));
        var spec = new KernelSpec(depth, ActivationRegistry.Parse(act), 0.1, 1.0);
        double s = Best(3, () =>
        {
            KernelResult r = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Ntk | KernelOutputs.Nngp);
            if (dispose) r.Dispose();
        });
        Row($"Σ and Θ, {act}, N={n} d={d} L={depth}{(dispose ? ", results disposed (pooled storage)" : "")}", s, "");
        InfiniteWidth.ReleasePooledMemory();
    }

    private static void TrainStep<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int[] widths = [784, 2048, 2048, 2048, 1];
        const int n = 1024;
        var arch = new MlpArchitecture(widths, ActivationRegistry.Parse("relu"), beta: 0.1);
        var net = Mlp<T>.Initialize(arch, 1);
        var ws = net.CreateWorkspace(n);
        T[] x = Array.ConvertAll(Random(n * 784, 8), T.CreateTruncating), y = Array.ConvertAll(Random(n, 9), T.CreateTruncating);
        double s = Best(5, () => net.TrainStep(x, y, 1e-6, ws));
        Row($"train step 784-2048-2048-2048-1, batch 1024, {typeof(T).Name}", s, string.Create(Inv, $"{58.1 / s:F0} GFLOP/s"));
    }

    internal static Matrix Spd(int n)
    {
        var a = new Matrix(n, n / 2, Random(n * (n / 2), 11));
        var g = new Matrix(n, n);
        Gram.Syrk(n, n / 2, 1.0, a.Data, n / 2, 0.0, g.Data, n);
        for (int i = 0; i < n; i++) g[i, i] += n;
        return g;
    }

    private static void Cholesky(int n)
    {
        Matrix g = Spd(n);
        var w = new double[n * n];
        double s = Best(5, () => { g.Data.CopyTo(w, 0); NtkFast.Numerics.Cholesky.Factor(n, w, n); });
        Row($"Cholesky {n}", s, "");
    }

    private static void Eigen(int n)
    {
        Matrix g = Spd(n);
        double s = Best(2, () => SymmetricEigen.Decompose(g));
        Row($"symmetric eigendecomposition {n}, with vectors", s, "");
    }
}
