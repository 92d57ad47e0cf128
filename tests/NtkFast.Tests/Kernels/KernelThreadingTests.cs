using NtkFast.Kernels;
using NtkFast.Numerics;
using NtkFast.Tests.Numerics;
using Xunit;

namespace NtkFast.Tests.Kernels;

[Collection(SerialNumericsCollection.Name)]
public class KernelThreadingTests
{
    [Theory]
    [InlineData("ref_relu_ordered")]
    [InlineData("relu")]
    [InlineData("sin")]
    public void Results_do_not_depend_on_the_thread_count(string name)
    {
        var act = InfiniteWidthTests.Named(name);
        if (act is null) return;
        bool numeric = !act.HasClosedFormDual; // ~10 µs per dual: fewer points, still several tiles
        Matrix x = TestData.Random(numeric ? 80 : 200, 17, 21);
        Matrix y = TestData.Random(numeric ? 9 : 133, 17, 22);
        var spec = new KernelSpec(4, act, 0.1, 1.0, trainableFrom: 1);
        int saved = NtkParallel.MaxThreads;
        try
        {
            var results = new List<KernelResult>();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                NtkParallel.MaxThreads = threads;
                results.Add(InfiniteWidth.Compute(spec, x, null, KernelOutputs.Both | KernelOutputs.LayerContributions));
                results.Add(InfiniteWidth.Compute(spec, x, y, KernelOutputs.Both));
            }
            for (int k = 2; k < results.Count; k++)
            {
                Assert.Equal(results[k % 2].Nngp!.Data, results[k].Nngp!.Data);
                Assert.Equal(results[k % 2].Ntk!.Data, results[k].Ntk!.Data);
            }
        }
        finally { NtkParallel.MaxThreads = saved; }
    }

    [Fact]
    public void Span_api_allocates_nothing()
    {
        Matrix x = TestData.Random(90, 10, 23);
        var spec = new KernelSpec(3, InfiniteWidthTests.Named("relu") ?? InfiniteWidthTests.Named("identity")!, 0.1, 1.0);
        int saved = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = 1;
            var nngp = new double[90 * 90];
            var ntk = new double[90 * 90];
            var ws = new double[InfiniteWidth.GetWorkspaceLength(spec, 90, 90)];
            Assert.Equal(0, Allocations.PerCall(() =>
            {
                InfiniteWidth.ComputeBlock(spec, x.Data, 90, x.Data, 90, 10, 0, 90, 0, 90, nngp, ntk, 90, ws);
                InfiniteWidth.ComputeBlock(spec, x.Data, 90, x.Data, 90, 10, 10, 30, 5, 70, nngp, ntk, 90, ws);
            }));
        }
        finally { NtkParallel.MaxThreads = saved; }
    }
}
