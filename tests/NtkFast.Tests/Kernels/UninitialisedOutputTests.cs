using NtkFast.Activations;
using NtkFast.Kernels;
using NtkFast.Memory;
using NtkFast.Numerics;
using NtkFast.Tests.Numerics;
using Xunit;

namespace NtkFast.Tests.Kernels;

/// <summary>
/// The allocating overloads hand out uninitialised (huge-page-advised) output arrays, so the span form must
/// write every entry of the block it is given: outputs prefilled with NaN come back NaN-free and bitwise equal
/// to outputs prefilled with zeros, for square blocks of one point set (triangle + mirror), rectangles and
/// off-diagonal blocks, at awkward sizes.
/// </summary>
[Collection(SerialNumericsCollection.Name)]
public class UninitialisedOutputTests
{
    [Theory]
    [InlineData(1, 1, 0, 1, 0, 1)]
    [InlineData(7, 7, 0, 7, 0, 7)]
    [InlineData(65, 65, 0, 65, 0, 65)]
    [InlineData(130, 130, 3, 127, 3, 127)]
    [InlineData(130, 130, 0, 17, 64, 66)]
    [InlineData(70, 33, 5, 63, 1, 31)]
    public void The_span_form_writes_every_entry_of_its_block(int n, int m, int r0, int rc, int c0, int cc)
    {
        Matrix x = TestData.Random(n, 9, 31);
        Matrix y = n == m ? x : TestData.Random(m, 9, 32);
        foreach (string act in new[] { "relu", "erf", "tanh" })
        {
            var spec = new KernelSpec(3, ActivationRegistry.Parse(act), 0.1, 1.0);
            var ws = new double[InfiniteWidth.GetWorkspaceLength(spec, rc, cc)];
            double[] Run(double fill, bool ntk)
            {
                var a = new double[rc * cc];
                var b = new double[rc * cc];
                a.AsSpan().Fill(fill);
                b.AsSpan().Fill(fill);
                InfiniteWidth.ComputeBlock(spec, x.Data, n, y.Data, m, 9, r0, rc, c0, cc, a, b, cc, ws);
                return ntk ? b : a;
            }
            foreach (bool ntk in new[] { false, true })
            {
                double[] nan = Run(double.NaN, ntk), zero = Run(0, ntk);
                Assert.DoesNotContain(nan, double.IsNaN);
                Assert.Equal(zero, nan);
            }
            KernelResult alloc = InfiniteWidth.ComputeBlock(spec, x, n == m ? null : y, r0, rc, c0, cc);
            Assert.Equal(Run(0, false), alloc.Nngp!.Data);
            Assert.Equal(Run(0, true), alloc.Ntk!.Data);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(262_143)]
    [InlineData(524_288)]
    [InlineData(1_000_003)]
    public void AllocateLarge_gives_an_array_of_the_requested_length(int length)
    {
        double[] a = OsMemory.AllocateLarge<double>(length);
        Assert.Equal(length, a.Length);
        a.AsSpan().Fill(1.5);
        Assert.All(a, v => Assert.Equal(1.5, v));
    }

    [Fact]
    public void A_disposed_result_lends_its_storage_to_the_next_call_of_the_same_size()
    {
        // 601×599 (an unusual length, so no other test rents it): ≥ 2 MiB per output, so it is pooled.
        Matrix x = TestData.Random(601, 5, 41), y = TestData.Random(599, 5, 42);
        var spec = new KernelSpec(3, ActivationRegistry.Parse("relu"), 0.1, 1.0);
        KernelResult first = InfiniteWidth.Compute(spec, x, y);
        double[] nngp = (double[])first.Nngp!.Data.Clone(), ntk = (double[])first.Ntk!.Data.Clone();
        double[] storage = first.Ntk.Data;
        first.Dispose();
        first.Dispose(); // a second dispose must not hand the same array out twice
        using KernelResult second = InfiniteWidth.Compute(spec, x, y, KernelOutputs.Ntk);
        Assert.Same(storage, second.Ntk!.Data);
        Assert.Equal(ntk, second.Ntk.Data);
        using KernelResult third = InfiniteWidth.Compute(spec, x, y, KernelOutputs.Nngp);
        Assert.NotSame(storage, third.Nngp!.Data);
        Assert.Equal(nngp, third.Nngp.Data);
        InfiniteWidth.ReleasePooledMemory();
    }
}
