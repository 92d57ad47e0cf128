using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NtkFast.Activations;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>
/// Every binary and ternary operator the library runs gives an element the same bits on every ISA path
/// (<see cref="Isa.Available"/>, pinned in turn) and at every span length 0..<see cref="N"/> — short spans and the
/// scalar path included, where the driver runs the operator's Vector128 form on one lane. The reference is the
/// whole span on the widest path. Also checks the operators' Vector128/256/512 forms lane by lane against each other
/// (Vector512 runs in software where AVX-512 is absent), so a form that only the widest hardware would run is covered.
/// </summary>
[Collection(SerialNumericsCollection.Name)] // pins ISA paths process-wide
public class ElementwiseIsaTests
{
    private const int N = 70;

    /// <summary>Inputs in [−6, 6] (both branches of elu and the piecewise-linear family) plus the special values.</summary>
    private static T[] Inputs<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new Random(seed);
        var x = new T[N];
        for (int i = 0; i < N; i++) x[i] = T.CreateTruncating(r.NextDouble() * 12 - 6);
        T[] special = [T.Zero, T.NegativeZero, T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Epsilon, -T.Epsilon, T.CreateTruncating(-700.0), T.CreateTruncating(1e-300)];
        for (int k = 0; k < special.Length; k++) x[(7 * k + seed) % N] = special[k];
        return x;
    }

    private static bool SameBits<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged
        => MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));

    private static string Show<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < a.Length; i++)
            if (!SameBits(a.Slice(i, 1), b.Slice(i, 1))) return $"element {i}: {a[i]:R} vs {b[i]:R}";
        return "";
    }

    /// <summary>Runs <paramref name="map"/> (dst = f(slices)) on every path, length and two offsets against the widest path's whole span.</summary>
    private static void EveryPathAndLength<T>(string name, Action<int, int, T[]> map) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var reference = new T[N];
        using (Isa.Pin(Isa.Available[0])) map(0, N, reference);
        var dst = new T[N + 1];
        foreach (IsaPath path in Isa.Available)
        {
            using var pin = Isa.Pin(path);
            for (int n = 0; n <= N; n++)
                foreach (int start in (int[])[0, N - n])
                {
                    dst[n] = T.CreateTruncating(42);
                    map(start, n, dst);
                    Assert.True(SameBits<T>(reference.AsSpan(start, n), dst.AsSpan(0, n)),
                        $"{name} {typeof(T).Name} on {path}, length {n} at {start}: {Show<T>(reference.AsSpan(start, n), dst.AsSpan(0, n))}");
                    Assert.Equal(T.CreateTruncating(42), dst[n]);
                }
        }
    }

    private static void Binary<TOp, T>(string name, T s) where TOp : struct, IBinaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] x = Inputs<T>(1), y = Inputs<T>(2), filled = new T[N];
        Array.Fill(filled, s);
        EveryPathAndLength<T>(name, (start, n, d) => ElementwiseDriver.Map<TOp, T>(x.AsSpan(start, n), y.AsSpan(start, n), d.AsSpan(0, n)));
        EveryPathAndLength<T>(name + " (scalar argument)", (start, n, d) => ElementwiseDriver.MapScalar<TOp, T>(x.AsSpan(start, n), s, d.AsSpan(0, n)));
        // MapScalar is Map with a constant second span
        var a = new T[N];
        var b = new T[N];
        ElementwiseDriver.MapScalar<TOp, T>(x, s, a);
        ElementwiseDriver.Map<TOp, T>(x, filled, b);
        Assert.True(SameBits<T>(a, b), $"{name}: MapScalar differs from Map with a constant span: {Show<T>(a, b)}");
        Forms<T>(name, x, y, x,
            (p, q, _) => TOp.Invoke(p, q), (p, q, _) => TOp.Invoke(p, q), (p, q, _) => TOp.Invoke(p, q));
        Forms<T>(name + " (scalar argument)", x, filled, x,
            (p, q, _) => TOp.Invoke(p, q), (p, q, _) => TOp.Invoke(p, q), (p, q, _) => TOp.Invoke(p, q));
    }

    private static void Ternary<TOp, T>(string name) where TOp : struct, ITernaryOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] x = Inputs<T>(3), y = Inputs<T>(4), z = Inputs<T>(5);
        EveryPathAndLength<T>(name, (start, n, d) => ElementwiseDriver.Map<TOp, T>(x.AsSpan(start, n), y.AsSpan(start, n), z.AsSpan(start, n), d.AsSpan(0, n)));
        Forms<T>(name, x, y, z, TOp.Invoke, TOp.Invoke, TOp.Invoke);
    }

    /// <summary>The operator's three vector forms agree lane by lane (each over every aligned block of the inputs).</summary>
    private static void Forms<T>(string name, T[] x, T[] y, T[] z,
        Func<Vector128<T>, Vector128<T>, Vector128<T>, Vector128<T>> f128,
        Func<Vector256<T>, Vector256<T>, Vector256<T>, Vector256<T>> f256,
        Func<Vector512<T>, Vector512<T>, Vector512<T>, Vector512<T>> f512) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector512<T>.Count, blocks = N / w;
        var r128 = new T[blocks * w];
        var r256 = new T[blocks * w];
        var r512 = new T[blocks * w];
        for (int i = 0; i < blocks * w; i += Vector128<T>.Count)
            f128(Vector128.Create<T>(x.AsSpan(i)), Vector128.Create<T>(y.AsSpan(i)), Vector128.Create<T>(z.AsSpan(i))).CopyTo(r128, i);
        for (int i = 0; i < blocks * w; i += Vector256<T>.Count)
            f256(Vector256.Create<T>(x.AsSpan(i)), Vector256.Create<T>(y.AsSpan(i)), Vector256.Create<T>(z.AsSpan(i))).CopyTo(r256, i);
        for (int i = 0; i < blocks * w; i += w)
            f512(Vector512.Create<T>(x.AsSpan(i)), Vector512.Create<T>(y.AsSpan(i)), Vector512.Create<T>(z.AsSpan(i))).CopyTo(r512, i);
        Assert.True(SameBits<T>(r128, r256), $"{name} {typeof(T).Name}: Vector256 form differs from Vector128: {Show<T>(r128, r256)}");
        Assert.True(SameBits<T>(r128, r512), $"{name} {typeof(T).Name}: Vector512 form differs from Vector128: {Show<T>(r128, r512)}");
    }

    private static void All<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        Binary<AddOperator<T>, T>("add", T.CreateTruncating(0.3));
        Binary<MultiplyOperator<T>, T>("multiply", T.CreateTruncating(0.3));
        Ternary<MultiplyAddOperator<T>, T>("multiply-add");
        Binary<EluOp<T>, T>("elu", T.CreateTruncating(1.7));
        Binary<EluDerivativeOp<T>, T>("elu'", T.CreateTruncating(1.7));
        foreach (double slope in (double[])[0, 0.01, -1, 0.3])
        {
            Binary<PiecewiseLinearOp<T>, T>($"piecewise-linear {slope}", T.CreateTruncating(slope));
            Binary<PiecewiseLinearDerivativeOp<T>, T>($"piecewise-linear' {slope}", T.CreateTruncating(slope));
        }
    }

    [Fact]
    public void Binary_and_ternary_operators_give_an_element_the_same_bits_on_every_path_and_at_every_length_double() => All<double>();

    [Fact]
    public void Binary_and_ternary_operators_give_an_element_the_same_bits_on_every_path_and_at_every_length_float() => All<float>();
}
