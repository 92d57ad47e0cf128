namespace NtkFast.Empirical;

/// <summary>How the empirical NTK is computed.</summary>
public enum EmpiricalMethod
{
    /// <summary>Layer-wise structured formula (docs/design.md §1): Gram matrices of activations and cotangents, Hadamard products.</summary>
    Structured,

    /// <summary>Reference: per-sample gradients (one backward pass per point and output) into J, then J·J2ᵀ in float64.</summary>
    Jacobian,
}
