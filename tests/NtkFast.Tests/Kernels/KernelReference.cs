using NtkFast.Activations;
using NtkFast.Numerics;

namespace NtkFast.Tests.Kernels;

/// <summary>Dual kernels written from their textbook formulas, independent of the library's activations.</summary>
internal static class ReferenceDuals
{
    /// <summary>ReLU arc-cosine kernel (Cho &amp; Saul): E[relu relu] = √(ac)/(2π)·(sin θ + (π−θ)cos θ), E[relu' relu'] = (π−θ)/(2π).</summary>
    public static (double Ess, double Edd) Relu(double a, double b, double c)
    {
        if (a <= 0 || c <= 0) return (0.0, 0.0); // relu(0) = 0, relu'(0) = 0
        // θ from atan2(√(ac − b²), b) with ac − b² by Kahan's compensated difference — not acos(b/√(ac)),
        // which loses half the digits near the diagonal (θ ≈ 1.5e−8 instead of 0 for b = a = c).
        double bb = b * b;
        double disc = Math.FusedMultiplyAdd(a, c, -bb) - Math.FusedMultiplyAdd(b, b, -bb);
        double sin = Math.Sqrt(Math.Max(0.0, disc)); // √(ac)·sin θ
        double theta = Math.Atan2(sin, b);
        return ((sin + (Math.PI - theta) * b) / (2 * Math.PI), (Math.PI - theta) / (2 * Math.PI));
    }

    /// <summary>erf (Williams 1997): E[erf erf] = (2/π)·asin(2b/√((1+2a)(1+2c))), E[erf' erf'] = (4/π)/√((1+2a)(1+2c) − 4b²).</summary>
    public static (double Ess, double Edd) Erf(double a, double b, double c)
    {
        double q = (1 + 2 * a) * (1 + 2 * c);
        return (2 / Math.PI * Math.Asin(Math.Clamp(2 * b / Math.Sqrt(q), -1.0, 1.0)), 4 / Math.PI / Math.Sqrt(q - 4 * b * b));
    }
}

/// <summary>
/// A test-only activation built on a reference dual. <paramref name="orderSensitive"/> evaluates the relu
/// formula with operations whose rounding depends on the order of (a, c), as a quadrature through a
/// Cholesky factor would: the kernel assembly must still produce exactly symmetric matrices.
/// </summary>
internal sealed class ReferenceActivation(string name, Func<double, double> value, Func<double, double> derivative,
    Func<double, double, double, (double, double)> dual, bool orderSensitive = false) : Activation
{
    public static ReferenceActivation Relu { get; } = new("ref_relu", x => Math.Max(x, 0), x => x > 0 ? 1 : 0, ReferenceDuals.Relu);
    public static ReferenceActivation Erf { get; } = new("ref_erf", ErfValue, x => 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x), ReferenceDuals.Erf);
    public static ReferenceActivation OrderSensitiveRelu { get; } = new("ref_relu_ordered", x => Math.Max(x, 0), x => x > 0 ? 1 : 0, ReferenceDuals.Relu, orderSensitive: true);

    public override string Name => name;
    public override double Value(double x) => value(x);
    public override double Derivative(double x) => derivative(x);
    public override void Forward(ReadOnlySpan<double> x, Span<double> y) { for (int i = 0; i < x.Length; i++) y[i] = value(x[i]); }
    public override void Forward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)value(x[i]); }
    public override void Derivative(ReadOnlySpan<double> x, Span<double> d) { for (int i = 0; i < x.Length; i++) d[i] = derivative(x[i]); }
    public override void Derivative(ReadOnlySpan<float> x, Span<float> d) { for (int i = 0; i < x.Length; i++) d[i] = (float)derivative(x[i]); }

    public override DualValue Dual(double a, double b, double c)
    {
        if (orderSensitive && a > 0 && c > 0)
        {
            double rho = Math.Clamp(b / Math.Sqrt(a) / Math.Sqrt(c), -1.0, 1.0);
            double theta = Math.Atan2(Math.Sqrt(Math.Max(0.0, (1 - rho) * (1 + rho))), rho);
            double j = (Math.Sin(theta) + (Math.PI - theta) * rho) / (2 * Math.PI);
            return new DualValue(Math.Sqrt(a) * (Math.Sqrt(c) * j), (Math.PI - theta) / (2 * Math.PI));
        }
        (double ess, double edd) = dual(a, b, c);
        return new DualValue(ess, edd);
    }

    /// <summary>The kernel assembly only evaluates duals; a test that needs erf values uses the library's erf.</summary>
    private static double ErfValue(double x) => throw new NotSupportedException("ref_erf provides its dual kernel only.");
}

/// <summary>Σ(L), Θ(L) and the per-layer terms of one pair of points by the plain recursion of docs/design.md §1.</summary>
internal static class ReferenceKernel
{
    public static (double Sigma, double Theta) Pair(double[] x, double[] y, int depth, Func<double, double, double, (double, double)> dual,
        double beta, double weightStd, int trainableFrom = 0)
    {
        double w2 = weightStd * weightStd, b2 = beta * beta;
        double dxy = 0, dxx = 0, dyy = 0;
        for (int k = 0; k < x.Length; k++) { dxy += x[k] * y[k]; dxx += x[k] * x[k]; dyy += y[k] * y[k]; }
        double sxy = w2 * dxy / x.Length + b2, sxx = w2 * dxx / x.Length + b2, syy = w2 * dyy / x.Length + b2;
        // Θ as the sum of the kept per-layer terms Σ(l)·Π_{k>l} Σ̇(k), l > trainableFrom.
        var terms = new List<double> { sxy };
        for (int l = 2; l <= depth; l++)
        {
            (double e, double ed) = dual(sxx, sxy, syy);
            (double ex, _) = dual(sxx, sxx, sxx);
            (double ey, _) = dual(syy, syy, syy);
            double sdot = w2 * ed;
            for (int t = 0; t < terms.Count; t++) terms[t] *= sdot;
            sxy = w2 * e + b2; sxx = w2 * ex + b2; syy = w2 * ey + b2;
            terms.Add(sxy);
        }
        double theta = 0;
        for (int l = trainableFrom + 1; l <= depth; l++) theta += terms[l - 1];
        return (sxy, theta);
    }

    public static (double[,] Sigma, double[,] Theta) Full(Matrix x, Matrix y, int depth, Func<double, double, double, (double, double)> dual,
        double beta, double weightStd, int trainableFrom = 0)
    {
        var s = new double[x.Rows, y.Rows];
        var t = new double[x.Rows, y.Rows];
        for (int i = 0; i < x.Rows; i++)
            for (int j = 0; j < y.Rows; j++)
                (s[i, j], t[i, j]) = Pair(x.Row(i).ToArray(), y.Row(j).ToArray(), depth, dual, beta, weightStd, trainableFrom);
        return (s, t);
    }
}

internal static class TestData
{
    public static Matrix Random(int rows, int cols, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        var m = new Matrix(rows, cols);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = scale * (2 * rng.NextDouble() - 1);
        return m;
    }

    /// <summary>Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (small n only).</summary>
    public static double[] SymmetricEigenvalues(double[] a, int n)
    {
        var m = (double[])a.Clone();
        for (int sweep = 0; sweep < 60; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += m[p * n + q] * m[p * n + q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = m[p * n + q];
                    if (apq == 0) continue;
                    double tau = (m[q * n + q] - m[p * n + p]) / (2 * apq);
                    double t = Math.Sign(tau) / (Math.Abs(tau) + Math.Sqrt(1 + tau * tau));
                    if (tau == 0) t = 1;
                    double c = 1 / Math.Sqrt(1 + t * t), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double mkp = m[k * n + p], mkq = m[k * n + q];
                        m[k * n + p] = c * mkp - s * mkq;
                        m[k * n + q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double mpk = m[p * n + k], mqk = m[q * n + k];
                        m[p * n + k] = c * mpk - s * mqk;
                        m[q * n + k] = s * mpk + c * mqk;
                    }
                }
        }
        var ev = new double[n];
        for (int i = 0; i < n; i++) ev[i] = m[i * n + i];
        return ev;
    }
}
