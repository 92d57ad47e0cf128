using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using NtkFast.Activations;
using NtkFast.Numerics;

namespace NtkFast.Networks;

/// <summary>
/// Forward-layer epilogue, run by the GEMM on each finished row segment of Z = (σw/√n)·A·Wᵀ while
/// it is in cache: Z += β·b (kept as the pre-activation), then α = σ(Z) into the activation
/// buffer (hidden layers only). Saves the separate bias-broadcast and activation passes over Z.
/// Holds arrays and offsets (no pointers), is never mutated in <see cref="Apply"/>, and each segment
/// writes only its own place — the <see cref="IGemmEpilogue{T}"/> contract.
/// </summary>
internal readonly struct BiasActivationEpilogue<T>(T[]? scaledBias, T[]? act, int actOffset, int width, Activation activation)
    : IGemmEpilogue<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(int row, int colStart, Span<T> values)
    {
        if (scaledBias is not null)
            TensorPrimitives.Add(values, scaledBias.AsSpan(colStart, values.Length), values);
        if (act is not null)
            NetworkOps.Forward<T>(activation, values, act.AsSpan(actOffset + row * width + colStart, values.Length));
    }
}

/// <summary>
/// Backward-layer epilogue on each finished row segment of D = (σw/√n)·δ(l+1)·W(l): δ(l) = D ⊙ σ'(Z(l)),
/// with σ' evaluated into a stack buffer of at most 256 elements (segments are ≈ one L2 block wide).
/// </summary>
[SkipLocalsInit]
internal readonly struct DerivativeEpilogue<T>(T[] pre, int preOffset, int width, Activation activation)
    : IGemmEpilogue<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Chunk = 256;

    public void Apply(int row, int colStart, Span<T> values)
    {
        Span<T> d = stackalloc T[Chunk];
        int start = preOffset + row * width + colStart;
        for (int off = 0; off < values.Length; off += Chunk)
        {
            int len = Math.Min(Chunk, values.Length - off);
            Span<T> dd = d[..len];
            NetworkOps.Derivative<T>(activation, pre.AsSpan(start + off, len), dd);
            Span<T> v = values.Slice(off, len);
            TensorPrimitives.Multiply(v, dd, v);
        }
    }
}
