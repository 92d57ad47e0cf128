using NtkFast.Activations;

namespace NtkFast.Architectures;

/// <summary>
/// The kernel recursion of a pair of inputs when only the diagonal Σ(p, p) of the pixel-pair covariance is ever
/// needed: a convolution reads Σ(p + δ, p' + δ) with the same shift δ on both pixels, an activation and a sum act
/// entry by entry, and a Flatten readout averages the diagonal — so, without average or global average pooling
/// (which mix p and p' independently), pixel p of x only meets pixel p of x' (Novak et al. 2019: a CNN without
/// pooling has the NNGP of a locally connected network). Cost per pair: P per layer instead of P² (P pixels).
/// Same formulas, same tap order as <see cref="PairRecursion"/>; the results agree to rounding (tested).
/// </summary>
internal sealed class DiagonalRecursion : PairEngine
{
    private readonly ArchProgram _prog;
    private readonly double[] _s0, _t0, _s1, _t1, _ess, _edd, _dualVars;
    private readonly double[][] _slotS, _slotT;
    private readonly int[] _col = new int[1];

    /// <summary>Whether the program needs only the diagonal (no avgpool, no gap).</summary>
    public static bool Applies(ArchProgram prog)
    {
        ArgumentNullException.ThrowIfNull(prog);
        return !Array.Exists(prog.Ops, o => o.Kind is OpKind.Pool or OpKind.Gap);
    }

    /// <summary>Bytes one worker holds.</summary>
    public static long Bytes(ArchProgram prog) => (long)prog.MaxPixels * (7 + 2L * prog.Slots) * sizeof(double);

    public DiagonalRecursion(ArchProgram prog)
    {
        if (!Applies(prog)) throw new ArgumentException("the program pools: it needs the full pixel-pair covariance", nameof(prog));
        _prog = prog;
        int p = prog.MaxPixels;
        _s0 = new double[p]; _t0 = new double[p]; _s1 = new double[p]; _t1 = new double[p];
        _ess = new double[1]; _edd = new double[1]; _dualVars = new double[2 * p];
        _slotS = new double[prog.Slots][]; _slotT = new double[prog.Slots][];
        for (int i = 0; i < prog.Slots; i++) { _slotS[i] = new double[p]; _slotT[i] = new double[p]; }
    }

    public override (double Nngp, double Ntk) Run(ReadOnlySpan<double> xa, ReadOnlySpan<double> xb, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT)
    {
        ArchProgram prog = _prog;
        int p0 = prog.InputH * prog.InputW, ch = prog.InputC;
        double[] S = _s0, T = _t0, S2 = _s1, T2 = _t1;
        // Layer 0: mean over channels of x_p · x'_p.
        for (int p = 0; p < p0; p++)
        {
            double acc = 0;
            ReadOnlySpan<double> a = xa.Slice(p * ch, ch), b = xb.Slice(p * ch, ch);
            for (int c = 0; c < ch; c++) acc += a[c] * b[c];
            S[p] = acc * (1.0 / ch);
        }
        Array.Clear(T, 0, p0);
        foreach (Op op in prog.Ops)
        {
            switch (op.Kind)
            {
                case OpKind.Affine:
                    Affine(op, S, T, S2, T2, wantT);
                    (S, S2) = (S2, S); (T, T2) = (T2, T);
                    break;
                case OpKind.Activation:
                    Activate(op, S, T, varA, varB, record, wantT);
                    break;
                case OpKind.Flatten:
                {
                    double ss = 0, tt = 0;
                    for (int i = 0; i < op.Pin; i++) { ss += S[i]; if (wantT) tt += T[i]; }
                    S[0] = ss / op.Pin; T[0] = tt / op.Pin;
                    break;
                }
                case OpKind.Save:
                case OpKind.Accumulate:
                {
                    int n = op.Pout;
                    double[] ds = _slotS[op.Slot], dt = _slotT[op.Slot];
                    if (op.Kind == OpKind.Save || op.First) { Array.Copy(S, ds, n); if (wantT) Array.Copy(T, dt, n); }
                    else
                    {
                        for (int i = 0; i < n; i++) ds[i] += S[i];
                        if (wantT) for (int i = 0; i < n; i++) dt[i] += T[i];
                    }
                    break;
                }
                case OpKind.Load:
                    Array.Copy(_slotS[op.Slot], S, op.Pout); if (wantT) Array.Copy(_slotT[op.Slot], T, op.Pout);
                    break;
                default:
                    throw new InvalidOperationException($"the diagonal recursion cannot run {op.Kind}");
            }
        }
        return (S[0], wantT ? T[0] : 0.0);
    }

    /// <summary>Conv (dense = 1×1): Σ'(q) = σw²·mean over taps of Σ(s·q + δ − pad) (zero outside) + β², Θ' as in <see cref="PairRecursion"/>.</summary>
    private void Affine(Op op, double[] S, double[] T, double[] So, double[] To, bool wantT)
    {
        double taps = (double)op.Kh * op.Kw;
        double c = op.W2 / taps, b2 = op.B2, cs = op.FanIn / taps, bias = op.BiasNtk;
        bool sp = _prog.Parameterization == Parameterization.Standard;
        for (int oh = 0; oh < op.Hout; oh++)
            for (int ow = 0; ow < op.Wout; ow++)
            {
                double accS = 0, accT = 0;
                for (int dh = 0; dh < op.Kh; dh++)
                {
                    int ih = op.Sh * oh + dh - op.PadT;
                    if ((uint)ih >= (uint)op.Hin) continue;
                    for (int dw = 0; dw < op.Kw; dw++)
                    {
                        int iw = op.Sw * ow + dw - op.PadL;
                        if ((uint)iw >= (uint)op.Win) continue;
                        accS += S[ih * op.Win + iw];
                        if (wantT) accT += T[ih * op.Win + iw];
                    }
                }
                int q = oh * op.Wout + ow;
                double s = c * accS + b2;
                So[q] = s;
                if (wantT) To[q] = sp ? c * accT + (cs * accS + bias) : c * accT + s;
            }
    }

    /// <summary>Σ(p) ← E[σ(u)σ(v)], Θ(p) ← Θ(p)·E[σ'(u)σ'(v)] with the variances of pixel p of x and of x'.</summary>
    private void Activate(Op op, double[] S, double[] T, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT)
    {
        int p = op.Pin;
        Span<double> va = varA.Slice(op.VarOffset, p);
        ReadOnlySpan<double> vb = record ? va : varB.Slice(op.VarOffset, p);
        if (record) S.AsSpan(0, p).CopyTo(va);
        Activation act = op.Act!;
        PreparedDual? table = null;
        if (!act.HasClosedFormDual)
        {
            va.CopyTo(_dualVars); vb.CopyTo(_dualVars.AsSpan(p));
            table = act.PrepareDual(_dualVars.AsSpan(0, 2 * p));
        }
        for (int r = 0; r < p; r++)
        {
            Span<double> entry = S.AsSpan(r, 1);
            if (table is null) act.Dual(va[r], entry, vb.Slice(r, 1), _ess, _edd);
            else
            {
                _col[0] = p + r;
                table.Row(r, _col, entry, vb.Slice(r, 1), _ess, _edd);
            }
            S[r] = _ess[0];
            if (wantT) T[r] *= _edd[0];
        }
    }
}
