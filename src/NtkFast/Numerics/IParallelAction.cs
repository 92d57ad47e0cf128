namespace NtkFast.Numerics;

/// <summary>
/// The body of an allocation-free parallel loop (<see cref="NtkParallel.For{TAction}(int, ref TAction)"/>).
/// Implement it on a struct holding what the body needs (arrays, pointers, sizes). The same struct
/// instance is shared by all threads, so <see cref="Invoke"/> must not mutate the struct's own fields;
/// it writes through the arrays or pointers it holds, each index to its own region.
/// </summary>
public interface IParallelAction
{
    void Invoke(int index);
}

/// <summary>
/// Like <see cref="IParallelAction"/>, with the worker index in [0, threads) so each worker can use its
/// own slice of a caller-owned workspace. A given worker index is used by one thread at a time.
/// </summary>
public interface IParallelWorkerAction
{
    void Invoke(int worker, int index);
}
