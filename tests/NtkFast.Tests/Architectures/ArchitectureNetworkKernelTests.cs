using NtkFast.Architectures;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Architectures;

/// <summary>
/// The register-tiled affine kernels of <see cref="ArchitectureNetwork{T}"/> against plain scalar loops written here
/// (bounds-tested taps, no padded copy, no tiles): forward, weight and bias gradients of two stacked layers (the
/// second's input gradient feeds the first's weight gradient) at awkward sizes — channel counts 1, 7, 8, 9, 17
/// (below, at and past the vector widths 4 and 8), 2×1, 1×2 and 3×5 images, a conv down to 1×1 maps, 1×1 inputs through dense layers, odd and unequal strides, SAME and VALID —
/// to 1e-13 relative; and no allocation per call once the workspace is warm.
/// </summary>
public class ArchitectureNetworkKernelTests
{
    private sealed record Conv(int Cin, int Cout, int Kh, int Kw, int Sh, int Sw, bool Same, double Ws, double Beta)
    {
        public string Spec => $"conv:{Cout},{Kh}x{Kw},s{Sh}x{Sw},{(Same ? "same" : "valid")},w={Ws.ToString(System.Globalization.CultureInfo.InvariantCulture)},b={Beta.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Output shape and top/left padding, as TensorFlow/JAX define SAME and VALID.</summary>
    private static (int Ho, int Wo, int Pt, int Pl) Shape(Conv c, int h, int w)
    {
        if (!c.Same) return ((h - c.Kh) / c.Sh + 1, (w - c.Kw) / c.Sw + 1, 0, 0);
        int ho = (h + c.Sh - 1) / c.Sh, wo = (w + c.Sw - 1) / c.Sw;
        return (ho, wo, Math.Max((ho - 1) * c.Sh + c.Kh - h, 0) / 2, Math.Max((wo - 1) * c.Sw + c.Kw - w, 0) / 2);
    }

    private static double Sw(Conv c, bool standard) => standard ? 1 : c.Ws / Math.Sqrt(c.Cin * c.Kh * c.Kw);
    private static double Sb(Conv c, bool standard) => standard ? (c.Beta > 0 ? 1 : 0) : c.Beta;

    private static double[] Forward(Conv c, bool standard, double[] th, int wOff, double[] x, int h, int w)
    {
        (int ho, int wo, int pt, int pl) = Shape(c, h, w);
        int bOff = wOff + c.Kh * c.Kw * c.Cin * c.Cout;
        var z = new double[ho * wo * c.Cout];
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
                for (int o = 0; o < c.Cout; o++)
                {
                    double s = 0;
                    for (int a = 0; a < c.Kh; a++)
                        for (int b = 0; b < c.Kw; b++)
                        {
                            int hi = i * c.Sh + a - pt, wi = j * c.Sw + b - pl;
                            if (hi < 0 || hi >= h || wi < 0 || wi >= w) continue;
                            for (int q = 0; q < c.Cin; q++)
                                s += th[wOff + ((a * c.Kw + b) * c.Cin + q) * c.Cout + o] * x[(hi * w + wi) * c.Cin + q];
                        }
                    z[(i * wo + j) * c.Cout + o] = Sw(c, standard) * s + Sb(c, standard) * th[bOff + o];
                }
        return z;
    }

    /// <summary>Adds ∂(gᵀz)/∂θ of the layer to <paramref name="grad"/>; returns ∂(gᵀz)/∂x.</summary>
    private static double[] Backward(Conv c, bool standard, double[] th, int wOff, double[] x, int h, int w, double[] g, double[] grad)
    {
        (int ho, int wo, int pt, int pl) = Shape(c, h, w);
        int bOff = wOff + c.Kh * c.Kw * c.Cin * c.Cout;
        var gx = new double[h * w * c.Cin];
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
                for (int o = 0; o < c.Cout; o++)
                {
                    double go = g[(i * wo + j) * c.Cout + o];
                    grad[bOff + o] += Sb(c, standard) * go;
                    for (int a = 0; a < c.Kh; a++)
                        for (int b = 0; b < c.Kw; b++)
                        {
                            int hi = i * c.Sh + a - pt, wi = j * c.Sw + b - pl;
                            if (hi < 0 || hi >= h || wi < 0 || wi >= w) continue;
                            for (int q = 0; q < c.Cin; q++)
                            {
                                int wi2 = wOff + ((a * c.Kw + b) * c.Cin + q) * c.Cout + o, xi = (hi * w + wi) * c.Cin + q;
                                grad[wi2] += Sw(c, standard) * x[xi] * go;
                                gx[xi] += Sw(c, standard) * th[wi2] * go;
                            }
                        }
                }
        return gx;
    }

    // h, w, c0, c1, c2, kh, kw, sh, sw, second layer's kernel (k×k, stride 1), same, standard
    [Theory]
    [InlineData(3, 5, 1, 7, 9, 3, 3, 1, 1, 3, true, false)]
    [InlineData(3, 5, 8, 17, 8, 2, 3, 1, 2, 1, false, false)]
    [InlineData(2, 1, 9, 8, 1, 3, 3, 1, 1, 3, true, true)]
    [InlineData(3, 5, 7, 9, 8, 3, 5, 1, 1, 1, false, false)]
    [InlineData(7, 6, 17, 9, 7, 3, 3, 3, 3, 2, true, false)]
    [InlineData(5, 3, 7, 1, 17, 1, 2, 1, 2, 1, false, true)]
    [InlineData(6, 7, 9, 9, 8, 3, 2, 3, 1, 3, true, false)]
    [InlineData(1, 2, 8, 17, 9, 1, 1, 1, 1, 1, false, false)]
    [InlineData(4, 9, 1, 8, 8, 3, 3, 2, 3, 1, true, true)]
    public void Tiled_conv_forward_and_backward_equal_plain_loops(int h, int w, int c0, int c1, int c2, int kh, int kw, int sh, int sw, int k2, bool same, bool standard)
    {
        var l1 = new Conv(c0, c1, kh, kw, sh, sw, same, 1.3, 0.4);
        (int h1, int w1, _, _) = Shape(l1, h, w);
        var l2 = new Conv(c1, c2, Math.Min(k2, h1), Math.Min(k2, w1), 1, 1, same, 0.9, standard ? 0 : 0.7);
        (int h2, int w2, _, _) = Shape(l2, h1, w1);
        string spec = $"{(standard ? "param:standard " : "")}{l1.Spec} {l2.Spec} flatten";
        Architecture arch = Architecture.Parse(spec);
        ArchitectureNetwork<double> net = ArchitectureNetwork<double>.Initialize(arch, h, w, c0, 11);
        int w2Off = c0 * c1 * kh * kw + c1;
        Assert.Equal(w2Off + l2.Kh * l2.Kw * c1 * c2 + c2, net.ParameterCount);
        Assert.Equal(h2 * w2 * c2, net.Outputs);

        var rng = new Random(h * 1000 + c0 * 10 + c1);
        double[] th = net.Parameters;
        for (int i = 0; i < th.Length; i++) th[i] = rng.NextDouble() * 2 - 1; // also the bias of a β = 0 standard layer: unused either way
        var x = new double[h * w * c0];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
        var seed = new double[net.Outputs];
        for (int i = 0; i < seed.Length; i++) seed[i] = rng.NextDouble() * 2 - 1;

        double[] z1 = Forward(l1, standard, th, 0, x, h, w);
        double[] z2 = Forward(l2, standard, th, w2Off, z1, h1, w1);
        var gRef = new double[th.Length];
        double[] g1 = Backward(l2, standard, th, w2Off, z1, h1, w1, seed, gRef);
        Backward(l1, standard, th, 0, x, h, w, g1, gRef);

        var ws = net.CreateWorkspace();
        var f = new double[net.Outputs];
        var grad = new double[th.Length];
        for (int rep = 0; rep < 2; rep++) // twice: the workspace's padded buffers are reused
        {
            net.Forward(x, f, ws);
            Close(z2, f, "forward");
            net.Gradient(x, seed, grad, ws);
            Close(gRef, grad, "gradient");
        }
    }

    [Fact]
    public void Dense_layers_equal_plain_loops()
    {
        // 1×1 inputs: the kernels' single-pixel path (matrix-vector products) with 1, 7, 9, 17 columns
        Architecture arch = Architecture.Parse("dense:17,w=1.1,b=0.3 dense:9 dense:1 dense:7");
        ArchitectureNetwork<double> net = ArchitectureNetwork<double>.Initialize(arch, 1, 1, 8, 5);
        var layers = new[] { new Conv(8, 17, 1, 1, 1, 1, false, 1.1, 0.3), new Conv(17, 9, 1, 1, 1, 1, false, arch.WeightStd, arch.Beta),
            new Conv(9, 1, 1, 1, 1, 1, false, arch.WeightStd, arch.Beta), new Conv(1, 7, 1, 1, 1, 1, false, arch.WeightStd, arch.Beta) };
        var rng = new Random(3);
        var x = new double[8];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
        var seed = new double[7];
        for (int i = 0; i < seed.Length; i++) seed[i] = rng.NextDouble() * 2 - 1;
        double[] th = net.Parameters;
        var acts = new List<double[]> { x };
        var offs = new List<int>();
        int off = 0;
        foreach (Conv l in layers) { offs.Add(off); acts.Add(Forward(l, false, th, off, acts[^1], 1, 1)); off += l.Cin * l.Cout + l.Cout; }
        var gRef = new double[th.Length];
        double[] g = seed;
        for (int k = layers.Length - 1; k >= 0; k--) g = Backward(layers[k], false, th, offs[k], acts[k], 1, 1, g, gRef);
        var ws = net.CreateWorkspace();
        var f = new double[7];
        var grad = new double[th.Length];
        net.Gradient(x, seed, grad, ws, f);
        Close(acts[^1], f, "forward");
        Close(gRef, grad, "gradient");
    }

    [Fact]
    public void A_network_without_affine_layers_has_an_empty_gradient()
    {
        ArchitectureNetwork<double> net = ArchitectureNetwork<double>.Initialize(Architecture.Parse("relu avgpool:2 gap"), 4, 4, 3, 0);
        Assert.Equal(0, net.ParameterCount);
        var f = new double[3];
        net.Gradient(new double[48], [1, 2, 3], [], net.CreateWorkspace(), f);
        Assert.Equal([0, 0, 0], f);
    }

    [Fact]
    public void Forward_and_gradient_allocate_nothing_once_warm()
    {
        Architecture arch = Architecture.Parse("conv:9,3x3,same relu conv:8,3x3,s2,same tanh res{ conv:8,3x3,same relu } avgpool:2 flatten dense:3");
        ArchitectureNetwork<double> net = ArchitectureNetwork<double>.Initialize(arch, 9, 8, 2, 1);
        var ws = net.CreateWorkspace();
        var x = new double[9 * 8 * 2];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sin(i);
        var f = new double[3];
        double[] seed = [1, -0.5, 0.25];
        var grad = new double[net.ParameterCount];
        Assert.Equal(0, Allocations.PerCall(() =>
        {
            for (int r = 0; r < 5; r++)
            {
                net.Forward(x, f, ws);
                net.Gradient(x, seed, grad, ws, f);
            }
        }));
    }

    private static void Close(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 0, err = 0;
        for (int i = 0; i < expected.Length; i++) { scale = Math.Max(scale, Math.Abs(expected[i])); err = Math.Max(err, Math.Abs(expected[i] - actual[i])); }
        Assert.True(err <= 1e-13 * Math.Max(scale, 1e-300), $"{what}: max |difference| {err:E3} against max |value| {scale:E3}");
    }
}
