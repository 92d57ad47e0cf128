using System.Runtime.CompilerServices;
using NtkFast.Numerics;

namespace NtkFast.Networks;

/// <summary>
/// A seeded, counter-based stream of standard normal numbers z_0, z_1, z_2, … that is
/// bitwise the same on every machine, operating system and thread count.
/// <para>
/// Uniforms: SplitMix64 (Steele, Lea &amp; Flood 2014) used as a counter-based generator,
/// u-bits_i = mix64(key + (i + 1)·γ) with γ = 0x9E3779B97F4A7C15 and key = mix64(seed);
/// SplitMix64's state after i steps is exactly key + i·γ, so any position of the stream is
/// reachable in O(1) and chunks can be generated in parallel. mix64 is SplitMix64's
/// finaliser (xor-shift 30/27/31 with multipliers 0xBF58476D1CE4E5B9, 0x94D049BB133111EB);
/// the stream passes BigCrush.
/// </para>
/// <para>
/// Normals: Box–Muller on consecutive pairs of uniforms. For pair j, u1 = (bits_{2j} ≫ 11 + 1)·2⁻⁵³
/// ∈ (0, 1], u2 = (bits_{2j+1} ≫ 11)·2⁻⁵³ ∈ [0, 1), r = √(−2 ln u1) and
/// z_{2j} = r·cos(2π u2), z_{2j+1} = r·sin(2π u2).
/// The logarithm, sine and cosine are evaluated here with fixed polynomials in plain IEEE
/// multiply/add/divide/sqrt (no FMA, no libm), because libm implementations differ in the last
/// bit between platforms; their error is a few ulps, far below what matters for a random draw.
/// Float32 streams are the float64 values rounded to nearest.
/// </para>
/// </summary>
public static class GaussianStream
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private const double TwoPow53Inv = 1.0 / 9007199254740992.0;

    /// <summary>The SplitMix64 finaliser.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The 64 random bits at position <paramref name="index"/> of the uniform stream of <paramref name="seed"/>.</summary>
    public static ulong Bits(ulong seed, long index) => Mix64(Mix64(seed) + (ulong)(index + 1) * Gamma);

    /// <summary>z_index of the stream of <paramref name="seed"/>.</summary>
    public static double Normal(ulong seed, long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Pair(Mix64(seed), index >> 1, out double z0, out double z1);
        return (index & 1) == 0 ? z0 : z1;
    }

    /// <summary>destination[i] = z_(start + i).</summary>
    public static void Fill(ulong seed, long start, Span<double> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ulong key = Mix64(seed);
        int i = 0;
        long p = start;
        if (destination.Length > 0 && (p & 1) == 1)
        {
            Pair(key, p >> 1, out _, out double z1);
            destination[i++] = z1;
            p++;
        }
        for (; i + 1 < destination.Length; i += 2, p += 2)
        {
            Pair(key, p >> 1, out double z0, out double z1);
            destination[i] = z0;
            destination[i + 1] = z1;
        }
        if (i < destination.Length)
        {
            Pair(key, p >> 1, out double z0, out _);
            destination[i] = z0;
        }
    }

    /// <summary>destination[i] = (float)z_(start + i).</summary>
    public static void Fill(ulong seed, long start, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        Span<double> buffer = stackalloc double[256];
        while (destination.Length > 0)
        {
            int n = Math.Min(buffer.Length, destination.Length);
            Fill(seed, start, buffer[..n]);
            for (int i = 0; i < n; i++) destination[i] = (float)buffer[i];
            destination = destination[n..];
            start += n;
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with z_(start + i) in parallel over fixed chunks;
    /// the result does not depend on the thread count.
    /// </summary>
    public static void FillParallel<T>(ulong seed, long start, T[] destination) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(destination);
        const int Chunk = 1 << 16;
        int chunks = (destination.Length + Chunk - 1) / Chunk;
        NtkParallel.For(chunks, c =>
        {
            int off = c * Chunk;
            int len = Math.Min(Chunk, destination.Length - off);
            if (typeof(T) == typeof(double))
                Fill(seed, start + off, System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(destination.AsSpan(off, len)));
            else if (typeof(T) == typeof(float))
                Fill(seed, start + off, System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(destination.AsSpan(off, len)));
            else
                throw new NotSupportedException($"GaussianStream fills float or double, not {typeof(T).Name}.");
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair(ulong key, long pair, out double z0, out double z1)
    {
        ulong b1 = Mix64(key + (ulong)(2 * pair + 1) * Gamma);
        ulong b2 = Mix64(key + (ulong)(2 * pair + 2) * Gamma);
        double u1 = ((b1 >> 11) + 1) * TwoPow53Inv;   // (0, 1]
        double u2 = (b2 >> 11) * TwoPow53Inv;         // [0, 1)
        double r = Math.Sqrt(-2.0 * Log(u1));
        SinCosTwoPi(u2, out double s, out double c);
        z0 = r * c;
        z1 = r * s;
    }

    private const double Ln2Hi = 6.93147180369123816490e-01; // fdlibm split: e·Ln2Hi is exact for |e| < 2¹¹
    private const double Ln2Lo = 1.90821492927058770002e-10;

    /// <summary>
    /// ln x for a positive normal x, with plain IEEE arithmetic: x = m·2^e, m ∈ [√½, √2),
    /// ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, series to s²³ (truncation &lt; 1e-18).
    /// </summary>
    internal static double Log(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e = (int)((bits >> 52) & 0x7FF) - 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L);
        if (m > 1.4142135623730951) { m *= 0.5; e++; }
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        double p = 1.0 / 23;
        p = p * s2 + 1.0 / 21;
        p = p * s2 + 1.0 / 19;
        p = p * s2 + 1.0 / 17;
        p = p * s2 + 1.0 / 15;
        p = p * s2 + 1.0 / 13;
        p = p * s2 + 1.0 / 11;
        p = p * s2 + 1.0 / 9;
        p = p * s2 + 1.0 / 7;
        p = p * s2 + 1.0 / 5;
        p = p * s2 + 1.0 / 3;
        double lnm = 2.0 * s + 2.0 * s * (s2 * p);
        return e * Ln2Hi + (lnm + e * Ln2Lo);
    }

    /// <summary>
    /// sin(2πu) and cos(2πu) for u ∈ [0, 1) with plain IEEE arithmetic: reduce to an octant
    /// exactly (8u is exact), then Taylor series on [0, π/4] (truncation &lt; 1e-19).
    /// </summary>
    internal static void SinCosTwoPi(double u, out double sin, out double cos)
    {
        double t = 8.0 * u;
        int octant = (int)t;
        double f = t - octant;                 // exact, in [0, 1)
        if ((octant & 1) == 1) f = 1.0 - f;    // reflect: ψ = π/2 − θ
        double th = f * 0.78539816339744830962;
        double th2 = th * th;
        double sp = 1.0 / 355687428096000.0;   // 1/17!
        sp = 1.0 / 1307674368000.0 - th2 * sp; // 1/15!
        sp = 1.0 / 6227020800.0 - th2 * sp;    // 1/13!
        sp = 1.0 / 39916800.0 - th2 * sp;      // 1/11!
        sp = 1.0 / 362880.0 - th2 * sp;        // 1/9!
        sp = 1.0 / 5040.0 - th2 * sp;          // 1/7!
        sp = 1.0 / 120.0 - th2 * sp;           // 1/5!
        sp = 1.0 / 6.0 - th2 * sp;             // 1/3!
        double sn = th - th * (th2 * sp);
        double cp = 1.0 / 6402373705728000.0;  // 1/18!
        cp = 1.0 / 20922789888000.0 - th2 * cp; // 1/16!
        cp = 1.0 / 87178291200.0 - th2 * cp;   // 1/14!
        cp = 1.0 / 479001600.0 - th2 * cp;     // 1/12!
        cp = 1.0 / 3628800.0 - th2 * cp;       // 1/10!
        cp = 1.0 / 40320.0 - th2 * cp;         // 1/8!
        cp = 1.0 / 720.0 - th2 * cp;           // 1/6!
        cp = 1.0 / 24.0 - th2 * cp;            // 1/4!
        cp = 0.5 - th2 * cp;                   // 1/2!
        double cs = 1.0 - th2 * cp;
        double sPsi, cPsi;                     // ψ ∈ [0, π/2)
        if ((octant & 1) == 0) { sPsi = sn; cPsi = cs; }
        else { sPsi = cs; cPsi = sn; }
        switch (octant >> 1)
        {
            case 0: sin = sPsi; cos = cPsi; break;
            case 1: sin = cPsi; cos = -sPsi; break;
            case 2: sin = -sPsi; cos = -cPsi; break;
            default: sin = -cPsi; cos = sPsi; break;
        }
    }
}
