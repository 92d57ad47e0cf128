using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>
/// Tests that change NtkParallel.MaxThreads or measure allocation counters: run alone, after the
/// parallel tests, so no other test thread disturbs the counters or the thread setting.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialNumericsCollection
{
    public const string Name = "Numerics (serial)";
}
