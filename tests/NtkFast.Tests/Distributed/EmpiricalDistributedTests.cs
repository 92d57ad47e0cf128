using NtkFast.Activations;
using NtkFast.Cli;
using NtkFast.Tiling;
using NtkFast.Empirical;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// <c>ntk empirical</c> tiled, out of core and under <c>mpirun</c>: files byte-for-byte the in-memory
/// command's (one network), Monte Carlo mean and std byte-for-byte the single process's for any rank
/// count, failures leave no output. In-process runs for the tilings, child processes for MPI (a missing
/// mpirun FAILS these tests: CI installs Open MPI).
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class EmpiricalDistributedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-emp2-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly Dictionary<string, string> OneThread = new() { ["NTKFAST_THREADS"] = "1" };

    private static void Ntk(params string[] args)
    {
        int rc = Program.Main([.. args, "--quiet"]);
        Assert.True(rc == 0, $"ntk {string.Join(' ', args)} exited {rc}");
    }

    private string Net(string name, string widths, string activation, int seed, bool float32 = false)
    {
        string path = P(name);
        Ntk(["init", "--widths", widths, "--activation", activation, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", path]);
        if (!float32) return path;
        // A float32 parameter file: the same network stored in single precision.
        MlpFileContents c = MlpFile.Read(path);
        string p32 = P("f32-" + name);
        MlpFile.Write(p32, c.ToNetwork<float>());
        return p32;
    }

    private byte[] Bytes(string name) => File.ReadAllBytes(P(name));

    [Theory]
    [InlineData("relu", false, "64", false)]
    [InlineData("erf", false, "7", true)]
    [InlineData("tanh", true, "16", false)]
    [InlineData("relu", true, "64", true)]
    public void Tiled_files_are_bytewise_the_in_memory_files(string activation, bool rectangular, string tile, bool float32)
    {
        string x = P("x.npy"), x2 = P("x2.npy");
        KernelOutOfCoreTests.WritePoints(x, 97, 5, 1);
        KernelOutOfCoreTests.WritePoints(x2, 65, 5, 2);
        string net = Net("net.npz", "5,24,16,2", activation, 3, float32);
        string[] common = ["empirical", "--params", net, "--x", x, .. (rectangular ? (string[])["--x2", x2] : [])];
        Ntk([.. common, "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")]);
        Ntk([.. common, "--out-ntk", P("tt.npy"), "--out-nngp", P("ts.npy"), "--out-of-core", "--tile", tile]);
        Ntk([.. common, "--out-ntk", P("tt2.npy"), "--out-of-core"]);
        Assert.Equal(Bytes("t.npy"), Bytes("tt.npy"));
        Assert.Equal(Bytes("s.npy"), Bytes("ts.npy"));
        Assert.Equal(Bytes("t.npy"), Bytes("tt2.npy"));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Theory]
    [InlineData(1, 0, "full", false, false)]
    [InlineData(7, 0, "full", false, true)]
    [InlineData(17, 0, "full", true, false)]
    [InlineData(17, 5, "full", false, false)]
    [InlineData(1, 0, "trace", true, false)]
    [InlineData(7, 0, "trace", true, true)]
    [InlineData(17, 6, "full", true, true)]
    [InlineData(17, 0, "trace", true, false)]
    public void Full_outputs_and_the_reference_tiled_out_of_core_and_windowed_are_the_in_memory_bytes(int n, int m, string outputs, bool reference, bool float32)
    {
        string x = P("x.npy"), x2 = P("x2.npy");
        KernelOutOfCoreTests.WritePoints(x, n, 4, n);
        if (m > 0) KernelOutOfCoreTests.WritePoints(x2, m, 4, 50);
        string net = Net("net.npz", "4,13,9,3", "tanh", 6, float32);
        string[] common = ["empirical", "--params", net, "--x", x, .. (m > 0 ? (string[])["--x2", x2] : []), "--outputs", outputs,
            "--trainable-from", "1", .. (reference ? (string[])["--reference"] : [])];
        Ntk([.. common, "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")]);

        // The library's in-memory result, bit for bit.
        MlpFileContents c = MlpFile.Read(net);
        Matrix xm = MatrixFile.Read(x);
        Matrix? x2m = m > 0 ? MatrixFile.Read(x2) : null;
        EmpiricalOutputs kind = outputs == "full" ? EmpiricalOutputs.Full : EmpiricalOutputs.Trace;
        EmpiricalMethod method = reference ? EmpiricalMethod.Jacobian : EmpiricalMethod.Structured;
        EmpiricalKernelResult lib = float32
            ? EmpiricalKernel.Compute(c.ToNetwork<float>(), xm, x2m, kind, 1, nngp: true, method)
            : EmpiricalKernel.Compute(c.ToNetwork<double>(), xm, x2m, kind, 1, nngp: true, method);
        NpyArray t = Npy.Read(P("t.npy"));
        Assert.Equal(lib.NtkShape, t.Shape);
        Assert.Equal(lib.Ntk, t.Float64!);
        Assert.Equal(lib.Nngp!, Npy.Read(P("s.npy")).Float64!);

        // Tiles that do not divide N, out of core, and a memory limit: the same bytes.
        Ntk([.. common, "--out-ntk", P("tt.npy"), "--out-nngp", P("ts.npy"), "--out-of-core", "--tile", "3"]);
        Ntk([.. common, "--out-ntk", P("tm.npy"), "--memory-limit", "2G", "--tile", "2"]);
        Assert.Equal(Bytes("t.npy"), Bytes("tt.npy"));
        Assert.Equal(Bytes("s.npy"), Bytes("ts.npy"));
        Assert.Equal(Bytes("t.npy"), Bytes("tm.npy"));

        // A window is the same block of the full result.
        int cols = m > 0 ? m : n, r0 = n / 3, c0 = cols / 2, e = kind == EmpiricalOutputs.Full ? 9 : 1;
        Ntk([.. common, "--rows", $"{r0}:", "--cols", $"{c0}:", "--tile", "4", "--out-ntk", P("w.npy"), "--out-nngp", P("ws.npy")]);
        NpyArray w = Npy.Read(P("w.npy")), ws = Npy.Read(P("ws.npy"));
        int wr = n - r0, wc = cols - c0;
        Assert.Equal(wr, w.Shape[0]);
        Assert.Equal(wc, w.Shape[1]);
        for (int i = 0; i < wr; i++)
        {
            Assert.Equal(lib.Ntk.AsSpan((((r0 + i) * cols) + c0) * e, wc * e).ToArray(), w.Float64!.AsSpan(i * wc * e, wc * e).ToArray());
            Assert.Equal(lib.Nngp!.AsSpan(((r0 + i) * cols) + c0, wc).ToArray(), ws.Float64!.AsSpan(i * wc, wc).ToArray());
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Theory]
    [InlineData(1, 0, "trace", false, false)]
    [InlineData(7, 0, "full", false, true)]
    [InlineData(17, 0, "trace", false, false)]
    [InlineData(17, 5, "full", false, false)]
    [InlineData(7, 0, "trace", true, false)]
    [InlineData(17, 0, "trace", false, true)]
    public void Monte_carlo_tiled_out_of_core_and_windowed_is_the_in_memory_bytes(int n, int m, string outputs, bool reference, bool float32)
    {
        string x = P("x.npy"), x2 = P("x2.npy");
        KernelOutOfCoreTests.WritePoints(x, n, 4, n + 1);
        if (m > 0) KernelOutOfCoreTests.WritePoints(x2, m, 4, 51);
        string[] common = ["empirical", "--monte-carlo", "3", "--widths", "4,11,7,2", "--activation", "erf", "--seed", "9", "--x", x,
            .. (m > 0 ? (string[])["--x2", x2] : []), "--outputs", outputs, "--trainable-from", "1",
            .. (reference ? (string[])["--reference"] : []), .. (float32 ? (string[])["--float32"] : [])];
        string[] Outs(string tag) => ["--out-ntk", P($"m{tag}.npy"), "--out-ntk-std", P($"ms{tag}.npy"), "--out-nngp", P($"g{tag}.npy"), "--out-nngp-std", P($"gs{tag}.npy")];
        Ntk([.. common, .. Outs("")]); // in memory: the whole-matrix Monte Carlo
        Ntk([.. common, .. Outs("t"), "--out-of-core", "--tile", "3"]);
        Ntk([.. common, .. Outs("l"), "--memory-limit", "2G"]);
        foreach (string f in (string[])["m", "ms", "g", "gs"])
        {
            Assert.Equal(Bytes($"{f}.npy"), Bytes($"{f}t.npy"));
            Assert.Equal(Bytes($"{f}.npy"), Bytes($"{f}l.npy"));
        }
        // Only the mean (no std slots: the mean-only update), and a window.
        Ntk([.. common, "--out-ntk", P("mo.npy"), "--tile", "2"]);
        Assert.Equal(Bytes("m.npy"), Bytes("mo.npy"));
        int cols = m > 0 ? m : n, r0 = n / 2, c0 = cols / 3, e = outputs == "full" ? 4 : 1;
        Ntk([.. common, "--rows", $"{r0}:", "--cols", $"{c0}:", "--tile", "4", "--out-ntk", P("w.npy"), "--out-ntk-std", P("wsd.npy")]);
        double[] mean = Npy.Read(P("m.npy")).Float64!, std = Npy.Read(P("ms.npy")).Float64!;
        double[] w = Npy.Read(P("w.npy")).Float64!, wsd = Npy.Read(P("wsd.npy")).Float64!;
        int wr = n - r0, wc = cols - c0;
        for (int i = 0; i < wr; i++)
        {
            Assert.Equal(mean.AsSpan((((r0 + i) * cols) + c0) * e, wc * e).ToArray(), w.AsSpan(i * wc * e, wc * e).ToArray());
            Assert.Equal(std.AsSpan((((r0 + i) * cols) + c0) * e, wc * e).ToArray(), wsd.AsSpan(i * wc * e, wc * e).ToArray());
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Monte_carlo_source_blocks_are_bitwise_the_library_run()
    {
        var arch = new MlpArchitecture([3, 9, 5, 2], ActivationRegistry.Parse("tanh"), beta: 0.3);
        Matrix x = MatrixOf(17, 3, 2), x2 = MatrixOf(6, 3, 3);
        foreach ((Matrix? cols, EmpiricalOutputs o, EmpiricalMethod me) in ((Matrix?, EmpiricalOutputs, EmpiricalMethod)[])
            [(null, EmpiricalOutputs.Trace, EmpiricalMethod.Structured), (x2, EmpiricalOutputs.Full, EmpiricalMethod.Structured), (null, EmpiricalOutputs.Full, EmpiricalMethod.Jacobian)])
        {
            MonteCarloResult lib = EmpiricalMonteCarlo.Run<double>(arch, x, cols, 4, 77, o, 0, nngp: true, me);
            var source = new EmpiricalMonteCarloSource<double>(arch, x, cols, 4, 77, o, 0, me);
            int n = source.Rows, m = source.Cols, e = o == EmpiricalOutputs.Full ? 4 : 1;
            foreach ((int r0, int rows, int c0, int cc) in ((int, int, int, int)[])[(0, n, 0, m), (5, 7, 1, 4), (n - 1, 1, m - 1, 1), (0, 5, 0, 5)])
            {
                int b = rows * cc;
                var dst = new double[(2 * b * e) + (2 * b)];
                source.ComputeBlock(r0, rows, c0, cc, dst);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cc; j++)
                    {
                        long f = ((long)(r0 + i) * m) + c0 + j;
                        for (int v = 0; v < e; v++)
                        {
                            Assert.Equal(BitConverter.DoubleToInt64Bits(lib.NtkMean[(f * e) + v]), BitConverter.DoubleToInt64Bits(dst[(((i * cc) + j) * e) + v]));
                            Assert.Equal(BitConverter.DoubleToInt64Bits(lib.NtkStd[(f * e) + v]), BitConverter.DoubleToInt64Bits(dst[(b * e) + (((i * cc) + j) * e) + v]));
                        }
                        Assert.Equal(BitConverter.DoubleToInt64Bits(lib.NngpMean![f]), BitConverter.DoubleToInt64Bits(dst[(2 * b * e) + (i * cc) + j]));
                        Assert.Equal(BitConverter.DoubleToInt64Bits(lib.NngpStd![f]), BitConverter.DoubleToInt64Bits(dst[(2 * b * e) + b + (i * cc) + j]));
                    }
            }
        }
    }

    private static Matrix MatrixOf(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var m = new Matrix(n, d);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = (rng.NextDouble() * 2) - 1;
        return m;
    }

    [Fact]
    public void Frozen_layers_threads_and_windows_give_the_in_memory_bytes()
    {
        string x = P("x.npy");
        KernelOutOfCoreTests.WritePoints(x, 70, 4, 4);
        string net = Net("net.npz", "4,30,20,10,1", "gelu", 5);
        string[] common = ["empirical", "--params", net, "--x", x, "--trainable-from", "1"];
        Ntk([.. common, "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")]);
        int saved = NtkParallel.MaxThreads;
        try
        {
            foreach (int threads in (int[])[1, 3])
            {
                NtkParallel.MaxThreads = threads;
                Ntk([.. common, "--out-ntk", P($"t{threads}.npy"), "--tile", "9"]);
                Assert.Equal(Bytes("t.npy"), Bytes($"t{threads}.npy"));
            }
        }
        finally { NtkParallel.MaxThreads = saved; }

        // A window, in memory and tiled, is the same block of the full matrices.
        Ntk([.. common, "--rows", "5:61", "--cols", "20:", "--out-ntk", P("w.npy"), "--out-nngp", P("ws.npy")]);
        Ntk([.. common, "--rows", "5:61", "--cols", "20:", "--out-ntk", P("wt.npy"), "--tile", "8"]);
        double[] full = Npy.Read(P("t.npy")).Float64!, fullS = Npy.Read(P("s.npy")).Float64!;
        NpyArray w = Npy.Read(P("w.npy")), ws = Npy.Read(P("ws.npy"));
        Assert.Equal([56, 50], w.Shape);
        for (int i = 0; i < 56; i++)
        {
            Assert.Equal(full.AsSpan(((5 + i) * 70) + 20, 50).ToArray(), w.Float64!.AsSpan(i * 50, 50).ToArray());
            Assert.Equal(fullS.AsSpan(((5 + i) * 70) + 20, 50).ToArray(), ws.Float64!.AsSpan(i * 50, 50).ToArray());
        }
        Assert.Equal(Bytes("w.npy"), Bytes("wt.npy"));
    }

    [Fact]
    public void Unsupported_combinations_and_bad_ranges_are_exit_2_with_no_output()
    {
        string x = P("x.npy");
        KernelOutOfCoreTests.WritePoints(x, 30, 3, 6);
        string net = Net("net.npz", "3,8,2", "relu", 1);
        string o = P("o.npy");
        string[][] bad =
        [
            ["empirical", "--params", net, "--x", x, "--out-ntk", o, "--outputs", "full", "--diagnostics-report", P("o.csv"), "--out-of-core"],
            ["empirical", "--params", net, "--x", x, "--out-ntk", o, "--reference", "--diagnostics-report", P("o.csv"), "--tile", "8"],
            ["empirical", "--params", net, "--x", x, "--out-ntk", o, "--diagnostics-report", P("o.csv"), "--rows", "0:3"],
            ["empirical", "--params", net, "--x", x, "--out-ntk", o, "--rows", "9:3"],
            ["empirical", "--params", net, "--x", x, "--out-ntk", o, "--cols", "0:31"],
            ["empirical", "--params", net, "--x", x, "--out-ntk", o, "--memory-limit", "1M"],
            ["empirical", "--monte-carlo", "3", "--widths", "3,8,1", "--activation", "relu", "--seed", "1", "--x", x, "--out-ntk", o, "--tile", "8", "--diagnostics-report", P("o.csv")],
            ["empirical", "--monte-carlo", "3", "--widths", "3,8,1", "--activation", "relu", "--seed", "1", "--x", x, "--out-ntk", o, "--memory-limit", "1G", "--diagnostics-report", P("o.csv")],
            ["empirical", "--monte-carlo", "3", "--widths", "3,8,1", "--activation", "relu", "--seed", "1", "--x", x, "--out-ntk", o, "--rows", "4:2"],
        ];
        foreach (string[] args in bad)
            Assert.True(Program.Main([.. args, "--quiet"]) == ExitCodes.BadInput, string.Join(' ', args));
        Assert.Empty(Directory.GetFiles(_dir, "o.npy*"));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [MpiFact]
    public void Mpirun_with_1_2_4_ranks_writes_the_in_memory_bytes_symmetric_and_rectangular()
    {
        string x = P("x.npy"), x2 = P("x2.npy");
        KernelOutOfCoreTests.WritePoints(x, 83, 5, 11);
        KernelOutOfCoreTests.WritePoints(x2, 1100, 5, 12); // 3 feature batches: owned by ranks 0, 1, 0 (or 0, 1, 2)
        string net = Net("net.npz", "5,32,16,3", "relu", 8);
        string[] sym = ["empirical", "--params", net, "--x", x, "--tile", "16", "--quiet"];
        string[] rect = ["empirical", "--params", net, "--x", x, "--x2", x2, "--tile", "64", "--quiet"];
        Ntk([.. sym[..^3], "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")]);
        Ntk([.. rect[..^3], "--out-ntk", P("rt.npy"), "--out-nngp", P("rs.npy")]);
        foreach (int ranks in (int[])[1, 2, 4])
        {
            NtkProcess.Result r = NtkProcess.Run([.. sym, "--out-ntk", P($"t{ranks}.npy"), "--out-nngp", P($"s{ranks}.npy")], ranks, OneThread);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(Bytes("t.npy"), Bytes($"t{ranks}.npy"));
            Assert.Equal(Bytes("s.npy"), Bytes($"s{ranks}.npy"));
        }
        foreach (int ranks in (int[])[2, 3])
        {
            // Rectangular, with the per-point features of X2 computed in batches by different ranks and broadcast.
            NtkProcess.Result rr = NtkProcess.Run([.. rect, "--out-ntk", P($"rt{ranks}.npy"), "--out-nngp", P($"rs{ranks}.npy")], ranks, OneThread);
            Assert.True(rr.ExitCode == 0, rr.ToString());
            Assert.Equal(Bytes("rt.npy"), Bytes($"rt{ranks}.npy"));
            Assert.Equal(Bytes("rs.npy"), Bytes($"rs{ranks}.npy"));
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [MpiFact]
    public void Monte_carlo_under_mpirun_is_bitwise_the_single_process_mean_and_std()
    {
        string x = P("x.npy");
        KernelOutOfCoreTests.WritePoints(x, 40, 4, 21);
        string[] mc = ["empirical", "--monte-carlo", "5", "--widths", "4,24,12,2", "--activation", "erf", "--seed", "17", "--x", x];
        string[] Outs(string tag) => ["--out-ntk", P($"m{tag}.npy"), "--out-ntk-std", P($"ms{tag}.npy"), "--out-nngp", P($"g{tag}.npy"), "--out-nngp-std", P($"gs{tag}.npy")];
        Ntk([.. mc, .. Outs("")]);

        // The library's single-process Monte Carlo is an independent route to the same numbers.
        var arch = new MlpArchitecture([4, 24, 12, 2], ActivationRegistry.Parse("erf"));
        MonteCarloResult lib = EmpiricalMonteCarlo.Run<double>(arch, MatrixFile.Read(x), null, 5, 17);
        Assert.Equal(lib.NtkMean, Npy.Read(P("m.npy")).Float64);
        Assert.Equal(lib.NtkStd, Npy.Read(P("ms.npy")).Float64);
        Assert.True(lib.NtkStd.Max() > 0);

        // 5 networks on 2 ranks (3 + 2) and on 4 ranks (rank 0 takes two), float64 and float32.
        foreach ((int ranks, string precision) in ((int, string)[])[(2, ""), (4, ""), (2, "--float32")])
        {
            string tag = $"{ranks}{precision}";
            if (precision.Length > 0) Ntk([.. mc, precision, .. Outs("f")]);
            NtkProcess.Result r = NtkProcess.Run([.. mc, .. (precision.Length > 0 ? (string[])[precision] : []), .. Outs(tag), "--quiet"], ranks, OneThread);
            Assert.True(r.ExitCode == 0, r.ToString());
            string single = precision.Length > 0 ? "f" : "";
            foreach (string f in (string[])["m", "ms", "g", "gs"])
                Assert.Equal(Bytes($"{f}{single}.npy"), Bytes($"{f}{tag}.npy"));
        }
    }

    [MpiFact]
    public void Mpirun_shares_the_tiles_of_full_outputs_the_reference_and_monte_carlo_with_the_in_memory_bytes()
    {
        string x = P("x.npy");
        KernelOutOfCoreTests.WritePoints(x, 23, 4, 31);
        string net = Net("net.npz", "4,12,8,2", "relu", 3);
        string[] full = ["empirical", "--params", net, "--x", x, "--outputs", "full"];
        string[] reference = ["empirical", "--params", net, "--x", x, "--reference"];
        string[] mc = ["empirical", "--monte-carlo", "3", "--widths", "4,12,8,2", "--activation", "relu", "--seed", "5", "--x", x, "--outputs", "full"];
        Ntk([.. full, "--out-ntk", P("f.npy"), "--out-nngp", P("fs.npy")]);
        Ntk([.. reference, "--out-ntk", P("r.npy"), "--out-nngp", P("rs.npy")]);
        Ntk([.. mc, "--out-ntk", P("m.npy"), "--out-ntk-std", P("ms.npy")]);
        foreach (int ranks in (int[])[2, 3])
        {
            foreach ((string[] args, string tag) in ((string[], string)[])[(full, "f"), (reference, "r")])
            {
                NtkProcess.Result r = NtkProcess.Run([.. args, "--tile", "5", "--out-ntk", P($"{tag}{ranks}.npy"), "--out-nngp", P($"{tag}s{ranks}.npy"), "--quiet"], ranks, OneThread);
                Assert.True(r.ExitCode == 0, r.ToString());
                Assert.Equal(Bytes($"{tag}.npy"), Bytes($"{tag}{ranks}.npy"));
                Assert.Equal(Bytes($"{tag}s.npy"), Bytes($"{tag}s{ranks}.npy"));
            }
            NtkProcess.Result m = NtkProcess.Run([.. mc, "--tile", "6", "--out-ntk", P($"m{ranks}.npy"), "--out-ntk-std", P($"ms{ranks}.npy"), "--quiet"], ranks, OneThread);
            Assert.True(m.ExitCode == 0, m.ToString());
            Assert.Equal(Bytes("m.npy"), Bytes($"m{ranks}.npy"));
            Assert.Equal(Bytes("ms.npy"), Bytes($"ms{ranks}.npy"));
        }
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void Tiled_monte_carlo_and_full_outputs_stay_under_the_memory_limit()
    {
        // 2200² doubles ≈ 39 MB per trace output: mean and std (77 MB) under a 64 MiB limit; the full outputs'
        // 1400²·2² doubles ≈ 63 MB with the NNGP (16 MB) likewise. The child reports its own VmHWM.
        const long limit = 64L << 20;
        string x = P("big.npy"), xs = P("mid.npy");
        KernelOutOfCoreTests.WritePoints(x, 2200, 4, 13);
        KernelOutOfCoreTests.WritePoints(xs, 1400, 4, 14);
        NtkProcess.Result r = NtkProcess.Run(["empirical", "--monte-carlo", "2", "--widths", "4,16,2", "--activation", "relu", "--seed", "3", "--x", x,
            "--out-ntk", P("m.npy"), "--out-ntk-std", P("ms.npy"), "--memory-limit", "64M"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(r.PeakRssBytes > 0, "the child reported no peak RSS (it did not tile): " + r.StdErr);
        Assert.True(r.PeakRssBytes < limit, $"Monte Carlo: peak RSS {r.PeakRssBytes} ≥ limit {limit}");
        Assert.True(new FileInfo(P("m.npy")).Length + new FileInfo(P("ms.npy")).Length > limit);
        string net = Net("net.npz", "4,16,2", "relu", 4);
        NtkProcess.Result f = NtkProcess.Run(["empirical", "--params", net, "--x", xs, "--outputs", "full", "--out-ntk", P("f.npy"), "--out-nngp", P("fs.npy"), "--memory-limit", "64M"]);
        Assert.True(f.ExitCode == 0, f.ToString());
        Assert.True(f.PeakRssBytes > 0, "the child reported no peak RSS (it did not tile): " + f.StdErr);
        Assert.True(f.PeakRssBytes < limit, $"full outputs: peak RSS {f.PeakRssBytes} ≥ limit {limit}");
        Assert.True(new FileInfo(P("f.npy")).Length + new FileInfo(P("fs.npy")).Length > limit);

        // Rows against the library's block sources, bitwise.
        var mcSource = new EmpiricalMonteCarloSource<double>(new MlpArchitecture([4, 16, 2], ActivationRegistry.Parse("relu")), MatrixFile.Read(x), null, 2, 3, nngp: false, nngpStd: false);
        NpyArray mean = Npy.Read(P("m.npy"));
        var row = new double[2 * 2200];
        foreach (int i in (int[])[0, 1999])
        {
            mcSource.ComputeBlock(i, 1, 0, 2200, row);
            Assert.Equal(row.AsSpan(0, 2200).ToArray(), mean.Float64!.AsSpan(i * 2200, 2200).ToArray());
        }
    }

    [MpiFact]
    public void A_failing_rank_fails_the_job_and_leaves_no_finished_output()
    {
        string x = P("x.npy"), o = P("t.npy"), kept = P("s.npy");
        KernelOutOfCoreTests.WritePoints(x, 60, 4, 14);
        string net = Net("net.npz", "4,16,1", "relu", 2);
        File.WriteAllText(kept, "an older result that must survive");
        var env = new Dictionary<string, string>(OneThread) { ["NTKFAST_FAULT"] = "1:throw" };
        NtkProcess.Result r = NtkProcess.Run(["empirical", "--params", net, "--x", x, "--tile", "8", "--out-ntk", o, "--out-nngp", kept, "--quiet"], ranks: 2, env);
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("ntk empirical: rank 1 of 2: injected failure", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(o), "no finished-looking NTK file");
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
        Assert.Equal("an older result that must survive", File.ReadAllText(kept));

        // Bad input under mpirun: one line per rank naming the problem, exit 2, no file.
        NtkProcess.Result b = NtkProcess.Run(["empirical", "--params", net, "--x", x, "--outputs", "full", "--diagnostics-report", P("r.csv"), "--out-ntk", o], ranks: 2, OneThread);
        Assert.Equal(ExitCodes.BadInput, b.ExitCode);
        Assert.Contains("ntk empirical: rank ", b.StdErr, StringComparison.Ordinal);
        Assert.Contains("--diagnostics-report needs the whole kernel in memory", b.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("r.csv")));
        Assert.False(File.Exists(o));
    }

    [Fact]
    public void Out_of_core_run_above_the_memory_limit_stays_under_it()
    {
        // 3000² doubles = 72 MB of NTK under a 64 MiB limit; the child reports its own VmHWM.
        const int n = 3000;
        string x = P("big.npy"), o = P("big-ntk.npy");
        KernelOutOfCoreTests.WritePoints(x, n, 4, 13);
        string net = Net("net.npz", "4,16,1", "relu", 4);
        const long limit = 64L << 20;
        NtkProcess.Result r = NtkProcess.Run(["empirical", "--params", net, "--x", x, "--out-ntk", o, "--memory-limit", "64M"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        long peak = r.PeakRssBytes;
        Assert.True(peak > 0, "the child reported no peak RSS (it did not tile): " + r.StdErr);
        Assert.True(peak < limit, $"peak RSS {peak} ≥ limit {limit}");
        Assert.True(new FileInfo(o).Length > limit);

        // Rows against the library's block source, bitwise (incl. the mirrored lower triangle).
        NpyArray a = Npy.Read(o);
        Assert.Equal([n, n], a.Shape);
        var source = new EmpiricalKernelSource<double>(MlpFile.Read(net).ToNetwork<double>(), MatrixFile.Read(x), null);
        var row = new double[n];
        foreach (int i in (int[])[0, 2, 1777, n - 1])
        {
            source.ComputeBlock(i, 1, 0, n, row);
            Assert.Equal(row, a.Float64!.AsSpan(i * n, n).ToArray());
        }
    }
}
