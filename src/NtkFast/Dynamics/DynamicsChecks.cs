using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>Argument checks shared by the dynamics types.</summary>
internal static class DynamicsChecks
{
    public static void Time(double t)
    {
        if (double.IsNaN(t) || t < 0 || double.IsNegativeInfinity(t))
            throw new ArgumentOutOfRangeException("time", t, $"time must be ≥ 0 or +∞, got {t}.");
    }

    public static void Shape(Matrix? a, int rows, int cols, string name)
    {
        ArgumentNullException.ThrowIfNull(a, name);
        if (a.Rows != rows || a.Cols != cols)
            throw new ArgumentException($"{name} must be {rows}×{cols}, got {a.Rows}×{a.Cols}.", name);
    }

    public static void Finite(Matrix a, string name)
    {
        foreach (double v in a.Data)
            if (!double.IsFinite(v)) throw new ArgumentException($"{name} contains a non-finite value.", name);
    }
}
