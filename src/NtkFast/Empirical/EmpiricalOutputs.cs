namespace NtkFast.Empirical;

/// <summary>Which empirical NTK is written.</summary>
public enum EmpiricalOutputs
{
    /// <summary>(1/nL)·Σ_k Θ̂_kk(x_i, x2_j), shape N×M — what converges to Θ(L).</summary>
    Trace,

    /// <summary>Θ̂_kk'(x_i, x2_j) for every output pair, shape N×M×nL×nL (row-major, index ((i·M + j)·nL + k)·nL + k').</summary>
    Full,
}
