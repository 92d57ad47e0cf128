using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NtkFast.Numerics;

/// <summary>
/// One driver per loop shape (unary, binary, ternary map; sum and dot reductions). The driver owns
/// everything except the arithmetic: the vector width (512 → 256 → 128 → scalar, by
/// the registry's <see cref="Isa.Active"/>, what the hardware accelerates and the input length), the 2× unrolled main loop, and the tail,
/// which is done by recomputing an overlapping last vector loaded before the main loop — so
/// in-place calls (destination == input) are fine. Partially overlapping spans are rejected.
/// </summary>
/// <remarks>
/// Which path computes an element depends on the span length (an input shorter than one vector runs
/// the narrower form). Every map's scalar loop (unary, binary, scalar-argument and ternary; short spans, the scalar
/// ISA path) runs a vectorizable operator's Vector128 form on one lane, so smooth activations — whose scalar form is
/// the runtime's tanh, exp, … and differs from our vector formula at rounding level (elu, elu' did) — give an element
/// the same bits on every path and at every length, by construction: a vectorizable operator's scalar Invoke is
/// never run by the driver. Tested per operator by ElementwiseIsaTests (every path, lengths 0..70, and the three
/// vector forms against each other) and across processes by ArchitectureNetworkIsaTests.
/// The reductions <see cref="Sum{T}"/> and <see cref="Dot{T}"/> use one fixed order on every path
/// (see <see cref="ReductionLanes{T}"/>), so their results are bitwise identical with Vector512,
/// Vector256 or scalar code.
/// </remarks>
[SkipLocalsInit]
public static class ElementwiseDriver
{
    /// <summary>y[i] = TOp(x[i]) for i &lt; x.Length. y may be x itself.</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, Span<T> y)
        where TOp : struct, IUnaryOperator<T>
        where T : unmanaged
    {
        CheckDestination(x, y, nameof(y));
        int n = x.Length;
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector512 && Vector512<T>.IsSupported && n >= Vector512<T>.Count)
            {
                int w = Vector512<T>.Count;
                Vector512<T> last = Vector512.LoadUnsafe(ref xr, (nuint)(n - w));
                for (; i <= n - 2 * w; i += 2 * w)
                {
                    Vector512<T> v0 = Vector512.LoadUnsafe(ref xr, (nuint)i);
                    Vector512<T> v1 = Vector512.LoadUnsafe(ref xr, (nuint)(i + w));
                    TOp.Invoke(v0).StoreUnsafe(ref yr, (nuint)i);
                    TOp.Invoke(v1).StoreUnsafe(ref yr, (nuint)(i + w));
                }
                if (i <= n - w) { TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i); i += w; }
                if (i < n) TOp.Invoke(last).StoreUnsafe(ref yr, (nuint)(n - w));
                return;
            }
            if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && Vector256<T>.IsSupported && n >= Vector256<T>.Count)
            {
                int w = Vector256<T>.Count;
                Vector256<T> last = Vector256.LoadUnsafe(ref xr, (nuint)(n - w));
                for (; i <= n - 2 * w; i += 2 * w)
                {
                    Vector256<T> v0 = Vector256.LoadUnsafe(ref xr, (nuint)i);
                    Vector256<T> v1 = Vector256.LoadUnsafe(ref xr, (nuint)(i + w));
                    TOp.Invoke(v0).StoreUnsafe(ref yr, (nuint)i);
                    TOp.Invoke(v1).StoreUnsafe(ref yr, (nuint)(i + w));
                }
                if (i <= n - w) { TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i); i += w; }
                if (i < n) TOp.Invoke(last).StoreUnsafe(ref yr, (nuint)(n - w));
                return;
            }
            if (Vector128.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector128 && Vector128<T>.IsSupported && n >= Vector128<T>.Count)
            {
                int w = Vector128<T>.Count;
                Vector128<T> last = Vector128.LoadUnsafe(ref xr, (nuint)(n - w));
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
                if (i < n) TOp.Invoke(last).StoreUnsafe(ref yr, (nuint)(n - w));
                return;
            }
        }
        if (TOp.Vectorizable && Vector128<T>.IsSupported)
        {
            // Spans shorter than a vector, and the scalar path: the vector formula on one lane (software lanes without
            // intrinsics), so an element's bits do not depend on the span's length or the ISA path — a smooth
            // activation's scalar form (the runtime's tanh, exp, …) differs from our vector formula at rounding level.
            for (; i < n; i++) Unsafe.Add(ref yr, i) = TOp.Invoke(Vector128.Create(Unsafe.Add(ref xr, i))).ToScalar();
            return;
        }
        for (; i < n; i++) Unsafe.Add(ref yr, i) = TOp.Invoke(Unsafe.Add(ref xr, i));
    }

    /// <summary>z[i] = TOp(x[i], y[i]). x and y must have equal lengths; z may be x or y.</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> z)
        where TOp : struct, IBinaryOperator<T>
        where T : unmanaged
    {
        if (y.Length != x.Length) throw new ArgumentException($"Span 'y' has {y.Length} elements but 'x' has {x.Length}.", nameof(y));
        CheckDestination(x, z, nameof(z));
        CheckDestination(y, z, nameof(z));
        int n = x.Length;
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T zr = ref MemoryMarshal.GetReference(z);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector512 && Vector512<T>.IsSupported && n >= Vector512<T>.Count)
            {
                int w = Vector512<T>.Count;
                nuint e = (nuint)(n - w);
                Vector512<T> lx = Vector512.LoadUnsafe(ref xr, e), ly = Vector512.LoadUnsafe(ref yr, e);
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref zr, (nuint)i);
                if (i < n) TOp.Invoke(lx, ly).StoreUnsafe(ref zr, e);
                return;
            }
            if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && Vector256<T>.IsSupported && n >= Vector256<T>.Count)
            {
                int w = Vector256<T>.Count;
                nuint e = (nuint)(n - w);
                Vector256<T> lx = Vector256.LoadUnsafe(ref xr, e), ly = Vector256.LoadUnsafe(ref yr, e);
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref zr, (nuint)i);
                if (i < n) TOp.Invoke(lx, ly).StoreUnsafe(ref zr, e);
                return;
            }
            if (Vector128.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector128 && Vector128<T>.IsSupported && n >= Vector128<T>.Count)
            {
                int w = Vector128<T>.Count;
                nuint e = (nuint)(n - w);
                Vector128<T> lx = Vector128.LoadUnsafe(ref xr, e), ly = Vector128.LoadUnsafe(ref yr, e);
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref zr, (nuint)i);
                if (i < n) TOp.Invoke(lx, ly).StoreUnsafe(ref zr, e);
                return;
            }
        }
        if (TOp.Vectorizable && Vector128<T>.IsSupported)
        {
            // As in the unary map: the vector formula on one lane (elu's scalar form uses the runtime's exp).
            for (; i < n; i++) Unsafe.Add(ref zr, i) = TOp.Invoke(Vector128.Create(Unsafe.Add(ref xr, i)), Vector128.Create(Unsafe.Add(ref yr, i))).ToScalar();
            return;
        }
        for (; i < n; i++) Unsafe.Add(ref zr, i) = TOp.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i));
    }

    /// <summary>
    /// z[i] = TOp(x[i], s) with a scalar second argument — how a parameterised function
    /// (e.g. leaky_relu with slope s, or x·s) runs without per-operator state.
    /// </summary>
    public static void MapScalar<TOp, T>(ReadOnlySpan<T> x, T s, Span<T> z)
        where TOp : struct, IBinaryOperator<T>
        where T : unmanaged
    {
        CheckDestination(x, z, nameof(z));
        int n = x.Length;
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T zr = ref MemoryMarshal.GetReference(z);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector512 && Vector512<T>.IsSupported && n >= Vector512<T>.Count)
            {
                int w = Vector512<T>.Count;
                nuint e = (nuint)(n - w);
                Vector512<T> vs = Vector512.Create(s);
                Vector512<T> lx = Vector512.LoadUnsafe(ref xr, e);
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i), vs).StoreUnsafe(ref zr, (nuint)i);
                if (i < n) TOp.Invoke(lx, vs).StoreUnsafe(ref zr, e);
                return;
            }
            if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && Vector256<T>.IsSupported && n >= Vector256<T>.Count)
            {
                int w = Vector256<T>.Count;
                nuint e = (nuint)(n - w);
                Vector256<T> vs = Vector256.Create(s);
                Vector256<T> lx = Vector256.LoadUnsafe(ref xr, e);
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), vs).StoreUnsafe(ref zr, (nuint)i);
                if (i < n) TOp.Invoke(lx, vs).StoreUnsafe(ref zr, e);
                return;
            }
            if (Vector128.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector128 && Vector128<T>.IsSupported && n >= Vector128<T>.Count)
            {
                int w = Vector128<T>.Count;
                nuint e = (nuint)(n - w);
                Vector128<T> vs = Vector128.Create(s);
                Vector128<T> lx = Vector128.LoadUnsafe(ref xr, e);
                for (; i <= n - w; i += w)
                    TOp.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i), vs).StoreUnsafe(ref zr, (nuint)i);
                if (i < n) TOp.Invoke(lx, vs).StoreUnsafe(ref zr, e);
                return;
            }
        }
        if (TOp.Vectorizable && Vector128<T>.IsSupported)
        {
            // As in the unary map: the vector formula on one lane.
            Vector128<T> vs = Vector128.Create(s);
            for (; i < n; i++) Unsafe.Add(ref zr, i) = TOp.Invoke(Vector128.Create(Unsafe.Add(ref xr, i)), vs).ToScalar();
            return;
        }
        for (; i < n; i++) Unsafe.Add(ref zr, i) = TOp.Invoke(Unsafe.Add(ref xr, i), s);
    }

    /// <summary>w[i] = TOp(x[i], y[i], z[i]). x, y, z must have equal lengths; w may be any of them.</summary>
    public static void Map<TOp, T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> z, Span<T> w)
        where TOp : struct, ITernaryOperator<T>
        where T : unmanaged
    {
        if (y.Length != x.Length) throw new ArgumentException($"Span 'y' has {y.Length} elements but 'x' has {x.Length}.", nameof(y));
        if (z.Length != x.Length) throw new ArgumentException($"Span 'z' has {z.Length} elements but 'x' has {x.Length}.", nameof(z));
        CheckDestination(x, w, nameof(w));
        CheckDestination(y, w, nameof(w));
        CheckDestination(z, w, nameof(w));
        int n = x.Length;
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T zr = ref MemoryMarshal.GetReference(z);
        ref T wr = ref MemoryMarshal.GetReference(w);
        int i = 0;
        if (TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector512 && Vector512<T>.IsSupported && n >= Vector512<T>.Count)
            {
                int c = Vector512<T>.Count;
                nuint e = (nuint)(n - c);
                Vector512<T> lx = Vector512.LoadUnsafe(ref xr, e), ly = Vector512.LoadUnsafe(ref yr, e), lz = Vector512.LoadUnsafe(ref zr, e);
                for (; i <= n - c; i += c)
                    TOp.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i), Vector512.LoadUnsafe(ref zr, (nuint)i)).StoreUnsafe(ref wr, (nuint)i);
                if (i < n) TOp.Invoke(lx, ly, lz).StoreUnsafe(ref wr, e);
                return;
            }
            if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && Vector256<T>.IsSupported && n >= Vector256<T>.Count)
            {
                int c = Vector256<T>.Count;
                nuint e = (nuint)(n - c);
                Vector256<T> lx = Vector256.LoadUnsafe(ref xr, e), ly = Vector256.LoadUnsafe(ref yr, e), lz = Vector256.LoadUnsafe(ref zr, e);
                for (; i <= n - c; i += c)
                    TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i), Vector256.LoadUnsafe(ref zr, (nuint)i)).StoreUnsafe(ref wr, (nuint)i);
                if (i < n) TOp.Invoke(lx, ly, lz).StoreUnsafe(ref wr, e);
                return;
            }
            if (Vector128.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector128 && Vector128<T>.IsSupported && n >= Vector128<T>.Count)
            {
                int c = Vector128<T>.Count;
                nuint e = (nuint)(n - c);
                Vector128<T> lx = Vector128.LoadUnsafe(ref xr, e), ly = Vector128.LoadUnsafe(ref yr, e), lz = Vector128.LoadUnsafe(ref zr, e);
                for (; i <= n - c; i += c)
                    TOp.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i), Vector128.LoadUnsafe(ref yr, (nuint)i), Vector128.LoadUnsafe(ref zr, (nuint)i)).StoreUnsafe(ref wr, (nuint)i);
                if (i < n) TOp.Invoke(lx, ly, lz).StoreUnsafe(ref wr, e);
                return;
            }
        }
        if (TOp.Vectorizable && Vector128<T>.IsSupported)
        {
            // As in the unary map: the vector formula on one lane.
            for (; i < n; i++)
                Unsafe.Add(ref wr, i) = TOp.Invoke(Vector128.Create(Unsafe.Add(ref xr, i)), Vector128.Create(Unsafe.Add(ref yr, i)), Vector128.Create(Unsafe.Add(ref zr, i))).ToScalar();
            return;
        }
        for (; i < n; i++) Unsafe.Add(ref wr, i) = TOp.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i), Unsafe.Add(ref zr, i));
    }

    /// <summary>
    /// Number of partial sums every reduction keeps: four Vector512s' worth (32 doubles, 64 floats).
    /// Element i goes to partial sum i mod L (the last, partial block too); the partial sums are then
    /// combined by a fixed pairwise tree (s[l] += s[l + L/2], then L/4, …). Vector512 uses 4 registers,
    /// Vector256 8 and scalar code L locals for the same L sums, so every path gives the same bits.
    /// Four independent FMA chains per Vector512 also hide the 4-cycle FMA latency.
    /// </summary>
    internal static int ReductionLanes<T>() where T : unmanaged => 4 * (64 / Unsafe.SizeOf<T>());

    /// <summary>Σ x[i], in the fixed order described on <see cref="ReductionLanes{T}"/>.</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Reduce<T, SumStep>(x, x);

    /// <summary>Σ x[i]·y[i] with fused multiply-adds, in the fixed order described on <see cref="ReductionLanes{T}"/>.</summary>
    public static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) throw new ArgumentException($"Span 'y' has {y.Length} elements but 'x' has {x.Length}.", nameof(y));
        return Reduce<T, DotStep>(x, y);
    }

    private interface IReduceStep
    {
        static abstract T Step<T>(T acc, T x, T y) where T : unmanaged, IFloatingPointIeee754<T>;
        static abstract Vector512<T> Step<T>(Vector512<T> acc, Vector512<T> x, Vector512<T> y) where T : unmanaged, IFloatingPointIeee754<T>;
        static abstract Vector256<T> Step<T>(Vector256<T> acc, Vector256<T> x, Vector256<T> y) where T : unmanaged, IFloatingPointIeee754<T>;
    }

    private readonly struct SumStep : IReduceStep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Step<T>(T acc, T x, T y) where T : unmanaged, IFloatingPointIeee754<T> => acc + x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Step<T>(Vector512<T> acc, Vector512<T> x, Vector512<T> y) where T : unmanaged, IFloatingPointIeee754<T> => acc + x;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> Step<T>(Vector256<T> acc, Vector256<T> x, Vector256<T> y) where T : unmanaged, IFloatingPointIeee754<T> => acc + x;
    }

    private readonly struct DotStep : IReduceStep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Step<T>(T acc, T x, T y) where T : unmanaged, IFloatingPointIeee754<T> => VectorMath.Fma(x, y, acc);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<T> Step<T>(Vector512<T> acc, Vector512<T> x, Vector512<T> y) where T : unmanaged, IFloatingPointIeee754<T> => VectorMath.Fma(x, y, acc);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<T> Step<T>(Vector256<T> acc, Vector256<T> x, Vector256<T> y) where T : unmanaged, IFloatingPointIeee754<T> => VectorMath.Fma(x, y, acc);
    }

    private static T Reduce<T, TStep>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TStep : struct, IReduceStep
    {
        int n = x.Length;
        int lanes = ReductionLanes<T>();
        Span<T> s = stackalloc T[256 / Unsafe.SizeOf<T>()]; // = lanes, as a constant size
        s = s[..lanes];
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        ref T sr = ref MemoryMarshal.GetReference(s);
        int blocks = n / lanes;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector512 && Vector512<T>.IsSupported)
        {
            int w = Vector512<T>.Count;
            Vector512<T> a0 = Vector512<T>.Zero, a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < blocks; b++, i += lanes)
            {
                a0 = TStep.Step(a0, Vector512.LoadUnsafe(ref xr, (nuint)i), Vector512.LoadUnsafe(ref yr, (nuint)i));
                a1 = TStep.Step(a1, Vector512.LoadUnsafe(ref xr, (nuint)(i + w)), Vector512.LoadUnsafe(ref yr, (nuint)(i + w)));
                a2 = TStep.Step(a2, Vector512.LoadUnsafe(ref xr, (nuint)(i + 2 * w)), Vector512.LoadUnsafe(ref yr, (nuint)(i + 2 * w)));
                a3 = TStep.Step(a3, Vector512.LoadUnsafe(ref xr, (nuint)(i + 3 * w)), Vector512.LoadUnsafe(ref yr, (nuint)(i + 3 * w)));
            }
            a0.StoreUnsafe(ref sr, 0);
            a1.StoreUnsafe(ref sr, (nuint)w);
            a2.StoreUnsafe(ref sr, (nuint)(2 * w));
            a3.StoreUnsafe(ref sr, (nuint)(3 * w));
        }
        else if (Vector256.IsHardwareAccelerated && Isa.Active >= IsaPath.Vector256 && Vector256<T>.IsSupported && Fma.IsSupported)
        {
            int w = Vector256<T>.Count;
            Vector256<T> a0 = Vector256<T>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
            for (int b = 0; b < blocks; b++, i += lanes)
            {
                a0 = TStep.Step(a0, Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i));
                a1 = TStep.Step(a1, Vector256.LoadUnsafe(ref xr, (nuint)(i + w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + w)));
                a2 = TStep.Step(a2, Vector256.LoadUnsafe(ref xr, (nuint)(i + 2 * w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + 2 * w)));
                a3 = TStep.Step(a3, Vector256.LoadUnsafe(ref xr, (nuint)(i + 3 * w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + 3 * w)));
                a4 = TStep.Step(a4, Vector256.LoadUnsafe(ref xr, (nuint)(i + 4 * w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + 4 * w)));
                a5 = TStep.Step(a5, Vector256.LoadUnsafe(ref xr, (nuint)(i + 5 * w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + 5 * w)));
                a6 = TStep.Step(a6, Vector256.LoadUnsafe(ref xr, (nuint)(i + 6 * w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + 6 * w)));
                a7 = TStep.Step(a7, Vector256.LoadUnsafe(ref xr, (nuint)(i + 7 * w)), Vector256.LoadUnsafe(ref yr, (nuint)(i + 7 * w)));
            }
            a0.StoreUnsafe(ref sr, 0);
            a1.StoreUnsafe(ref sr, (nuint)w);
            a2.StoreUnsafe(ref sr, (nuint)(2 * w));
            a3.StoreUnsafe(ref sr, (nuint)(3 * w));
            a4.StoreUnsafe(ref sr, (nuint)(4 * w));
            a5.StoreUnsafe(ref sr, (nuint)(5 * w));
            a6.StoreUnsafe(ref sr, (nuint)(6 * w));
            a7.StoreUnsafe(ref sr, (nuint)(7 * w));
        }
        else
        {
            s.Clear();
            for (int b = 0; b < blocks; b++, i += lanes)
                for (int l = 0; l < lanes; l++)
                    Unsafe.Add(ref sr, l) = TStep.Step(Unsafe.Add(ref sr, l), Unsafe.Add(ref xr, i + l), Unsafe.Add(ref yr, i + l));
        }
        for (int l = 0; i < n; i++, l++)
            Unsafe.Add(ref sr, l) = TStep.Step(Unsafe.Add(ref sr, l), Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i));
        for (int half = lanes / 2; half >= 1; half /= 2)
            for (int l = 0; l < half; l++)
                Unsafe.Add(ref sr, l) += Unsafe.Add(ref sr, l + half);
        return sr;
    }

    private static void CheckDestination<T>(ReadOnlySpan<T> x, Span<T> y, string name)
    {
        if (y.Length < x.Length)
            throw new ArgumentException($"Destination span '{name}' has {y.Length} elements but the input has {x.Length}.", name);
        if (x.Overlaps(y, out int offset) && offset != 0)
            throw new ArgumentException($"Destination span '{name}' partially overlaps an input; use the same span (in place) or disjoint spans.", name);
    }
}
