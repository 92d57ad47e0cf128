using NtkFast.Networks;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// Independent seeds for every random object of an experiment, derived from the one --seed:
/// the seed of (purpose, a, b) is a SplitMix64 mix of all four, so network r of width n never
/// shares a stream with the data or with another network, and results do not depend on the
/// order in which networks are built.
/// </summary>
public static class Seeds
{
    public const int Data = 1;
    public const int Network = 2;

    public static ulong Derive(ulong seed, int purpose, long a = 0, long b = 0) =>
        GaussianStream.Bits(GaussianStream.Bits(GaussianStream.Bits(seed, purpose), a), b);

    /// <summary>count iid N(0, 1) values of the stream (seed, purpose, a).</summary>
    public static double[] Normals(ulong seed, int purpose, long a, int count)
    {
        var z = new double[count];
        GaussianStream.Fill(Derive(seed, purpose, a), 0, z);
        return z;
    }
}
