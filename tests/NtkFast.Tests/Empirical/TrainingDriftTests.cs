using NtkFast.Activations;
using NtkFast.Empirical;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Empirical;

/// <summary>Lazy training: kernel and weight movement after a fixed training time shrink like 1/√width.</summary>
public sealed class TrainingDriftTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-drift-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (Matrix X, Matrix Y) Data()
    {
        var x = new Matrix(8, 4, EmpiricalKernelTests.Random(32, 11, 1.5));
        var y = new Matrix(8, 1, EmpiricalKernelTests.Random(8, 12));
        return (x, y);
    }

    [Fact]
    public void KernelAndWeightMovementShrinkLikeInverseSqrtWidth()
    {
        var (x, y) = Data();
        int[] widths = [64, 256, 1024];
        var km = new double[3];
        var wm = new double[3];
        var wl = new double[3];
        for (int i = 0; i < widths.Length; i++)
        {
            double kSum = 0, wSum = 0, lSum = 0;
            const int seeds = 3;
            for (int s = 0; s < seeds; s++)
            {
                var arch = new MlpArchitecture([4, widths[i], widths[i], 1], ActivationRegistry.Parse("relu"), beta: 0.1);
                List<DriftRecord> r = TrainingDrift.Run<double>(arch, x, y, 1.0, 20, 10, (ulong)(7 + s));
                Assert.Equal([0, 10, 20], r.Select(d => d.Step));
                Assert.Equal(0, r[0].KernelMoveOp);
                Assert.All(r[0].WeightMove, v => Assert.Equal(0, v));
                Assert.True(r[^1].Cost < r[0].Cost);
                kSum += r[^1].KernelMoveOp;
                wSum += r[^1].WeightMove[1];
                lSum += r[^1].WeightMove[2];
            }
            (km[i], wm[i], wl[i]) = (kSum / seeds, wSum / seeds, lSum / seeds);
            output.WriteLine($"width {widths[i]}: kernel move {km[i]:G4}, weight move layer 1 {wm[i]:G4}, layer 2 {wl[i]:G4}");
        }
        double[] lw = widths.Select(w => (double)w).ToArray();
        double sk = TrainingDrift.LogLogSlope(lw, km), sw = TrainingDrift.LogLogSlope(lw, wm), sl = TrainingDrift.LogLogSlope(lw, wl);
        output.WriteLine($"slopes: kernel {sk:F3}, W(1) {sw:F3}, W(2) {sl:F3}");
        // Theorem 2 bounds the kernel's movement by O(1/√n); here it shrinks a little faster (≈ n^-0.77 at
        // these widths, 3 seeds), so check "at least 1/√n up to Monte Carlo noise, at most 1/n".
        Assert.InRange(sk, -1.1, -0.3);
        Assert.InRange(sw, -0.8, -0.3);
        Assert.InRange(sl, -0.8, -0.3);
    }

    [Fact]
    public void WeightOperatorNormMatchesDenseSingularValue()
    {
        var arch = new MlpArchitecture([5, 9, 3], ActivationRegistry.Parse("relu"));
        var net = Mlp<double>.Initialize(arch, 4);
        var zero = new double[arch.ParameterCount];
        foreach (int l in new[] { 0, 1 })
        {
            int rows = arch.Width(l + 1), cols = arch.Width(l);
            // WᵀW (cols×cols) eigenvalues by the dense solver: σ_max² is the largest
            var g = new Matrix(cols, cols);
            Span<double> w = net.Weights(l);
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < cols; j++)
                {
                    double s = 0;
                    for (int t = 0; t < rows; t++) s += w[t * cols + i] * w[t * cols + j];
                    g[i, j] = s;
                }
            double expected = Math.Sqrt(SymmetricEigen.Eigenvalues(g).Max());
            Assert.Equal(expected, TrainingDrift.WeightOperatorNorm(net, zero, l, difference: true), 1e-10 * expected);
            Assert.Equal(expected, TrainingDrift.WeightOperatorNorm(net, zero, l, difference: false), 1e-10 * expected);
        }
    }

    [Fact]
    public void DriftCli_WritesCsvAndSlopes()
    {
        var (x, y) = Data();
        Npy.Write(Path.Combine(_dir, "X.npy"), NpyArray.FromMatrix(x));
        Npy.Write(Path.Combine(_dir, "Y.npy"), NpyArray.FromMatrix(y));
        string report = Path.Combine(_dir, "d.csv");
        CliResult r = CliRunner.Run("drift", "--x", Path.Combine(_dir, "X.npy"), "--y", Path.Combine(_dir, "Y.npy"), "--depth", "3",
            "--hidden", "32,128", "--activation", "relu", "--seed", "7", "--lr", "1", "--steps", "6", "--every", "3", "--report", report);
        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] lines = File.ReadAllLines(report);
        Assert.Equal("width,step,cost,ntk_op,kernel_move_op,kernel_move_frobenius,weight_move_0,weight_move_1,weight_move_2,weight_rel_0,weight_rel_1,weight_rel_2", lines[0]);
        Assert.Equal(1 + 2 * 3, lines.Length);
        Assert.StartsWith("128,6,", lines[^1], StringComparison.Ordinal);
        Assert.Contains("log-log slope", r.StdOut, StringComparison.Ordinal);
        // the width-32 rows equal the library's
        var arch = new MlpArchitecture([4, 32, 32, 1], ActivationRegistry.Parse("relu"), beta: 0.1);
        DriftRecord lib = TrainingDrift.Run<double>(arch, x, y, 1.0, 6, 3, 7)[^1];
        Assert.StartsWith($"32,6,{lib.Cost.ToString("R", System.Globalization.CultureInfo.InvariantCulture)},", lines[3], StringComparison.Ordinal);

        CliResult bad = CliRunner.Run("drift", "--x", Path.Combine(_dir, "X.npy"), "--y", Path.Combine(_dir, "X.npy"), "--depth", "3",
            "--hidden", "32,0", "--activation", "relu", "--seed", "7", "--lr", "1", "--steps", "6", "--report", Path.Combine(_dir, "bad.csv"));
        CliRunner.AssertCleanFailure(bad, 2, "--hidden");
        Assert.False(File.Exists(Path.Combine(_dir, "bad.csv")));
    }
}
