using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NtkFast.Numerics;

/// <summary>Finds the first NaN/±∞ of a span (inputs as they are read, kernel tiles before they are written).</summary>
internal static class FiniteScan
{
    /// <summary>
    /// Index of the first NaN/±∞ in <paramref name="v"/>, or −1. Chunks of 256 are summed as x − x (exactly 0
    /// for finite x, NaN otherwise) in four 256-bit (or 128-bit) accumulators; only a chunk whose sum is not 0
    /// is searched element by element.
    /// </summary>
    public static int IndexOfNonFinite(ReadOnlySpan<double> v) =>
        IndexOfNonFinite(v, Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0);

    internal static int IndexOfNonFinite(ReadOnlySpan<double> v, int vectorBits)
    {
        const int Chunk = 256;
        ref double r0 = ref MemoryMarshal.GetReference(v);
        for (int s = 0; s < v.Length; s += Chunk)
        {
            int n = Math.Min(Chunk, v.Length - s);
            ref double c = ref Unsafe.Add(ref r0, s);
            if (Clean(ref c, n, vectorBits)) continue;
            for (int k = 0; k < n; k++)
                if (!double.IsFinite(Unsafe.Add(ref c, k))) return s + k;
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Clean(ref double c, int n, int vectorBits)
    {
        int k = 0;
        double acc = 0.0;
        if (vectorBits == 256)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (; k + 16 <= n; k += 16)
            {
                Vector256<double> x0 = Vector256.LoadUnsafe(ref c, (nuint)k), x1 = Vector256.LoadUnsafe(ref c, (nuint)(k + 4));
                Vector256<double> x2 = Vector256.LoadUnsafe(ref c, (nuint)(k + 8)), x3 = Vector256.LoadUnsafe(ref c, (nuint)(k + 12));
                a0 += x0 - x0; a1 += x1 - x1; a2 += x2 - x2; a3 += x3 - x3;
            }
            acc = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        else if (vectorBits == 128)
        {
            Vector128<double> a0 = Vector128<double>.Zero, a1 = a0;
            for (; k + 4 <= n; k += 4)
            {
                Vector128<double> x0 = Vector128.LoadUnsafe(ref c, (nuint)k), x1 = Vector128.LoadUnsafe(ref c, (nuint)(k + 2));
                a0 += x0 - x0; a1 += x1 - x1;
            }
            acc = Vector128.Sum(a0 + a1);
        }
        for (; k < n; k++)
        {
            double x = Unsafe.Add(ref c, k);
            acc += x - x;
        }
        return acc == 0.0;
    }
}
