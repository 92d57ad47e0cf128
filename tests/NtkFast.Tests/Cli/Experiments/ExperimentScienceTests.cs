using NtkFast.Cli.Experiments;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli.Experiments;

/// <summary>
/// The --quick experiments check the paper's claims, not only that files appear: a wider net's
/// NTK is closer to the analytic limit and moves less; the ensemble of trained nets follows the
/// infinite-width Gaussian; the NTK's principal components are learnt at the rate of their eigenvalue.
/// </summary>
public sealed class ExperimentScienceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-exp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ExperimentOutput Output(string name) => new(Path.Combine(_dir, name), null, TextWriter.Null);

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static void AssertPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000, $"{path}: {bytes.Length} bytes is too small for a figure");
        Assert.Equal(PngSignature, bytes[..8]);
    }

    private static int CsvRows(string path) => File.ReadAllLines(path).Length - 1;

    [Fact]
    public void Convergence_wider_net_is_closer_to_the_limit_and_moves_less()
    {
        ExperimentOutput o = Output("c");
        var s = ConvergenceExperiment.Settings.For(ExperimentSize.Quick);
        ConvergenceExperiment.Result r = ConvergenceExperiment.Run(s, 7, o);

        Assert.Equal(2, r.Widths.Length);
        ConvergenceExperiment.WidthResult narrow = r.Widths[0], wide = r.Widths[1];
        Assert.True(narrow.Width < wide.Width);
        double errNarrow = narrow.ErrorStart.Average(), errWide = wide.ErrorStart.Average();
        double driftNarrow = narrow.Drift.Average(), driftWide = wide.Drift.Average();
        // O(1/√n) with n 20× larger: expect a ratio near √20 ≈ 4.5; ask for 2.
        Assert.True(errWide * 2 < errNarrow, $"‖Θ̂−Θ‖: width {wide.Width} {errWide}, width {narrow.Width} {errNarrow}");
        Assert.True(wide.ErrorEnd.Average() * 2 < narrow.ErrorEnd.Average());
        Assert.True(driftWide * 2 < driftNarrow, $"drift: width {wide.Width} {driftWide}, width {narrow.Width} {driftNarrow}");
        // The wide kernel is within 10 % of the analytic one, relative to its size.
        Assert.True(errWide < 0.1 * r.AnalyticNorm, $"{errWide} vs ‖Θ‖ = {r.AnalyticNorm}");
        // Training reduced the cost of every network.
        foreach (var w in r.Widths)
            for (int k = 0; k < w.LossStart.Length; k++) Assert.True(w.LossEnd[k] < w.LossStart[k]);
        // Θ(x0, x) peaks at x = x0 (γ = 0) and is symmetric in γ.
        int mid = r.Gamma.Length / 2;
        Assert.Equal(0.0, r.Gamma[mid], 12);
        Assert.Equal(r.Analytic.Max(), r.Analytic[mid]);
        Assert.Equal(r.Analytic[1], r.Analytic[^2], 10);

        AssertPng(o.PathOf("convergence.png"));
        Assert.Equal(r.Gamma.Length * (1 + 2 * s.Widths.Length * s.Initialisations), CsvRows(o.PathOf("convergence_ntk.csv")));
        Assert.Equal(s.Widths.Length * s.Initialisations, CsvRows(o.PathOf("convergence_norms.csv")));
    }

    [Fact]
    public void Regression_ensemble_percentiles_bracket_the_analytic_ones()
    {
        ExperimentOutput o = Output("r");
        var s = RegressionExperiment.Settings.For(ExperimentSize.Quick);
        RegressionExperiment.Result r = RegressionExperiment.Run(s, 7, o);
        RegressionExperiment.WidthResult wide = r.Widths[^1];

        // Every network fits the 4 points.
        foreach (var w in r.Widths) Assert.All(w.FinalLoss, l => Assert.True(l < 1e-3, $"width {w.Width}: cost {l}"));
        // Analytic: at a training point the band collapses onto the target; elsewhere it is open and ordered.
        for (int j = 0; j < r.Gamma.Length; j++)
        {
            Assert.True(r.Analytic[0][j] <= r.Analytic[1][j] + 1e-12 && r.Analytic[1][j] <= r.Analytic[2][j] + 1e-12);
        }
        // Wide ensemble vs the t = ∞ Gaussian: the analytic median lies inside the empirical 10–90 % band, the
        // empirical median inside the analytic band, and ~80 % of the network values fall in the analytic band.
        Assert.True(wide.MedianBracketed >= 0.9, $"analytic median inside the empirical band at {wide.MedianBracketed:P0} of γ");
        Assert.True(wide.AnalyticBracketed >= 0.9, $"empirical median inside the analytic band at {wide.AnalyticBracketed:P0} of γ");
        Assert.InRange(wide.Coverage, 0.6, 0.97);
        // The analytic band is not degenerate: its average width is a sizeable fraction of the targets' range.
        double meanWidth = Enumerable.Range(0, r.Gamma.Length).Average(j => r.Analytic[2][j] - r.Analytic[0][j]);
        Assert.True(meanWidth > 0.1, $"analytic 10–90 % band of mean width {meanWidth}");

        AssertPng(o.PathOf("regression.png"));
        Assert.Equal(r.Gamma.Length, CsvRows(o.PathOf("regression_percentiles.csv")));
        Assert.Equal(4, CsvRows(o.PathOf("regression_train.csv")));
    }

    [Fact]
    public void Pca_eigenvalues_are_positive_sorted_and_set_the_learning_rate_of_their_component()
    {
        ExperimentOutput o = Output("p");
        var s = PcaExperiment.Settings.For(ExperimentSize.Quick);
        (string images, string labels) = (Path.Combine(TestPaths.Mnist10k, MnistFiles.ImagesName), Path.Combine(TestPaths.Mnist10k, MnistFiles.LabelsName));
        PcaExperiment.Result r = PcaExperiment.Run(s, 7, images, labels, o);

        foreach (double[] lambda in new[] { r.Analytic, r.WideNet })
        {
            Assert.Equal(s.Components, lambda.Length);
            Assert.All(lambda, v => Assert.True(v > 0));
            for (int i = 1; i < lambda.Length; i++) Assert.True(lambda[i] < lambda[i - 1], string.Join(", ", lambda));
        }
        // The wide network's spectrum is the analytic one up to the finite-width fluctuation.
        for (int i = 0; i < s.Components; i++)
            Assert.True(Math.Abs(r.WideNet[i] / r.Analytic[i] - 1) < 0.2, $"λ{i + 1}: {r.WideNet[i]} vs {r.Analytic[i]}");
        // Components are unit-norm functions under the empirical distribution, and orthogonal.
        int n = r.Labels.Length;
        for (int a = 0; a < s.Components; a++)
            for (int b = 0; b < s.Components; b++)
            {
                double dot = 0;
                for (int j = 0; j < n; j++) dot += r.Components[j, a] * r.Components[j, b];
                Assert.Equal(a == b ? 1.0 : 0.0, dot / n, 8);
            }
        // Dynamics: the widest net learns component 2 at rate λ₂ (g_t ≈ 0.5·e^{−λ₂t}) and barely leaves the line.
        double lambda2 = r.Analytic[1];
        PcaExperiment.WidthResult widest = r.Widths[^1], narrowest = r.Widths[0];
        Assert.Equal(0.5, widest.G[0], 6);
        // At the start the widest net learns component 2 at rate λ₂ (its kernel's Rayleigh quotient on f(2),
        // within the O(1/√n) fluctuation); later its kernel grows along the target (a finite-width drift that
        // vanishes as n → ∞), so the whole-run rate is larger: ~1.1–1.4·λ₂ at width 1000, ~2·λ₂ at width 100.
        Assert.InRange(widest.InitialRate / lambda2, 0.85, 1.15);
        Assert.InRange(widest.FittedRate / lambda2, 0.8, 1.6);
        Assert.True(Math.Abs(widest.FittedRate / lambda2 - 1) < Math.Abs(narrowest.FittedRate / lambda2 - 1),
            $"rate/λ₂: width {widest.Width} {widest.FittedRate / lambda2}, width {narrowest.Width} {narrowest.FittedRate / lambda2}");
        double decay = Math.Exp(-lambda2 * r.Time[^1]);
        Assert.True(decay < 0.5, $"the run should cover at least one half-life; e^(−λ₂t) = {decay}");
        for (int k = 0; k < r.Time.Length; k++)
            Assert.True(Math.Abs(widest.G[k] - 0.5 * Math.Exp(-lambda2 * r.Time[k])) < 0.08, $"step {k}: g = {widest.G[k]}");
        Assert.True(widest.H[^1] < narrowest.H[^1], $"‖h_T‖: width {widest.Width} {widest.H[^1]}, width {narrowest.Width} {narrowest.H[^1]}");

        AssertPng(o.PathOf("pca_components.png"));
        AssertPng(o.PathOf("pca_dynamics.png"));
        Assert.Equal(s.Digits, CsvRows(o.PathOf("pca_components.csv")));
        Assert.Equal(s.Components, CsvRows(o.PathOf("pca_eigenvalues.csv")));
    }
}
