using System.Globalization;
using NtkFast.Activations;
using NtkFast.Dynamics;
using NtkFast.Networks;
using NtkFast.Numerics;
using static NtkFast.Cli.Experiments.ConvergenceExperiment;
using static NtkFast.Cli.Experiments.ExperimentOutput;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Figure 2 of Jacot et al. (2018): ReLU networks of depth 4 and two widths, trained by gradient
/// descent on 4 points of the unit circle, drawn on the whole circle against the 10th, 50th and
/// 90th percentiles of the Gaussian that the infinite-width theory predicts at t → ∞
/// (f_0 ~ GP(0, Σ(4)) jointly on train and test points, then kernel gradient descent with Θ(4)).
/// Targets: f*(x) = x1·x2 (the Figure 1 function) at γ = −2.5, −1, 0.5, 2.
/// </summary>
public static class RegressionExperiment
{
    public const string Name = "regression";

    /// <summary>Angles of the 4 training points on the unit circle.</summary>
    public static readonly double[] TrainAngles = [-2.5, -1.0, 0.5, 2.0];

    /// <summary>z with Φ(z) = 0.9.</summary>
    public const double Z90 = 1.2815515655446004;

    public sealed record Settings(int[] Widths, int Initialisations, int Steps, int GridPoints,
        int Depth = 4, double LearningRate = 1.0, double Beta = 0.1, string Activation = "relu")
    {
        public override string ToString() =>
            $"depth {Depth}, {Activation}, beta {Beta}, widths {string.Join('/', Widths)}, {Initialisations} initialisations each, " +
            $"{Steps} GD steps at learning rate {LearningRate} on 4 circle points, {GridPoints} circle points drawn";

        public static Settings Paper => new([50, 1000], 10, 1000, 201);

        public static Settings For(ExperimentSize size) => size switch
        {
            ExperimentSize.Quick => new([50, 500], 16, 150, 61),
            _ => Paper,
        };
    }

    /// <summary>Percentile curves on the grid: index 0 = 10th, 1 = 50th, 2 = 90th.</summary>
    public sealed record WidthResult(int Width, double[][] Functions, double[][] Percentiles, double[] FinalLoss,
        double Coverage, double MedianBracketed, double AnalyticBracketed);

    public sealed record Result(Settings Settings, double[] Gamma, double[][] Analytic, double[][] AnalyticAtT,
        double[] TrainTargets, WidthResult[] Widths);

    public static Result Run(Settings s, ulong seed, ExperimentOutput output)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(output);
        Activation activation = ActivationRegistry.Parse(s.Activation);
        int g = s.GridPoints, n = TrainAngles.Length;
        var gamma = new double[g];
        var grid = new Matrix(g, 2);
        for (int j = 0; j < g; j++)
        {
            gamma[j] = -Math.PI + 2 * Math.PI * j / (g - 1);
            grid[j, 0] = Math.Cos(gamma[j]);
            grid[j, 1] = Math.Sin(gamma[j]);
        }
        var train = new Matrix(n, 2);
        var y = new Matrix(n, 1);
        for (int i = 0; i < n; i++)
        {
            train[i, 0] = Math.Cos(TrainAngles[i]);
            train[i, 1] = Math.Sin(TrainAngles[i]);
            y[i, 0] = train[i, 0] * train[i, 1];
        }

        // The analytic Gaussian at t = ∞ (the paper's) and at the networks' own t = steps·lr.
        (Matrix thetaTrain, Matrix sigmaTrain) = AnalyticKernel.Compute(activation, s.Depth, s.Beta, 1.0, train, train);
        (Matrix thetaCross, Matrix sigmaCross) = AnalyticKernel.Compute(activation, s.Depth, s.Beta, 1.0, grid, train);
        (_, Matrix sigmaGrid) = AnalyticKernel.Compute(activation, s.Depth, s.Beta, 1.0, grid, grid);
        var sigmaDiag = new Matrix(g, 1);
        for (int j = 0; j < g; j++) sigmaDiag[j, 0] = sigmaGrid[j, j];
        var dynamics = new KernelDynamics(thetaTrain, y);
        double[][] analytic = Percentiles(dynamics.Ensemble(double.PositiveInfinity, thetaCross, sigmaTrain, sigmaCross, sigmaDiag));
        double[][] analyticT = Percentiles(dynamics.Ensemble(s.Steps * s.LearningRate, thetaCross, sigmaTrain, sigmaCross, sigmaDiag));

        float[] xTrain = ToFloat(train.Data), yTrain = ToFloat(y.Data), xGrid = ToFloat(grid.Data);
        var results = new WidthResult[s.Widths.Length];
        // Work, for the time estimate: a step costs ∝ the network's parameters (widths differ 20×).
        long Params(int width) => new MlpArchitecture([2, .. Enumerable.Repeat(width, s.Depth - 1), 1], activation, s.Beta, 1.0).ParameterCount;
        using (Progress progress = output.Progress("training (work: parameters × steps)", s.Widths.Sum(wd => Params(wd) * s.Initialisations * s.Steps)))
        {
            for (int w = 0; w < s.Widths.Length; w++)
            {
                int width = s.Widths[w];
                var arch = new MlpArchitecture([2, .. Enumerable.Repeat(width, s.Depth - 1), 1], activation, s.Beta, 1.0);
                var functions = new double[s.Initialisations][];
                var loss = new double[s.Initialisations];
                for (int k = 0; k < s.Initialisations; k++)
                {
                    var net = Mlp<float>.Initialize(arch, Seeds.Derive(seed, Seeds.Network, width, k));
                    MlpWorkspace<float> ws = net.CreateWorkspace(n);
                    for (int step = 0; step < s.Steps; step++)
                    {
                        net.TrainStep(xTrain, yTrain, s.LearningRate, ws);
                        progress.Advance(arch.ParameterCount);
                    }
                    net.Forward(xTrain, ws);
                    loss[k] = net.MseCost(yTrain, ws);
                    functions[k] = Array.ConvertAll(net.Predict(xGrid), v => (double)v);
                }
                results[w] = Summarise(width, functions, loss, analytic);
            }
        }
        var result = new Result(s, gamma, analytic, analyticT, Array.ConvertAll(yTrain, v => (double)v), results);
        Write(result, output);
        return result;
    }

    private static double[][] Percentiles(EnsemblePrediction p)
    {
        int m = p.Variance.Length;
        var q = new double[3][];
        for (int i = 0; i < 3; i++) q[i] = new double[m];
        double[] sd = p.StandardDeviation;
        for (int j = 0; j < m; j++)
        {
            double mean = p.Mean[j, 0];
            q[0][j] = mean - Z90 * sd[j];
            q[1][j] = mean;
            q[2][j] = mean + Z90 * sd[j];
        }
        return q;
    }

    /// <summary>Empirical percentiles of the ensemble and how they sit against the analytic ones.</summary>
    private static WidthResult Summarise(int width, double[][] functions, double[] loss, double[][] analytic)
    {
        int g = analytic[0].Length, r = functions.Length;
        var pct = new double[3][];
        for (int i = 0; i < 3; i++) pct[i] = new double[g];
        var column = new double[r];
        int inside = 0, medianIn = 0, analyticIn = 0;
        for (int j = 0; j < g; j++)
        {
            for (int k = 0; k < r; k++)
            {
                column[k] = functions[k][j];
                if (column[k] >= analytic[0][j] && column[k] <= analytic[2][j]) inside++;
            }
            Array.Sort(column);
            pct[0][j] = Quantile(column, 0.1);
            pct[1][j] = Quantile(column, 0.5);
            pct[2][j] = Quantile(column, 0.9);
            // A tolerance of 1e-3 for the training points, where every band collapses to the target.
            const double tol = 1e-3;
            if (pct[0][j] - tol <= analytic[1][j] && analytic[1][j] <= pct[2][j] + tol) medianIn++;
            if (analytic[0][j] - tol <= pct[1][j] && pct[1][j] <= analytic[2][j] + tol) analyticIn++;
        }
        return new WidthResult(width, functions, pct, loss, (double)inside / (g * r), (double)medianIn / g, (double)analyticIn / g);
    }

    /// <summary>Quantile of sorted data by linear interpolation at position (n − 1)·q.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        if (sorted.Length == 0) return double.NaN;
        double pos = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static void Write(Result r, ExperimentOutput output)
    {
        Settings s = r.Settings;
        var rows = new List<string>();
        foreach (WidthResult w in r.Widths)
            for (int k = 0; k < w.Functions.Length; k++)
                for (int j = 0; j < r.Gamma.Length; j++)
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"{w.Width},{k},{r.Gamma[j]:R},{w.Functions[k][j]:R}"));
        output.WriteCsvRows("regression_functions.csv", "width,init,gamma,f", rows);

        var headers = new List<string> { "gamma", "analytic_p10", "analytic_p50", "analytic_p90", "analytic_t_p10", "analytic_t_p50", "analytic_t_p90" };
        var columns = new List<IReadOnlyList<double>> { r.Gamma, r.Analytic[0], r.Analytic[1], r.Analytic[2], r.AnalyticAtT[0], r.AnalyticAtT[1], r.AnalyticAtT[2] };
        foreach (WidthResult w in r.Widths)
        {
            headers.AddRange([$"n{w.Width}_p10", $"n{w.Width}_p50", $"n{w.Width}_p90"]);
            columns.AddRange(w.Percentiles);
        }
        output.WriteCsv("regression_percentiles.csv", headers, columns);
        output.WriteCsv("regression_train.csv", ["gamma", "x1", "x2", "y"],
            [TrainAngles, TrainAngles.Select(Math.Cos).ToArray(), TrainAngles.Select(Math.Sin).ToArray(), r.TrainTargets]);

        using var fig = new Figure($"Regression on the circle: {s.Activation} nets of depth {s.Depth}, {s.Steps} GD steps, {s.Initialisations} inits per width",
            "γ   (x = (cos γ, sin γ))", "f(x)");
        fig.Band(r.Gamma, r.Analytic[0], r.Analytic[2], "#000000", "n = ∞: 10th–90th percentile (t → ∞)", 0.13);
        for (int w = 0; w < r.Widths.Length; w++)
        {
            WidthResult wr = r.Widths[w];
            string color = Figure.Palette[w % Figure.Palette.Length];
            for (int k = 0; k < wr.Functions.Length; k++)
                fig.Line(r.Gamma, wr.Functions[k], color, k == 0 ? $"n = {wr.Width}" : null, 1f, alpha: 0.55);
        }
        fig.Line(r.Gamma, r.Analytic[0], "#000000", "n = ∞: 10th / 90th percentiles", 1.5f, dashed: true);
        fig.Line(r.Gamma, r.Analytic[2], "#000000", null, 1.5f, dashed: true);
        fig.Line(r.Gamma, r.Analytic[1], "#000000", "n = ∞: median", 2.5f);
        fig.Points(TrainAngles, r.TrainTargets, "#000000", "training points", 10);
        fig.XRange(-Math.PI, Math.PI);
        output.WriteBytes("regression.png", fig.ToPng(900, 560));

        double gap = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < r.Gamma.Length; j++) gap = Math.Max(gap, Math.Abs(r.Analytic[i][j] - r.AnalyticAtT[i][j]));
        output.Line($"training points: γ = {string.Join(", ", TrainAngles.Select(a => F(a)))}; targets f*(x) = x1·x2 = {string.Join(", ", r.TrainTargets.Select(v => F(v, "F4")))}");
        output.Line($"analytic percentiles at t = ∞ vs at the networks' t = {F(s.Steps * s.LearningRate)}: max difference {F(gap, "G3")}");
        output.Line($"{"width",7} {"in analytic 10–90% band",24} {"analytic median in empirical 10–90%",36} {"empirical median in analytic 10–90%",36} {"final cost",12}");
        foreach (WidthResult w in r.Widths)
            output.Line($"{w.Width,7} {F(100 * w.Coverage, "F1") + " %",24} {F(100 * w.MedianBracketed, "F1") + " % of γ",36} {F(100 * w.AnalyticBracketed, "F1") + " % of γ",36} {F(Mean(w.FinalLoss), "G3"),12}");
        output.Line("(the first column should be near 80 % when the network ensemble follows the infinite-width Gaussian)");
    }
}
