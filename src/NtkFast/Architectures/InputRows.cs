using System.Runtime.Intrinsics;

namespace NtkFast.Architectures;

/// <summary>
/// Layer 0 of the pixel-pair recursion, Σ⁰(p, p') = (1/C)·Σ_c x_pc·x'_p'c, row by row: every entry is one fixed
/// chain (x_p0·x'_p'0, then fused multiply-adds in channel order, then the scale), so a band of rows equals the
/// same rows of the whole matrix bitwise (<see cref="PairRecursion"/> and <see cref="StreamedRecursion"/> share it).
/// </summary>
internal static unsafe class InputRows
{
    /// <summary>x' (P × C, channels last) as C × P in <paramref name="buffer"/> (P·C doubles); returns it.</summary>
    public static double* Transpose(ReadOnlySpan<double> xb, int pixels, int channels, double* buffer)
    {
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
                buffer[(long)c * pixels + p] = xb[p * channels + c];
        return buffer;
    }

    /// <summary>Rows <paramref name="first"/> … first + count − 1 of Σ⁰ into <paramref name="dst"/> (row stride P).</summary>
    public static void Compute(ReadOnlySpan<double> xa, double* xbT, int pixels, int channels, int first, int count, double* dst)
    {
        double inv = 1.0 / channels;
        var vinv = Vector512.Create(inv);
        for (int r = 0; r < count; r++)
        {
            int row = first + r;
            double* d = dst + (long)r * pixels;
            double a0 = xa[row * channels];
            var va0 = Vector512.Create(a0);
            int j = 0;
            for (; j + 8 <= pixels; j += 8)
            {
                Vector512<double> acc = va0 * Vector512.Load(xbT + j);
                for (int c = 1; c < channels; c++)
                    acc = Vector512.FusedMultiplyAdd(Vector512.Create(xa[row * channels + c]), Vector512.Load(xbT + (long)c * pixels + j), acc);
                Vector512.Store(acc * vinv, d + j);
            }
            for (; j < pixels; j++)
            {
                double acc = a0 * xbT[j];
                for (int c = 1; c < channels; c++) acc = Math.FusedMultiplyAdd(xa[row * channels + c], xbT[(long)c * pixels + j], acc);
                d[j] = acc * inv;
            }
        }
    }
}
