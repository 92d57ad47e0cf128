namespace NtkFast.Dynamics;

/// <summary>
/// Thrown when a kernel is numerically singular (or not positive semi-definite) and the requested
/// prediction needs its inverse (t = ∞, the NNGP posterior). The fix is diagonal regularisation.
/// </summary>
public sealed class SingularKernelException : ArithmeticException
{
    public SingularKernelException(string message) : base(message) { }
    public SingularKernelException() : this("kernel is numerically singular") { }
    public SingularKernelException(string message, Exception inner) : base(message, inner) { }
}
