namespace NtkFast.Numerics;

/// <summary>
/// A hook run on finished pieces of C while they are still in cache, so a caller can fuse work such as
/// "add the bias, keep the pre-activation, apply the nonlinearity" into the GEMM instead of a second
/// pass over C (see <see cref="Gemm.Multiply{TEpilogue}(Op, Op, int, int, int, double, ReadOnlySpan{double}, int, ReadOnlySpan{double}, int, double, Span{double}, int, ref TEpilogue)"/>).
/// </summary>
/// <remarks>
/// Contract:
/// <list type="bullet">
/// <item><see cref="Apply"/> is called exactly once for every element of C, in row segments:
/// <c>values</c> is C[row, colStart … colStart + values.Length − 1], holding its final value
/// α·op(A)·op(B) + β·C. The epilogue may overwrite these values (e.g. with σ(value + bias[col])).</item>
/// <item>Segments of one row can come in any order; segments are typically one micro-panel of rows
/// (8) × one L2 block of columns (≈240), called right after that block was computed.</item>
/// <item>Calls run concurrently on several threads (for disjoint segments) on one shared instance:
/// do not mutate the struct's own fields in <see cref="Apply"/>; write through arrays or pointers it
/// holds, each segment to its own place. Anything computed must depend only on the segment's position
/// and values, never on the thread or call order, so results stay independent of the thread count.</item>
/// <item>It must not read other parts of C (they may not be final yet).</item>
/// </list>
/// </remarks>
public interface IGemmEpilogue<T>
{
    void Apply(int row, int colStart, Span<T> values);
}

/// <summary>The epilogue that does nothing (plain GEMM).</summary>
public readonly struct NoEpilogue<T> : IGemmEpilogue<T>
{
    public void Apply(int row, int colStart, Span<T> values) { }
}
