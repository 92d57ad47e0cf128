using NtkFast.Activations;
using NtkFast.Networks;

namespace NtkFast.Tests.Networks;

internal static class NetTestUtil
{
    /// <summary>Every registered activation except sign (whose derivative is 0 almost everywhere but whose value jumps).</summary>
    /// <remarks>Registry names like "leaky_relu[:A]" are taken with their default parameter, plus one explicit parameter each.</remarks>
    public static IEnumerable<object[]> DifferentiableActivations() =>
        AllActivations().Where(a => !((string)a[0]).StartsWith("sign", StringComparison.Ordinal));

    public static IEnumerable<object[]> AllActivations()
    {
        foreach (string known in ActivationRegistry.KnownNames)
        {
            int bracket = known.IndexOf('[', StringComparison.Ordinal);
            if (bracket < 0) { yield return [known]; continue; }
            string name = known[..bracket];
            yield return [name];
            yield return [name + ":0.3"];
        }
    }

    public static double[] RandomArray(int n, int seed, double scale = 1.0)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = scale * (2 * r.NextDouble() - 1);
        return a;
    }

    public static float[] ToFloat(double[] a) => Array.ConvertAll(a, v => (float)v);

    /// <summary>
    /// The network of docs/design.md §1 evaluated point by point with scalar loops and the scalar
    /// activation: an independent reference for the batched GEMM code.
    /// </summary>
    public static double[] ReferenceForward(MlpArchitecture a, double[] theta, double[] x, int n)
    {
        int nL = a.OutputWidth;
        var f = new double[n * nL];
        for (int i = 0; i < n; i++)
        {
            double[] alpha = x.AsSpan(i * a.InputWidth, a.InputWidth).ToArray();
            for (int l = 0; l < a.Depth; l++)
            {
                int nIn = a.Width(l), nOut = a.Width(l + 1);
                var z = new double[nOut];
                for (int j = 0; j < nOut; j++)
                {
                    double s = 0;
                    for (int k = 0; k < nIn; k++) s += theta[a.WeightOffset(l) + j * nIn + k] * alpha[k];
                    z[j] = a.WeightStd / Math.Sqrt(nIn) * s + a.Beta * theta[a.BiasOffset(l) + j];
                }
                alpha = l + 1 < a.Depth ? Array.ConvertAll(z, a.Activation.Value) : z;
            }
            alpha.CopyTo(f, i * nL);
        }
        return f;
    }
}
