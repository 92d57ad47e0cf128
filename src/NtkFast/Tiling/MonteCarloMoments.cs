namespace NtkFast.Tiling;

/// <summary>
/// Mean and sample standard deviation of K Monte Carlo samples (e.g. empirical NTKs of K random
/// initialisations) split among the ranks of a <see cref="Communicator"/>. Sample k belongs to rank
/// k mod P and uses a seed that depends on k only (<see cref="SeedOf"/>), so every P draws the same K
/// samples; the statistics agree across P up to rounding (the summation order differs), not bitwise.
/// Each rank accumulates with Welford's update; ranks are combined with Chan et al.'s pairwise formula
/// written as two sums over ranks (two Allreduces), which avoids the cancellation of Σx² − n·mean².
/// </summary>
public sealed class MonteCarloMoments
{
    private readonly double[] _mean, _m2;
    private long _count;

    /// <param name="length">Elements per sample (e.g. N·M).</param>
    public MonteCarloMoments(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _mean = new double[length];
        _m2 = new double[length];
    }

    /// <summary>Samples added on this rank.</summary>
    public long LocalCount => _count;

    /// <summary>The samples of <paramref name="rank"/> out of <paramref name="ranks"/> for K samples: k = rank, rank + P, …</summary>
    public static IEnumerable<int> SamplesOf(int samples, int rank, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        for (long k = rank; k < samples; k += ranks) yield return (int)k;
    }

    /// <summary>The seed of sample k: the base seed plus k (so run K = 1 reproduces a plain run with the base seed).</summary>
    public static int SeedOf(int baseSeed, int sample) => unchecked(baseSeed + sample);

    /// <summary>Adds one sample (Welford's update).</summary>
    public void Add(ReadOnlySpan<double> sample)
    {
        if (sample.Length != _mean.Length) throw new ArgumentException($"sample has {sample.Length} elements, expected {_mean.Length}", nameof(sample));
        _count++;
        double inv = 1.0 / _count;
        for (int i = 0; i < sample.Length; i++)
        {
            double delta = sample[i] - _mean[i];
            _mean[i] += delta * inv;
            _m2[i] += delta * (sample[i] - _mean[i]);
        }
    }

    /// <summary>
    /// Collective: combines every rank's samples; <paramref name="mean"/> and <paramref name="std"/> (sample
    /// standard deviation, n − 1 in the denominator; 0 for a single sample) receive the result on every rank.
    /// Returns the total number of samples.
    /// </summary>
    public long Reduce(Communicator comm, Span<double> mean, Span<double> std)
    {
        ArgumentNullException.ThrowIfNull(comm);
        if (mean.Length != _mean.Length) throw new ArgumentException($"mean needs {_mean.Length} elements", nameof(mean));
        if (std.Length != _mean.Length) throw new ArgumentException($"std needs {_mean.Length} elements", nameof(std));
        Span<long> n = [_count];
        comm.AllreduceSum(n);
        long total = n[0];
        if (total == 0) throw new InvalidOperationException("No Monte Carlo samples on any rank.");
        // Global mean = Σ_r n_r·mean_r / n.
        for (int i = 0; i < mean.Length; i++) mean[i] = _count * _mean[i];
        comm.AllreduceSum(mean);
        for (int i = 0; i < mean.Length; i++) mean[i] /= total;
        // Global M2 = Σ_r [M2_r + n_r·(mean_r − mean)²].
        for (int i = 0; i < std.Length; i++)
        {
            double d = _mean[i] - mean[i];
            std[i] = _count == 0 ? 0.0 : _m2[i] + (_count * d * d);
        }
        comm.AllreduceSum(std);
        for (int i = 0; i < std.Length; i++) std[i] = total > 1 ? Math.Sqrt(Math.Max(0.0, std[i] / (total - 1))) : 0.0;
        return total;
    }
}
