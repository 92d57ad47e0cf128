using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NtkFast.Architectures;

/// <summary>
/// Index tables of one affine op (dense or conv) for the register-tiled kernels of <see cref="AffineKernels{T}"/>.
/// The op's input is copied, scaled by s_w, into a zero-bordered buffer of Hp×Wp×C_in (channels last) so that every
/// tap of every output pixel is in range: SAME's padding is the border, and the kernels need no bounds tests.
/// </summary>
internal sealed class AffinePlan
{
    public readonly int Hp, Wp, PadLength, Taps, Cin, Cout, Pout;
    public readonly int[] PixBase;   // [Pout]: offset in the padded input of output pixel po's first tap (a = b = 0, c_in = 0)
    public readonly int[] OutBase;   // [Pout]: po·C_out, the output row of pixel po
    public readonly int[] KOff;      // [Kh·Kw·C_in]: offset of (a, b, c_in) from PixBase; θ's weight row k = (a·Kw + b)·C_in + c_in
    public readonly int[] TapOff;    // [Kh·Kw]: offset of tap (a, b)
    public readonly int[] CoId;      // [C_out]: 0 … C_out − 1
    public readonly int[] CiId;      // [C_in]: 0 … C_in − 1
    public readonly int[] CiRow;     // [C_in]: c_in·C_out, row c_in of one tap's weight block

    public AffinePlan(Op op)
    {
        Cin = op.Cin; Cout = op.Cout; Pout = op.Pout; Taps = op.Kh * op.Kw;
        Hp = Math.Max(op.PadT + op.Hin, (op.Hout - 1) * op.Sh + op.Kh);
        Wp = Math.Max(op.PadL + op.Win, (op.Wout - 1) * op.Sw + op.Kw);
        PadLength = checked(Hp * Wp * Cin);
        PixBase = new int[Pout];
        OutBase = new int[Pout];
        for (int ho = 0; ho < op.Hout; ho++)
            for (int wo = 0; wo < op.Wout; wo++)
            {
                int po = ho * op.Wout + wo;
                PixBase[po] = (ho * op.Sh * Wp + wo * op.Sw) * Cin;
                OutBase[po] = po * Cout;
            }
        TapOff = new int[Taps];
        KOff = new int[Taps * Cin];
        for (int a = 0; a < op.Kh; a++)
            for (int b = 0; b < op.Kw; b++)
            {
                int t = a * op.Kw + b;
                TapOff[t] = (a * Wp + b) * Cin;
                for (int c = 0; c < Cin; c++) KOff[t * Cin + c] = TapOff[t] + c;
            }
        CoId = [.. Enumerable.Range(0, Cout)];
        CiId = [.. Enumerable.Range(0, Cin)];
        CiRow = [.. Enumerable.Range(0, Cin).Select(c => c * Cout)];
    }
}

/// <summary>
/// The register-tiled product behind the affine layers of <see cref="ArchitectureNetwork{T}"/>:
/// C[r, j] ← C[r, j] + Σ_k A[r, k]·B[k, j] with A[r, k] = a[aBase[r] + aShift + kOff[k]], B[k, j] = b[bOff + k·ldb + j]
/// and C[r, j] = c[cBase[r] + cShift + j] — forward (rows = output pixels, k = taps × input channels), input gradient
/// (rows = output pixels, k = output channels, per tap) and weight gradient (rows = input channels, k = output pixels,
/// per tap) are all this one shape. Tiles of 4 rows × 2 vectors (Vector&lt;T&gt;) of columns, then 1 row, 1 vector and
/// scalar columns. <b>Every element is C + A₀B₀ + A₁B₁ + … in k order with a separate multiply and add</b> (no fused
/// multiply-add, no horizontal sums), so the bits do not depend on the tile an element falls in, on the vector width
/// (the instruction-set path) or on the thread count.
/// </summary>
internal static class AffineKernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Run(int rows, ReadOnlySpan<T> a, ReadOnlySpan<int> aBase, int aShift, ReadOnlySpan<int> kOff,
        ReadOnlySpan<T> b, int bOff, int ldb, int n, Span<T> c, ReadOnlySpan<int> cBase, int cShift, bool columnsOuter = false)
    {
        int kLen = kOff.Length;
        Debug.Assert(aBase.Length >= rows && cBase.Length >= rows);
        if (rows == 0 || n == 0) return;
        // one bounds check for the whole call: the tables are built by AffinePlan, the checks keep a bad table from reading outside
        int maxK = 0, minK = 0;
        for (int k = 0; k < kLen; k++) { maxK = Math.Max(maxK, kOff[k]); minK = Math.Min(minK, kOff[k]); }
        for (int r = 0; r < rows; r++)
        {
            if (kLen > 0 && (aBase[r] + aShift + minK < 0 || aBase[r] + aShift + maxK >= a.Length))
                throw new InvalidOperationException("affine kernel: A index out of range");
            if (cBase[r] + cShift < 0 || cBase[r] + cShift + n > c.Length)
                throw new InvalidOperationException("affine kernel: C index out of range");
        }
        if (kLen > 0 && (bOff < 0 || (long)bOff + (long)(kLen - 1) * ldb + n > b.Length))
            throw new InvalidOperationException("affine kernel: B index out of range");

        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rb = ref MemoryMarshal.GetReference(b);
        ref T rc = ref MemoryMarshal.GetReference(c);
        ref int rk = ref MemoryMarshal.GetReference(kOff);
        int vl = Vector<T>.Count;
        if (columnsOuter)
        {
            // column panels outer: one panel of B (k × 2 vectors) stays in L1 while every row tile runs over it
            int j = 0;
            for (; j + 2 * vl <= n; j += 2 * vl) Rows(rows, 2, ref ra, aBase, aShift, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, cBase, cShift + j);
            for (; j + vl <= n; j += vl) Rows(rows, 1, ref ra, aBase, aShift, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, cBase, cShift + j);
            for (; j < n; j++) Rows(rows, 0, ref ra, aBase, aShift, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, cBase, cShift + j);
            return;
        }
        int r0 = 0;
        for (; r0 + 4 <= rows; r0 += 4)
        {
            int a0 = aBase[r0] + aShift, a1 = aBase[r0 + 1] + aShift, a2 = aBase[r0 + 2] + aShift, a3 = aBase[r0 + 3] + aShift;
            int c0 = cBase[r0] + cShift, c1 = cBase[r0 + 1] + cShift, c2 = cBase[r0 + 2] + cShift, c3 = cBase[r0 + 3] + cShift;
            int j = 0;
            for (; j + 2 * vl <= n; j += 2 * vl)
                Tile4x2(ref ra, a0, a1, a2, a3, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c0 + j, c1 + j, c2 + j, c3 + j);
            for (; j + vl <= n; j += vl)
                Tile4x1(ref ra, a0, a1, a2, a3, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c0 + j, c1 + j, c2 + j, c3 + j);
            for (; j < n; j++)
            {
                Scalar(ref ra, a0, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c0 + j);
                Scalar(ref ra, a1, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c1 + j);
                Scalar(ref ra, a2, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c2 + j);
                Scalar(ref ra, a3, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c3 + j);
            }
        }
        for (; r0 < rows; r0++)
        {
            int a0 = aBase[r0] + aShift, c0 = cBase[r0] + cShift;
            int j = 0;
            for (; j + 2 * vl <= n; j += 2 * vl) Tile1x2(ref ra, a0, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c0 + j);
            for (; j + vl <= n; j += vl) Tile1x1(ref ra, a0, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c0 + j);
            for (; j < n; j++) Scalar(ref ra, a0, ref rk, kLen, ref rb, bOff + j, ldb, ref rc, c0 + j);
        }
    }

    /// <summary>All rows of one column panel of width 2 vectors, 1 vector or 0 (one scalar column); cShift includes the panel's column.</summary>
    private static void Rows(int rows, int width, ref T ra, ReadOnlySpan<int> aBase, int aShift, ref int rk, int kLen, ref T rb, int bOff, int ldb,
        ref T rc, ReadOnlySpan<int> cBase, int cShift)
    {
        int r0 = 0;
        for (; r0 + 4 <= rows; r0 += 4)
        {
            int a0 = aBase[r0] + aShift, a1 = aBase[r0 + 1] + aShift, a2 = aBase[r0 + 2] + aShift, a3 = aBase[r0 + 3] + aShift;
            int c0 = cBase[r0] + cShift, c1 = cBase[r0 + 1] + cShift, c2 = cBase[r0 + 2] + cShift, c3 = cBase[r0 + 3] + cShift;
            if (width == 2) Tile4x2(ref ra, a0, a1, a2, a3, ref rk, kLen, ref rb, bOff, ldb, ref rc, c0, c1, c2, c3);
            else if (width == 1) Tile4x1(ref ra, a0, a1, a2, a3, ref rk, kLen, ref rb, bOff, ldb, ref rc, c0, c1, c2, c3);
            else
            {
                Scalar(ref ra, a0, ref rk, kLen, ref rb, bOff, ldb, ref rc, c0);
                Scalar(ref ra, a1, ref rk, kLen, ref rb, bOff, ldb, ref rc, c1);
                Scalar(ref ra, a2, ref rk, kLen, ref rb, bOff, ldb, ref rc, c2);
                Scalar(ref ra, a3, ref rk, kLen, ref rb, bOff, ldb, ref rc, c3);
            }
        }
        for (; r0 < rows; r0++)
        {
            int a0 = aBase[r0] + aShift, c0 = cBase[r0] + cShift;
            if (width == 2) Tile1x2(ref ra, a0, ref rk, kLen, ref rb, bOff, ldb, ref rc, c0);
            else if (width == 1) Tile1x1(ref ra, a0, ref rk, kLen, ref rb, bOff, ldb, ref rc, c0);
            else Scalar(ref ra, a0, ref rk, kLen, ref rb, bOff, ldb, ref rc, c0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Ld(ref T r, int i) => Vector.LoadUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void St(Vector<T> v, ref T r, int i) => Vector.StoreUnsafe(v, ref r, (nuint)i);

    // The k loops walk refs (B's row, the four A rows) so that each step is the loads and the arithmetic only.
    private static void Tile4x2(ref T a, int a0, int a1, int a2, int a3, ref int kOff, int kLen, ref T b, int bOff, int ldb,
        ref T c, int c0, int c1, int c2, int c3)
    {
        nuint vl = (nuint)Vector<T>.Count;
        ref T q0 = ref Unsafe.Add(ref c, c0), q1 = ref Unsafe.Add(ref c, c1), q2 = ref Unsafe.Add(ref c, c2), q3 = ref Unsafe.Add(ref c, c3);
        Vector<T> s00 = Vector.LoadUnsafe(ref q0), s01 = Vector.LoadUnsafe(ref q0, vl), s10 = Vector.LoadUnsafe(ref q1), s11 = Vector.LoadUnsafe(ref q1, vl);
        Vector<T> s20 = Vector.LoadUnsafe(ref q2), s21 = Vector.LoadUnsafe(ref q2, vl), s30 = Vector.LoadUnsafe(ref q3), s31 = Vector.LoadUnsafe(ref q3, vl);
        ref T p0 = ref Unsafe.Add(ref a, a0), p1 = ref Unsafe.Add(ref a, a1), p2 = ref Unsafe.Add(ref a, a2), p3 = ref Unsafe.Add(ref a, a3);
        ref T pb = ref Unsafe.Add(ref b, bOff);
        ref int pk = ref kOff, pkEnd = ref Unsafe.Add(ref kOff, kLen);
        nint step = ldb;
        for (; Unsafe.IsAddressLessThan(ref pk, ref pkEnd); pk = ref Unsafe.Add(ref pk, 1), pb = ref Unsafe.Add(ref pb, step))
        {
            nint ko = pk;
            Vector<T> b0 = Vector.LoadUnsafe(ref pb), b1 = Vector.LoadUnsafe(ref pb, vl);
            var x = new Vector<T>(Unsafe.Add(ref p0, ko));
            s00 += x * b0; s01 += x * b1;
            x = new Vector<T>(Unsafe.Add(ref p1, ko));
            s10 += x * b0; s11 += x * b1;
            x = new Vector<T>(Unsafe.Add(ref p2, ko));
            s20 += x * b0; s21 += x * b1;
            x = new Vector<T>(Unsafe.Add(ref p3, ko));
            s30 += x * b0; s31 += x * b1;
        }
        Vector.StoreUnsafe(s00, ref q0); Vector.StoreUnsafe(s01, ref q0, vl); Vector.StoreUnsafe(s10, ref q1); Vector.StoreUnsafe(s11, ref q1, vl);
        Vector.StoreUnsafe(s20, ref q2); Vector.StoreUnsafe(s21, ref q2, vl); Vector.StoreUnsafe(s30, ref q3); Vector.StoreUnsafe(s31, ref q3, vl);
    }

    private static void Tile4x1(ref T a, int a0, int a1, int a2, int a3, ref int kOff, int kLen, ref T b, int bOff, int ldb,
        ref T c, int c0, int c1, int c2, int c3)
    {
        ref T q0 = ref Unsafe.Add(ref c, c0), q1 = ref Unsafe.Add(ref c, c1), q2 = ref Unsafe.Add(ref c, c2), q3 = ref Unsafe.Add(ref c, c3);
        Vector<T> s0 = Vector.LoadUnsafe(ref q0), s1 = Vector.LoadUnsafe(ref q1), s2 = Vector.LoadUnsafe(ref q2), s3 = Vector.LoadUnsafe(ref q3);
        ref T p0 = ref Unsafe.Add(ref a, a0), p1 = ref Unsafe.Add(ref a, a1), p2 = ref Unsafe.Add(ref a, a2), p3 = ref Unsafe.Add(ref a, a3);
        ref T pb = ref Unsafe.Add(ref b, bOff);
        ref int pk = ref kOff, pkEnd = ref Unsafe.Add(ref kOff, kLen);
        nint step = ldb;
        for (; Unsafe.IsAddressLessThan(ref pk, ref pkEnd); pk = ref Unsafe.Add(ref pk, 1), pb = ref Unsafe.Add(ref pb, step))
        {
            nint ko = pk;
            Vector<T> b0 = Vector.LoadUnsafe(ref pb);
            s0 += new Vector<T>(Unsafe.Add(ref p0, ko)) * b0;
            s1 += new Vector<T>(Unsafe.Add(ref p1, ko)) * b0;
            s2 += new Vector<T>(Unsafe.Add(ref p2, ko)) * b0;
            s3 += new Vector<T>(Unsafe.Add(ref p3, ko)) * b0;
        }
        Vector.StoreUnsafe(s0, ref q0); Vector.StoreUnsafe(s1, ref q1); Vector.StoreUnsafe(s2, ref q2); Vector.StoreUnsafe(s3, ref q3);
    }

    private static void Tile1x2(ref T a, int a0, ref int kOff, int kLen, ref T b, int bOff, int ldb, ref T c, int c0)
    {
        nuint vl = (nuint)Vector<T>.Count;
        ref T q0 = ref Unsafe.Add(ref c, c0);
        Vector<T> s0 = Vector.LoadUnsafe(ref q0), s1 = Vector.LoadUnsafe(ref q0, vl);
        ref T p0 = ref Unsafe.Add(ref a, a0);
        ref T pb = ref Unsafe.Add(ref b, bOff);
        ref int pk = ref kOff, pkEnd = ref Unsafe.Add(ref kOff, kLen);
        nint step = ldb;
        for (; Unsafe.IsAddressLessThan(ref pk, ref pkEnd); pk = ref Unsafe.Add(ref pk, 1), pb = ref Unsafe.Add(ref pb, step))
        {
            var x = new Vector<T>(Unsafe.Add(ref p0, (nint)pk));
            s0 += x * Vector.LoadUnsafe(ref pb);
            s1 += x * Vector.LoadUnsafe(ref pb, vl);
        }
        Vector.StoreUnsafe(s0, ref q0); Vector.StoreUnsafe(s1, ref q0, vl);
    }

    private static void Tile1x1(ref T a, int a0, ref int kOff, int kLen, ref T b, int bOff, int ldb, ref T c, int c0)
    {
        Vector<T> s0 = Ld(ref c, c0);
        ref T p0 = ref Unsafe.Add(ref a, a0);
        ref T pb = ref Unsafe.Add(ref b, bOff);
        ref int pk = ref kOff, pkEnd = ref Unsafe.Add(ref kOff, kLen);
        nint step = ldb;
        for (; Unsafe.IsAddressLessThan(ref pk, ref pkEnd); pk = ref Unsafe.Add(ref pk, 1), pb = ref Unsafe.Add(ref pb, step))
            s0 += new Vector<T>(Unsafe.Add(ref p0, (nint)pk)) * Vector.LoadUnsafe(ref pb);
        St(s0, ref c, c0);
    }

    private static void Scalar(ref T a, int a0, ref int kOff, int kLen, ref T b, int bOff, int ldb, ref T c, int c0)
    {
        T s = Unsafe.Add(ref c, c0);
        ref T p0 = ref Unsafe.Add(ref a, a0);
        ref T pb = ref Unsafe.Add(ref b, bOff);
        ref int pk = ref kOff, pkEnd = ref Unsafe.Add(ref kOff, kLen);
        nint step = ldb;
        for (; Unsafe.IsAddressLessThan(ref pk, ref pkEnd); pk = ref Unsafe.Add(ref pk, 1), pb = ref Unsafe.Add(ref pb, step))
            s += Unsafe.Add(ref p0, (nint)pk) * pb;
        Unsafe.Add(ref c, c0) = s;
    }
}
