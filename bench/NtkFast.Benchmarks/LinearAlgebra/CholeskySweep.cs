using System.Globalization;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.LinearAlgebra;

/// <summary>
/// <c>NtkFast.Benchmarks cholesky [sizes] [threads] [reps]</c>: blocked Cholesky factor of an SPD matrix, best of reps (the
/// copy of the matrix into the work array excluded), GFLOP/s counted as n³/3, for each size and thread count, one
/// line each ("cholesky 2048 t=2 84.1 ms 34.0 GFLOP/s"). Compare with LAPACK dpotrf measured in the same run
/// (numpy.linalg.cholesky; scripts in bench/results).
/// </summary>
public static class CholeskySweep
{
    public static void Run(string[] args)
    {
        int[] sizes = args.Length > 1 ? Array.ConvertAll(args[1].Split(','), v => int.Parse(v, CultureInfo.InvariantCulture)) : [1024, 2048];
        int[] threads = args.Length > 2 ? Array.ConvertAll(args[2].Split(','), v => int.Parse(v, CultureInfo.InvariantCulture)) : [1, NtkParallel.MaxThreads];
        int reps = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;
        int saved = NtkParallel.MaxThreads;
        foreach (int n in sizes)
        {
            Matrix g = Headline.Spd(n);
            var w = new double[n * n];
            foreach (int t in threads)
            {
                NtkParallel.MaxThreads = t;
                g.Data.CopyTo(w, 0);
                Cholesky.Factor(n, w, n);
                double best = double.MaxValue;
                for (int r = 0; r < reps; r++)
                {
                    g.Data.CopyTo(w, 0);
                    long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                    Cholesky.Factor(n, w, n);
                    best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"cholesky {n} t={t} {best * 1e3:F1} ms {(double)n * n * n / 3 / best / 1e9:F1} GFLOP/s"));
            }
        }
        NtkParallel.MaxThreads = saved;
    }
}
