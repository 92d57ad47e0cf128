using System.Numerics;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Empirical;

/// <summary>One record of <see cref="TrainingDrift"/>: kernel and weight movement after <paramref name="Step"/> GD steps.</summary>
/// <param name="Width">hidden width of the run</param>
/// <param name="Step">gradient-descent steps done (t = Step·η)</param>
/// <param name="Cost">MSE cost C(θ_t) = 1/(2N)·Σ‖f(x_i) − y_i‖²</param>
/// <param name="NtkOp">‖Θ̂_t‖_op = λ_max/N of the trace kernel on X</param>
/// <param name="KernelMoveOp">‖Θ̂_t − Θ̂_0‖_op / ‖Θ̂_0‖_op</param>
/// <param name="KernelMoveFrobenius">‖Θ̂_t − Θ̂_0‖_F / ‖Θ̂_0‖_F</param>
/// <param name="WeightMove">per weight layer l: ‖W(l)(t) − W(l)(0)‖_op / √n_l (Lemma 1); 0 for frozen layers</param>
/// <param name="WeightMoveRelative">per weight layer l: ‖W(l)(t) − W(l)(0)‖_op / ‖W(l)(0)‖_op</param>
public sealed record DriftRecord(int Width, int Step, double Cost, double NtkOp, double KernelMoveOp, double KernelMoveFrobenius,
    double[] WeightMove, double[] WeightMoveRelative);

/// <summary>
/// Lazy training in numbers (Theorem 2, Lemma 1): trains a freshly initialised network by full-batch
/// gradient descent on the MSE cost and records how far its empirical NTK (trace, on the training
/// inputs) and its weights have moved from initialisation. Both shrink like 1/√width.
/// Operator norms: λ_max by Lanczos (relative tolerance 1e-10); for a weight matrix
/// ‖ΔW‖_op = √λ_max(ΔW·ΔWᵀ) (Gram on the smaller side, float64).
/// </summary>
public static class TrainingDrift
{
    /// <summary>
    /// Records at steps 0, <paramref name="every"/>, 2·every, …, and <paramref name="steps"/>.
    /// </summary>
    public static List<DriftRecord> Run<T>(MlpArchitecture architecture, Matrix x, Matrix y, double learningRate, int steps, int every,
        ulong seed, int trainableFrom = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Cols != architecture.InputWidth) throw new ArgumentException($"x has {x.Cols} columns, the network takes {architecture.InputWidth}.", nameof(x));
        if (y.Cols != architecture.OutputWidth || y.Rows != x.Rows)
            throw new ArgumentException($"y is {y.Rows}×{y.Cols}, expected {x.Rows}×{architecture.OutputWidth}.", nameof(y));
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        if (!(learningRate > 0) || !double.IsFinite(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learningRate must be positive and finite.");
        if ((uint)trainableFrom >= (uint)architecture.Depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom must be in [0, {architecture.Depth - 1}].");

        int n = x.Rows, depth = architecture.Depth;
        int width = depth > 1 ? architecture.Width(1) : architecture.InputWidth;
        var net = Mlp<T>.Initialize(architecture, seed);
        T[] theta0 = (T[])net.Parameters.Clone();
        T[] xs = EmpiricalKernel.ToT<T>(x.Data), ys = EmpiricalKernel.ToT<T>(y.Data);
        var mws = net.CreateWorkspace(n);
        var ews = new EmpiricalWorkspace<T>(architecture, n);
        var k0 = new Matrix(n, n);
        var kt = new Matrix(n, n);
        EmpiricalKernel.ComputeStructured<T>(net, xs, [], EmpiricalOutputs.Trace, trainableFrom, ews, k0.Data, []);
        EnsureFinite(k0.Data, 0);
        double k0Op = KernelDiagnostics.OperatorNormOf(k0, n);
        var w0Op = new double[depth];
        for (int l = 0; l < depth; l++) w0Op[l] = WeightOperatorNorm(net, theta0, l, difference: false);

        var records = new List<DriftRecord>();
        for (int s = 0; ; s++)
        {
            if (s % every == 0 || s == steps)
            {
                EmpiricalKernel.ComputeStructured<T>(net, xs, [], EmpiricalOutputs.Trace, trainableFrom, ews, kt.Data, []);
                EnsureFinite(kt.Data, s);
                net.Forward(xs, mws);
                double cost = net.MseCost(ys, mws);
                if (!double.IsFinite(cost)) throw new ArithmeticException($"the cost at step {s} is {cost}: the network's outputs overflow (inputs too large for this precision); scale the data down.");
                var move = new double[depth];
                var rel = new double[depth];
                for (int l = trainableFrom; l < depth; l++)
                {
                    double d = WeightOperatorNorm(net, theta0, l, difference: true);
                    move[l] = d / Math.Sqrt(architecture.Width(l));
                    rel[l] = w0Op[l] == 0 ? 0 : d / w0Op[l];
                }
                double dOp = s == 0 ? 0 : KernelDiagnostics.DifferenceOperatorNorm(kt, k0, n);
                var record = new DriftRecord(width, s, cost, KernelDiagnostics.OperatorNormOf(kt, n), k0Op == 0 ? 0 : dOp / k0Op,
                    KernelDiagnostics.RelativeFrobenius(kt.Data, k0.Data), move, rel);
                // A report never carries NaN/∞ (e.g. norms of finite but huge kernels overflowing): fail in one line instead.
                if (!double.IsFinite(record.NtkOp) || !double.IsFinite(record.KernelMoveOp) || !double.IsFinite(record.KernelMoveFrobenius)
                    || !Array.TrueForAll(move, double.IsFinite) || !Array.TrueForAll(rel, double.IsFinite))
                    throw new ArithmeticException($"the drift measures at step {s} are not finite (kernel or weights too large for float64); scale the data down.");
                records.Add(record);
            }
            if (s == steps) break;
            double c = net.TrainStep(xs, ys, learningRate, mws, trainableFrom);
            if (!double.IsFinite(c)) throw new ArithmeticException($"training diverged at step {s} (cost {c}); use a smaller learning rate.");
        }
        return records;
    }

    /// <summary>
    /// Fails in one line when the empirical NTK at step <paramref name="step"/> has a NaN/±∞ entry (activations or
    /// gradients overflow: inputs near the float range, or training that blew the weights up), instead of handing
    /// it to the eigensolver, which then reports a misleading "did not converge".
    /// </summary>
    private static void EnsureFinite(ReadOnlySpan<double> kernel, int step)
    {
        foreach (double v in kernel)
            if (!double.IsFinite(v))
                throw new ArithmeticException($"the empirical NTK at step {step} has non-finite entries ({v}): the network's activations or gradients overflow (inputs too large for this precision, or the training diverged); scale the data down or use a smaller learning rate.");
    }

    /// <summary>‖W(l)‖_op or ‖W(l) − W0(l)‖_op (largest singular value) in float64.</summary>
    internal static double WeightOperatorNorm<T>(Mlp<T> net, T[] theta0, int l, bool difference)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MlpArchitecture a = net.Architecture;
        int rows = a.Width(l + 1), cols = a.Width(l), off = a.WeightOffset(l);
        ReadOnlySpan<T> w = net.Weights(l);
        // Gram on the smaller side: r×r with r = min(rows, cols).
        bool byRows = rows <= cols;
        int r = byRows ? rows : cols, k = byRows ? cols : rows;
        var m = new double[(long)r * k];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double v = double.CreateTruncating(w[i * cols + j]);
                if (difference) v -= double.CreateTruncating(theta0[off + i * cols + j]);
                m[byRows ? (long)i * k + j : (long)j * k + i] = v;
            }
        var g = new Matrix(r, r);
        Gram.Syrk(r, k, 1.0, m, k, 0.0, g.Data, r);
        return Math.Sqrt(Math.Max(0, OperatorNorm.LargestEigenvalue(g)));
    }

    /// <summary>Least-squares slope of log(value) against log(width); NaN if fewer than two positive points.</summary>
    public static double LogLogSlope(IReadOnlyList<double> widths, IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(values);
        var lx = new List<double>();
        var ly = new List<double>();
        for (int i = 0; i < widths.Count; i++)
            if (widths[i] > 0 && values[i] > 0) { lx.Add(Math.Log(widths[i])); ly.Add(Math.Log(values[i])); }
        if (lx.Count < 2) return double.NaN;
        double mx = lx.Average(), my = ly.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < lx.Count; i++) { sxy += (lx[i] - mx) * (ly[i] - my); sxx += (lx[i] - mx) * (lx[i] - mx); }
        return sxx == 0 ? double.NaN : sxy / sxx;
    }
}
