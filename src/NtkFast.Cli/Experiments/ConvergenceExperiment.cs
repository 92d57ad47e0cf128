using System.Globalization;
using NtkFast.Activations;
using NtkFast.Networks;
using NtkFast.Numerics;
using static NtkFast.Cli.Experiments.ExperimentOutput;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Figure 1 of Jacot et al. (2018): the empirical NTK of ReLU networks of depth 4 on the unit
/// circle, Θ̂(x0, x) with x0 = (1, 0) and x = (cos γ, sin γ), for two widths and several
/// initialisations, at initialisation and after gradient descent on f*(x) = x1·x2, against the
/// infinite-width limit Θ(4). Also the numbers behind the claim: ‖Θ̂ − Θ‖_op on the circle
/// (narrower → larger) and the drift ‖Θ̂_T − Θ̂_0‖_op during training (narrower → larger).
/// </summary>
public static class ConvergenceExperiment
{
    public const string Name = "convergence";

    public sealed record Settings(int[] Widths, int Initialisations, int Steps, int TrainPoints, int GridPoints,
        int Depth = 4, double LearningRate = 1.0, double Beta = 0.1, string Activation = "relu")
    {
        public override string ToString() =>
            $"depth {Depth}, {Activation}, beta {Beta}, widths {string.Join('/', Widths)}, {Initialisations} initialisations each, " +
            $"{Steps} GD steps at learning rate {LearningRate} on {TrainPoints} N(0, I2) inputs, {GridPoints} circle points";

        /// <summary>The paper's settings (its training-set size is not stated; 100 inputs here).</summary>
        public static Settings Paper => new([500, 10000], 10, 200, 100, 201);

        public static Settings For(ExperimentSize size) => size switch
        {
            ExperimentSize.Quick => new([50, 1000], 4, 60, 16, 41),
            ExperimentSize.Default => new([500, 2000], 10, 200, 50, 201),
            _ => Paper,
        };
    }

    /// <summary>Per width: Θ̂ rows and norms for every initialisation, at t = 0 and after training.</summary>
    public sealed record WidthResult(int Width, double[][] CurveStart, double[][] CurveEnd,
        double[] ErrorStart, double[] ErrorEnd, double[] Drift, double[] LossStart, double[] LossEnd);

    public sealed record Result(Settings Settings, double[] Gamma, double[] Analytic, double AnalyticNorm, WidthResult[] Widths);

    public static Result Run(Settings s, ulong seed, ExperimentOutput output)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(output);
        Activation activation = ActivationRegistry.Parse(s.Activation);
        int g = s.GridPoints;

        // Points: x0 = (1, 0) first, then the circle grid γ_j = −π + 2πj/(G−1).
        var gamma = new double[g];
        var circle = new Matrix(g + 1, 2);
        circle[0, 0] = 1; circle[0, 1] = 0;
        for (int j = 0; j < g; j++)
        {
            gamma[j] = -Math.PI + 2 * Math.PI * j / (g - 1);
            circle[j + 1, 0] = Math.Cos(gamma[j]);
            circle[j + 1, 1] = Math.Sin(gamma[j]);
        }
        float[] circleF = ToFloat(circle.Data);

        // Training set: N iid N(0, I₂) inputs, targets f*(x) = x1·x2.
        double[] xs = Seeds.Normals(seed, Seeds.Data, 0, 2 * s.TrainPoints);
        var xTrain = ToFloat(xs);
        var yTrain = new float[s.TrainPoints];
        for (int i = 0; i < s.TrainPoints; i++) yTrain[i] = (float)(xs[2 * i] * xs[2 * i + 1]);

        (Matrix theta, _) = AnalyticKernel.Compute(activation, s.Depth, s.Beta, 1.0, circle, circle);
        double[] analytic = new double[g];
        for (int j = 0; j < g; j++) analytic[j] = theta[0, j + 1];
        Matrix thetaGrid = GridBlock(theta);
        double analyticNorm = OperatorNorm.Kernel(thetaGrid);

        var results = new WidthResult[s.Widths.Length];
        // Work, for the time estimate: a step costs ∝ parameters × training points, an NTK Gram ∝ parameters × grid points.
        long Params(int n) => new MlpArchitecture([2, .. Enumerable.Repeat(n, s.Depth - 1), 1], activation, s.Beta, 1.0).ParameterCount;
        long StepWork(int n) => Params(n) * s.TrainPoints;
        long GramWork(int n) => Params(n) * circleF.Length / 2;
        long totalWork = s.Widths.Sum(n => s.Initialisations * (s.Steps * StepWork(n) + 2 * GramWork(n)));
        using (Progress progress = output.Progress("training (work: parameters × points)", totalWork))
        {
            for (int w = 0; w < s.Widths.Length; w++)
            {
                int n = s.Widths[w];
                var arch = new MlpArchitecture([2, .. Enumerable.Repeat(n, s.Depth - 1), 1], activation, s.Beta, 1.0);
                int r = s.Initialisations;
                var res = new WidthResult(n, new double[r][], new double[r][], new double[r], new double[r], new double[r], new double[r], new double[r]);
                for (int k = 0; k < r; k++)
                {
                    var net = Mlp<float>.Initialize(arch, Seeds.Derive(seed, Seeds.Network, n, k));
                    Matrix k0 = NetworkNtk.Gram(net, circleF);
                    progress.Advance(GramWork(n));
                    MlpWorkspace<float> ws = net.CreateWorkspace(s.TrainPoints);
                    double loss0 = double.NaN;
                    for (int step = 0; step < s.Steps; step++)
                    {
                        double c = net.TrainStep(xTrain, yTrain, s.LearningRate, ws);
                        if (step == 0) loss0 = c;
                        progress.Advance(StepWork(n));
                    }
                    net.Forward(xTrain, ws);
                    double lossEnd = net.MseCost(yTrain, ws);
                    Matrix k1 = NetworkNtk.Gram(net, circleF);
                    progress.Advance(GramWork(n));
                    res.CurveStart[k] = RowZero(k0);
                    res.CurveEnd[k] = RowZero(k1);
                    res.ErrorStart[k] = DifferenceNorm(GridBlock(k0), thetaGrid);
                    res.ErrorEnd[k] = DifferenceNorm(GridBlock(k1), thetaGrid);
                    res.Drift[k] = DifferenceNorm(GridBlock(k1), GridBlock(k0));
                    res.LossStart[k] = loss0;
                    res.LossEnd[k] = lossEnd;
                }
                results[w] = res;
            }
        }
        var result = new Result(s, gamma, analytic, analyticNorm, results);
        Write(result, output);
        return result;
    }

    private static void Write(Result r, ExperimentOutput output)
    {
        Settings s = r.Settings;
        var rows = new List<string>();
        for (int j = 0; j < r.Gamma.Length; j++)
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"analytic,,,{r.Gamma[j]:R},{r.Analytic[j]:R}"));
        foreach (WidthResult w in r.Widths)
            for (int k = 0; k < w.CurveStart.Length; k++)
                for (int j = 0; j < r.Gamma.Length; j++)
                {
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"{w.Width},{k},0,{r.Gamma[j]:R},{w.CurveStart[k][j]:R}"));
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"{w.Width},{k},{s.Steps},{r.Gamma[j]:R},{w.CurveEnd[k][j]:R}"));
                }
        output.WriteCsvRows("convergence_ntk.csv", "width,init,step,gamma,ntk", rows);
        output.WriteCsvRows("convergence_norms.csv", "width,init,op_error_t0,op_error_tT,op_drift,loss_t0,loss_tT",
            r.Widths.SelectMany(w => Enumerable.Range(0, w.Drift.Length).Select(k => string.Create(CultureInfo.InvariantCulture,
                $"{w.Width},{k},{w.ErrorStart[k]:R},{w.ErrorEnd[k]:R},{w.Drift[k]:R},{w.LossStart[k]:R},{w.LossEnd[k]:R}"))));

        using var fig = new Figure($"Empirical NTK of {s.Activation} nets (depth {s.Depth}, {s.Initialisations} inits per width) vs the limit",
            "γ   (x₀ = (1, 0), x = (cos γ, sin γ))", "Θ(x₀, x)");
        for (int w = 0; w < r.Widths.Length; w++)
        {
            WidthResult wr = r.Widths[w];
            string color = Figure.Palette[w % Figure.Palette.Length];
            for (int k = 0; k < wr.CurveStart.Length; k++)
            {
                fig.Line(r.Gamma, wr.CurveStart[k], color, k == 0 ? $"n = {wr.Width}, t = 0" : null, 1f, dashed: true, alpha: 0.6);
                fig.Line(r.Gamma, wr.CurveEnd[k], color, k == 0 ? $"n = {wr.Width}, t = {s.Steps}" : null, 1.2f, alpha: 0.9);
            }
        }
        fig.Line(r.Gamma, r.Analytic, "#000000", "n = ∞ (analytic)", 3f);
        fig.XRange(-Math.PI, Math.PI);
        output.WriteBytes("convergence.png", fig.ToPng(900, 560));

        output.Line($"‖Θ‖_op on the {r.Gamma.Length}-point circle grid (analytic, n = ∞): {F(r.AnalyticNorm, "F4")}");
        output.Line($"{"width",7} {"‖Θ̂₀−Θ‖_op",18} {"‖Θ̂_T−Θ‖_op",18} {"‖Θ̂_T−Θ̂₀‖_op",18} {"cost t=0 → T",18}");
        foreach (WidthResult w in r.Widths)
            output.Line($"{w.Width,7} {MeanSd(w.ErrorStart),18} {MeanSd(w.ErrorEnd),18} {MeanSd(w.Drift),18} {F(Mean(w.LossStart), "F4") + " → " + F(Mean(w.LossEnd), "F4"),18}");
        output.Line($"(mean ± sd over {s.Initialisations} initialisations; ‖K‖_op = max|eigenvalue| / points on the grid; T = {s.Steps} steps, lr {F(s.LearningRate)})");
        if (r.Widths.Length >= 2)
        {
            WidthResult a = r.Widths[0], b = r.Widths[^1];
            output.Line($"error ratio n={a.Width} / n={b.Width}: {F(Mean(a.ErrorStart) / Mean(b.ErrorStart), "F2")} at t=0 " +
                $"(O(1/√n) predicts {F(Math.Sqrt((double)b.Width / a.Width), "F2")}); drift ratio {F(Mean(a.Drift) / Mean(b.Drift), "F2")}");
        }
    }

    /// <summary>Row 0 (x0) against the grid points 1 … G.</summary>
    private static double[] RowZero(Matrix k) => k.Row(0)[1..].ToArray();

    /// <summary>The G×G block of the grid points (dropping x0).</summary>
    private static Matrix GridBlock(Matrix k)
    {
        int g = k.Rows - 1;
        var b = new Matrix(g, g);
        for (int i = 0; i < g; i++) k.Row(i + 1)[1..].CopyTo(b.Row(i));
        return b;
    }

    private static double DifferenceNorm(Matrix a, Matrix b)
    {
        var d = new Matrix(a.Rows, a.Cols);
        for (int i = 0; i < d.Data.Length; i++) d.Data[i] = a.Data[i] - b.Data[i];
        return OperatorNorm.Kernel(d);
    }

    internal static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);

    internal static double Mean(double[] a) => a.Length == 0 ? double.NaN : a.Average();

    internal static double Sd(double[] a)
    {
        if (a.Length < 2) return 0;
        double m = Mean(a);
        return Math.Sqrt(a.Sum(v => (v - m) * (v - m)) / (a.Length - 1));
    }

    internal static string MeanSd(double[] a) => $"{F(Mean(a), "F4")} ± {F(Sd(a), "F4")}";
}
