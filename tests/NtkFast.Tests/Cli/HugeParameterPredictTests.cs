using System.Globalization;
using NtkFast.IO;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Cli;

/// <summary>
/// `ntk predict --params` with a float64 network whose weights are around 1e38 (big, finite; issue #18 row 6): the
/// outputs are finite and correct, or the run fails in one line with a non-zero exit — never a NaN written. A relu
/// network without biases is positively homogeneous, so with every weight scaled by c = 2^126 (≈ 8.5e37, a power of
/// two: the scaling itself is exact) f_0 scales by c^L and Θ̂ by c^(2L−2), and for Y = 0 the prediction at any time
/// is c^L times the unscaled network's at a time c^(2L−2) larger — at t = ∞, c^L times its prediction at t = ∞.
/// </summary>
public sealed class HugeParameterPredictTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-huge-params-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly double C = Math.ScaleB(1.0, 126);

    private void Points(string path, int n, int d, int seed)
    {
        var rng = new Random(seed);
        File.WriteAllLines(path, Enumerable.Range(0, n).Select(_ => string.Join(',', Enumerable.Range(0, d).Select(_ => (rng.NextDouble() * 2 - 1).ToString("R", CultureInfo.InvariantCulture)))));
    }

    /// <summary>`ntk init` (float64, β as given), then a copy with every W scaled by <paramref name="scale"/>.</summary>
    private (string Net, string Scaled) Networks(string widths, string activation, double beta, double scale, string? scaledActivation = null)
    {
        string net = P($"net-{activation}-{widths.Replace(',', '_')}.npz"), scaled = net.Replace(".npz", $"-scaled{scaledActivation}.npz", StringComparison.Ordinal);
        CliResult r = CliRunner.Run("init", "--widths", widths, "--activation", activation, "--beta", beta.ToString("R", CultureInfo.InvariantCulture), "--seed", "5", "--out", net, "--quiet");
        Assert.True(r.ExitCode == 0, r.StdErr);
        var arrays = new List<KeyValuePair<string, NpyArray>>();
        using (NpzArchive a = Npz.Open(net))
            foreach (string key in a.Names)
            {
                NpyArray v = a[key];
                if (key.StartsWith('W')) v = NpyArray.FromFloat64(v.Float64!.Select(w => w * scale).ToArray(), v.Shape);
                if (key == "activation" && scaledActivation is not null) v = NpyArray.FromText(scaledActivation);
                arrays.Add(new(key, v));
            }
        Npz.Write(scaled, arrays);
        double maxAbs;
        using (NpzArchive b = Npz.Open(scaled)) maxAbs = b.Names.Where(k => k.StartsWith('W')).SelectMany(k => b[k].Float64!).Max(Math.Abs);
        Assert.InRange(maxAbs, 1e37, 1e39); // "around 1e38", finite
        return (net, scaled);
    }

    private static double[] Predict(CliResult r, string output)
    {
        Assert.True(r.ExitCode == 0, r.StdErr);
        return Npy.Read(output).Float64!;
    }

    [Theory]
    [InlineData("3,16,1", 2)]
    [InlineData("3,16,16,16,1", 4)]
    [InlineData("3,8,8,8,8,1", 5)]
    public void Relu_network_with_weights_near_1e38_predicts_c_to_the_L_times_the_unscaled_network(string widths, int depth)
    {
        string x = P("x.csv"), xt = P("xt.csv"), y0 = P("y0.csv");
        Points(x, 6, 3, 1);
        Points(xt, 4, 3, 2);
        File.WriteAllLines(y0, Enumerable.Repeat("0", 6));
        (string net, string scaled) = Networks(widths, "relu", 0, C);
        // t = 1 on the scaled network is t = c^(2L−2) ≥ 2^252 on the unscaled one: there, t = ∞
        foreach ((string time, string baseTime) in ((string, string)[])[("inf", "inf"), ("0", "0"), ("1", "inf")])
        {
            double[] want = Predict(CliRunner.Run("predict", "--params", net, "--x", x, "--y", y0, "--x-test", xt, "--time", baseTime, "--out", P("p1.npy"), "--quiet"), P("p1.npy"));
            double[] got = Predict(CliRunner.Run("predict", "--params", scaled, "--x", x, "--y", y0, "--x-test", xt, "--time", time, "--out", P("pc.npy"), "--quiet"), P("pc.npy"));
            double cl = Math.Pow(C, depth);
            for (int i = 0; i < want.Length; i++)
            {
                Assert.True(double.IsFinite(got[i]), $"t={time}: non-finite prediction {got[i]} written");
                double expected = want[i] * cl;
                Assert.True(Math.Abs(got[i] - expected) <= 1e-9 * Math.Abs(expected) + 1e-300, $"t={time}, output {i}: {got[i]:R}, expected {expected:R} (c^L·{want[i]:R})");
            }
        }
        // nonzero targets: the prediction is c^L·(the Y = 0 prediction) + O(1), finite
        string y = P("y.csv");
        File.WriteAllLines(y, ["1", "-2", "0.5", "3", "0", "1"]);
        double[] withY = Predict(CliRunner.Run("predict", "--params", scaled, "--x", x, "--y", y, "--x-test", xt, "--out", P("py.npy"), "--quiet"), P("py.npy"));
        Assert.All(withY, v => Assert.True(double.IsFinite(v)));
    }

    /// <summary>
    /// Deeper (Θ̂ ~ c^10 ≈ 1e379 overflows: exit 1, one line) or saturating (tanh, erf) networks: finite values or one
    /// line, exit 1; never NaN written. A saturated tanh/erf is exactly ±1 with derivative exactly 0, i.e. `sign`: where
    /// the run succeeds, its predictions equal the same file's with activation 'sign' (a separate forward/backward path).
    /// </summary>
    [Theory]
    [InlineData("3,8,8,8,8,8,1", "relu")]
    [InlineData("3,16,16,1", "tanh")]
    [InlineData("3,16,1", "erf")]
    public void Networks_whose_kernel_overflows_or_saturates_give_finite_values_or_one_line(string widths, string activation)
    {
        string x = P("x.csv"), xt = P("xt.csv"), y = P("y.csv"), o = P("p.npy");
        Points(x, 6, 3, 1);
        Points(xt, 4, 3, 2);
        File.WriteAllLines(y, ["1", "-2", "0.5", "3", "0", "1"]);
        (_, string scaled) = Networks(widths, activation, 0.1, 1e38);
        string? asSign = activation == "relu" ? null : Networks(widths, activation, 0.1, 1e38, scaledActivation: "sign").Scaled;
        foreach (string time in (string[])["inf", "1", "0"])
        {
            CliResult r = CliRunner.Run("predict", "--params", scaled, "--x", x, "--y", y, "--x-test", xt, "--time", time, "--out", o, "--quiet");
            log.WriteLine($"{activation} {widths} t={time}: exit {r.ExitCode} {r.StdErr.Trim()}{(r.ExitCode == 0 ? string.Join(", ", Npy.Read(o).Float64!.Select(v => v.ToString("G4", CultureInfo.InvariantCulture))) : "")}");
            if (r.ExitCode == 0)
            {
                double[] got = Npy.Read(o).Float64!;
                Assert.All(got, v => Assert.True(double.IsFinite(v), $"t={time}: non-finite prediction written: {v}"));
                Assert.NotNull(asSign);
                string os = P("sign.npy");
                CliResult rs = CliRunner.Run("predict", "--params", asSign, "--x", x, "--y", y, "--x-test", xt, "--time", time, "--out", os, "--quiet");
                double[] want = Predict(rs, os);
                for (int i = 0; i < got.Length; i++)
                    Assert.True(Math.Abs(got[i] - want[i]) <= 1e-12 * Math.Abs(want[i]), $"t={time}, output {i}: {got[i]:R}, the sign network's {want[i]:R}");
                File.Delete(os);
            }
            else
            {
                CliRunner.AssertCleanFailure(r, 1);
                Assert.False(File.Exists(o), "an output after a failure");
            }
            Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
            File.Delete(o);
        }
    }
}
