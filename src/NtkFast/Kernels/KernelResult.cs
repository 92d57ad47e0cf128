using NtkFast.Numerics;

namespace NtkFast.Kernels;

/// <summary>Result of <see cref="InfiniteWidth.Compute(KernelSpec, Matrix, Matrix?, KernelOutputs)"/>: the matrices asked for, others null.</summary>
/// <remarks>
/// Disposing is optional: it hands the storage of <see cref="Nngp"/> and <see cref="Ntk"/> to a small process-wide
/// pool, so the next <see cref="InfiniteWidth.Compute(KernelSpec, Matrix, Matrix?, KernelOutputs)"/> of the same
/// size reuses memory that is already mapped instead of first-touching fresh pages (on the Zen 5 VM ≈ 0.3 s of a
/// 0.55 s N = 4096 call). Do not use the matrices after disposing. <see cref="InfiniteWidth.ReleasePooledMemory"/>
/// empties the pool; for full control use the span overload of <see cref="InfiniteWidth.ComputeBlock(KernelSpec, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, int, int, int, int, int, Span{double}, Span{double}, int, Span{double}, Span{double})"/>
/// with buffers you own.
/// </remarks>
public sealed class KernelResult : IDisposable
{
    private int _disposed;

    internal KernelResult(Matrix? nngp, Matrix? ntk, Matrix[]? layerContributions)
    {
        Nngp = nngp;
        Ntk = ntk;
        LayerContributions = layerContributions;
    }

    /// <summary>Σ(L)(x_i, x2_j), or null when not requested.</summary>
    public Matrix? Nngp { get; }

    /// <summary>Θ(L)(x_i, x2_j) (layers from TrainableFrom on), or null when not requested.</summary>
    public Matrix? Ntk { get; }

    /// <summary>
    /// Element l−1 is the term Σ(l)·Π_{k&gt;l} Σ̇(k) of weight layer l−1 (l = 1…L), or null when not requested.
    /// </summary>
    public IReadOnlyList<Matrix>? LayerContributions { get; }

    /// <summary>Returns the storage of <see cref="Nngp"/> and <see cref="Ntk"/> to the pool (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Memory.OutputPool.Return(Nngp?.Data);
        if (!ReferenceEquals(Ntk?.Data, Nngp?.Data)) Memory.OutputPool.Return(Ntk?.Data);
    }
}

/// <summary>Per-point diagonals Σ(L)(x, x) and Θ(L)(x, x).</summary>
public sealed class KernelDiagonal
{
    internal KernelDiagonal(double[] nngp, double[] ntk)
    {
        Nngp = nngp;
        Ntk = ntk;
    }

    public double[] Nngp { get; }
    public double[] Ntk { get; }
}
