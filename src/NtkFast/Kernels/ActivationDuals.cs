using NtkFast.Activations;
using NtkFast.Quadrature;

namespace NtkFast.Kernels;

/// <summary>How the kernel recursion obtains the dual kernel it evaluates.</summary>
internal static class ActivationDuals
{
    /// <summary>
    /// The activation whose dual the recursion calls: itself, or — for a numeric dual with an explicit
    /// quadrature degree — the same activation with its quadrature set to that degree. Closed forms ignore
    /// the degree (docs/design.md §1: quadrature only where no closed form exists).
    /// </summary>
    public static Activation WithQuadratureDegree(Activation activation, int? degree)
    {
        if (degree is not int q || activation.HasClosedFormDual) return activation;
        return activation.WithNumericDual(new BivariateQuadrature(q));
    }
}
