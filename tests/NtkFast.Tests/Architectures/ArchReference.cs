using NtkFast.Activations;
using NtkFast.Architectures;

namespace NtkFast.Tests.Architectures;

/// <summary>
/// Plain reference of the infinite-width recursion, written independently of <see cref="ArchitectureKernels"/>:
/// 4-D arrays [h, w, h', w'] for the three pairs (x,x), (x',x'), (x,x') carried together (the first two give the
/// variances), loops over pixel pairs and taps, the scalar dual <see cref="Activation.Dual(double, double, double)"/>.
/// Sequential layers (dense, conv, activation, avgpool, gap, flatten, id) and res{ } (identity + branch).
/// </summary>
internal static class ArchReference
{
    private sealed class St
    {
        public int H, W, C;
        public double[][,,,] S = new double[3][,,,], T = new double[3][,,,];  // pairs aa, bb, ab
        public St Clone()
        {
            var c = new St { H = H, W = W, C = C };
            for (int k = 0; k < 3; k++) { c.S[k] = (double[,,,])S[k].Clone(); c.T[k] = (double[,,,])T[k].Clone(); }
            return c;
        }
    }

    public static (double Nngp, double Ntk) Pair(Architecture arch, double[] xa, double[] xb, int h, int w, int c)
    {
        var st = new St { H = h, W = w, C = c };
        double[][] xs = [xa, xb];
        (int, int)[] pairs = [(0, 0), (1, 1), (0, 1)];
        for (int k = 0; k < 3; k++)
        {
            var s = new double[h, w, h, w];
            double[] u = xs[pairs[k].Item1], v = xs[pairs[k].Item2];
            for (int a = 0; a < h; a++) for (int b = 0; b < w; b++)
                for (int a2 = 0; a2 < h; a2++) for (int b2 = 0; b2 < w; b2++)
                {
                    double sum = 0;
                    for (int q = 0; q < c; q++) sum += u[(a * w + b) * c + q] * v[(a2 * w + b2) * c + q];
                    s[a, b, a2, b2] = sum / c;
                }
            st.S[k] = s; st.T[k] = new double[h, w, h, w];
        }
        Run(arch, arch.Layers, st);
        return (st.S[2][0, 0, 0, 0], st.T[2][0, 0, 0, 0]);
    }

    private static void Run(Architecture arch, IReadOnlyList<Layer> layers, St st)
    {
        foreach (Layer layer in layers)
        {
            switch (layer)
            {
                case DenseLayer d:
                    if (st.H * st.W != 1) throw new InvalidOperationException("reference: dense on feature maps");
                    Affine(arch, st, 1, 1, 1, 1, 0, 0, d.WeightStd ?? arch.WeightStd, d.Beta ?? arch.Beta, st.C, 1, 1);
                    st.C = d.Width;
                    break;
                case ConvLayer cv:
                {
                    int ho, wo, pt = 0, pl = 0;
                    if (cv.Padding == Padding.Valid) { ho = (st.H - cv.FilterH) / cv.StrideH + 1; wo = (st.W - cv.FilterW) / cv.StrideW + 1; }
                    else
                    {
                        ho = (int)Math.Ceiling(st.H / (double)cv.StrideH); wo = (int)Math.Ceiling(st.W / (double)cv.StrideW);
                        pt = Math.Max((ho - 1) * cv.StrideH + cv.FilterH - st.H, 0) / 2;
                        pl = Math.Max((wo - 1) * cv.StrideW + cv.FilterW - st.W, 0) / 2;
                    }
                    Affine(arch, st, cv.FilterH, cv.FilterW, cv.StrideH, cv.StrideW, pt, pl, cv.WeightStd ?? arch.WeightStd, cv.Beta ?? arch.Beta,
                        st.C * cv.FilterH * cv.FilterW, ho, wo);
                    st.C = cv.Channels;
                    break;
                }
                case ActivationLayer a:
                {
                    int h = st.H, w = st.W;
                    var varA = new double[h, w]; var varB = new double[h, w];
                    for (int p = 0; p < h; p++) for (int q = 0; q < w; q++) { varA[p, q] = st.S[0][p, q, p, q]; varB[p, q] = st.S[1][p, q, p, q]; }
                    double[][,] left = [varA, varB, varA], right = [varA, varB, varB];
                    for (int k = 0; k < 3; k++)
                        for (int p = 0; p < h; p++) for (int q = 0; q < w; q++)
                            for (int p2 = 0; p2 < h; p2++) for (int q2 = 0; q2 < w; q2++)
                            {
                                DualValue v = a.Activation.Dual(left[k][p, q], st.S[k][p, q, p2, q2], right[k][p2, q2]);
                                st.S[k][p, q, p2, q2] = v.Ess;
                                st.T[k][p, q, p2, q2] *= v.Edd;
                            }
                    break;
                }
                case AvgPoolLayer pool:
                {
                    int ho = (st.H - pool.WindowH) / pool.StrideH + 1, wo = (st.W - pool.WindowW) / pool.StrideW + 1;
                    double n = Math.Pow(pool.WindowH * pool.WindowW, 2);
                    for (int k = 0; k < 3; k++)
                    {
                        var s = new double[ho, wo, ho, wo]; var t = new double[ho, wo, ho, wo];
                        for (int p = 0; p < ho; p++) for (int q = 0; q < wo; q++) for (int p2 = 0; p2 < ho; p2++) for (int q2 = 0; q2 < wo; q2++)
                        {
                            double ss = 0, tt = 0;
                            for (int a1 = 0; a1 < pool.WindowH; a1++) for (int b1 = 0; b1 < pool.WindowW; b1++)
                                for (int a2 = 0; a2 < pool.WindowH; a2++) for (int b2 = 0; b2 < pool.WindowW; b2++)
                                {
                                    ss += st.S[k][p * pool.StrideH + a1, q * pool.StrideW + b1, p2 * pool.StrideH + a2, q2 * pool.StrideW + b2];
                                    tt += st.T[k][p * pool.StrideH + a1, q * pool.StrideW + b1, p2 * pool.StrideH + a2, q2 * pool.StrideW + b2];
                                }
                            s[p, q, p2, q2] = ss / n; t[p, q, p2, q2] = tt / n;
                        }
                        st.S[k] = s; st.T[k] = t;
                    }
                    st.H = ho; st.W = wo;
                    break;
                }
                case GlobalAvgPoolLayer:
                {
                    double n = Math.Pow(st.H * st.W, 2);
                    for (int k = 0; k < 3; k++)
                    {
                        double s = 0, t = 0;
                        foreach (double v in st.S[k]) s += v;
                        foreach (double v in st.T[k]) t += v;
                        st.S[k] = new double[,,,] { { { { s / n } } } }; st.T[k] = new double[,,,] { { { { t / n } } } };
                    }
                    st.H = 1; st.W = 1;
                    break;
                }
                case FlattenLayer:
                {
                    double n = st.H * st.W;
                    for (int k = 0; k < 3; k++)
                    {
                        double s = 0, t = 0;
                        for (int p = 0; p < st.H; p++) for (int q = 0; q < st.W; q++) { s += st.S[k][p, q, p, q]; t += st.T[k][p, q, p, q]; }
                        st.S[k] = new double[,,,] { { { { s / n } } } }; st.T[k] = new double[,,,] { { { { t / n } } } };
                    }
                    st.C *= st.H * st.W; st.H = 1; st.W = 1;
                    break;
                }
                case IdentityLayer: break;
                case SumLayer sum when sum.Branches.Count == 2 && sum.Branches[0].Count == 0:
                {
                    St input = st.Clone();
                    Run(arch, sum.Branches[1], st);
                    for (int k = 0; k < 3; k++)
                        for (int p = 0; p < st.H; p++) for (int q = 0; q < st.W; q++) for (int p2 = 0; p2 < st.H; p2++) for (int q2 = 0; q2 < st.W; q2++)
                        {
                            st.S[k][p, q, p2, q2] += input.S[k][p, q, p2, q2];
                            st.T[k][p, q, p2, q2] += input.T[k][p, q, p2, q2];
                        }
                    break;
                }
                default: throw new InvalidOperationException($"reference: unsupported {layer}");
            }
        }
    }

    private static void Affine(Architecture arch, St st, int kh, int kw, int sh, int sw, int pt, int pl, double sigmaW, double beta, double fanIn, int ho, int wo)
    {
        bool standard = arch.Parameterization == Parameterization.Standard;
        for (int k = 0; k < 3; k++)
        {
            var s = new double[ho, wo, ho, wo]; var t = new double[ho, wo, ho, wo];
            for (int p = 0; p < ho; p++) for (int q = 0; q < wo; q++) for (int p2 = 0; p2 < ho; p2++) for (int q2 = 0; q2 < wo; q2++)
            {
                double accS = 0, accT = 0;
                for (int a = 0; a < kh; a++) for (int b = 0; b < kw; b++)
                {
                    int i1 = p * sh + a - pt, j1 = q * sw + b - pl, i2 = p2 * sh + a - pt, j2 = q2 * sw + b - pl;
                    if (i1 < 0 || i1 >= st.H || j1 < 0 || j1 >= st.W || i2 < 0 || i2 >= st.H || j2 < 0 || j2 >= st.W) continue;
                    accS += st.S[k][i1, j1, i2, j2]; accT += st.T[k][i1, j1, i2, j2];
                }
                double mS = accS / (kh * kw), mT = accT / (kh * kw);
                double sig = sigmaW * sigmaW * mS + beta * beta;
                s[p, q, p2, q2] = sig;
                t[p, q, p2, q2] = standard ? sigmaW * sigmaW * mT + fanIn * mS + (beta > 0 ? 1 : 0) : sigmaW * sigmaW * mT + sig;
            }
            st.S[k] = s; st.T[k] = t;
        }
        st.H = ho; st.W = wo;
    }
}
