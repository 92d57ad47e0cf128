using System.Globalization;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Numerics;

/// <summary>
/// <c>NtkFast.Benchmarks gemm [sizes] [threads] [reps]</c>: square dgemm/sgemm GFLOP/s, best of reps, for each size and
/// thread count, one line each ("dgemm 1024 t=2 66.1"). For tuning the blocking knobs (NTKFAST_GEMM_NC_KIB,
/// NTKFAST_GEMM_TASKS_PER_THREAD), which are read once per process: alternate processes with different settings.
/// </summary>
public static class GemmSweep
{
    public static void Run(string[] args)
    {
        int[] sizes = args.Length > 1 ? Array.ConvertAll(args[1].Split(','), v => int.Parse(v, CultureInfo.InvariantCulture)) : [512, 768, 1024, 2048];
        int[] threads = args.Length > 2 ? Array.ConvertAll(args[2].Split(','), v => int.Parse(v, CultureInfo.InvariantCulture)) : [1, NtkParallel.MaxThreads];
        int reps = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;
        int saved = NtkParallel.MaxThreads;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"L2 {CpuCaches.L2Bytes / 1024} KiB ({CpuCaches.Source}), packed B block {GemmDriver<double>.NCBytes / 1024} KiB, {GemmTuning.TasksPerThread} bands per thread, shared B {(GemmTuning.SharedB ? "on" : "off")}, path {Isa.Active}"));
        foreach (int n in sizes)
        {
            double[] a = Headline.Random(n * n, 1), b = Headline.Random(n * n, 2), c = new double[n * n];
            float[] af = Array.ConvertAll(a, v => (float)v), bf = Array.ConvertAll(b, v => (float)v), cf = new float[n * n];
            foreach (int t in threads)
            {
                NtkParallel.MaxThreads = t;
                double d = Headline.Best(reps, () => Gemm.Multiply(Op.None, Op.None, n, n, n, 1.0, a, n, b, n, 0.0, c, n));
                double s = Headline.Best(reps, () => Gemm.Multiply(Op.None, Op.None, n, n, n, 1f, af, n, bf, n, 0f, cf, n));
                double flop = 2.0 * n * n * n / 1e9;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dgemm {n} t={t} {flop / d:F1}  sgemm {n} t={t} {flop / s:F1}"));
            }
        }
        NtkParallel.MaxThreads = saved;
    }
}
