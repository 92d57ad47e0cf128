using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NtkFast.Numerics;

/// <summary>
/// dst[c·ldd + r] = src[r·lds + c] for a rows×cols block of doubles (floats): 4×4 sub-blocks through four 256-bit
/// (128-bit) registers (unpack + lane permute) where AVX (SSE) is available, the edges element by element. Data movement
/// only, so every path gives the same bits. Used by GEMM packing (transposed operands), SYRK's mirror and the
/// symmetric tile writer.
/// </summary>
internal static unsafe class BlockTranspose
{
    /// <summary>Whether the 4×4 register path is used (x64 with AVX).</summary>
    public static bool Vectorised => Avx.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block4x4(double* s, nint lds, double* d, nint ldd)
    {
        Vector256<double> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + lds);
        Vector256<double> r2 = Avx.LoadVector256(s + 2 * lds), r3 = Avx.LoadVector256(s + 3 * lds);
        Vector256<double> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<double> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store(d + ldd, Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store(d + 2 * ldd, Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store(d + 3 * ldd, Avx.Permute2x128(t1, t3, 0x31));
    }

    /// <summary>The block transpose; <paramref name="vector"/> = false forces the element path (tests).</summary>
    public static void Double(double* src, nint lds, int rows, int cols, double* dst, nint ldd, bool vector) =>
        Core(src, lds, rows, cols, dst, ldd, vector && Avx.IsSupported);

    /// <summary><see cref="Double(double*, nint, int, int, double*, nint, bool)"/> on the path this CPU supports.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Double(double* src, nint lds, int rows, int cols, double* dst, nint ldd) =>
        Double(src, lds, rows, cols, dst, ldd, true);

    /// <summary>4×4 floats through four 128-bit registers (the SSE transpose: unpack, then move low/high halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block4x4(float* s, nint lds, float* d, nint ldd)
    {
        Vector128<float> r0 = Sse.LoadVector128(s), r1 = Sse.LoadVector128(s + lds);
        Vector128<float> r2 = Sse.LoadVector128(s + 2 * lds), r3 = Sse.LoadVector128(s + 3 * lds);
        Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackLow(r2, r3);
        Vector128<float> t2 = Sse.UnpackHigh(r0, r1), t3 = Sse.UnpackHigh(r2, r3);
        Sse.Store(d, Sse.MoveLowToHigh(t0, t1));
        Sse.Store(d + ldd, Sse.MoveHighToLow(t1, t0));
        Sse.Store(d + 2 * ldd, Sse.MoveLowToHigh(t2, t3));
        Sse.Store(d + 3 * ldd, Sse.MoveHighToLow(t3, t2));
    }

    /// <summary>The float block transpose (SSE 4×4 sub-blocks where available); <paramref name="vector"/> = false forces the element path.</summary>
    public static void Single(float* src, nint lds, int rows, int cols, float* dst, nint ldd, bool vector = true) =>
        Core(src, lds, rows, cols, dst, ldd, vector && Sse.IsSupported);

    /// <summary>Whole 4×4 sub-blocks through registers when <paramref name="vector"/> (T is double or float), the edges element by element.</summary>
    private static void Core<T>(T* src, nint lds, int rows, int cols, T* dst, nint ldd, bool vector) where T : unmanaged
    {
        int r = 0;
        if (vector)
        {
            int cols4 = cols & ~3;
            for (; r + 4 <= rows; r += 4)
            {
                T* s = src + r * lds;
                T* d = dst + r;
                for (int c = 0; c < cols4; c += 4)
                {
                    if (typeof(T) == typeof(double)) Block4x4((double*)(s + c), lds, (double*)(d + c * ldd), ldd);
                    else Block4x4((float*)(s + c), lds, (float*)(d + c * ldd), ldd);
                }
                for (int c = cols4; c < cols; c++)
                {
                    d[c * ldd] = s[c]; d[c * ldd + 1] = s[lds + c];
                    d[c * ldd + 2] = s[2 * lds + c]; d[c * ldd + 3] = s[3 * lds + c];
                }
            }
        }
        for (; r < rows; r++)
        {
            T* s = src + r * lds;
            for (int c = 0; c < cols; c++) dst[c * ldd + r] = s[c];
        }
    }
}
