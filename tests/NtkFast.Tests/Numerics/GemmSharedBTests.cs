using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>
/// The shared-B team scheme (<see cref="GemmTuning.SharedB"/>) against the band path it replaces: bitwise the same C for
/// every shape, transpose, α/β, thread count and ISA path. The parallel threshold is lowered to 0 so that small, awkward
/// shapes run on a team too. Pins ISA paths and flips process-wide knobs: serial collection.
/// </summary>
[Collection(SerialNumericsCollection.Name)]
public class GemmSharedBTests
{
    private static readonly int[] Rows = [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65];
    private static readonly int[] Cols = [1, 7, 9, 16, 17, 65];
    private static readonly (double Alpha, double Beta)[] Scalars = [(1.1, 0.0), (0.7, 1.0), (-1.3, -0.5)];

    /// <summary>Runs <paramref name="f"/> with the shared-B switch, thread count and parallel threshold set, restoring them.</summary>
    private static TR With<TR>(bool sharedB, int threads, Func<TR> f)
    {
        bool savedShared = GemmTuning.SharedB;
        long savedThreshold = GemmTuning.ParallelThreshold;
        int savedThreads = NtkParallel.MaxThreads;
        try
        {
            GemmTuning.SharedB = sharedB;
            GemmTuning.ParallelThreshold = 0;
            NtkParallel.MaxThreads = threads;
            return f();
        }
        finally
        {
            GemmTuning.SharedB = savedShared;
            GemmTuning.ParallelThreshold = savedThreshold;
            NtkParallel.MaxThreads = savedThreads;
        }
    }

    /// <summary>One product with padded leading dimensions (ld + 1..3); C's padding holds sentinels that must survive.</summary>
    private static T[] Product<T>(Op oa, Op ob, int m, int n, int k, double alpha, double beta, int seed, bool sharedB, int threads)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int lda = (oa == Op.None ? k : m) + 1, ldb = (ob == Op.None ? n : k) + 2, ldc = n + 3;
        int aRows = oa == Op.None ? m : k, bRows = ob == Op.None ? k : n;
        T[] a = Convert<T>(GemmReference.Random(Math.Max(1, aRows * lda), seed));
        T[] b = Convert<T>(GemmReference.Random(Math.Max(1, bRows * ldb), seed + 1));
        T[] c = Convert<T>(GemmReference.Random(Math.Max(1, m * ldc), seed + 2));
        if (beta == 0) for (int i = 0; i < c.Length; i++) if (i % ldc < n) c[i] = T.NaN; // β = 0 must not read C
        return With(sharedB, threads, () =>
        {
            if (c is double[] cd)
                Gemm.Multiply(oa, ob, m, n, k, alpha, (double[])(object)a, Math.Max(1, lda), (double[])(object)b, Math.Max(1, ldb), beta, cd, ldc);
            else
                Gemm.Multiply(oa, ob, m, n, k, (float)alpha, (float[])(object)a, Math.Max(1, lda), (float[])(object)b, Math.Max(1, ldb), (float)beta, (float[])(object)c, ldc);
            return c;
        });
    }

    private static T[] Convert<T>(double[] x) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => Array.ConvertAll(x, T.CreateTruncating);

    /// <summary>Bitwise (−0 ≠ +0, NaN payloads compared), with the first differing index in the message.</summary>
    private static void AssertBitwise<T>(T[] expected, T[] actual, string what) where T : unmanaged
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = System.Runtime.InteropServices.MemoryMarshal.AsBytes(expected.AsSpan());
        var a = System.Runtime.InteropServices.MemoryMarshal.AsBytes(actual.AsSpan());
        if (e.SequenceEqual(a)) return;
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int first = 0;
        while (e[first] == a[first]) first++;
        Assert.Fail($"{what}: element {first / size} differs ({expected[first / size]} vs {actual[first / size]})");
    }

    private static void CompareBoth(Op oa, Op ob, int m, int n, int k, int threads, int seed, string where)
    {
        var (alpha, beta) = Scalars[seed % Scalars.Length];
        string what = $"{where} {oa}{ob} {m}×{n}×{k} α={alpha} β={beta} t={threads}";
        AssertBitwise(Product<double>(oa, ob, m, n, k, alpha, beta, seed, false, threads), Product<double>(oa, ob, m, n, k, alpha, beta, seed, true, threads), "double " + what);
        AssertBitwise(Product<float>(oa, ob, m, n, k, alpha, beta, seed, false, threads), Product<float>(oa, ob, m, n, k, alpha, beta, seed, true, threads), "float " + what);
    }

    public static TheoryData<IsaPath> Paths()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in Isa.Available) data.Add(p);
        return data;
    }

    /// <summary>
    /// Awkward M around MR (8 / 6 / 4) and the team's row split, N around NR (24 / 8 / 4 double, 48 / 16 / 4 float), k
    /// from 1 to past the double K block (300 > 256), all transposes, α/β cycling, 2 and 3 threads, on every ISA path.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void Shared_B_equals_the_band_path_bitwise_at_awkward_shapes(IsaPath path)
    {
        using var pin = Isa.Pin(path);
        int seed = 0;
        foreach (int threads in (int[])[2, 3])
            foreach (int m in Rows)
                foreach (int n in Cols)
                    foreach (int k in (int[])[1, 17, 300])
                        foreach (Op oa in (Op[])[Op.None, Op.Transpose])
                            foreach (Op ob in (Op[])[Op.None, Op.Transpose])
                                CompareBoth(oa, ob, m, n, k, threads, seed++, path.ToString());
    }

    /// <summary>
    /// Larger shapes: ~1000 rows, several K blocks for both types (600 > 512), N spanning several column blocks, and
    /// 3100 rows (more than two threads' row blocks: the team's outer row loop runs twice).
    /// </summary>
    [Fact]
    public void Shared_B_equals_the_band_path_bitwise_at_large_shapes()
    {
        int seed = 100;
        foreach (var (m, n, k) in new[] { (1003, 517, 300), (1000, 1000, 70), (1000, 9, 600), (999, 250, 513), (3100, 40, 300), (64, 1000, 600) })
            foreach (Op oa in (Op[])[Op.None, Op.Transpose])
                foreach (Op ob in (Op[])[Op.None, Op.Transpose])
                    foreach (int threads in (int[])[2, 3])
                        CompareBoth(oa, ob, m, n, k, threads, seed++, "large");
    }

    [Fact]
    public void Shared_B_does_not_depend_on_the_thread_count_or_the_packed_block_size()
    {
        const int m = 301, n = 517, k = 700;
        int nc = GemmDriver<double>.NCBytes;
        try
        {
            double[] reference = Product<double>(Op.None, Op.Transpose, m, n, k, 0.9, 0.3, 7, false, 1);
            foreach (int kib in (int[])[1, 96, 2048])
            {
                GemmDriver<double>.NCBytes = kib * 1024;
                foreach (int threads in (int[])[1, 2, 3, 4])
                    AssertBitwise(reference, Product<double>(Op.None, Op.Transpose, m, n, k, 0.9, 0.3, 7, true, threads), $"NC {kib} KiB, t={threads}");
            }
        }
        finally
        {
            GemmDriver<double>.NCBytes = nc;
        }
    }

    /// <summary>Inside a parallel loop the pool is busy, so the team has one member: the band path's bits.</summary>
    [Fact]
    public void Shared_B_called_from_a_parallel_loop_runs_alone_with_the_same_bits()
    {
        const int m = 200, n = 150, k = 300;
        double[] reference = Product<double>(Op.None, Op.None, m, n, k, 1.1, 0.0, 3, false, 2);
        var results = new double[4][];
        With(true, 2, () =>
        {
            NtkParallel.For(4, i => results[i] = Product<double>(Op.None, Op.None, m, n, k, 1.1, 0.0, 3, true, 2));
            return 0;
        });
        foreach (double[] r in results) AssertBitwise(reference, r, "nested");
    }

    [Fact]
    public void Shared_B_epilogue_sees_every_final_value_exactly_once()
    {
        foreach (var (m, n, k) in new[] { (300, 500, 600), (65, 17, 300), (7, 9, 3) })
        {
            double[] a = GemmReference.Random(m * k, 1), b = GemmReference.Random(n * k, 2), c0 = GemmReference.Random(m * n, 3), bias = GemmReference.Random(n, 4);
            var plain = (double[])c0.Clone();
            With(false, 2, () => { Gemm.Multiply(Op.None, Op.Transpose, m, n, k, 0.5, a, k, b, k, 0.25, plain, n); return 0; });
            var hits = new int[m * n];
            var seen = new double[m * n];
            var ep = new GemmThreadingTests.RecordingEpilogue(n, hits, seen, bias);
            var c = (double[])c0.Clone();
            With(true, 2, () => { Gemm.Multiply(Op.None, Op.Transpose, m, n, k, 0.5, a, k, b, k, 0.25, c, n, ref ep); return 0; });
            Assert.All(hits, h => Assert.Equal(1, h));
            AssertBitwise(plain, seen, $"epilogue input {m}×{n}×{k}");
            for (int i = 0; i < m * n; i++) Assert.Equal(Math.Max(0, plain[i] + bias[i % n]), c[i]);
        }
    }

    [Fact]
    public void Warm_shared_B_gemm_allocates_nothing_on_the_calling_thread()
    {
        const int m = 200, n = 180, k = 300;
        double[] a = GemmReference.Random(m * k, 1), b = GemmReference.Random(k * n, 2), c = new double[m * n];
        float[] af = GemmReference.ToFloat(a), bf = GemmReference.ToFloat(b), cf = new float[m * n];
        With(true, 2, () =>
        {
            void Work()
            {
                Gemm.Multiply(Op.None, Op.None, m, n, k, 1.0, a, k, b, n, 0.0, c, n);
                Gemm.Multiply(Op.Transpose, Op.Transpose, m, n, k, 1.0, a, m, b, k, 1.0, c, n);
                Gemm.Multiply(Op.None, Op.Transpose, m, n, k, 1f, af, k, bf, k, 0f, cf, n);
            }
            for (int i = 0; i < 5; i++) Work();
            int clean = 0;
            var report = new System.Text.StringBuilder();
            for (int round = 0; round < 6; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Work();
                long delta = GC.GetAllocatedBytesForCurrentThread() - before;
                if (delta == 0) clean++;
                report.Append($"[{delta} B] ");
            }
            Assert.True(clean >= 4, report.ToString());
            return 0;
        });
    }
}
