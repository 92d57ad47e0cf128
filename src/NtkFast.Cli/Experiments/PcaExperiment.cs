using System.Globalization;
using NtkFast.Activations;
using NtkFast.Dynamics;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using static NtkFast.Cli.Experiments.ConvergenceExperiment;
using static NtkFast.Cli.Experiments.ExperimentOutput;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Figure 3 of Jacot et al. (2018): kernel PCA of the depth-4 ReLU NTK on N MNIST digits
/// (pixels scaled to [0, 1]). The top eigenvalues λ_i (Gram eigenvalues / N) from the analytic
/// kernel and from the empirical kernel of one wide network at initialisation; the digits on
/// components 2 and 3; and networks of several widths trained towards f* = f_0 + 0.5·f(2)
/// (f(2) = √N·v₂, unit norm under the empirical distribution), split as
/// f_t − f_0 = (0.5 − g_t)·f(2) + h_t with h_t ⊥ f(2). The infinite-width theory says
/// g_t = 0.5·e^{−λ₂t} and h_t = 0 (t = steps·learning rate).
/// </summary>
public static class PcaExperiment
{
    public const string Name = "pca";

    /// <summary>The paper's width-10000 eigenvalues.</summary>
    public static readonly double[] PaperEigenvalues = [0.0457, 0.00108, 0.00078];

    public sealed record Settings(int Digits, int EigenWidth, int[] Widths, int Steps, double LearningRate,
        int Depth = 4, double Beta = 0.1, int Components = 3, string Activation = "relu")
    {
        public override string ToString() =>
            $"{Digits} digits, depth {Depth}, {Activation}, beta {Beta}, eigenvalues from the analytic kernel and a width-{EigenWidth} net, " +
            $"trained widths {string.Join('/', Widths)}, {Steps} steps at learning rate {LearningRate} (t = {Steps * LearningRate})";

        /// <summary>The paper's settings; its time horizon is not stated, t = 2000 here (≈ 2/λ₂).</summary>
        public static Settings Paper => new(512, 10000, [100, 1000, 10000], 2000, 1.0);

        public static Settings For(ExperimentSize size) => size switch
        {
            ExperimentSize.Quick => new(128, 1000, [100, 1000], 100, 10.0),
            ExperimentSize.Default => new(512, 10000, [100, 500, 2000], 200, 10.0),
            _ => Paper,
        };
    }

    /// <summary>g_t, ‖h_t‖ at every step 0 … Steps (t = step·lr); the rate of g fitted over the whole run and over its first tenth.</summary>
    public sealed record WidthResult(int Width, double[] G, double[] H, double FittedRate, double InitialRate);

    public sealed record Result(Settings Settings, double[] Analytic, double[] WideNet, Matrix Components, byte[] Labels,
        double[] Time, WidthResult[] Widths);

    /// <summary>The first <see cref="Settings.Digits"/> MNIST digits (pixels / 255) and their labels; bad files fail here, before any work.</summary>
    public static (Matrix Pixels, byte[] Labels) Load(Settings s, string imagesPath, string labelsPath)
    {
        ArgumentNullException.ThrowIfNull(s);
        (IdxImages images, byte[] labels) = Idx.ReadMnist(imagesPath, labelsPath, s.Digits);
        if (images.Count < s.Digits)
            throw new CliException($"{imagesPath} holds {images.Count} digits; the pca experiment needs {s.Digits}");
        return (images.ToMatrix(), labels);
    }

    public static Result Run(Settings s, ulong seed, string imagesPath, string labelsPath, ExperimentOutput output) =>
        Run(s, seed, Load(s, imagesPath, labelsPath), output);

    public static Result Run(Settings s, ulong seed, (Matrix Pixels, byte[] Labels) data, ExperimentOutput output)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(output);
        Activation activation = ActivationRegistry.Parse(s.Activation);
        Matrix x = data.Pixels;   // N × 784, pixels / 255
        byte[] labels = data.Labels;
        int n = x.Rows;
        float[] xf = ToFloat(x.Data);

        // Kernel PCA: the analytic NTK, and the empirical NTK of one wide network at initialisation.
        KernelPca analytic;
        using (Progress p = output.Progress("analytic NTK Gram + PCA", 1))
        {
            (Matrix theta, _) = AnalyticKernel.Compute(activation, s.Depth, s.Beta, 1.0, x, x);
            analytic = KernelPca.Compute(theta, s.Components);
            p.Advance();
        }
        KernelPca wide;
        using (Progress p = output.Progress($"empirical NTK Gram of a width-{s.EigenWidth} net + PCA", 1))
        {
            var arch = new MlpArchitecture([x.Cols, .. Enumerable.Repeat(s.EigenWidth, s.Depth - 1), 1], activation, s.Beta, 1.0);
            var net = Mlp<float>.Initialize(arch, Seeds.Derive(seed, Seeds.Network, s.EigenWidth, -1));
            wide = KernelPca.Compute(NetworkNtk.Gram(net, xf), s.Components);
            p.Advance();
        }

        // Components as functions on the data, unit norm under p_in: f(i)(x_j) = √N·v_i[j]
        // (sign chosen so that the largest entry is positive).
        var comps = new Matrix(n, s.Components);
        for (int c = 0; c < s.Components; c++)
        {
            int arg = 0;
            for (int j = 1; j < n; j++) if (Math.Abs(analytic.Vectors[j, c]) > Math.Abs(analytic.Vectors[arg, c])) arg = j;
            double sign = analytic.Vectors[arg, c] < 0 ? -1 : 1;
            for (int j = 0; j < n; j++) comps[j, c] = sign * Math.Sqrt(n) * analytic.Vectors[j, c];
        }
        var f2 = new double[n];
        for (int j = 0; j < n; j++) f2[j] = comps[j, 1];
        double lambda2 = analytic.Values[1];

        var time = new double[s.Steps + 1];
        for (int k = 0; k <= s.Steps; k++) time[k] = k * s.LearningRate;
        var results = new WidthResult[s.Widths.Length];
        long Params(int width) => new MlpArchitecture([x.Cols, .. Enumerable.Repeat(width, s.Depth - 1), 1], activation, s.Beta, 1.0).ParameterCount;
        using (Progress progress = output.Progress("training towards f0 + 0.5·f(2) (work: parameters × steps)", s.Widths.Sum(wd => Params(wd) * s.Steps)))
        {
            for (int w = 0; w < s.Widths.Length; w++)
            {
                int width = s.Widths[w];
                var arch = new MlpArchitecture([x.Cols, .. Enumerable.Repeat(width, s.Depth - 1), 1], activation, s.Beta, 1.0);
                var net = Mlp<float>.Initialize(arch, Seeds.Derive(seed, Seeds.Network, width, 0));
                MlpWorkspace<float> ws = net.CreateWorkspace(n);
                net.Forward(xf, ws);
                double[] f0 = ToDouble(ws.Output);
                var y = new float[n];
                for (int j = 0; j < n; j++) y[j] = (float)(f0[j] + 0.5 * f2[j]);
                var g = new double[s.Steps + 1];
                var h = new double[s.Steps + 1];
                for (int k = 0; k < s.Steps; k++)
                {
                    net.TrainStep(xf, y, s.LearningRate, ws);   // ws.Output = f at step k (before the update)
                    (g[k], h[k]) = Split(ToDouble(ws.Output), f0, f2);
                    progress.Advance(arch.ParameterCount);
                }
                net.Forward(xf, ws);
                (g[s.Steps], h[s.Steps]) = Split(ToDouble(ws.Output), f0, f2);
                results[w] = new WidthResult(width, g, h, FitRate(time, g, s.Steps), FitRate(time, g, Math.Max(1, s.Steps / 10)));
            }
        }
        var result = new Result(s, analytic.Values, wide.Values, comps, labels, time, results);
        Write(result, lambda2, output);
        return result;
    }

    /// <summary>(g, ‖h‖) for f_t: g = ⟨f* − f_t, f(2)⟩, h = (f_t − f_0) − ⟨f_t − f_0, f(2)⟩·f(2), norms under p_in.</summary>
    private static (double G, double H) Split(double[] ft, double[] f0, double[] f2)
    {
        int n = ft.Length;
        double along = 0;
        for (int j = 0; j < n; j++) along += (ft[j] - f0[j]) * f2[j];
        along /= n;
        double h2 = 0;
        for (int j = 0; j < n; j++)
        {
            double hj = ft[j] - f0[j] - along * f2[j];
            h2 += hj * hj;
        }
        return (0.5 - along, Math.Sqrt(h2 / n));
    }

    /// <summary>Least-squares rate r of g_t ≈ 0.5·e^{−r·t} over steps 1 … last (ln(g/0.5) fitted through the origin, where g &gt; 0.01).</summary>
    private static double FitRate(double[] t, double[] g, int last)
    {
        double stt = 0, sty = 0;
        for (int k = 1; k <= last; k++)
        {
            if (!(g[k] > 0.01)) continue;
            double yk = Math.Log(g[k] / 0.5);
            stt += t[k] * t[k];
            sty += t[k] * yk;
        }
        return stt == 0 ? double.NaN : -sty / stt;
    }

    private static double[] ToDouble(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    private static void Write(Result r, double lambda2, ExperimentOutput output)
    {
        Settings s = r.Settings;
        int n = r.Labels.Length;
        output.WriteCsv("pca_eigenvalues.csv", ["component", "analytic", $"width{s.EigenWidth}", "paper_width10000"],
            [Enumerable.Range(1, s.Components).Select(i => (double)i).ToArray(), r.Analytic, r.WideNet,
             Enumerable.Range(0, s.Components).Select(i => i < PaperEigenvalues.Length ? PaperEigenvalues[i] : double.NaN).ToArray()]);
        output.WriteCsvRows("pca_components.csv", "index,label," + string.Join(',', Enumerable.Range(1, s.Components).Select(c => $"f{c}")),
            Enumerable.Range(0, n).Select(j => string.Create(CultureInfo.InvariantCulture,
                $"{j},{r.Labels[j]},{string.Join(',', Enumerable.Range(0, s.Components).Select(c => r.Components[j, c].ToString("R", CultureInfo.InvariantCulture)))}")));
        var rows = new List<string>();
        foreach (WidthResult w in r.Widths)
            for (int k = 0; k < r.Time.Length; k++)
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"{w.Width},{k},{r.Time[k]:R},{w.G[k]:R},{w.H[k]:R},{0.5 * Math.Exp(-lambda2 * r.Time[k]):R}"));
        output.WriteCsvRows("pca_dynamics.csv", "width,step,t,g,h_norm,g_theory", rows);

        using var scatter = new Figure($"MNIST ({n} digits) on NTK principal components 2 and 3 (analytic, depth {s.Depth})", "f(2)(x)", "f(3)(x)");
        for (int digit = 0; digit <= 9; digit++)
        {
            var idx = Enumerable.Range(0, n).Where(j => r.Labels[j] == digit).ToArray();
            if (idx.Length == 0) continue;
            scatter.Points(idx.Select(j => r.Components[j, 1]).ToArray(), idx.Select(j => r.Components[j, 2]).ToArray(),
                Figure.Palette[digit], digit.ToString(CultureInfo.InvariantCulture), 6, 0.8);
        }
        output.WriteBytes("pca_components.png", scatter.ToPng(800, 640));

        using var dyn = new Figure($"Training towards f₀ + 0.5·f(2): g_t (solid), ‖h_t‖ (dashed); λ₂ = {F(lambda2, "G3")}",
            $"t = steps × learning rate ({F(s.LearningRate)})", "norm");
        dyn.Line(r.Time, r.Time.Select(t => 0.5 * Math.Exp(-lambda2 * t)).ToArray(), "#000000", "0.5·exp(−λ₂t) (n = ∞)", 3f);
        for (int w = 0; w < r.Widths.Length; w++)
        {
            WidthResult wr = r.Widths[w];
            string color = Figure.Palette[w % Figure.Palette.Length];
            dyn.Line(r.Time, wr.G, color, $"g_t, n = {wr.Width}", 1.8f);
            dyn.Line(r.Time, wr.H, color, $"‖h_t‖, n = {wr.Width}", 1.8f, dashed: true);
        }
        dyn.HorizontalLine(0);
        dyn.XRange(0, r.Time[^1]);
        output.WriteBytes("pca_dynamics.png", dyn.ToPng(900, 560));

        output.Line($"NTK kernel PCA on {n} MNIST digits (pixels in [0, 1]), depth {s.Depth}, eigenvalues of the Gram matrix / N:");
        output.Line($"{"",4} {"analytic (n = ∞)",18} {$"width {s.EigenWidth} (init)",20} {"paper (width 10000)",20}");
        for (int c = 0; c < s.Components; c++)
            output.Line($"{"λ" + (c + 1).ToString(CultureInfo.InvariantCulture),4} {F(r.Analytic[c], "G4"),18} {F(r.WideNet[c], "G4"),20} {(c < PaperEigenvalues.Length ? F(PaperEigenvalues[c], "G4") : ""),20}");
        output.Line($"{"width",7} {"rate of g_t / λ₂: first tenth",30} {"whole run",10} {"max |g_t − 0.5e^{−λ₂t}|",26} {"‖h_T‖",10}");
        foreach (WidthResult w in r.Widths)
        {
            double maxDev = 0;
            for (int k = 0; k < r.Time.Length; k++) maxDev = Math.Max(maxDev, Math.Abs(w.G[k] - 0.5 * Math.Exp(-lambda2 * r.Time[k])));
            output.Line($"{w.Width,7} {F(w.InitialRate / lambda2, "F3"),30} {F(w.FittedRate / lambda2, "F3"),10} {F(maxDev, "G3"),26} {F(w.H[^1], "G3"),10}");
        }
    }
}
