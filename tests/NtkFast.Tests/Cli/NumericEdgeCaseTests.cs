using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Numerical edge cases (issue #18 item 6) through `kernel`, `empirical` and `predict`: N = 1, d = 1,
/// subnormal inputs, ~1e308 inputs (xᵀx' overflows), all-zero X with β = 0, duplicate rows at t = ∞.
/// Each run either exits 0 with only finite values written, or fails with one line (exit 1 or 2) and
/// writes nothing — never NaN/Inf with exit 0.
/// </summary>
public sealed class NumericEdgeCaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-numerics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Csv(string name, string text)
    {
        string p = P(name);
        File.WriteAllText(p, text);
        return p;
    }

    private string Net(int inputs)
    {
        string net = P($"net{inputs}.npz");
        if (!File.Exists(net))
        {
            CliResult r = CliRunner.Run("init", "--widths", $"{inputs},8,1", "--activation", "relu", "--seed", "1", "--out", net, "--quiet");
            Assert.True(r.ExitCode == 0, r.StdErr);
        }
        return net;
    }

    private static CliResult Ntk(params string[] args) => CliRunner.Run([.. args, "--quiet"]);

    /// <summary>Exit 0 and a written file of finite values; returns them.</summary>
    private double[] AssertFinite(CliResult r, string output)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.StdErr}");
        double[] v = Npy.Read(output).Float64!;
        Assert.NotEmpty(v);
        Assert.All(v, x => Assert.True(double.IsFinite(x), $"non-finite value {x} written to {Path.GetFileName(output)}"));
        return v;
    }

    private void AssertFailedCleanly(CliResult r, int code, string contains, string output)
    {
        CliRunner.AssertCleanFailure(r, code, contains);
        Assert.False(File.Exists(output), "a failed run left " + output);
    }

    [Fact]
    public void One_point_in_one_dimension()
    {
        string x = Csv("x1.csv", "0.7\n"), y = Csv("y1.csv", "0.3\n");
        // Depth 2, ReLU, β = 0, σw = 1: Σ(1) = x², and E[relu(u)²] = Var(u)/2 gives Σ(2) = x²/2.
        double[] k = AssertFinite(Ntk("kernel", "--x", x, "--depth", "2", "--activation", "relu", "--beta", "0", "--out-nngp", P("s.npy")), P("s.npy"));
        Assert.Equal(0.245, k[0], 12);
        AssertFinite(Ntk("empirical", "--params", Net(1), "--x", x, "--out-ntk", P("e.npy")), P("e.npy"));
        // One training point at t = ∞ is interpolated exactly, by the infinite-width kernel and by the network.
        double[] p = AssertFinite(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--out", P("p.npy")), P("p.npy"));
        Assert.Equal(0.3, p[0], 12);
        double[] q = AssertFinite(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--params", Net(1), "--out", P("q.npy")), P("q.npy"));
        Assert.Equal(0.3, q[0], 12);
    }

    [Fact]
    public void Subnormal_inputs_give_finite_kernels_and_a_clear_singular_error_at_t_infinity()
    {
        string x = Csv("sub.csv", "5e-324,1e-310\n2e-320,-3e-315\n1e-308,0\n"), y = Csv("y.csv", "1\n2\n0.5\n");
        AssertFinite(Ntk("kernel", "--x", x, "--depth", "2", "--activation", "erf", "--beta", "0", "--out-ntk", P("t.npy")), P("t.npy"));
        AssertFinite(Ntk("empirical", "--params", Net(2), "--x", x, "--out-ntk", P("e.npy"), "--out-nngp", P("es.npy")), P("e.npy"));
        AssertFinite(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--time", "1", "--out", P("p1.npy")), P("p1.npy"));
        // The points are all ≈ 0: the Gram matrix is singular, and t = ∞ says so rather than dividing by ~0.
        AssertFailedCleanly(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--out", P("p.npy")),
            1, "singular", P("p.npy"));
    }

    [Fact]
    public void Inputs_near_the_float64_limit_are_refused_not_written_as_infinity()
    {
        string x = Csv("big.csv", "1e308,1e308\n-1e308,5e307\n1e307,1e308\n"), y = Csv("y.csv", "1\n2\n0.5\n");
        foreach (string act in (string[])["relu", "erf"])
            AssertFailedCleanly(Ntk("kernel", "--x", x, "--depth", "2", "--activation", act, "--out-ntk", P("t.npy")), 2, "too large for float64", P("t.npy"));
        AssertFailedCleanly(Ntk("empirical", "--params", Net(2), "--x", x, "--out-ntk", P("e.npy")), 1, "non-finite", P("e.npy"));
        AssertFailedCleanly(Ntk("empirical", "--monte-carlo", "2", "--widths", "2,16,1", "--activation", "relu", "--seed", "1", "--x", x, "--out-ntk", P("m.npy")),
            1, "non-finite", P("m.npy"));
        AssertFailedCleanly(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--out", P("p.npy")),
            2, "too large for float64", P("p.npy"));
        AssertFailedCleanly(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--ensemble", "--out", P("p.npy")),
            2, "too large for float64", P("p.npy"));
        AssertFailedCleanly(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--params", Net(2), "--out", P("p.npy")), 1, "non-finite", P("p.npy"));
    }

    [Fact]
    public void All_zero_inputs_with_beta_zero()
    {
        string x = Csv("zero.csv", "0,0,0\n0,0,0\n0,0,0\n0,0,0\n"), y = Csv("y.csv", "1\n1\n1\n1\n");
        foreach (string act in (string[])["relu", "erf", "tanh"])
        {
            double[] k = AssertFinite(Ntk("kernel", "--x", x, "--depth", "3", "--activation", act, "--beta", "0", "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy")), P("t.npy"));
            Assert.All(k, v => Assert.Equal(0.0, v)); // every pre-activation is exactly 0
            AssertFinite(new CliResult(0, "", ""), P("s.npy"));
            File.Delete(P("t.npy"));
        }
        AssertFinite(Ntk("empirical", "--params", Net(3), "--x", x, "--out-ntk", P("e.npy"), "--outputs", "full"), P("e.npy"));
        AssertFinite(Ntk("empirical", "--monte-carlo", "2", "--widths", "3,16,1", "--activation", "relu", "--seed", "1", "--beta", "0", "--x", x, "--out-ntk", P("m.npy")), P("m.npy"));
        // Θ = 0: at finite t nothing is learnt (f_t = f_0 = 0); at t = ∞ the zero kernel cannot be inverted.
        double[] p = AssertFinite(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--beta", "0", "--time", "5", "--out", P("p5.npy")), P("p5.npy"));
        Assert.All(p, v => Assert.Equal(0.0, v));
        AssertFailedCleanly(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--beta", "0", "--out", P("p.npy")),
            1, "singular", P("p.npy"));
    }

    [Fact]
    public void Duplicate_rows_at_t_infinity_are_a_clear_error_and_regularised_give_the_mean_label()
    {
        string x = Csv("dup.csv", "0.1,0.2\n0.1,0.2\n0.3,-0.5\n"), y = Csv("y.csv", "1\n2\n0.5\n");
        double[] k = AssertFinite(Ntk("kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("t.npy")), P("t.npy"));
        Assert.Equal(k[0], k[1]); // rows 0 and 1 are the same point
        AssertFinite(Ntk("empirical", "--params", Net(2), "--x", x, "--out-ntk", P("e.npy")), P("e.npy"));
        foreach (string[] kernel in new[] { new[] { "--depth", "2", "--activation", "relu" }, ["--depth", "2", "--activation", "erf"], ["--params", Net(2)] })
        {
            AssertFailedCleanly(Ntk(["predict", "--x", x, "--y", y, "--x-test", x, .. kernel, "--out", P("p.npy")]), 1, "regularisation", P("p.npy"));
            // With a small ridge the two copies share the mean of their labels, 1.5; the third point keeps its own.
            double[] p = AssertFinite(Ntk(["predict", "--x", x, "--y", y, "--x-test", x, .. kernel, "--regularization", "1e-10", "--out", P("r.npy")]), P("r.npy"));
            Assert.Equal(1.5, p[0], 5);
            Assert.Equal(1.5, p[1], 5);
            Assert.Equal(0.5, p[2], 5);
            File.Delete(P("r.npy"));
        }
        AssertFailedCleanly(Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--ensemble", "--out", P("p.npy")),
            1, "regularisation", P("p.npy"));
    }
}
