namespace NtkFast.Architectures;

/// <summary>
/// One worker's kernel recursion for a pair of inputs: the full pixel-pair covariance (<see cref="PairRecursion"/>)
/// or, for architectures without pooling, only its diagonal (<see cref="DiagonalRecursion"/>), or band by band
/// for chains of stride-1 convolutions ending in gap (<see cref="StreamedRecursion"/>).
/// </summary>
internal abstract class PairEngine
{
    /// <summary>
    /// Σ and Θ of the pair. <paramref name="varA"/>/<paramref name="varB"/>: the inputs' per-pixel variances before
    /// every activation (<see cref="ArchProgram.VarLength"/> each). With <paramref name="record"/> (x' = x) the
    /// variances are taken from the pair's own covariance and written to varA (= varB).
    /// </summary>
    public abstract (double Nngp, double Ntk) Run(ReadOnlySpan<double> xa, ReadOnlySpan<double> xb, Span<double> varA, ReadOnlySpan<double> varB, bool record, bool wantT);

    /// <summary>The engine the program needs (see <see cref="DiagonalRecursion.Applies"/>).</summary>
    public static PairEngine For(ArchProgram prog) =>
        DiagonalRecursion.Applies(prog) ? new DiagonalRecursion(prog)
        : StreamedRecursion.Applies(prog) ? new StreamedRecursion(prog)
        : new PairRecursion(prog);

    /// <summary>Bytes one worker of <see cref="For"/> holds.</summary>
    public static long BytesFor(ArchProgram prog) =>
        DiagonalRecursion.Applies(prog) ? DiagonalRecursion.Bytes(prog)
        : StreamedRecursion.Applies(prog) ? StreamedRecursion.Bytes(prog)
        : PairRecursion.Bytes(prog);
}
