namespace NtkFast.Numerics;

/// <summary>Whether a GEMM operand is used as stored or transposed.</summary>
public enum Op
{
    /// <summary>op(A) = A.</summary>
    None = 0,
    /// <summary>op(A) = Aᵀ.</summary>
    Transpose = 1,
}
