using System.Diagnostics;
using NtkFast.Architectures;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Architectures;

/// <summary>
/// <c>dotnet run -c Release --project bench/NtkFast.Benchmarks -- cntk [MNIST_DIR] [N] [ROWS]</c>: the CNTK
/// of 3 × (conv 3×3 SAME, relu) + GAP + dense on 28×28 MNIST digits. Times ROWS rows × N columns of the
/// kernel (the per-pair cost is uniform, so the full N×N and N = 10 000 are projected from it), the same
/// architecture without activations (the stencil alone), and reports the stencil's GFLOP/s (adds + the
/// per-entry scale, counted exactly over the valid taps). Noisy shared machine: compare within one run.
/// </summary>
public static class CntkBenchmark
{
    public static void Run(string[] args)
    {
        string dir = args.Length > 1 ? args[1] : "../shared/data/mnist10k";
        int n = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        int rows = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 4;
        IdxImages img = Idx.ReadImages(Path.Combine(dir, "images-idx3-ubyte.gz"), n);
        Matrix m = img.ToMatrix();
        var x = new ImageSet(m.Data, n, 28, 28, 1);
        const string spec = "conv:32,3x3,same relu conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1";
        const string linear = "conv:32,3x3,same conv:32,3x3,same conv:32,3x3,same gap dense:1";
        Console.WriteLine($"CNTK benchmark: N = {n}, rows timed = {rows}, threads = {NtkParallel.MaxThreads}, {spec}");

        // Warm-up (JIT, first touch of the per-worker buffers).
        ArchitectureKernels.ComputeBlock(Architecture.Parse(spec), x, null, 0, 1, 0, Math.Min(n, 8));

        foreach ((string name, string s) in (ReadOnlySpan<(string, string)>)[("relu CNTK", spec), ("stencil only (no activation)", linear)])
        {
            var arch = Architecture.Parse(s);
            var sw = Stopwatch.StartNew();
            KernelResult k = ArchitectureKernels.ComputeBlock(arch, x, null, 0, rows, 0, n);
            double t = sw.Elapsed.TotalSeconds;
            long pairs = (long)rows * n;
            double perPair = t / pairs;
            double full = perPair * ((double)n * (n + 1) / 2);
            double full10k = perPair * (10000.0 * 10001 / 2);
            double flops = StencilFlops(28, 28, 3, 3) * 3 * pairs;
            Console.WriteLine($"  {name}: {t:F2} s for {pairs} pairs = {perPair * 1e3:F3} ms/pair; " +
                $"projected N={n}: {full:F0} s ({full / 3600:F2} h), N=10000: {full10k / 3600:F1} h; " +
                $"stencil {flops / t / 1e9:F1} GFLOP/s over the whole pair time; K[0,0..2] = {k.Ntk!.Data[0]:G6} {k.Ntk.Data[1]:G6}");
        }
    }

    /// <summary>FLOPs of one conv layer of the Σ and Θ recursion for one pair: 2 adds per valid (pixel pair, tap), 4 per entry.</summary>
    public static double StencilFlops(int h, int w, int kh, int kw)
    {
        // Valid (p, p', δ) along one axis: both p + δ − pad and p' + δ − pad inside.
        static long Axis(int n, int k)
        {
            int pad = (k - 1) / 2;
            long c = 0;
            for (int p = 0; p < n; p++) for (int q = 0; q < n; q++) for (int d = 0; d < k; d++)
                if (p + d - pad >= 0 && p + d - pad < n && q + d - pad >= 0 && q + d - pad < n) c++;
            return c;
        }
        double taps = (double)Axis(h, kh) * Axis(w, kw);
        double entries = (double)h * w * h * w;
        return 2 * taps + 4 * entries;
    }
}
