using System.Diagnostics;
using System.Globalization;
using NtkFast.Architectures;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Numerics;
using NtkFast.Networks;

namespace NtkFast.Benchmarks.Architectures;

/// <summary>
/// <c>dotnet run -c Release --project bench/NtkFast.Benchmarks -- archnet [MNIST_DIR] [N_TRAIN] [N_KERNEL] [REPEATS] [SPEC]</c>:
/// the finite network of <c>conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1</c> on 28×28×1 MNIST digits
/// (random images when the directory is missing): Forward and TrainStep on N_TRAIN images, EmpiricalKernel on
/// N_KERNEL images, float64 and float32. Each case alternates the reference (per-sample scalar/TensorPrimitives
/// loops, <see cref="ArchitectureNetwork.UseReferenceKernels"/>) and the vectorised kernels in the same process,
/// REPEATS times each, and reports the medians, their ratio and GFLOP/s (multiply and add counted over the valid
/// taps of the affine layers: forward, weight gradient, input gradient except the first layer's; the NTK's Gram
/// GEMM added). Noisy shared machine: compare within one run.
/// </summary>
public static class ArchNetBenchmark
{
    public static void Run(string[] args)
    {
        string dir = args.Length > 1 ? args[1] : "../shared/data/mnist10k";
        int nTrain = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 256;
        int nKernel = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 64;
        int repeats = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 5;
        string spec = args.Length > 5 ? args[5] : "conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1";
        int n = Math.Max(nTrain, nKernel);
        ImageSet x = LoadImages(dir, n);
        ImageSet xt = Take(x, nTrain), xk = Take(x, nKernel);
        var arch = Architecture.Parse(spec);
        var y = new Matrix(nTrain, 1);
        for (int i = 0; i < nTrain; i++) y[i, 0] = (i % 10) - 4.5;
        Console.WriteLine($"archnet benchmark: {spec} on {x.ShapeString}, train/forward N = {nTrain}, kernel N = {nKernel}, " +
            $"threads = {NtkParallel.MaxThreads}, Vector<double>.Count = {System.Numerics.Vector<double>.Count}, repeats = {repeats}");
        Case(ArchitectureNetwork<double>.Initialize(arch, 28, 28, 1, 1), "float64", xt, xk, y, repeats);
        Case(ArchitectureNetwork<float>.Initialize(arch, 28, 28, 1, 1), "float32", xt, xk, y, repeats);
        Profile(ArchitectureNetwork<double>.Initialize(arch, 28, 28, 1, 1), "float64", xt, y);
        Profile(ArchitectureNetwork<float>.Initialize(arch, 28, 28, 1, 1), "float32", xt, y);
        Threads(ArchitectureNetwork<double>.Initialize(arch, 28, 28, 1, 1), "float64", xt, y, repeats);
        Order(ArchitectureNetwork<double>.Initialize(arch, 28, 28, 1, 1), "float64", xt, y, repeats);
        Order(ArchitectureNetwork<float>.Initialize(arch, 28, 28, 1, 1), "float32", xt, y, repeats);
        Chunks(ArchitectureNetwork<double>.Initialize(arch, 28, 28, 1, 1), "float64", xt, y, repeats);
        Chunks(ArchitectureNetwork<float>.Initialize(arch, 28, 28, 1, 1), "float32", xt, y, repeats);
    }

    /// <summary>Forward and TrainStep (tiled) on 1 thread and on all, alternating: how the per-sample parallelism scales.</summary>
    private static void Threads<T>(ArchitectureNetwork<T> net, string name, ImageSet x, Matrix y, int repeats)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int saved = NtkParallel.MaxThreads;
        int[] counts = [1, saved];
        double[,] m;
        try { m = Alternate(net, x, y, repeats, c => NtkParallel.MaxThreads = counts[c]); }
        finally { NtkParallel.MaxThreads = saved; }
        Console.WriteLine($"  threads, {name} N = {x.Count} (medians): 1 thread: Forward {m[0, 0]:F0} ms, TrainStep {m[0, 1]:F0} ms; {saved} threads: Forward {m[1, 0]:F0} ms, TrainStep {m[1, 1]:F0} ms");
    }

    /// <summary>Forward and TrainStep on one thread, the forward product's rows-outer and columns-outer loop orders alternating.</summary>
    private static void Order<T>(ArchitectureNetwork<T> net, string name, ImageSet x, Matrix y, int repeats)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int saved = NtkParallel.MaxThreads;
        NtkParallel.MaxThreads = 1;
        double[,] m;
        try { m = Alternate(net, x, y, Math.Max(repeats, 7), c => ArchitectureNetwork<T>.ForwardColumnsOuter = c == 1); }
        finally { NtkParallel.MaxThreads = saved; ArchitectureNetwork<T>.ForwardColumnsOuter = true; }
        Console.WriteLine($"  loop order, {name} N = {x.Count}, 1 thread (medians): rows outer: Forward {m[0, 0]:F0} ms, TrainStep {m[0, 1]:F0} ms; columns outer: Forward {m[1, 0]:F0} ms, TrainStep {m[1, 1]:F0} ms");
    }

    /// <summary>
    /// Forward and TrainStep under two configurations (<paramref name="configure"/>(0), (1)) alternating, after one
    /// warm-up step: medians in ms, [configuration, 0 = Forward / 1 = TrainStep].
    /// </summary>
    private static double[,] Alternate<T>(ArchitectureNetwork<T> net, ImageSet x, Matrix y, int repeats, Action<int> configure)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = new double[2, 2, repeats];
        net.TrainStep(x, y, 1e-9);
        for (int r = 0; r < repeats; r++)
            for (int c = 0; c < 2; c++)
            {
                configure(c);
                var sw = Stopwatch.StartNew();
                net.Forward(x);
                t[c, 0, r] = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                net.TrainStep(x, y, 1e-9);
                t[c, 1, r] = sw.Elapsed.TotalMilliseconds;
            }
        var medians = new double[2, 2];
        for (int c = 0; c < 2; c++)
            for (int w = 0; w < 2; w++)
                medians[c, w] = Enumerable.Range(0, repeats).Select(r => t[c, w, r]).Order().ElementAt(repeats / 2);
        return medians;
    }

    /// <summary>TrainStep on one thread for pixel-chunk sizes of the backward products, alternating, medians.</summary>
    private static void Chunks<T>(ArchitectureNetwork<T> net, string name, ImageSet x, Matrix y, int repeats)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int saved = NtkParallel.MaxThreads, savedChunk = ArchitectureNetwork<T>.PixelChunk;
        NtkParallel.MaxThreads = 1;
        int[] sizes = [0, 16, 32, 64, 128, 1 << 20];
        var t = new double[sizes.Length, repeats];
        try
        {
            net.TrainStep(x, y, 1e-9);
            for (int r = 0; r < repeats; r++)
                for (int c = 0; c < sizes.Length; c++)
                {
                    ArchitectureNetwork<T>.PixelChunk = sizes[c];
                    var sw = Stopwatch.StartNew();
                    net.TrainStep(x, y, 1e-9);
                    t[c, r] = sw.Elapsed.TotalMilliseconds;
                }
        }
        finally { NtkParallel.MaxThreads = saved; ArchitectureNetwork<T>.PixelChunk = savedChunk; }
        var parts = new List<string>();
        for (int c = 0; c < sizes.Length; c++)
        {
            double[] v = [.. Enumerable.Range(0, repeats).Select(r => t[c, r]).Order()];
            parts.Add($"{(sizes[c] == 1 << 20 ? "none" : sizes[c] == 0 ? "auto" : sizes[c].ToString(CultureInfo.InvariantCulture))}: {v[repeats / 2]:F0} ms");
        }
        Console.WriteLine($"  pixel chunk of the backward products, {name} TrainStep N = {x.Count}, 1 thread (medians): {string.Join(", ", parts)}");
    }

    /// <summary>One TrainStep on one thread with per-op Stopwatch ticks: where the time goes, reference and tiled.</summary>
    private static void Profile<T>(ArchitectureNetwork<T> net, string name, ImageSet x, Matrix y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int saved = NtkParallel.MaxThreads;
        NtkParallel.MaxThreads = 1;
        try
        {
            IReadOnlyList<NtkFast.Architectures.Op> ops = net.CompiledOps;
            foreach (bool reference in (ReadOnlySpan<bool>)[true, false])
            {
                ArchitectureNetwork.UseReferenceKernels = reference;
                net.TrainStep(x, y, 1e-9); // warm-up
                var ticks = new long[2 * ops.Count];
                ArchitectureNetwork.ProfileTicks = ticks;
                var sw = Stopwatch.StartNew();
                net.TrainStep(x, y, 1e-9);
                double total = sw.Elapsed.TotalMilliseconds;
                ArchitectureNetwork.ProfileTicks = null;
                var parts = new List<string>();
                for (int i = 0; i < 2 * ops.Count; i++)
                {
                    double ms = ticks[i] * 1e3 / Stopwatch.Frequency;
                    if (ms >= 0.005 * total) parts.Add($"{(i < ops.Count ? "fwd" : "bwd")} {i % ops.Count}:{ops[i % ops.Count].Kind} {ms:F0} ms");
                }
                Console.WriteLine($"  profile {name} TrainStep N = {x.Count}, 1 thread, {(reference ? "reference" : "tiled")}: {total:F0} ms — {string.Join(", ", parts)}");
            }
        }
        finally { NtkParallel.MaxThreads = saved; ArchitectureNetwork.UseReferenceKernels = false; ArchitectureNetwork.ProfileTicks = null; }
    }

    private static void Case<T>(ArchitectureNetwork<T> net, string name, ImageSet xt, ImageSet xk, Matrix y, int repeats)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        (double fwd, double train) = Flops(net);
        int p = net.ParameterCount;
        double kernelFlops = xk.Count * train + 2.0 * xk.Count * xk.Count * p;
        T[] start = (T[])net.Parameters.Clone();
        Console.WriteLine($"  {name}: {p} parameters, {fwd / 1e6:F2} MFLOP forward, {train / 1e6:F2} MFLOP forward+backward per image");
        Time(name, "Forward", repeats, fwd * xt.Count, () => net.Forward(xt));
        Time(name, "TrainStep", repeats, train * xt.Count, () => { start.CopyTo(net.Parameters, 0); net.TrainStep(xt, y, 1e-3); });
        Time(name, "EmpiricalKernel", repeats, kernelFlops, () => net.EmpiricalKernel(xk));
        start.CopyTo(net.Parameters, 0);
        // agreement of the two paths (relative max difference)
        ArchitectureNetwork.UseReferenceKernels = true;
        Matrix f0 = net.Forward(xt), k0 = net.EmpiricalKernel(xk).Ntk;
        net.TrainStep(xt, y, 1e-3); T[] t0 = (T[])net.Parameters.Clone(); start.CopyTo(net.Parameters, 0);
        ArchitectureNetwork.UseReferenceKernels = false;
        Matrix f1 = net.Forward(xt), k1 = net.EmpiricalKernel(xk).Ntk;
        net.TrainStep(xt, y, 1e-3); T[] t1 = (T[])net.Parameters.Clone(); start.CopyTo(net.Parameters, 0);
        Console.WriteLine($"    reference vs vectorised, max relative difference: forward {Rel(f0.Data, f1.Data):E2}, " +
            $"NTK {Rel(k0.Data, k1.Data):E2}, θ after a step {Rel(Array.ConvertAll(t0, double.CreateTruncating), Array.ConvertAll(t1, double.CreateTruncating)):E2}");
    }

    private static double Rel(double[] a, double[] b)
    {
        double m = 0, s = 0;
        for (int i = 0; i < a.Length; i++) { m = Math.Max(m, Math.Abs(a[i] - b[i])); s = Math.Max(s, Math.Abs(a[i])); }
        return m / Math.Max(s, 1e-300);
    }

    private static void Time(string name, string what, int repeats, double flops, Action run)
    {
        var t = new double[2][];
        t[0] = new double[repeats]; t[1] = new double[repeats];
        for (int w = 0; w < 2; w++) { ArchitectureNetwork.UseReferenceKernels = w == 0; run(); } // warm-up
        for (int r = 0; r < repeats; r++)
            for (int w = 0; w < 2; w++)
            {
                ArchitectureNetwork.UseReferenceKernels = w == 0;
                var sw = Stopwatch.StartNew();
                run();
                t[w][r] = sw.Elapsed.TotalSeconds;
            }
        ArchitectureNetwork.UseReferenceKernels = false;
        Array.Sort(t[0]); Array.Sort(t[1]);
        double old = t[0][repeats / 2], now = t[1][repeats / 2];
        Console.WriteLine($"    {what,-16} reference {old * 1e3,9:F1} ms ({flops / old / 1e9,5:F2} GFLOP/s)   vectorised {now * 1e3,9:F1} ms ({flops / now / 1e9,5:F2} GFLOP/s)   speed-up {old / now:F2}×" +
            $"   [min {t[0][0] * 1e3:F1} / {t[1][0] * 1e3:F1} ms]");
    }

    /// <summary>FLOPs per image of the affine layers: forward, and forward + backward (weight and input gradients, none for the image).</summary>
    private static (double Forward, double Train) Flops(ArchitectureNetwork net)
    {
        double fwd = 0, bwd = 0;
        bool first = true;
        foreach (NtkFast.Architectures.Op op in net.CompiledOps)
        {
            if (op.Kind != OpKind.Affine) continue;
            long taps = 0;
            for (int ho = 0; ho < op.Hout; ho++)
                for (int a = 0; a < op.Kh; a++)
                {
                    int hi = ho * op.Sh + a - op.PadT;
                    if ((uint)hi >= (uint)op.Hin) continue;
                    for (int wo = 0; wo < op.Wout; wo++)
                        for (int b = 0; b < op.Kw; b++)
                        {
                            int wi = wo * op.Sw + b - op.PadL;
                            if ((uint)wi < (uint)op.Win) taps++;
                        }
                }
            double f = 2.0 * taps * op.Cin * op.Cout;
            fwd += f;
            bwd += first ? f : 2 * f;
            first = false;
        }
        return (fwd, fwd + bwd);
    }

    private static ImageSet LoadImages(string dir, int n)
    {
        string file = Path.Combine(dir, "images-idx3-ubyte.gz");
        if (File.Exists(file))
        {
            IdxImages img = Idx.ReadImages(file, n);
            return new ImageSet(img.ToMatrix().Data, n, 28, 28, 1);
        }
        Console.WriteLine($"  ({file} not found: random images)");
        var d = new double[n * 784];
        GaussianStream.Fill(7, 0, d);
        return new ImageSet(d, n, 28, 28, 1);
    }

    private static ImageSet Take(ImageSet x, int n) => new(x.Data.AsSpan(0, n * x.Stride).ToArray(), n, x.Height, x.Width, x.Channels);
}
