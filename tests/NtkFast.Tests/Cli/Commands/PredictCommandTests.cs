using NtkFast.Activations;
using NtkFast.Cli;
using NtkFast.Cli.Commands;
using NtkFast.Dynamics;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli.Commands;

/// <summary>
/// `ntk predict` in-process through Program.Main (console captured, so in the serial CLI collection),
/// and the empirical NTK it uses for --params against an independent Jacobian contraction.
/// </summary>
[Collection("NetworksCli")]
public sealed class PredictCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-predict-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        TextWriter savedErr = Console.Error, savedOut = Console.Out;
        var err = new StringWriter();
        var stdout = new StringWriter();
        try
        {
            Console.SetError(err);
            Console.SetOut(stdout);
            int code = Program.Main(args);
            return (code, stdout.ToString(), err.ToString());
        }
        finally
        {
            Console.SetError(savedErr);
            Console.SetOut(savedOut);
        }
    }

    private static Matrix RandomMatrix(int rows, int cols, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var m = new Matrix(rows, cols);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = scale * (rng.NextDouble() * 2 - 1);
        return m;
    }

    private void Save(string name, Matrix m) => MatrixFile.Write(P(name), m);

    private static Mlp<double> Network(int[] widths, ulong seed) =>
        Mlp<double>.Initialize(new MlpArchitecture(widths, ActivationRegistry.Parse("identity"), beta: 0.1), seed);

    [Fact]
    public void EmpiricalNtk_MatchesJacobianContraction()
    {
        Mlp<double> net = Network([3, 7, 5, 2], 11);
        Matrix x = RandomMatrix(4, 3, 1), xt = RandomMatrix(3, 3, 2);
        (Matrix train, Matrix cross, Matrix f0, Matrix f0t) = PredictCommand.EmpiricalNtk(net, x, xt);
        int nl = 2, pc = net.Architecture.ParameterCount;
        MlpWorkspace<double> ws = net.CreateWorkspace(1);
        double[] Grad(Matrix pts, int i, int k)
        {
            var g = new double[pc];
            var e = new double[nl];
            e[k] = 1;
            net.Gradient(pts.Row(i), e, ws, g);
            return g;
        }
        for (int i = 0; i < 4 + 3; i++)
            for (int k = 0; k < nl; k++)
            {
                double[] gi = i < 4 ? Grad(x, i, k) : Grad(xt, i - 4, k);
                for (int j = 0; j < 4; j++)
                    for (int k2 = 0; k2 < nl; k2++)
                    {
                        double[] gj = Grad(x, j, k2);
                        double expect = 0;
                        for (int p = 0; p < pc; p++) expect += gi[p] * gj[p];
                        double got = i < 4 ? train[i * nl + k, j * nl + k2] : cross[(i - 4) * nl + k, j * nl + k2];
                        Assert.Equal(expect, got, 1e-10 * (1 + Math.Abs(expect)));
                    }
            }
        double[] fx = net.Predict(x.Data), fxt = net.Predict(xt.Data);
        Assert.Equal(fx, f0.Data);
        Assert.Equal(fxt, f0t.Data);
    }

    [Fact]
    public void Params_TimeZeroIsTheNetwork_InfinityInterpolates_ListGivesThreeDimensions()
    {
        // Identity activation (the only one every build has): features are linear in x, so
        // d ≥ N keeps the empirical kernel non-singular.
        Mlp<double> net = Network([8, 16, 2], 5);
        MlpFile.Write(P("net.npz"), net);
        Matrix x = RandomMatrix(6, 8, 3), y = RandomMatrix(6, 2, 4);
        Save("X.npy", x);
        Save("Y.npy", y);
        var (code, _, err) = Run("predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("X.npy"), "--params", P("net.npz"),
            "--time", "0,inf", "--regularization", "abs:0", "--out", P("P.npy"), "--quiet");
        Assert.True(code == 0, err);
        NpyArray p = Npy.Read(P("P.npy"));
        Assert.Equal([2, 6, 2], p.Shape);
        double[] data = p.ToDoubleArray();
        double[] f0 = net.Predict(x.Data);
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(f0[i], data[i], 1e-12);
            Assert.Equal(y.Data[i], data[12 + i], 1e-8);
        }
    }

    [Fact]
    public void Params_LinearisedPrediction_MatchesGradientDescent_BetterAtLargerWidth()
    {
        // Theorem 2 in practice: a wide network trained by GD follows its linearisation.
        Matrix x = RandomMatrix(8, 3, 21), xt = RandomMatrix(4, 3, 22), y = RandomMatrix(8, 1, 23);
        double lr = 1.0;
        int steps = 60;
        double Error(int width)
        {
            Mlp<double> net = Network([3, width, width, 1], 31);
            (Matrix train, Matrix cross, Matrix f0, Matrix f0t) = PredictCommand.EmpiricalNtk(net, x, xt);
            Matrix lin = new KernelDynamics(train, y, timeScale: 8).PredictTest(steps * lr, cross, f0, f0t);
            MlpWorkspace<double> ws = net.CreateWorkspace(8);
            for (int s = 0; s < steps; s++) net.TrainStep(x.Data, y.Data, lr, ws);
            double[] trained = net.Predict(xt.Data);
            double num = 0, den = 0;
            for (int i = 0; i < 4; i++) { num += Math.Pow(trained[i] - lin[i, 0], 2); den += Math.Pow(trained[i] - f0t[i, 0], 2); }
            return Math.Sqrt(num / den);   // relative to how far training moved the test outputs
        }
        double wide = Error(1024), narrow = Error(64);
        Assert.True(wide < 0.05, $"width 1024: relative deviation {wide:G3}");
        Assert.True(wide < narrow, $"width 1024 {wide:G3} should beat width 64 {narrow:G3}");
    }

    [Fact]
    public void Analytic_MeanStartsAtZero_InterpolatesAtInfinity_EnsembleStdFollowsTheNngp()
    {
        Matrix x = RandomMatrix(7, 3, 60), y = RandomMatrix(7, 2, 61), xt = RandomMatrix(4, 3, 62);
        Save("X.npy", x);
        Save("Y.npy", y);
        Save("XT.npy", xt);
        string[] kernel = ["--depth", "3", "--activation", "relu", "--beta", "0.1"];
        var (code, _, err) = Run(["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("X.npy"), .. kernel,
            "--time", "0,5,inf", "--ensemble", "--out", P("M.npy"), "--quiet"]);
        Assert.True(code == 0, err);
        double[] mean = Npy.Read(P("M.npy")).ToDoubleArray();
        double[] std = Npy.Read(P("M.std.npy")).ToDoubleArray();
        Assert.Equal(3 * 7 * 2, mean.Length);
        var spec = new NtkFast.Kernels.KernelSpec(3, ActivationRegistry.Parse("relu"), 0.1, 1.0);
        double[] prior = NtkFast.Kernels.InfiniteWidth.Diagonal(spec, x).Nngp;
        for (int i = 0; i < 7; i++)
            for (int k = 0; k < 2; k++)
            {
                Assert.Equal(0.0, mean[i * 2 + k], 1e-14);                         // t = 0: E f_0 = 0
                Assert.Equal(Math.Sqrt(prior[i]), std[i * 2 + k], 1e-10);           // t = 0: the NNGP prior
                Assert.Equal(y[i, k], mean[2 * 14 + i * 2 + k], 1e-7);              // t = ∞: interpolation
                Assert.True(std[2 * 14 + i * 2 + k] < 1e-4);                         // … by every member
                Assert.True(std[14 + i * 2 + k] < std[i * 2 + k]);                   // variance shrinks with training
            }

        // Test points: the CLI equals the library, single time written 2-D.
        (code, _, err) = Run(["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("XT.npy"), .. kernel,
            "--time", "5", "--out", P("T.npy"), "--quiet"]);
        Assert.True(code == 0, err);
        NpyArray t = Npy.Read(P("T.npy"));
        Assert.Equal([4, 2], t.Shape);
        Matrix theta = NtkFast.Kernels.InfiniteWidth.Compute(spec, x, null, NtkFast.Kernels.KernelOutputs.Ntk).Ntk!;
        Matrix cross = NtkFast.Kernels.InfiniteWidth.Compute(spec, xt, x, NtkFast.Kernels.KernelOutputs.Ntk).Ntk!;
        Matrix expect = new KernelDynamics(theta, y).PredictTest(5, cross);
        Assert.Equal(expect.Data, t.ToDoubleArray());

        // Bad kernel options: one line, exit 2.
        var (bad, _, e2) = Run(["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("XT.npy"), "--depth", "0", "--activation", "relu", "--out", P("B.npy")]);
        Assert.Equal(2, bad);
        Assert.Contains("--depth", e2);
        var (bad2, _, e3) = Run(["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("XT.npy"), "--depth", "2", "--activation", "nope", "--out", P("B.npy")]);
        Assert.Equal(2, bad2);
        Assert.Contains("--activation", e3);
        Assert.False(File.Exists(P("B.npy")));
    }

    [Fact]
    public void Labels_OneHotTargets_PrintAccuracy()
    {
        Mlp<double> net = Network([12, 12, 3], 8);
        MlpFile.Write(P("net.npz"), net);
        Matrix x = RandomMatrix(9, 12, 40);
        var labels = new Matrix(9, 1);
        for (int i = 0; i < 9; i++) labels[i, 0] = i % 3;
        Save("X.npy", x);
        Save("L.npy", labels);
        var (code, stdout, err) = Run("predict", "--x", P("X.npy"), "--y", P("L.npy"), "--x-test", P("X.npy"), "--params", P("net.npz"),
            "--labels", "--y-test", P("L.npy"), "--regularization", "1e-12", "--out", P("S.csv"), "--quiet");
        Assert.True(code == 0, err);
        Assert.Contains("t=inf: train accuracy 1.0000, test accuracy 1.0000", stdout);
        Matrix s = MatrixFile.Read(P("S.csv"));
        Assert.Equal(9, s.Rows);
        Assert.Equal(3, s.Cols);
    }

    [Fact]
    public void Labels_BeyondTheClassLimit_OneLine_NamingY()
    {
        Mlp<double> net = Network([12, 12, 3], 8);
        MlpFile.Write(P("net.npz"), net);
        var labels = new Matrix(3, 1);
        labels[0, 0] = 1; labels[1, 0] = 70000; labels[2, 0] = 0;
        Save("X.npy", RandomMatrix(3, 12, 41));
        Save("L.npy", labels);
        var (code, _, err) = Run("predict", "--x", P("X.npy"), "--y", P("L.npy"), "--x-test", P("X.npy"), "--params", P("net.npz"),
            "--labels", "--out", P("S.csv"), "--quiet");
        Assert.Equal(2, code);
        Assert.StartsWith("ntk predict: --y " + P("L.npy") + ": label 1 is 70000", err.Trim());
        Assert.DoesNotContain("Parameter", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(P("S.csv")));
    }

    [Fact]
    public void BadInput_OneLine_NonZeroExit_NoOutput()
    {
        Mlp<double> net = Network([6, 8, 1], 9);
        MlpFile.Write(P("net.npz"), net);
        Matrix x = RandomMatrix(5, 6, 50);
        Save("X.npy", x);
        Save("Y.npy", RandomMatrix(5, 1, 51));
        Save("Y4.npy", RandomMatrix(4, 1, 52));
        Save("X2.npy", RandomMatrix(5, 2, 53));
        var dup = new Matrix(5, 6, (double[])x.Data.Clone());
        dup.Row(4).Clear();
        x.Row(3).CopyTo(dup.Row(4));
        Save("Xdup.npy", dup);
        string[] baseArgs = ["predict", "--x", P("X.npy"), "--x-test", P("X.npy"), "--params", P("net.npz"), "--out", P("out.npy"), "--quiet"];

        // Sanity: without the duplicate the kernel is regular and t = ∞ works.
        var (reg, _, eReg) = Run([.. baseArgs, "--y", P("Y.npy")]);
        Assert.True(reg == 0, eReg);
        File.Delete(P("out.npy"));

        void Expect(int code, string fragment, params string[] args)
        {
            var (c, _, err) = Run(args);
            Assert.True(c == code, $"exit {c}, expected {code}: {err}");
            Assert.Contains(fragment, err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.False(File.Exists(P("out.npy")));
            Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        }

        Expect(2, "one target row per input row", [.. baseArgs, "--y", P("Y4.npy")]);
        Expect(2, "--time must be >= 0", [.. baseArgs, "--y", P("Y.npy"), "--time", "-1"]);
        Expect(2, "not a number", [.. baseArgs, "--y", P("Y.npy"), "--time", "soon"]);
        Expect(2, "columns", ["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("X2.npy"), "--params", P("net.npz"), "--out", P("out.npy")]);
        Expect(2, "--ensemble needs kernel options", [.. baseArgs, "--y", P("Y.npy"), "--ensemble"]);
        Expect(2, "cannot be combined", [.. baseArgs, "--y", P("Y.npy"), "--depth", "2"]);
        Expect(2, "3-D", ["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("X.npy"), "--params", P("net.npz"), "--time", "1,2", "--out", P("out.csv")]);
        Expect(2, "give the kernel", ["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("X.npy"), "--out", P("out.npy")]);
        Expect(2, "--regularization", [.. baseArgs, "--y", P("Y.npy"), "--regularization", "-3"]);
        // Duplicated training point: Θ̂ singular → t = ∞ fails (exit 1) unless regularised.
        string[] dupArgs = ["predict", "--x", P("Xdup.npy"), "--y", P("Y.npy"), "--x-test", P("X.npy"), "--params", P("net.npz"), "--out", P("out.npy"), "--quiet"];
        Expect(1, "singular", dupArgs);
        var (ok, _, e2) = Run([.. dupArgs, "--regularization", "1e-9"]);
        Assert.True(ok == 0, e2);
        Assert.True(File.Exists(P("out.npy")));
        File.Delete(P("out.npy"));
        var (finite, _, e3) = Run([.. dupArgs, "--time", "10"]);
        Assert.True(finite == 0, e3);
    }
}
