using NtkFast.Activations;
using NtkFast.Cli;
using NtkFast.Dynamics;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli.Commands;

/// <summary>
/// `ntk predict` from precomputed Gram matrices (--kernel-train/--kernel-test, --nngp-*), in-process
/// through Program.Main (console captured, so in the serial CLI collection): against the analytic mode,
/// against a dense reference solve written here, the covariance's properties, and every bad input.
/// </summary>
[Collection("NetworksCli")]
public sealed class PredictFromKernelsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-predict-k-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly string[] Spec = ["--depth", "3", "--activation", "relu", "--beta", "0.1"];

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

    private static void Ok(params string[] args)
    {
        var (code, _, err) = Run([.. args, "--quiet"]);
        Assert.True(code == 0, $"ntk {string.Join(' ', args)}: exit {code}: {err}");
    }

    private static Matrix RandomMatrix(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var m = new Matrix(rows, cols);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = rng.NextDouble() * 2 - 1;
        return m;
    }

    private void Save(string name, Matrix m) => MatrixFile.Write(P(name), m);

    private double[] Load(string name) => Npy.Read(P(name)).ToDoubleArray();

    private int[] ShapeOf(string name) => Npy.Read(P(name)).Shape;

    private static void AssertClose(double[] expect, double[] got, double rel, string what)
    {
        Assert.Equal(expect.Length, got.Length);
        double scale = 0, worst = 0;
        foreach (double v in expect) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < expect.Length; i++) worst = Math.Max(worst, Math.Abs(expect[i] - got[i]));
        Assert.True(worst <= rel * scale + 1e-300, $"{what}: max deviation {worst:G3} against scale {scale:G3} (allowed relative {rel:G1})");
    }

    /// <summary>7 training points, 4 test points, 2 outputs; the kernels written by `ntk kernel` (the training one out of core, in tiles).</summary>
    private void WriteKernels()
    {
        Save("X.npy", RandomMatrix(7, 3, 60));
        Save("Y.npy", RandomMatrix(7, 2, 61));
        Save("XT.npy", RandomMatrix(4, 3, 62));
        Ok(["kernel", "--x", P("X.npy"), .. Spec, "--out-ntk", P("K.npy"), "--out-nngp", P("S.npy"), "--out-of-core", "--tile", "3"]);
        Ok(["kernel", "--x", P("XT.npy"), "--x2", P("X.npy"), .. Spec, "--out-ntk", P("KX.npy"), "--out-nngp", P("SX.npy")]);
        Ok(["kernel", "--x", P("XT.npy"), .. Spec, "--out-nngp", P("SXX.npy")]);
        double[] sxx = Load("SXX.npy");
        var diag = new double[4];
        for (int i = 0; i < 4; i++) diag[i] = sxx[i * 4 + i];
        Npy.Write(P("SXXd.npy"), NpyArray.FromFloat64(diag, 4));   // 1-D, as numpy.diag writes it
    }

    private string[] Analytic => ["predict", "--x", P("X.npy"), "--y", P("Y.npy"), "--x-test", P("XT.npy"), .. Spec];

    private string[] Files => ["predict", "--kernel-train", P("K.npy"), "--kernel-test", P("KX.npy"), "--y", P("Y.npy")];

    private string[] NngpFiles => ["--nngp-train", P("S.npy"), "--nngp-test", P("SX.npy")];

    [Theory]
    [InlineData("inf")]
    [InlineData("5")]
    [InlineData("0.5,5,inf")]
    public void KernelFilesFromNtkKernel_EqualAnalyticMode(string time)
    {
        WriteKernels();
        int t = time.Split(',').Length;
        // Mean prediction (f_0 = 0) and the training-point predictions.
        Ok([.. Analytic, "--time", time, "--out", P("A.npy"), "--out-train", P("AT.npy")]);
        Ok([.. Files, "--time", time, "--out", P("B.npy"), "--out-train", P("BT.npy")]);
        Assert.Equal(t == 1 ? [4, 2] : [t, 4, 2], ShapeOf("B.npy"));
        Assert.Equal(t == 1 ? [7, 2] : [t, 7, 2], ShapeOf("BT.npy"));
        AssertClose(Load("A.npy"), Load("B.npy"), 1e-12, "mean");
        AssertClose(Load("AT.npy"), Load("BT.npy"), 1e-12, "train");

        // The infinite ensemble: mean, std, full covariance.
        Ok([.. Analytic, "--time", time, "--ensemble", "--out", P("EA.npy"), "--out-std", P("EAs.npy"), "--out-cov", P("EAc.npy")]);
        Ok([.. Files, .. NngpFiles, "--nngp-test-test", P("SXX.npy"), "--time", time, "--out", P("EB.npy"), "--out-std", P("EBs.npy"), "--out-cov", P("EBc.npy")]);
        Assert.Equal(t == 1 ? [4, 4] : [t, 4, 4], ShapeOf("EBc.npy"));
        AssertClose(Load("EA.npy"), Load("EB.npy"), 1e-12, "ensemble mean");
        AssertClose(Load("EAs.npy"), Load("EBs.npy"), 1e-12, "ensemble std");
        AssertClose(Load("EAc.npy"), Load("EBc.npy"), 1e-12, "ensemble covariance");
        // Variances only from the diagonal (1-D file); the std is written to <out>.std.npy by default.
        Ok([.. Files, .. NngpFiles, "--nngp-test-diag", P("SXXd.npy"), "--time", time, "--out", P("ED.npy")]);
        AssertClose(Load("EBs.npy"), Load("ED.std.npy"), 1e-12, "std from the diagonal");
        AssertClose(Load("EB.npy"), Load("ED.npy"), 1e-12, "mean with the diagonal");
        // The ensemble's mean is the mean prediction.
        AssertClose(Load("A.npy"), Load("EB.npy"), 1e-9, "ensemble mean vs mean prediction");
    }

    [Fact]
    public void NngpPosterior_FromFiles_EqualsAnalytic()
    {
        WriteKernels();
        Ok([.. Analytic, "--posterior", "nngp", "--out", P("A.npy"), "--out-std", P("As.npy"), "--out-cov", P("Ac.npy"), "--out-train", P("AT.npy")]);
        Ok(["predict", .. NngpFiles, "--nngp-test-test", P("SXX.npy"), "--y", P("Y.npy"), "--posterior", "nngp",
            "--out", P("B.npy"), "--out-std", P("Bs.npy"), "--out-cov", P("Bc.npy"), "--out-train", P("BT.npy")]);
        AssertClose(Load("A.npy"), Load("B.npy"), 1e-12, "mean");
        AssertClose(Load("As.npy"), Load("Bs.npy"), 1e-12, "std");
        AssertClose(Load("Ac.npy"), Load("Bc.npy"), 1e-12, "covariance");
        AssertClose(Load("AT.npy"), Load("BT.npy"), 1e-12, "train");
    }

    // ------------------------------------------------------------------ independent references

    /// <summary>Solves A·X = B by Gaussian elimination with partial pivoting (test-local; A n×n, B n×k, row-major).</summary>
    private static double[,] Solve(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), k = b.GetLength(1);
        var m = (double[,])a.Clone();
        var x = (double[,])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[p, c])) p = r;
            for (int j = 0; j < n; j++) (m[c, j], m[p, j]) = (m[p, j], m[c, j]);
            for (int j = 0; j < k; j++) (x[c, j], x[p, j]) = (x[p, j], x[c, j]);
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                for (int j = c; j < n; j++) m[r, j] -= f * m[c, j];
                for (int j = 0; j < k; j++) x[r, j] -= f * x[c, j];
            }
        }
        for (int c = n - 1; c >= 0; c--)
            for (int j = 0; j < k; j++)
            {
                double s = x[c, j];
                for (int q = c + 1; q < n; q++) s -= m[c, q] * x[q, j];
                x[c, j] = s / m[c, c];
            }
        return x;
    }

    /// <summary>Squared-exponential kernel between point sets (test-local: no library code).</summary>
    private static Matrix Rbf(Matrix a, Matrix b, double length)
    {
        var k = new Matrix(a.Rows, b.Rows);
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < b.Rows; j++)
            {
                double d = 0;
                for (int c = 0; c < a.Cols; c++) d += (a[i, c] - b[j, c]) * (a[i, c] - b[j, c]);
                k[i, j] = Math.Exp(-d / (2 * length * length));
            }
        return k;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void NngpPosterior_MatchesDenseGaussianElimination(double noise)
    {
        int n = 9, m = 5, kk = 2;
        Matrix x = RandomMatrix(n, 2, 70), xt = RandomMatrix(m, 2, 71), y = RandomMatrix(n, kk, 72);
        Matrix s = Rbf(x, x, 0.5), sx = Rbf(xt, x, 0.5), sxx = Rbf(xt, xt, 0.5);
        Save("S.npy", s);
        Save("SX.npy", sx);
        Save("SXX.npy", sxx);
        Save("Y.npy", y);
        string[] reg = noise == 0 ? [] : ["--regularization", "abs:0.1"];
        Ok(["predict", "--nngp-train", P("S.npy"), "--nngp-test", P("SX.npy"), "--nngp-test-test", P("SXX.npy"), "--y", P("Y.npy"),
            "--posterior", "nngp", .. reg, "--out", P("M.npy"), "--out-cov", P("C.npy"), "--out-train", P("T.npy")]);
        double[] mean = Load("M.npy"), cov = Load("C.npy"), std = Load("M.std.npy"), train = Load("T.npy");

        var a = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) a[i, j] = s[i, j] + (i == j ? noise : 0);
        var rhs = new double[n, kk + m];   // [Y | Σ(X,X*)]
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < kk; c++) rhs[i, c] = y[i, c];
            for (int c = 0; c < m; c++) rhs[i, kk + c] = sx[c, i];
        }
        double[,] z = Solve(a, rhs);
        var expectMean = new double[m * kk];
        var expectCov = new double[m * m];
        for (int i = 0; i < m; i++)
        {
            for (int c = 0; c < kk; c++)
                for (int j = 0; j < n; j++) expectMean[i * kk + c] += sx[i, j] * z[j, c];
            for (int q = 0; q < m; q++)
            {
                double v = sxx[i, q];
                for (int j = 0; j < n; j++) v -= sx[i, j] * z[j, kk + q];
                expectCov[i * m + q] = v;
            }
        }
        AssertClose(expectMean, mean, 1e-9, "posterior mean");
        AssertClose(expectCov, cov, 1e-9, "posterior covariance");
        for (int i = 0; i < m; i++)
            for (int c = 0; c < kk; c++) Assert.Equal(Math.Sqrt(Math.Max(0, expectCov[i * m + i])), std[i * kk + c], 1e-7);
        // Training points: Σ(Σ+ρI)⁻¹Y = Y − ρ(Σ+ρI)⁻¹Y.
        var expectTrain = new double[n * kk];
        for (int i = 0; i < n; i++) for (int c = 0; c < kk; c++) expectTrain[i * kk + c] = y[i, c] - noise * z[i, c];
        AssertClose(expectTrain, train, 1e-9, "posterior mean at the training points");
    }

    /// <summary>True when C + jitter·I has a Cholesky factor (test-local), i.e. C is PSD up to round-off.</summary>
    private static bool IsPsd(double[] c, int m, double jitter)
    {
        var l = new double[m, m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = c[i * m + j] + (i == j ? jitter : 0);
                for (int p = 0; p < j; p++) s -= l[i, p] * l[j, p];
                if (i == j)
                {
                    if (s <= 0) return false;
                    l[i, i] = Math.Sqrt(s);
                }
                else l[i, j] = s / l[j, j];
            }
        return true;
    }

    [Fact]
    public void Covariance_IsSymmetricPsd_DiagonalIsStdSquared()
    {
        WriteKernels();
        Ok([.. Files, .. NngpFiles, "--nngp-test-test", P("SXX.npy"), "--time", "0,2,inf", "--out", P("E.npy"), "--out-std", P("Es.npy"), "--out-cov", P("Ec.npy")]);
        Ok(["predict", .. NngpFiles, "--nngp-test-test", P("SXX.npy"), "--y", P("Y.npy"), "--posterior", "nngp",
            "--out", P("G.npy"), "--out-std", P("Gs.npy"), "--out-cov", P("Gc.npy")]);
        const int m = 4, k = 2;
        foreach ((string covName, string stdName, int times) in new[] { ("Ec.npy", "Es.npy", 3), ("Gc.npy", "Gs.npy", 1) })
        {
            double[] cov = Load(covName), std = Load(stdName);
            for (int q = 0; q < times; q++)
            {
                double[] c = cov.AsSpan(q * m * m, m * m).ToArray();
                double scale = 0;
                for (int i = 0; i < m; i++) scale = Math.Max(scale, Math.Abs(c[i * m + i]));
                Assert.True(scale > 0, $"{covName}[{q}]: zero covariance");
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < m; j++) Assert.Equal(c[i * m + j], c[j * m + i], 1e-14 * scale);
                    for (int o = 0; o < k; o++) Assert.Equal(c[i * m + i], Math.Pow(std[q * m * k + i * k + o], 2), 1e-12 * scale);
                }
                Assert.True(IsPsd(c, m, 1e-10 * scale), $"{covName}[{q}] is not positive semi-definite");
                // The check can fail: a matrix with a negative direction is rejected.
                double[] bad = (double[])c.Clone();
                bad[0] -= 2 * scale;
                Assert.False(IsPsd(bad, m, 1e-10 * scale));
            }
        }
        // t = 0: the prior Σ(X*,X*) itself.
        AssertClose(Load("SXX.npy"), Load("Ec.npy").AsSpan(0, m * m).ToArray(), 1e-12, "t = 0 covariance");
    }

    [Fact]
    public void TrainPredictions_AtInfinity_ReproduceTargets()
    {
        WriteKernels();
        Ok([.. Files, "--out", P("P.npy"), "--out-train", P("T.npy")]);
        AssertClose(Load("Y.npy"), Load("T.npy"), 1e-8, "f_inf(X) = Y");
        // A finite time does not interpolate yet (so the check above can fail).
        Ok([.. Files, "--time", "0.5", "--out", P("P2.npy"), "--out-train", P("T2.npy")]);
        double[] y = Load("Y.npy"), t2 = Load("T2.npy");
        double dev = 0;
        for (int i = 0; i < y.Length; i++) dev = Math.Max(dev, Math.Abs(y[i] - t2[i]));
        Assert.True(dev > 1e-3, $"t = 0.5 already interpolates ({dev:G3})");
        // With --labels the accuracies come from the same training predictions.
        var labels = new Matrix(7, 1);
        for (int i = 0; i < 7; i++) labels[i, 0] = i % 3;
        Save("L.npy", labels);
        var (code, stdout, err) = Run([.. Files[..^2], "--y", P("L.npy"), "--labels", "--out", P("S.npy"), "--quiet"]);
        Assert.True(code == 0, err);
        Assert.Contains("t=inf: train accuracy 1.0000", stdout);
    }

    [Fact]
    public void Float32Kernels_AreAccepted()
    {
        WriteKernels();
        foreach (string name in new[] { "K", "KX" })
        {
            double[] d = Load(name + ".npy");
            Npy.Write(P(name + "32.npy"), NpyArray.FromFloat32(Array.ConvertAll(d, v => (float)v), ShapeOf(name + ".npy")));
        }
        Ok([.. Files, "--time", "5", "--out", P("A.npy")]);
        Ok(["predict", "--kernel-train", P("K32.npy"), "--kernel-test", P("KX32.npy"), "--y", P("Y.npy"), "--time", "5", "--out", P("B.npy")]);
        AssertClose(Load("A.npy"), Load("B.npy"), 1e-4, "float32 kernels");
    }

    // ------------------------------------------------------------------ bad input

    [Fact]
    public void BadInput_OneLine_ExitTwo_NothingWritten()
    {
        WriteKernels();
        Mlp<double> net = Mlp<double>.Initialize(new MlpArchitecture([3, 5, 2], ActivationRegistry.Parse("identity"), beta: 0.1), 3);
        MlpFile.Write(P("net.npz"), net);
        Matrix k = MatrixFile.Read(P("K.npy"));
        Save("Krect.npy", new Matrix(7, 6, k.Data.AsSpan(0, 42).ToArray()));
        Matrix asym = MatrixFile.Read(P("K.npy"));
        asym[5, 2] += 1e-3 * asym[5, 5];
        Save("Kasym.npy", asym);
        double[] nan = (double[])k.Data.Clone();
        nan[3 * 7 + 1] = double.NaN;
        Npy.Write(P("Knan.npy"), NpyArray.FromFloat64(nan, 7, 7));
        Matrix kx = MatrixFile.Read(P("KX.npy"));
        Save("KX6.npy", new Matrix(4, 6, kx.Data.AsSpan(0, 24).ToArray()));
        Save("Y6.npy", RandomMatrix(6, 2, 80));
        Save("SX3.npy", new Matrix(3, 7, MatrixFile.Read(P("SX.npy")).Data.AsSpan(0, 21).ToArray()));
        Save("S6.npy", new Matrix(6, 6, new double[36]));
        Npy.Write(P("SXXd3.npy"), NpyArray.FromFloat64([1.0, 1.0, 1.0], 3));
        string[] outs = ["--out", P("out.npy"), "--out-std", P("out.std.npy"), "--out-train", P("out.train.npy")];
        string[] files = ["predict", "--kernel-train", P("K.npy"), "--kernel-test", P("KX.npy"), "--y", P("Y.npy"), .. outs];

        // Sanity: the base command works, and its outputs are removed again.
        Ok([.. files[..^2], "--out-cov", P("out.cov.npy"), .. NngpFiles, "--nngp-test-test", P("SXX.npy")]);
        foreach (string f in Directory.GetFiles(_dir, "out*")) File.Delete(f);

        void Expect(string[] fragments, params string[] args)
        {
            var (c, _, err) = Run(args);
            Assert.True(c == 2, $"exit {c}, expected 2: {err}");
            foreach (string fragment in fragments) Assert.Contains(fragment, err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.StartsWith("ntk predict: ", err);
            Assert.Empty(Directory.GetFiles(_dir, "out*"));
            Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
        }

        string K(string n) => P(n + ".npy");
        string[] Kernels(string train, string test, string y) =>
            ["predict", "--kernel-train", K(train), "--kernel-test", K(test), "--y", K(y), "--out", P("out.npy"), "--out-train", P("out.train.npy")];

        // Mixing modes.
        Expect(["--x cannot be combined with precomputed kernels"], [.. files, "--x", P("X.npy")]);
        Expect(["--x-test cannot be combined"], [.. files, "--x-test", P("XT.npy")]);
        Expect(["--depth cannot be combined"], [.. files, "--depth", "3"]);
        Expect(["--activation cannot be combined"], [.. files, "--activation", "relu"]);
        Expect(["--params cannot be combined"], [.. files, "--params", P("net.npz")]);
        Expect(["--x cannot be combined", "--nngp-train"], ["predict", .. Analytic[1..], "--nngp-train", P("S.npy"), "--out", P("out.npy")]);
        // Missing companions.
        Expect(["--nngp-test needs --nngp-train"], [.. files, "--nngp-test", P("SX.npy"), "--nngp-test-diag", P("SXXd.npy")]);
        Expect(["--nngp-train needs --nngp-test"], [.. files, "--nngp-train", P("S.npy"), "--nngp-test-diag", P("SXXd.npy")]);
        Expect(["--kernel-train needs --kernel-test"], ["predict", "--kernel-train", K("K"), "--y", K("Y"), "--out", P("out.npy")]);
        Expect(["--kernel-test needs --kernel-train"], ["predict", "--kernel-test", K("KX"), "--y", K("Y"), "--out", P("out.npy")]);
        Expect(["--nngp-test-diag needs --nngp-train and --nngp-test"], [.. files, "--nngp-test-diag", P("SXXd.npy")]);
        Expect(["also needs --nngp-test-diag"], [.. files, .. NngpFiles]);
        Expect(["--out-std needs --nngp-train"], files);
        Expect(["--out-cov needs the full test block --nngp-test-test"], [.. files, .. NngpFiles, "--nngp-test-diag", P("SXXd.npy"), "--out-cov", P("out.cov.npy")]);
        Expect(["not both"], [.. files, .. NngpFiles, "--nngp-test-diag", P("SXXd.npy"), "--nngp-test-test", P("SXX.npy")]);
        Expect(["--posterior nngp needs --nngp-train and --nngp-test"], [.. Kernels("K", "KX", "Y"), "--posterior", "nngp"]);
        Expect(["--posterior nngp uses only the NNGP kernel"], [.. Kernels("K", "KX", "Y"), .. NngpFiles, "--posterior", "nngp"]);
        Expect(["has no time", "--time 5"], ["predict", .. NngpFiles, "--y", K("Y"), "--posterior", "nngp", "--time", "5", "--out", P("out.npy")]);
        Expect(["--ensemble with precomputed kernels needs"], [.. Kernels("K", "KX", "Y"), "--ensemble"]);
        Expect(["--posterior", "'gp'"], [.. Kernels("K", "KX", "Y"), "--posterior", "gp"]);
        Expect(["--out-cov needs --ensemble"], [.. Analytic, "--out", P("out.npy"), "--out-cov", P("out.cov.npy")]);
        // Shapes: each message names the files and their shapes.
        Expect(["--kernel-train " + K("Krect"), "(7, 6)", "must be square"], Kernels("Krect", "KX", "Y"));
        Expect(["--kernel-train " + K("Kasym"), "(7, 7)", "not symmetric", "(5, 2)"], Kernels("Kasym", "KX", "Y"));
        Expect(["--kernel-test " + K("KX6"), "(4, 6)", "--kernel-train " + K("K"), "(7, 7)", "one column per training point (7)"], Kernels("K", "KX6", "Y"));
        Expect(["--y " + K("Y6"), "6 rows", "--kernel-train " + K("K"), "(7, 7)"], Kernels("K", "KX", "Y6"));
        Expect(["--kernel-train " + K("Knan"), "NaN", "row 3, column 1"], Kernels("Knan", "KX", "Y"));
        Expect(["--nngp-test " + K("SX3"), "(3, 7)", "--kernel-test " + K("KX"), "(4, 7)"],
            [.. Kernels("K", "KX", "Y"), "--nngp-train", K("S"), "--nngp-test", K("SX3"), "--nngp-test-diag", K("SXXd")]);
        Expect(["--nngp-train " + K("S6"), "(6, 6)", "(7, 7)"],
            [.. Kernels("K", "KX", "Y"), "--nngp-train", K("S6"), "--nngp-test", K("SX"), "--nngp-test-diag", K("SXXd")]);
        Expect(["--nngp-test-diag " + K("SXXd3"), "(3, 1)", "(4, 7)"],
            [.. Kernels("K", "KX", "Y"), "--nngp-train", K("S"), "--nngp-test", K("SX"), "--nngp-test-diag", K("SXXd3")]);
        Expect(["--nngp-test-test " + K("S"), "(7, 7)", "(4, 4)"],
            [.. Kernels("K", "KX", "Y"), "--nngp-train", K("S"), "--nngp-test", K("SX"), "--nngp-test-test", K("S")]);
        // Outputs: not an input, not twice.
        Expect(["is also an input"], ["predict", "--kernel-train", K("K"), "--kernel-test", K("KX"), "--y", K("Y"), "--out", P("out.npy"), "--out-train", K("K")]);
        Expect(["name the same file"], ["predict", "--kernel-train", K("K"), "--kernel-test", K("KX"), "--y", K("Y"), "--out", P("out.npy"), "--out-train", P("out.npy")]);
        // The inputs are untouched by all of this.
        Assert.Equal(k.Data, MatrixFile.Read(P("K.npy")).Data);
    }

    [Fact]
    public void SingularKernel_AtInfinity_ExitOne_RegularisationFixes()
    {
        WriteKernels();
        // Training point 6 duplicated as point 5: rows/columns 5 and 6 of K equal.
        Matrix k = MatrixFile.Read(P("K.npy")), kx = MatrixFile.Read(P("KX.npy"));
        for (int j = 0; j < 7; j++) { k[5, j] = k[6, j]; }
        for (int i = 0; i < 7; i++) { k[i, 5] = k[i, 6]; }
        for (int i = 0; i < 4; i++) kx[i, 5] = kx[i, 6];
        Save("Kd.npy", k);
        Save("KXd.npy", kx);
        string[] a = ["predict", "--kernel-train", P("Kd.npy"), "--kernel-test", P("KXd.npy"), "--y", P("Y.npy"), "--out", P("out.npy"), "--quiet"];
        var (c, _, err) = Run(a);
        Assert.True(c == 1, err);
        Assert.Contains("singular", err);
        Assert.False(File.Exists(P("out.npy")));
        Ok([.. a[..^1], "--regularization", "1e-9"]);
    }
}
