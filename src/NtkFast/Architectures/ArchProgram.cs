using NtkFast.Activations;

namespace NtkFast.Architectures;

internal enum OpKind { Affine, Activation, Pool, Gap, Flatten, Save, Load, Accumulate, MaxPool }

/// <summary>One step of the kernel recursion on the pixel-pair covariance (shapes resolved).</summary>
internal sealed class Op
{
    public OpKind Kind;
    public int Hin, Win, Cin, Hout, Wout, Cout;
    public int Kh = 1, Kw = 1, Sh = 1, Sw = 1, PadT, PadL;
    public double W2, B2, FanIn, BiasNtk;     // BiasNtk: the bias term of the NTK in standard parameterisation (0 or 1)
    public Activation? Act;
    public int Slot;
    public bool First;
    public int VarOffset;                     // Activation: offset of its per-pixel variances in an input's record
    public int Pin => Hin * Win;
    public int Pout => Hout * Wout;
}

/// <summary>An architecture compiled for an input shape: a flat list of ops over buffer slots.</summary>
internal sealed class ArchProgram
{
    public required Op[] Ops;
    public required int InputH, InputW, InputC;
    public required int MaxPixels, Slots, VarLength;
    public required Parameterization Parameterization;

    public static ArchProgram Compile(Architecture arch, int h, int w, int c)
    {
        var ops = new List<Op>();
        var st = new State { H = h, W = w, C = c, Flat = h == 1 && w == 1 };
        int slots = 0, varLen = 0, maxP = h * w;
        Emit(arch, arch.Layers, ops, ref st, ref slots, ref varLen, ref maxP, 0, out int usedSlots);
        if (st.H * st.W != 1)
            throw new ArchitectureException($"the architecture ends with {st.H}×{st.W}×{st.C} feature maps: add flatten or gap (and a dense readout)");
        return new ArchProgram
        {
            Ops = [.. ops], InputH = h, InputW = w, InputC = c, MaxPixels = maxP, Slots = usedSlots, VarLength = varLen,
            Parameterization = arch.Parameterization,
        };
    }

    private struct State { public int H, W, C; public bool Flat; }

    private static void Emit(Architecture arch, IReadOnlyList<Layer> layers, List<Op> ops, ref State st, ref int slots, ref int varLen, ref int maxP, int slotBase, out int usedSlots)
    {
        usedSlots = slotBase;
        foreach (Layer layer in layers)
        {
            string shape = $"{st.H}×{st.W}×{st.C}";
            switch (layer)
            {
                case DenseLayer d:
                {
                    if (st.H * st.W != 1)
                        throw new ArchitectureException($"dense:{d.Width} after {shape} feature maps: add flatten or gap before it");
                    double sw = d.WeightStd ?? arch.WeightStd, b = d.Beta ?? arch.Beta;
                    ops.Add(new Op
                    {
                        Kind = OpKind.Affine, Hin = 1, Win = 1, Cin = st.C, Hout = 1, Wout = 1, Cout = d.Width,
                        W2 = sw * sw, B2 = b * b, FanIn = st.C, BiasNtk = b > 0 ? 1 : 0,
                    });
                    st.C = d.Width;
                    break;
                }
                case ConvLayer cv:
                {
                    if (st.Flat) throw new ArchitectureException("conv after flatten/gap/dense or on N×d points: convolutions need N×H×W×C (or N×L×C) feature maps");
                    int ho, wo, pt = 0, pl = 0;
                    if (cv.Padding == Padding.Valid)
                    {
                        if (cv.FilterH > st.H || cv.FilterW > st.W)
                            throw new ArchitectureException($"conv filter {cv.FilterH}x{cv.FilterW} is larger than its {st.H}×{st.W} input (VALID padding)");
                        ho = (st.H - cv.FilterH) / cv.StrideH + 1; wo = (st.W - cv.FilterW) / cv.StrideW + 1;
                    }
                    else
                    {
                        ho = (st.H + cv.StrideH - 1) / cv.StrideH; wo = (st.W + cv.StrideW - 1) / cv.StrideW;
                        pt = Math.Max((ho - 1) * cv.StrideH + cv.FilterH - st.H, 0) / 2;
                        pl = Math.Max((wo - 1) * cv.StrideW + cv.FilterW - st.W, 0) / 2;
                    }
                    double sw = cv.WeightStd ?? arch.WeightStd, b = cv.Beta ?? arch.Beta;
                    ops.Add(new Op
                    {
                        Kind = OpKind.Affine, Hin = st.H, Win = st.W, Cin = st.C, Hout = ho, Wout = wo, Cout = cv.Channels,
                        Kh = cv.FilterH, Kw = cv.FilterW, Sh = cv.StrideH, Sw = cv.StrideW, PadT = pt, PadL = pl,
                        W2 = sw * sw, B2 = b * b, FanIn = (double)st.C * cv.FilterH * cv.FilterW, BiasNtk = b > 0 ? 1 : 0,
                    });
                    st.H = ho; st.W = wo; st.C = cv.Channels;
                    break;
                }
                case ActivationLayer a:
                    ops.Add(new Op { Kind = OpKind.Activation, Hin = st.H, Win = st.W, Cin = st.C, Hout = st.H, Wout = st.W, Cout = st.C, Act = a.Activation, VarOffset = varLen });
                    varLen += st.H * st.W;
                    break;
                case AvgPoolLayer p:
                {
                    if (st.Flat) throw new ArchitectureException("avgpool after flatten/gap/dense");
                    if (p.WindowH > st.H || p.WindowW > st.W)
                        throw new ArchitectureException($"avgpool window {p.WindowH}x{p.WindowW} is larger than its {st.H}×{st.W} input");
                    int ho = (st.H - p.WindowH) / p.StrideH + 1, wo = (st.W - p.WindowW) / p.StrideW + 1;
                    ops.Add(new Op { Kind = OpKind.Pool, Hin = st.H, Win = st.W, Cin = st.C, Hout = ho, Wout = wo, Cout = st.C, Kh = p.WindowH, Kw = p.WindowW, Sh = p.StrideH, Sw = p.StrideW });
                    st.H = ho; st.W = wo;
                    break;
                }
                case MaxPoolLayer p:
                {
                    if (st.Flat) throw new ArchitectureException("maxpool after flatten/gap/dense");
                    if (p.WindowH > st.H || p.WindowW > st.W)
                        throw new ArchitectureException($"maxpool window {p.WindowH}x{p.WindowW} is larger than its {st.H}×{st.W} input");
                    int ho = (st.H - p.WindowH) / p.StrideH + 1, wo = (st.W - p.WindowW) / p.StrideW + 1;
                    ops.Add(new Op { Kind = OpKind.MaxPool, Hin = st.H, Win = st.W, Cin = st.C, Hout = ho, Wout = wo, Cout = st.C, Kh = p.WindowH, Kw = p.WindowW, Sh = p.StrideH, Sw = p.StrideW });
                    st.H = ho; st.W = wo;
                    break;
                }
                case GlobalAvgPoolLayer:
                    if (st.Flat) throw new ArchitectureException("gap after flatten/gap/dense: there are no pixels to pool");
                    ops.Add(new Op { Kind = OpKind.Gap, Hin = st.H, Win = st.W, Cin = st.C, Hout = 1, Wout = 1, Cout = st.C });
                    st.H = 1; st.W = 1; st.Flat = true;
                    break;
                case FlattenLayer:
                    ops.Add(new Op { Kind = OpKind.Flatten, Hin = st.H, Win = st.W, Cin = st.C, Hout = 1, Wout = 1, Cout = st.H * st.W * st.C });
                    st.C = st.H * st.W * st.C; st.H = 1; st.W = 1; st.Flat = true;
                    break;
                case IdentityLayer:
                    break;
                case SumLayer s:
                {
                    if (s.Branches.Count == 0) throw new ArchitectureException("sum{} has no branches");
                    int input = slotBase, acc = slotBase + 1;
                    usedSlots = Math.Max(usedSlots, slotBase + 2);
                    ops.Add(new Op { Kind = OpKind.Save, Slot = input, Hout = st.H, Wout = st.W });
                    State start = st, end = default;
                    for (int k = 0; k < s.Branches.Count; k++)
                    {
                        State b = start;
                        if (k > 0) ops.Add(new Op { Kind = OpKind.Load, Slot = input, Hout = start.H, Wout = start.W });
                        Emit(arch, s.Branches[k], ops, ref b, ref slots, ref varLen, ref maxP, slotBase + 2, out int used);
                        usedSlots = Math.Max(usedSlots, used);
                        if (k > 0 && (b.H != end.H || b.W != end.W || b.C != end.C))
                            throw new ArchitectureException($"sum/res branches give different shapes: {end.H}×{end.W}×{end.C} and {b.H}×{b.W}×{b.C}");
                        end = b;
                        ops.Add(new Op { Kind = OpKind.Accumulate, Slot = acc, First = k == 0, Hout = b.H, Wout = b.W });
                    }
                    ops.Add(new Op { Kind = OpKind.Load, Slot = acc, Hout = end.H, Wout = end.W });
                    st = end;
                    break;
                }
                default:
                    throw new ArchitectureException($"unsupported layer {layer.GetType().Name}");
            }
            maxP = Math.Max(maxP, st.H * st.W);
        }
    }
}
