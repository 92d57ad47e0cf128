using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Activations;
using NtkFast.Numerics;

namespace NtkFast.Architectures;

/// <summary>
/// The kernel recursion of one pair of inputs (x, x') over the pixel-pair covariance Σ(p, p') and NTK
/// Θ(p, p') (P×P' each, row p = a pixel of x): Arora et al. 2019, Novak et al. 2019. One worker's buffers;
/// the inner loops allocate nothing. Every value is a fixed chain of IEEE operations of its pair, so results
/// do not depend on threads, blocks or the order in which pairs are computed.
/// </summary>
[SkipLocalsInit]
internal sealed unsafe class PairRecursion : PairEngine
{
    private readonly ArchProgram _prog;
    private readonly double[] _s0, _t0, _s1, _t1, _rowS, _rowT, _ess, _edd, _dualVars, _padS, _padT, _xbT;
    private readonly double[][] _slotS, _slotT;
    private readonly int[] _slotH, _slotW, _cols;
    private readonly long _plane;

    public PairRecursion(ArchProgram prog)
    {
        _prog = prog;
        int p = prog.MaxPixels;
        _plane = (long)p * p;
        if (_plane > Array.MaxLength) throw new ArchitectureException($"{p} pixels: the pixel-pair covariance ({p}² doubles) is too large");
        _s0 = new double[_plane]; _t0 = new double[_plane]; _s1 = new double[_plane]; _t1 = new double[_plane];
        long pad = 0; int padRow = p;
        foreach (Op op in prog.Ops)
            if (op.Kind == OpKind.Affine && op.Sh == 1 && op.Sw == 1)
            {
                int hp = op.Hout + op.Kh - 1, wp = op.Wout + op.Kw - 1;
                pad = Math.Max(pad, (long)op.Pin * hp * wp);
                padRow = Math.Max(padRow, hp * wp);
            }
        if (pad > Array.MaxLength) throw new ArchitectureException($"{p} pixels: the padded pixel-pair covariance is too large");
        // Slack: the stencil reads and writes whole vectors, up to one vector past a span's last lane (never read back).
        _padS = new double[pad + Slack]; _padT = new double[pad + Slack];
        _rowS = new double[padRow + Slack]; _rowT = new double[padRow + Slack]; _ess = new double[p]; _edd = new double[p];
        _dualVars = new double[2 * p];
        _xbT = new double[(long)prog.InputH * prog.InputW * prog.InputC];
        _cols = new int[p];
        _slotS = new double[prog.Slots][]; _slotT = new double[prog.Slots][];
        for (int i = 0; i < prog.Slots; i++) { _slotS[i] = new double[_plane]; _slotT[i] = new double[_plane]; }
        _slotH = new int[prog.Slots]; _slotW = new int[prog.Slots];
    }

    internal const int Slack = 8;

    /// <summary>Bytes one worker holds.</summary>
    public static long Bytes(ArchProgram prog) => ((long)prog.MaxPixels * prog.MaxPixels * (6 + 2L * prog.Slots) + 9L * prog.MaxPixels) * sizeof(double);

    /// <summary>
    /// Σ and Θ of the pair. <paramref name="varA"/>/<paramref name="varB"/>: the inputs' per-pixel variances before
    /// every activation (<see cref="ArchProgram.VarLength"/> each). With <paramref name="record"/> (x' = x) the
    /// variances are taken from the diagonal of the pair's own covariance and written to varA (= varB).
    /// </summary>
    public override (double Nngp, double Ntk) Run(ReadOnlySpan<double> xa, ReadOnlySpan<double> xb, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT)
    {
        ArchProgram prog = _prog;
        int p0 = prog.InputH * prog.InputW, ch = prog.InputC;
        // Layer 0: mean over channels of x_p · x'_p'.
        fixed (double* pS = _s0, pXbT = _xbT)
        {
            double* xbT = InputRows.Transpose(xb, p0, ch, pXbT);
            InputRows.Compute(xa, xbT, p0, ch, 0, p0, pS);
        }
        if (wantT) Array.Clear(_t0, 0, p0 * p0);
        return Execute(0, varA, varB, record, wantT);
    }

    /// <summary>Σ⁰ of the pair's 1×1 tail (a streamed prefix ended at a Gap/Flatten): the ops from <paramref name="start"/> on.</summary>
    internal (double Nngp, double Ntk) RunTail(int start, double s, double t, Span<double> varA, ReadOnlySpan<double> varB, bool wantT)
    {
        _s0[0] = s; _t0[0] = t;
        return Execute(start, varA, varB, record: false, wantT);
    }

    /// <summary>The ops from <paramref name="start"/> on, from Σ, Θ in the first buffers.</summary>
    private (double Nngp, double Ntk) Execute(int start, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT)
    {
        ArchProgram prog = _prog;
        double[] S = _s0, T = _t0, S2 = _s1, T2 = _t1;
        for (int k = start; k < prog.Ops.Length; k++)
        {
            Op op = prog.Ops[k];
            switch (op.Kind)
            {
                case OpKind.Affine:
                    Affine(op, S, T, S2, T2, wantT);
                    (S, S2) = (S2, S); (T, T2) = (T2, T);
                    break;
                case OpKind.Activation:
                    Activate(op, S, T, varA, varB, record, wantT);
                    break;
                case OpKind.Pool:
                    Pool(op, S, S2); if (wantT) Pool(op, T, T2);
                    (S, S2) = (S2, S); (T, T2) = (T2, T);
                    break;
                case OpKind.Gap:
                {
                    int n = op.Pin * op.Pin;
                    double inv = 1.0 / ((double)op.Pin * op.Pin);
                    S[0] = Sum(S, n) * inv;
                    if (wantT) T[0] = Sum(T, n) * inv;
                    break;
                }
                case OpKind.Flatten:
                {
                    int pin = op.Pin;
                    double ss = 0, tt = 0;
                    for (int i = 0; i < pin; i++) { ss += S[i * (pin + 1)]; if (wantT) tt += T[i * (pin + 1)]; }
                    S[0] = ss / pin; T[0] = tt / pin;
                    break;
                }
                case OpKind.Save:
                case OpKind.Accumulate:
                {
                    int n = op.Pout * op.Pout;
                    double[] ds = _slotS[op.Slot], dt = _slotT[op.Slot];
                    if (op.Kind == OpKind.Save || op.First)
                    {
                        Array.Copy(S, ds, n); if (wantT) Array.Copy(T, dt, n);
                    }
                    else
                    {
                        Add(ds, S, n); if (wantT) Add(dt, T, n);
                    }
                    break;
                }
                case OpKind.Load:
                {
                    int n = op.Pout * op.Pout;
                    Array.Copy(_slotS[op.Slot], S, n); if (wantT) Array.Copy(_slotT[op.Slot], T, n);
                    break;
                }
            }
        }
        return (S[0], wantT ? T[0] : 0.0);
    }

    private static double Sum(double[] a, int n)
    {
        // Fixed-order blocked sum (8 lanes, then the lanes in order): deterministic, accurate enough.
        fixed (double* pa = a)
        {
            Vector512<double> acc = Vector512<double>.Zero;
            int i = 0;
            for (; i + 8 <= n; i += 8) acc += Vector512.Load(pa + i);
            double s = 0;
            for (int k = 0; k < 8; k++) s += acc.GetElement(k);
            for (; i < n; i++) s += pa[i];
            return s;
        }
    }

    private static void Add(double[] dst, double[] src, int n)
    {
        fixed (double* d = dst, s = src) AddSpan(d, s, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSpan(double* d, double* s, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) Vector512.Store(Vector512.Load(d + i) + Vector512.Load(s + i), d + i);
        if (i + 4 <= n) { Vector256.Store(Vector256.Load(d + i) + Vector256.Load(s + i), d + i); i += 4; }
        for (; i < n; i++) d[i] += s[i];
    }

    /// <summary>Two streams at once (Σ and Θ rows share the taps' geometry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSpan2(double* d, double* s, double* d2, double* s2, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector512.Store(Vector512.Load(d + i) + Vector512.Load(s + i), d + i);
            Vector512.Store(Vector512.Load(d2 + i) + Vector512.Load(s2 + i), d2 + i);
        }
        if (i + 4 <= n)
        {
            Vector256.Store(Vector256.Load(d + i) + Vector256.Load(s + i), d + i);
            Vector256.Store(Vector256.Load(d2 + i) + Vector256.Load(s2 + i), d2 + i);
            i += 4;
        }
        for (; i < n; i++) { d[i] += s[i]; d2[i] += s2[i]; }
    }

    /// <summary>
    /// Conv (dense = 1×1 on 1×1): Σ' = σw²·A(Σ) + β², Θ' = σw²·A(Θ) + Σ' (NTK parameterisation) or
    /// σw²·A(Θ) + fan_in·A(Σ) + [β &gt; 0] (standard), A = the mean over the filter's taps of
    /// Σ(s·p + δ − pad, s·p' + δ − pad) (zero outside the image).
    /// </summary>
    private void Affine(Op op, double[] S, double[] T, double[] So, double[] To, bool wantT)
    {
        if (op.Sh == 1 && op.Sw == 1) { AffineStride1(op, S, T, So, To, wantT); return; }
        int hin = op.Hin, win = op.Win, pin = op.Pin, ho = op.Hout, wo = op.Wout, po = op.Pout;
        double taps = (double)op.Kh * op.Kw;
        double c = op.W2 / taps, b2 = op.B2, cs = op.FanIn / taps, bias = op.BiasNtk;
        bool sp = _prog.Parameterization == Parameterization.Standard;
        fixed (double* pS = S, pT = T, pSo = So, pTo = To, accS = _rowS, accT = _rowT)
        {
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++)
                {
                    new Span<double>(accS, po).Clear();
                    if (wantT) new Span<double>(accT, po).Clear();
                    for (int dh = 0; dh < op.Kh; dh++)
                    {
                        int ih = op.Sh * oh + dh - op.PadT;
                        if ((uint)ih >= (uint)hin) continue;
                        // Output rows oh' whose tap row ih' = Sh·oh' + dh − PadT is inside.
                        for (int dw = 0; dw < op.Kw; dw++)
                        {
                            int iw = op.Sw * ow + dw - op.PadL;
                            if ((uint)iw >= (uint)win) continue;
                            double* srcS = pS + (long)(ih * win + iw) * pin, srcT = pT + (long)(ih * win + iw) * pin;
                            int off = dw - op.PadL;
                            // wo' range with 0 ≤ Sw·wo' + off < win.
                            int lo = off >= 0 ? 0 : (-off + op.Sw - 1) / op.Sw;
                            int hi = Math.Min(wo - 1, (win - 1 - off) / op.Sw);
                            if (win - 1 - off < 0 || lo > hi) continue;
                            for (int oh2 = 0; oh2 < ho; oh2++)
                            {
                                int ih2 = op.Sh * oh2 + dh - op.PadT;
                                if ((uint)ih2 >= (uint)hin) continue;
                                double* dS = accS + oh2 * wo, dT = accT + oh2 * wo;
                                double* rS = srcS + ih2 * win + off, rT = srcT + ih2 * win + off;
                                if (op.Sw == 1)
                                {
                                    if (wantT) AddSpan2(dS + lo, rS + lo, dT + lo, rT + lo, hi - lo + 1);
                                    else AddSpan(dS + lo, rS + lo, hi - lo + 1);
                                }
                                else
                                {
                                    for (int q = lo; q <= hi; q++) { dS[q] += rS[q * op.Sw]; if (wantT) dT[q] += rT[q * op.Sw]; }
                                }
                            }
                        }
                    }
                    double* oS = pSo + (long)(oh * wo + ow) * po, oT = pTo + (long)(oh * wo + ow) * po;
                    Finish(accS, accT, oS, oT, po, c, b2, cs, bias, sp, wantT);
                }
        }
    }

    /// <summary>
    /// Stride 1: the column pixels of every input row are first copied into a zero-padded Hp×Wp image
    /// (Hp = Hout + Kh − 1, Wp = Wout + Kw − 1), so a tap (dh, dw) is one contiguous span at offset
    /// dh·Wp + dw of an accumulator laid out with row stride Wp (lanes past Wout are never read back).
    /// The taps are summed in registers, 32 lanes at a time, and stored once (load-bound: Kh·Kw loads per
    /// store, against two loads and a store per tap when each tap was added into memory). The padding
    /// border stays zero between calls of the same geometry, so only the interior is copied.
    /// Same taps, same order (0 + tap₀ + tap₁ + …) as <see cref="Affine"/>'s general path; the padding adds exact zeros.
    /// </summary>
    private void AffineStride1(Op op, double[] S, double[] T, double[] So, double[] To, bool wantT)
    {
        int hin = op.Hin, win = op.Win, pin = op.Pin, ho = op.Hout, wo = op.Wout, po = op.Pout;
        int hp = ho + op.Kh - 1, wp = wo + op.Kw - 1, pp = hp * wp;
        int span = (ho - 1) * wp + wo;
        double taps = (double)op.Kh * op.Kw;
        double c = op.W2 / taps, b2 = op.B2, cs = op.FanIn / taps, bias = op.BiasNtk;
        bool sp = _prog.Parameterization == Parameterization.Standard;
        long* rows = stackalloc long[op.Kh * op.Kw];
        int wideWo = (wo + 7) & ~7;
        fixed (double* pS = S, pT = T, pSo = So, pTo = To, accS = _rowS, accT = _rowT, padS = _padS, padT = _padT)
        {
            // The border is zero if the buffer was last laid out the same way (the interior is overwritten below).
            (int, int, int, int, int, int, int) layout = (pin, hin, win, hp, wp, op.PadT, op.PadL);
            if (layout != _padLayoutS) { new Span<double>(padS, pin * pp).Clear(); _padLayoutS = layout; }
            if (wantT && layout != _padLayoutT) { new Span<double>(padT, pin * pp).Clear(); _padLayoutT = layout; }
            // Padded copies of every input row (column pixels (ih', iw') at (ih' + PadT, iw' + PadL)).
            for (int r = 0; r < pin; r++)
                for (int ih = 0; ih < hin; ih++)
                {
                    int y = ih + op.PadT;
                    if ((uint)y >= (uint)hp) continue;
                    int x0 = op.PadL, lo = Math.Max(0, -x0), hi = Math.Min(win, wp - x0);
                    if (lo >= hi) continue;
                    new ReadOnlySpan<double>(pS + (long)r * pin + ih * win + lo, hi - lo).CopyTo(new Span<double>(padS + (long)r * pp + y * wp + x0 + lo, hi - lo));
                    if (wantT) new ReadOnlySpan<double>(pT + (long)r * pin + ih * win + lo, hi - lo).CopyTo(new Span<double>(padT + (long)r * pp + y * wp + x0 + lo, hi - lo));
                }
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++)
                {
                    int nt = TapRows(op, oh, ow, hin, (long)win * pp, pp, wp, rows);
                    SumTaps(padS, rows, nt, accS, span);
                    if (wantT) SumTaps(padT, rows, nt, accT, span);
                    double* oS = pSo + (long)(oh * wo + ow) * po, oT = pTo + (long)(oh * wo + ow) * po;
                    for (int oh2 = 0; oh2 < ho; oh2++)
                    {
                        // Whole vectors past Wout land on the following output rows of this pixel, rewritten after;
                        // rows whose rounded-up end would pass this pixel's last lane are written exactly.
                        int a = oh2 * wp;
                        Finish(accS + a, accT + a, oS + oh2 * wo, oT + oh2 * wo, wo, c, b2, cs, bias, sp, wantT, exact: oh2 * wo + wideWo > po);
                    }
                }
        }
    }

    /// <summary>
    /// The valid taps (dh, dw) of output pixel (oh, ow) of a stride-1 conv, in tap order, as offsets into padded rows:
    /// input pixel (ih, iw) is padded row (ih mod <paramref name="ringRows"/>)·rowStride + iw·pp, the tap's span starts
    /// at dh·wp + dw in it. Returns the number of taps.
    /// </summary>
    internal static int TapRows(Op op, int oh, int ow, int ringRows, long rowStride, int pp, int wp, long* rows)
    {
        int nt = 0;
        for (int dh = 0; dh < op.Kh; dh++)
        {
            int ih = oh + dh - op.PadT;
            if ((uint)ih >= (uint)op.Hin) continue;
            for (int dw = 0; dw < op.Kw; dw++)
            {
                int iw = ow + dw - op.PadL;
                if ((uint)iw >= (uint)op.Win) continue;
                rows[nt++] = (ih % ringRows) * rowStride + (long)iw * pp + dh * wp + dw;
            }
        }
        return nt;
    }

    // Layouts the padded buffers were last cleared for (Pin ≥ 1, so the default never matches).
    private (int, int, int, int, int, int, int) _padLayoutS, _padLayoutT;

    /// <summary>acc[i] = 0 + src[rows[0] + i] + src[rows[1] + i] + … (in tap order), i &lt; n rounded up to a multiple of 8; zero taps give zeros.</summary>
    internal static void SumTaps(double* src, long* rows, int nt, double* acc, int n)
    {
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0; t < nt; t++)
            {
                double* s = src + rows[t] + i;
                a0 += Vector512.Load(s); a1 += Vector512.Load(s + 8); a2 += Vector512.Load(s + 16); a3 += Vector512.Load(s + 24);
            }
            Vector512.Store(a0, acc + i); Vector512.Store(a1, acc + i + 8); Vector512.Store(a2, acc + i + 16); Vector512.Store(a3, acc + i + 24);
        }
        // The tail as whole vectors: lanes up to the next multiple of 8 are computed from the slack and never read.
        for (; i < n; i += 8)
        {
            Vector512<double> a0 = Vector512<double>.Zero;
            for (int t = 0; t < nt; t++) a0 += Vector512.Load(src + rows[t] + i);
            Vector512.Store(a0, acc + i);
        }
    }

    internal static void Finish(double* accS, double* accT, double* oS, double* oT, int n, double c, double b2, double cs, double bias, bool sp, bool wantT, bool exact = true)
    {
        var vc = Vector512.Create(c); var vb = Vector512.Create(b2);
        int i = 0;
        // Not exact: whole vectors up to the next multiple of 8 (the caller rewrites the lanes past n later).
        if (!exact) n = (n + 7) & ~7;
        if (!wantT)
        {
            for (; i + 8 <= n; i += 8) Vector512.Store(vc * Vector512.Load(accS + i) + vb, oS + i);
            for (; i < n; i++) oS[i] = c * accS[i] + b2;
            return;
        }
        if (!sp)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector512<double> s = vc * Vector512.Load(accS + i) + vb;
                Vector512.Store(s, oS + i);
                Vector512.Store(vc * Vector512.Load(accT + i) + s, oT + i);
            }
            for (; i < n; i++) { double s = c * accS[i] + b2; oS[i] = s; oT[i] = c * accT[i] + s; }
            return;
        }
        var vcs = Vector512.Create(cs); var vbias = Vector512.Create(bias);
        for (; i + 8 <= n; i += 8)
        {
            Vector512<double> a = Vector512.Load(accS + i);
            Vector512.Store(vc * a + vb, oS + i);
            Vector512.Store(vc * Vector512.Load(accT + i) + (vcs * a + vbias), oT + i);
        }
        for (; i < n; i++) { double a = accS[i]; oS[i] = c * a + b2; oT[i] = c * accT[i] + (cs * a + bias); }
    }

    /// <summary>Σ ← E[σ(u)σ(v)], Θ ← Θ ⊙ E[σ'(u)σ'(v)], row p with the fixed variance of pixel p of x.</summary>
    private void Activate(Op op, double[] S, double[] T, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT)
    {
        int p = op.Pin;
        Span<double> va = varA.Slice(op.VarOffset, p);
        ReadOnlySpan<double> vb = record ? va : varB.Slice(op.VarOffset, p);
        if (record) for (int i = 0; i < p; i++) va[i] = S[i * (p + 1)];
        Activation act = op.Act!;
        Span<double> ess = _ess.AsSpan(0, p), edd = _edd.AsSpan(0, p);
        PreparedDual? table = null;
        if (!act.HasClosedFormDual)
        {
            va.CopyTo(_dualVars); vb.CopyTo(_dualVars.AsSpan(p));
            table = act.PrepareDual(_dualVars.AsSpan(0, 2 * p));
            for (int j = 0; j < p; j++) _cols[j] = p + j;
        }
        for (int r = 0; r < p; r++)
        {
            Span<double> row = S.AsSpan(r * p, p);
            if (table is null) act.Dual(va[r], row, vb, ess, edd);
            else table.Row(r, _cols.AsSpan(0, p), row, vb, ess, edd);
            ess.CopyTo(row);
            if (wantT)
            {
                Span<double> trow = T.AsSpan(r * p, p);
                TensorPrimitives.Multiply(trow, edd, trow);
            }
        }
    }

    /// <summary>Average pooling of both pixel indices: O(q, q') = mean over the windows of q and q' of Σ.</summary>
    private static void Pool(Op op, double[] S, double[] O)
    {
        int win = op.Win, pin = op.Pin, ho = op.Hout, wo = op.Wout, po = op.Pout;
        double inv = 1.0 / ((double)op.Kh * op.Kw * op.Kh * op.Kw);
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++)
            {
                int ro = oh * wo + ow;
                for (int oh2 = 0; oh2 < ho; oh2++)
                    for (int ow2 = 0; ow2 < wo; ow2++)
                    {
                        double sum = 0;
                        for (int a = 0; a < op.Kh; a++)
                            for (int b = 0; b < op.Kw; b++)
                            {
                                int ri = (op.Sh * oh + a) * win + op.Sw * ow + b;
                                for (int a2 = 0; a2 < op.Kh; a2++)
                                    for (int b2 = 0; b2 < op.Kw; b2++)
                                        sum += S[(long)ri * pin + (op.Sh * oh2 + a2) * win + op.Sw * ow2 + b2];
                            }
                        O[(long)ro * po + oh2 * wo + ow2] = sum * inv;
                    }
            }
    }
}
