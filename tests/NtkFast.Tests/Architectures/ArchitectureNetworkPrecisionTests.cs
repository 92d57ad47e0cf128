using NtkFast.Architectures;
using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Architectures;

/// <summary>
/// Architecture networks in float32 (the float64 network's parameters rounded, arithmetic in float32) and with
/// the first K affine layers frozen (<c>trainableFrom</c>), in the library and through the CLI.
/// </summary>
public sealed class ArchitectureNetworkPrecisionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-archp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static ImageSet Images(int n, int h, int w, int c, int seed)
    {
        var rng = new Random(seed);
        var d = new double[n * h * w * c];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2 - 1;
        return new ImageSet(d, n, h, w, c);
    }

    private static Matrix Targets(int n, int k)
    {
        var y = new Matrix(n, k);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = Math.Sin(1.3 * i);
        return y;
    }

    private const string Spec = "conv:6,3x3,same tanh res{ conv:6,3x3,same erf } avgpool:2 conv:5,2x2,valid relu flatten dense:3";

    private static double MaxRel(double[] a, double[] b)
    {
        double scale = 0, err = 0;
        for (int i = 0; i < a.Length; i++) { scale = Math.Max(scale, Math.Abs(a[i])); err = Math.Max(err, Math.Abs(a[i] - b[i])); }
        return err / Math.Max(scale, 1e-300);
    }

    [Fact]
    public void Float32_network_is_the_rounded_float64_network_to_float32_accuracy()
    {
        Architecture arch = Architecture.Parse(Spec, 1.2, 0.2);
        ArchitectureNetwork<double> d = ArchitectureNetwork.Initialize(arch, 6, 5, 2, seed: 4);
        ArchitectureNetwork<float> f = ArchitectureNetwork<float>.Initialize(arch, 6, 5, 2, seed: 4);
        Assert.True(f.IsFloat32);
        Assert.False(d.IsFloat32);
        for (int p = 0; p < d.ParameterCount; p++) Assert.Equal((float)d.Parameters[p], f.Parameters[p]);
        Assert.Equal(f.Parameters, d.ConvertTo<float>().Parameters);

        ImageSet x = Images(7, 6, 5, 2, 1), x2 = Images(4, 6, 5, 2, 2);
        // the float64 reference runs on the rounded parameters, so only float32 arithmetic separates them
        ArchitectureNetwork<double> rounded = f.ConvertTo<double>();
        Assert.True(MaxRel(rounded.Forward(x).Data, f.Forward(x).Data) < 1e-5);
        (Matrix tD, Matrix? sD) = rounded.EmpiricalKernel(x, x2);
        (Matrix tF, Matrix? sF) = f.EmpiricalKernel(x, x2);
        double ntkErr = MaxRel(tD.Data, tF.Data), nngpErr = MaxRel(sD!.Data, sF!.Data);
        Assert.True(ntkErr < 1e-5 && ntkErr > 0, $"NTK float32 vs float64: {ntkErr:g3} (0 would mean float32 was not used)");
        Assert.True(nngpErr < 1e-5, $"NNGP float32 vs float64: {nngpErr:g3}");

        Matrix y = Targets(7, 3);
        var costD = new List<double>();
        var costF = new List<double>();
        for (int s = 0; s < 20; s++) { costD.Add(rounded.TrainStep(x, y, 0.2)); costF.Add(f.TrainStep(x, y, 0.2)); }
        Assert.True(costF[^1] < 0.8 * costF[0], $"float32 training lowers the cost: {costF[0]:g4} → {costF[^1]:g4}");
        for (int s = 0; s < 20; s++) Assert.Equal(costD[s], costF[s], 1e-4 * costD[0]);
        Assert.True(f.HasFiniteParameters());
    }

    [Fact]
    public void Float32_results_do_not_depend_on_the_thread_count()
    {
        Architecture arch = Architecture.Parse("conv:8,3x3,same relu gap dense:2");
        ImageSet x = Images(9, 5, 5, 1, 3);
        int saved = NtkParallel.MaxThreads;
        var runs = new List<double[]>();
        try
        {
            foreach (int threads in (int[])[1, 3])
            {
                NtkParallel.MaxThreads = threads;
                ArchitectureNetwork<float> f = ArchitectureNetwork<float>.Initialize(arch, 5, 5, 1, seed: 2);
                f.TrainStep(x, Targets(9, 2), 0.1);
                (Matrix t, Matrix? s) = f.EmpiricalKernel(x);
                runs.Add([.. f.Parameters.Select(v => (double)v), .. t.Data, .. s!.Data]);
            }
        }
        finally { NtkParallel.MaxThreads = saved; }
        Assert.Equal(runs[0], runs[1]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Frozen_layers_keep_their_parameters_and_the_rest_train_as_before(int trainableFrom)
    {
        Architecture arch = Architecture.Parse(Spec, 1.1, 0.3);
        ArchitectureNetwork<double> all = ArchitectureNetwork.Initialize(arch, 6, 5, 2, seed: 8);
        ArchitectureNetwork<double> part = ArchitectureNetwork.Initialize(arch, 6, 5, 2, seed: 8);
        Assert.Equal(4, all.AffineLayers); // conv, the res block's conv, conv, dense: counted in op order
        int frozen = all.TrainableOffset(trainableFrom);
        Assert.True(frozen > 0 && frozen < all.ParameterCount);
        double[] start = (double[])all.Parameters.Clone();
        ImageSet x = Images(5, 6, 5, 2, 6);
        Matrix y = Targets(5, 3);
        // one step: the gradient of the trained layers does not depend on freezing the others
        Assert.Equal(all.TrainStep(x, y, 0.3), part.TrainStep(x, y, 0.3, trainableFrom));
        Assert.Equal(start.AsSpan(0, frozen).ToArray(), part.Parameters.AsSpan(0, frozen).ToArray());
        Assert.Equal(all.Parameters.AsSpan(frozen).ToArray(), part.Parameters.AsSpan(frozen).ToArray());
        Assert.NotEqual(start.AsSpan(frozen).ToArray(), part.Parameters.AsSpan(frozen).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => part.TrainStep(x, y, 0.3, all.AffineLayers));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.TrainStep(x, y, 0.3, -1));
    }

    [Fact]
    public void Frozen_layers_leave_the_empirical_ntk_a_sum_over_the_trained_parameters()
    {
        Architecture arch = Architecture.Parse(Spec, 1.1, 0.3);
        ArchitectureNetwork<double> net = ArchitectureNetwork.Initialize(arch, 6, 5, 2, seed: 5);
        ImageSet x = Images(4, 6, 5, 2, 9), x2 = Images(3, 6, 5, 2, 10);
        const int k = 3;
        int frozen = net.TrainableOffset(2), p = net.ParameterCount;
        (Matrix ntk, Matrix? nngp) = net.EmpiricalKernel(x, x2, trainableFrom: 2);
        (Matrix full, Matrix? nngpFull) = net.EmpiricalKernel(x, x2);
        Assert.Equal(nngpFull!.Data, nngp!.Data); // the NNGP does not depend on what is trained
        var ws = net.CreateWorkspace();
        double[][] Jac(ImageSet s, int i)
        {
            var rows = new double[k][];
            for (int q = 0; q < k; q++)
            {
                var w = new double[k];
                w[q] = 1;
                rows[q] = new double[p];
                net.Gradient(s.Data.AsSpan(i * s.Stride, s.Stride), w, rows[q], ws);
            }
            return rows;
        }
        for (int i = 0; i < x.Count; i++)
        {
            double[][] a = Jac(x, i);
            for (int j = 0; j < x2.Count; j++)
            {
                double[][] b = Jac(x2, j);
                double s = 0, sAll = 0;
                for (int q = 0; q < k; q++)
                    for (int t = 0; t < p; t++)
                    {
                        sAll += a[q][t] * b[q][t];
                        if (t >= frozen) s += a[q][t] * b[q][t];
                    }
                Assert.Equal(s / k, ntk[i, j], 1e-10 * Math.Max(1, Math.Abs(s)));
                Assert.Equal(sAll / k, full[i, j], 1e-10 * Math.Max(1, Math.Abs(sAll)));
                Assert.True(Math.Abs(ntk[i, j] - full[i, j]) > 1e-6, "freezing changes the NTK");
            }
        }
    }

    [Fact]
    public void Cli_init_float32_and_trainable_from_round_trip_through_files()
    {
        ImageSet x = Images(6, 4, 4, 2, 7);
        using (var st = File.Create(P("x.npy"))) Npy.Write(st, x.Data, [6, 4, 4, 2]);
        Matrix y = Targets(6, 2);
        using (var st = File.Create(P("y.npy"))) Npy.Write(st, y.Data, [6, 2]);
        const string spec = "conv:5,3x3,same tanh conv:4,3x3,same relu gap dense:2";
        CliResult init = CliRunner.Run("init", "--arch", spec, "--input-shape", "4,4,2", "--seed", "3", "--float32", "--out", P("n32.npz"));
        Assert.True(init.ExitCode == 0, init.StdErr);
        using (NpzArchive a = Npz.Open(P("n32.npz"))) Assert.Equal(NpyDType.Float32, a["theta"].DType);
        ArchitectureNetwork read = ArchitectureNetworkFile.Read(P("n32.npz"));
        ArchitectureNetwork<float> lib = ArchitectureNetwork<float>.Initialize(Architecture.Parse(spec, 1.0, 0.1), 4, 4, 2, 3);
        Assert.Equal(lib.Parameters, Assert.IsType<ArchitectureNetwork<float>>(read).Parameters);

        // train keeps the file's precision; --trainable-from 2 freezes the two convs
        CliResult train = CliRunner.Run("train", "--params", P("n32.npz"), "--x", P("x.npy"), "--y", P("y.npy"), "--lr", "0.4", "--steps", "6",
            "--trainable-from", "2", "--out", P("t32.npz"), "--quiet");
        Assert.True(train.ExitCode == 0, train.StdErr);
        for (int s = 0; s < 6; s++) lib.TrainStep(x, y, 0.4, 2);
        var trained = Assert.IsType<ArchitectureNetwork<float>>(ArchitectureNetworkFile.Read(P("t32.npz")));
        Assert.Equal(lib.Parameters, trained.Parameters);

        CliResult emp = CliRunner.Run("empirical", "--params", P("t32.npz"), "--x", P("x.npy"), "--trainable-from", "1", "--out-ntk", P("et.npy"), "--quiet");
        Assert.True(emp.ExitCode == 0, emp.StdErr);
        Assert.Equal(lib.EmpiricalKernel(x, null, 1).Ntk.Data, Npy.Read(P("et.npy")).Float64);

        // --float32 on a float64 file, and Monte Carlo of fresh float32 networks
        CliResult init64 = CliRunner.Run("init", "--arch", spec, "--input-shape", "4,4,2", "--seed", "3", "--out", P("n64.npz"));
        Assert.True(init64.ExitCode == 0, init64.StdErr);
        CliResult e32 = CliRunner.Run("empirical", "--params", P("n64.npz"), "--x", P("x.npy"), "--float32", "--out-ntk", P("e32.npy"), "--quiet");
        Assert.True(e32.ExitCode == 0, e32.StdErr);
        Assert.Equal(ArchitectureNetworkFile.Read<float>(P("n64.npz")).EmpiricalKernel(x).Ntk.Data, Npy.Read(P("e32.npy")).Float64);
        CliResult mc = CliRunner.Run("empirical", "--arch", spec, "--x", P("x.npy"), "--seed", "3", "--monte-carlo", "2", "--float32", "--out-nngp", P("mc.npy"), "--quiet");
        Assert.True(mc.ExitCode == 0, mc.StdErr);
        var src = new ArchEmpiricalSource(Architecture.Parse(spec, 1.0, 0.1), 3, 2, x, null, ntk: false, nngp: true, float32: true);
        var block = new double[36];
        src.ComputeBlock(0, 6, 0, 6, block);
        Assert.Equal(block, Npy.Read(P("mc.npy")).Float64);
    }

    [Fact]
    public void Cli_trainable_from_out_of_range_is_one_line()
    {
        ImageSet x = Images(3, 4, 4, 1, 1);
        using (var st = File.Create(P("x.npy"))) Npy.Write(st, x.Data, [3, 4, 4, 1]);
        using (var st = File.Create(P("y.npy"))) Npy.Write(st, new double[3], [3, 1]);
        CliResult init = CliRunner.Run("init", "--arch", "conv:2,3x3,same relu gap dense:1", "--input-shape", "4,4,1", "--seed", "0", "--out", P("n.npz"));
        Assert.True(init.ExitCode == 0, init.StdErr);
        const string msg = "option --trainable-from must be in [0, 1] for a network of 2 affine (dense/conv) layers, got 2";
        CliRunner.AssertCleanFailure(CliRunner.Run("train", "--params", P("n.npz"), "--x", P("x.npy"), "--y", P("y.npy"), "--lr", "0.1", "--steps", "2",
            "--trainable-from", "2", "--out", P("t.npz")), 2, msg);
        Assert.False(File.Exists(P("t.npz")));
        CliRunner.AssertCleanFailure(CliRunner.Run("empirical", "--params", P("n.npz"), "--x", P("x.npy"), "--trainable-from", "2", "--out-ntk", P("e.npy")), 2, msg);
        CliRunner.AssertCleanFailure(CliRunner.Run("empirical", "--arch", "conv:2,3x3,same relu gap dense:1", "--x", P("x.npy"), "--seed", "0",
            "--trainable-from", "2", "--out-ntk", P("e.npy")), 2, msg);
        Assert.False(File.Exists(P("e.npy")));
    }
}
