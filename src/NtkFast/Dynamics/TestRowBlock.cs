using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>
/// Rows [start, start + count) of the test blocks, for a prediction streamed a block of test points at a
/// time (<see cref="KernelPrediction.Ntk(Matrix, Matrix?, int, Func{int, int, TestRowBlock}, Matrix, ReadOnlySpan{double}, Regularization, bool, int, IProgress{long}?, IProgress{double}?)"/>):
/// Θ(X*_b, X) (count×N); for the spread also Σ(X*_b, X) (count×N) and the prior variances Σ(x*_i, x*_i) (count×1).
/// The streamed predictions use a block before asking the same reader for the next one, so a reader may reuse the matrices it returns.
/// </summary>
public readonly record struct TestRowBlock(Matrix NtkTest, Matrix? NngpTest = null, Matrix? NngpTestDiagonal = null);
