using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Empirical;

/// <summary>Caller-owned buffers for <see cref="EmpiricalKernel.ComputeStructured"/> (reusable, any N ≤ capacity).</summary>
public sealed class EmpiricalWorkspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="architecture">the network's architecture</param>
    /// <param name="capacityX">maximum points of X</param>
    /// <param name="capacityX2">maximum points of a distinct X2 (0: symmetric X2 = X only)</param>
    public EmpiricalWorkspace(MlpArchitecture architecture, int capacityX, int capacityX2 = 0)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityX, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(capacityX2);
        Architecture = architecture;
        CapacityX = capacityX;
        CapacityX2 = capacityX2;
        X = new MlpWorkspace<T>(architecture, capacityX);
        int depth = architecture.Depth, q = architecture.OutputWidth;
        CotX = new T[depth][];
        CotX2 = new T[depth][];
        for (int l = 0; l < depth; l++)
        {
            CotX[l] = l == 0 ? [] : new T[(long)capacityX * q * architecture.Width(l)];
            CotX2[l] = l == 0 || capacityX2 == 0 ? [] : new T[(long)capacityX2 * q * architecture.Width(l)];
        }
        if (capacityX2 > 0) X2 = new MlpWorkspace<T>(architecture, capacityX2);
        long nm = (long)capacityX * Math.Max(capacityX, capacityX2);
        if (nm > Array.MaxLength) throw new ArgumentException($"{capacityX}×{Math.Max(capacityX, capacityX2)} kernel is too large.", nameof(capacityX));
        ScratchT = new T[nm];
        ScratchT2 = new T[nm];
        _kernelSize = nm;
    }

    private readonly long _kernelSize;
    private double[]? _fullG, _fullD;

    /// <summary>The architecture the buffers are shaped for.</summary>
    public MlpArchitecture Architecture { get; }

    /// <summary>Maximum points of X.</summary>
    public int CapacityX { get; }

    /// <summary>Maximum points of a distinct X2.</summary>
    public int CapacityX2 { get; }

    internal MlpWorkspace<T> X { get; }
    internal MlpWorkspace<T>? X2 { get; }
    internal T[][] CotX { get; }
    internal T[][] CotX2 { get; }
    internal T[] ScratchT { get; }
    internal T[] ScratchT2 { get; }

    /// <summary>float64 buffers of the all-output-pairs path (allocated on its first use).</summary>
    internal double[] FullG => _fullG ??= new double[_kernelSize];
    internal double[] FullD => _fullD ??= new double[_kernelSize];
}
