using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Empirical;

/// <summary>Empirical kernels of one network on (X, X2): Θ̂ and the empirical NNGP, float64.</summary>
public sealed class EmpiricalKernelResult
{
    /// <summary>Wraps kernel arrays (shapes as described on the properties).</summary>
    public EmpiricalKernelResult(int n, int m, int outputs, EmpiricalOutputs kind, double[] ntk, double[]? nngp)
    {
        ArgumentNullException.ThrowIfNull(ntk);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        long expected = (long)n * m * (kind == EmpiricalOutputs.Full ? (long)outputs * outputs : 1);
        if (ntk.Length != expected) throw new ArgumentException($"ntk has {ntk.Length} elements, expected {expected}.", nameof(ntk));
        if (nngp is not null && nngp.Length != (long)n * m) throw new ArgumentException($"nngp has {nngp.Length} elements, expected {(long)n * m}.", nameof(nngp));
        N = n; M = m; OutputCount = outputs; Kind = kind; Ntk = ntk; Nngp = nngp;
    }

    /// <summary>Points of X (rows).</summary>
    public int N { get; }

    /// <summary>Points of X2 (columns).</summary>
    public int M { get; }

    /// <summary>nL.</summary>
    public int OutputCount { get; }

    /// <summary>Trace (N×M) or Full (N×M×nL×nL).</summary>
    public EmpiricalOutputs Kind { get; }

    /// <summary>Θ̂ in the layout of <see cref="Kind"/>.</summary>
    public double[] Ntk { get; }

    /// <summary>Empirical NNGP σw²/n(L−1)·α(L−1)(x)·α(L−1)(x') + β², N×M (null if not requested).</summary>
    public double[]? Nngp { get; }

    /// <summary>Shape of <see cref="Ntk"/> as an .npy shape.</summary>
    public int[] NtkShape => Kind == EmpiricalOutputs.Trace ? [N, M] : [N, M, OutputCount, OutputCount];

    /// <summary>The trace kernel as a matrix (Full: (1/nL)·Σ_k Θ̂_kk).</summary>
    public Matrix TraceMatrix()
    {
        if (Kind == EmpiricalOutputs.Trace) return new Matrix(N, M, (double[])Ntk.Clone());
        var t = new Matrix(N, M);
        int q = OutputCount;
        for (int ij = 0; ij < N * M; ij++)
        {
            double s = 0;
            for (int k = 0; k < q; k++) s += Ntk[(long)ij * q * q + k * q + k];
            t.Data[ij] = s / q;
        }
        return t;
    }
}
