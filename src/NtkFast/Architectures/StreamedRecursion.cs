using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NtkFast.Activations;

namespace NtkFast.Architectures;

/// <summary>
/// The pixel-pair recursion of <see cref="PairRecursion"/> for programs that are a chain of stride-1 convolutions
/// and activations ending in global average pooling (the CNTK-GAP of Arora et al. 2019), computed band by band:
/// a band is the Wout rows of Σ(p, ·), Θ(p, ·) whose first pixel p lies in one image row. A convolution's output
/// band needs only Kh input bands, so every layer keeps a ring of Kh bands (in the zero-padded column layout the
/// stencil reads) and the bands flow through all layers at once; the pooled sum is accumulated as they leave.
/// Working set: about Kh·W·(H + Kh)(W + Kw) doubles per layer (28×28, 3×3: 0.6 MB for Σ) instead of the
/// whole P² matrices per layer (4.9 MB each), so the 9-tap sums read from cache, not from memory.
/// <para>
/// Every entry is the same chain of IEEE operations as in <see cref="PairRecursion"/> (same input rows, the same
/// tap sums and affine finish, the same dual per row, the pooled sum in the same 8-lane order), so results are
/// bitwise identical. Self pairs (x' = x), whose per-pixel variances come from the pair's own diagonal, and
/// the 1×1 tail after the pooling run on the full recursion.
/// </para>
/// </summary>
[SkipLocalsInit]
internal sealed unsafe class StreamedRecursion : PairEngine
{
    private readonly ArchProgram _prog;
    private readonly PairRecursion _full;
    private readonly Stage[] _stages;    // one per op before the Gap
    private readonly int _gap;           // index of the Gap op
    private readonly double[] _bandS, _bandT, _xbT, _ess, _edd, _lanesS, _lanesT, _tailS, _tailT;
    private readonly int[] _cols;
    private readonly long[] _rows;
    private int _tailCount;
    private bool _wantT;

    /// <summary>Whether the program is a chain of stride-1 convolutions and activations ending in a Gap.</summary>
    public static bool Applies(ArchProgram prog)
    {
        ArgumentNullException.ThrowIfNull(prog);
        int gap = Array.FindIndex(prog.Ops, o => o.Kind == OpKind.Gap);
        if (gap < 0) return false;
        for (int k = 0; k < gap; k++)
        {
            Op op = prog.Ops[k];
            if (!(op.Kind == OpKind.Activation || (op.Kind == OpKind.Affine && op.Sh == 1 && op.Sw == 1))) return false;
        }
        return true;
    }

    /// <summary>Bytes one worker holds (the full recursion for self pairs and the streamed bands).</summary>
    public static long Bytes(ArchProgram prog)
    {
        long b = PairRecursion.Bytes(prog) + 4L * prog.InputH * prog.InputW * prog.MaxPixels;
        int gap = Array.FindIndex(prog.Ops, o => o.Kind == OpKind.Gap);
        for (int k = 0; k < gap; k++)
        {
            Op op = prog.Ops[k];
            if (op.Kind != OpKind.Affine) continue;
            long pp = (long)(op.Hout + op.Kh - 1) * (op.Wout + op.Kw - 1);
            b += 2 * ((long)op.Kh * op.Win * pp + (long)op.Wout * op.Pout + pp + 3 * PairRecursion.Slack);
        }
        return b * sizeof(double);
    }

    public StreamedRecursion(ArchProgram prog)
    {
        if (!Applies(prog)) throw new ArgumentException("the program is not a chain of stride-1 convolutions and activations ending in gap", nameof(prog));
        _prog = prog;
        _full = new PairRecursion(prog);
        _gap = Array.FindIndex(prog.Ops, o => o.Kind == OpKind.Gap);
        _stages = new Stage[_gap];
        int maxTaps = 1;
        for (int k = 0; k < _gap; k++)
        {
            _stages[k] = new Stage(prog.Ops[k]);
            maxTaps = Math.Max(maxTaps, prog.Ops[k].Kh * prog.Ops[k].Kw);
        }
        int p = prog.MaxPixels, p0 = prog.InputH * prog.InputW;
        _bandS = new double[(long)prog.InputW * p0]; _bandT = new double[(long)prog.InputW * p0];
        _xbT = new double[(long)p0 * prog.InputC];
        _ess = new double[p]; _edd = new double[p]; _cols = new int[p];
        _lanesS = new double[8]; _lanesT = new double[8]; _tailS = new double[8]; _tailT = new double[8];
        _rows = new long[maxTaps];
    }

    private sealed class Stage
    {
        public readonly Op Op;
        public readonly int Hp, Wp, Pp, Span;
        public readonly double[] RingS = [], RingT = [], OutS = [], OutT = [], AccS = [], AccT = [], DualVars = [];
        public PreparedDual? Table;
        public int NextOut;

        public Stage(Op op)
        {
            Op = op;
            if (op.Kind == OpKind.Affine)
            {
                Hp = op.Hout + op.Kh - 1; Wp = op.Wout + op.Kw - 1; Pp = Hp * Wp;
                Span = (op.Hout - 1) * Wp + op.Wout;
                // The ring's padding border is never written: it stays zero. Slack: whole-vector reads and writes.
                long ring = (long)op.Kh * op.Win * Pp + PairRecursion.Slack;
                RingS = new double[ring]; RingT = new double[ring];
                OutS = new double[(long)op.Wout * op.Pout + PairRecursion.Slack]; OutT = new double[OutS.Length];
                AccS = new double[Pp + PairRecursion.Slack]; AccT = new double[AccS.Length];
            }
            else DualVars = new double[2 * op.Pin];
        }
    }

    public override (double Nngp, double Ntk) Run(ReadOnlySpan<double> xa, ReadOnlySpan<double> xb, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT)
    {
        if (record) return _full.Run(xa, xb, varA, varB, record, wantT);
        ArchProgram prog = _prog;
        _wantT = wantT;
        foreach (Stage st in _stages)
        {
            st.NextOut = 0;
            st.Table = null;
            Op op = st.Op;
            if (op.Kind == OpKind.Activation && !op.Act!.HasClosedFormDual)
            {
                int p = op.Pin;
                varA.Slice(op.VarOffset, p).CopyTo(st.DualVars);
                varB.Slice(op.VarOffset, p).CopyTo(st.DualVars.AsSpan(p));
                st.Table = op.Act.PrepareDual(st.DualVars);
            }
        }
        Array.Clear(_lanesS); Array.Clear(_lanesT);
        _tailCount = 0;
        int h0 = prog.InputH, w0 = prog.InputW, p0 = h0 * w0;
        fixed (double* pXbT = _xbT, bS = _bandS, bT = _bandT)
        {
            double* xbT = InputRows.Transpose(xb, p0, prog.InputC, pXbT);
            for (int band = 0; band < h0; band++)
            {
                InputRows.Compute(xa, xbT, p0, prog.InputC, band * w0, w0, bS);
                if (wantT) new Span<double>(bT, w0 * p0).Clear();
                Push(0, band, bS, bT, varA, varB);
            }
        }
        // The pooled sum in PairRecursion.Sum's order: the 8 lanes in order, then the tail entries in order.
        Op g = prog.Ops[_gap];
        double inv = 1.0 / ((double)g.Pin * g.Pin);
        double s = 0, t = 0;
        for (int k = 0; k < 8; k++) { s += _lanesS[k]; t += _lanesT[k]; }
        for (int k = 0; k < _tailCount; k++) { s += _tailS[k]; t += _tailT[k]; }
        return _full.RunTail(_gap + 1, s * inv, wantT ? t * inv : 0.0, varA, varB, wantT);
    }

    /// <summary>Band <paramref name="band"/> (rows band·W … of the op's input, row length P) enters op <paramref name="k"/>.</summary>
    private void Push(int k, int band, double* bS, double* bT, Span<double> varA, ReadOnlySpan<double> varB)
    {
        if (k == _gap) { Pool(band, bS, bT); return; }
        Stage st = _stages[k];
        Op op = st.Op;
        if (op.Kind == OpKind.Activation)
        {
            // Into the next convolution's ring directly when one follows (one pass instead of a pass and a copy).
            Stage? next = k + 1 < _gap && _stages[k + 1].Op.Kind == OpKind.Affine ? _stages[k + 1] : null;
            Activate(st, band, bS, bT, varA, varB, next);
            if (next is null) Push(k + 1, band, bS, bT, varA, varB);
            else Drain(k + 1, band, varA, varB);
            return;
        }
        for (int r = 0; r < op.Win; r++)
            ToRing(st, band, r, new ReadOnlySpan<double>(bS + (long)r * op.Pin, op.Pin), _wantT ? new ReadOnlySpan<double>(bT + (long)r * op.Pin, op.Pin) : default, default);
        Drain(k, band, varA, varB);
    }

    /// <summary>
    /// Row <paramref name="r"/> of band <paramref name="band"/> into the ring (slot band mod Kh): column pixel (ih', iw')
    /// at (ih' + PadT, iw' + PadL) of the padded row. Θ's row is <paramref name="t"/>, times <paramref name="factor"/> if given.
    /// </summary>
    private void ToRing(Stage st, int band, int r, ReadOnlySpan<double> s, ReadOnlySpan<double> t, ReadOnlySpan<double> factor)
    {
        Op op = st.Op;
        int win = op.Win, wp = st.Wp;
        int x0 = op.PadL, lo = Math.Max(0, -x0), hi = Math.Min(win, wp - x0);
        if (lo >= hi) return;
        long row = (long)(band % op.Kh) * win * st.Pp + (long)r * st.Pp;
        Span<double> ringS = st.RingS.AsSpan(), ringT = st.RingT.AsSpan();
        for (int ih = 0; ih < op.Hin; ih++)
        {
            int y = ih + op.PadT;
            if ((uint)y >= (uint)st.Hp) continue;
            int src = ih * win + lo, len = hi - lo;
            long dst = row + y * wp + x0 + lo;
            s.Slice(src, len).CopyTo(ringS.Slice((int)dst, len));
            if (!_wantT) continue;
            if (factor.IsEmpty) t.Slice(src, len).CopyTo(ringT.Slice((int)dst, len));
            else TensorPrimitives.Multiply(t.Slice(src, len), factor.Slice(src, len), ringT.Slice((int)dst, len));
        }
    }

    /// <summary>Every output band of convolution <paramref name="k"/> whose input bands (up to <paramref name="band"/>) have all arrived.</summary>
    private void Drain(int k, int band, Span<double> varA, ReadOnlySpan<double> varB)
    {
        Stage st = _stages[k];
        Op op = st.Op;
        while (st.NextOut < op.Hout && Math.Min(st.NextOut - op.PadT + op.Kh - 1, op.Hin - 1) <= band)
        {
            int oh = st.NextOut++;
            Convolve(st, oh);
            fixed (double* oS = st.OutS, oT = st.OutT) Push(k + 1, oh, oS, oT, varA, varB);
        }
    }

    /// <summary>Output band <paramref name="oh"/> of a stride-1 convolution, as <see cref="PairRecursion"/>'s stencil computes it.</summary>
    private void Convolve(Stage st, int oh)
    {
        Op op = st.Op;
        int hin = op.Hin, win = op.Win, ho = op.Hout, wo = op.Wout, po = op.Pout, wp = st.Wp;
        double taps = (double)op.Kh * op.Kw;
        double c = op.W2 / taps, b2 = op.B2, cs = op.FanIn / taps, bias = op.BiasNtk;
        bool sp = _prog.Parameterization == Parameterization.Standard, wantT = _wantT;
        int wideWo = (wo + 7) & ~7;
        long bandStride = (long)win * st.Pp;
        fixed (double* ringS = st.RingS, ringT = st.RingT, outS = st.OutS, outT = st.OutT, accS = st.AccS, accT = st.AccT)
        fixed (long* rows = _rows)
        {
            for (int ow = 0; ow < wo; ow++)
            {
                int nt = PairRecursion.TapRows(op, oh, ow, op.Kh, bandStride, st.Pp, wp, rows);
                PairRecursion.SumTaps(ringS, rows, nt, accS, st.Span);
                if (wantT) PairRecursion.SumTaps(ringT, rows, nt, accT, st.Span);
                double* oS = outS + (long)ow * po, oT = outT + (long)ow * po;
                for (int oh2 = 0; oh2 < ho; oh2++)
                {
                    int a = oh2 * wp;
                    PairRecursion.Finish(accS + a, accT + a, oS + oh2 * wo, oT + oh2 * wo, wo, c, b2, cs, bias, sp, wantT, exact: oh2 * wo + wideWo > po);
                }
            }
        }
    }

    /// <summary>The dual of every row of the band (row r = pixel r of x, with its variance), as <see cref="PairRecursion"/>.</summary>
    private void Activate(Stage st, int band, double* bS, double* bT, Span<double> varA, ReadOnlySpan<double> varB, Stage? into)
    {
        Op op = st.Op;
        int p = op.Pin, w = op.Win;
        ReadOnlySpan<double> va = varA.Slice(op.VarOffset, p), vb = varB.Slice(op.VarOffset, p);
        Activation act = op.Act!;
        Span<double> ess = _ess.AsSpan(0, p), edd = _edd.AsSpan(0, p);
        if (st.Table is not null) for (int j = 0; j < p; j++) _cols[j] = p + j;
        for (int i = 0; i < w; i++)
        {
            int r = band * w + i;
            var row = new Span<double>(bS + (long)i * p, p);
            var trow = _wantT ? new Span<double>(bT + (long)i * p, p) : default;
            if (st.Table is null) act.Dual(va[r], row, vb, ess, edd);
            else st.Table.Row(r, _cols.AsSpan(0, p), row, vb, ess, edd);
            if (into is not null) { ToRing(into, band, i, ess, trow, edd); continue; }
            ess.CopyTo(row);
            if (_wantT) TensorPrimitives.Multiply(trow, edd, trow);
        }
    }

    /// <summary>The band's entries into the pooled sum: entry g of the P² goes to lane g mod 8 while g lies in the whole vectors, then to the tail.</summary>
    private void Pool(int band, double* bS, double* bT)
    {
        Op op = _prog.Ops[_gap];
        int p = op.Pin;
        long n = (long)p * p, whole = n & ~7L, g0 = (long)band * op.Win * p, count = (long)op.Win * p;
        fixed (double* lanesS = _lanesS, lanesT = _lanesT)
        {
            long i = 0;
            if ((g0 & 7) == 0)
            {
                Vector512<double> aS = Vector512.Load(lanesS), aT = Vector512.Load(lanesT);
                for (; i + 8 <= count && g0 + i + 8 <= whole; i += 8)
                {
                    aS += Vector512.Load(bS + i);
                    if (_wantT) aT += Vector512.Load(bT + i);
                }
                aS.Store(lanesS); aT.Store(lanesT);
            }
            for (; i < count; i++)
            {
                long g = g0 + i;
                double t = _wantT ? bT[i] : 0.0;
                if (g < whole) { lanesS[g & 7] += bS[i]; lanesT[g & 7] += t; }
                else { _tailS[_tailCount] = bS[i]; _tailT[_tailCount++] = t; }
            }
        }
    }
}
