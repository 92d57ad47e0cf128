using NtkFast.Architectures;
using NtkFast.Numerics;
using NtkFast.Tests.Numerics;
using Xunit;

namespace NtkFast.Tests.Architectures;

/// <summary>
/// The batch calls of finite architecture networks with a caller-owned <see cref="ArchitectureNetwork.BatchWorkspace"/>
/// and outputs: allocation-free once warm (one thread and two), bitwise the allocating overloads, and a workspace reused
/// across batch sizes (its buffers larger than needed) gives the same bits as a fresh one.
/// </summary>
[Collection(SerialNumericsCollection.Name)] // sets NtkParallel.MaxThreads and counts allocations
public class ArchitectureNetworkBatchTests
{
    private const string Spec = "conv:6,3x3,same relu conv:5,3x3,s2,same tanh res{ conv:5,3x3,same relu } avgpool:2 flatten dense:3";

    private static ImageSet Images(int n, int seed)
    {
        var rng = new Random(seed);
        var d = new double[n * 5 * 6 * 2];
        for (int i = 0; i < d.Length; i++) d[i] = rng.NextDouble() * 2 - 1;
        return new ImageSet(d, n, 5, 6, 2);
    }

    private static Matrix Targets(int n, int seed)
    {
        var rng = new Random(seed);
        var y = new Matrix(n, 3);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = rng.NextDouble() - 0.5;
        return y;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Batch_calls_with_a_workspace_allocate_nothing_once_warm(int threads)
    {
        int keep = NtkParallel.MaxThreads;
        try
        {
            NtkParallel.MaxThreads = threads;
            foreach (bool single in (bool[])[false, true])
            {
                ArchitectureNetwork net = ArchitectureNetwork.Initialize(Architecture.Parse(Spec), 5, 6, 2, seed: 2);
                if (single) net = net.ConvertTo<float>();
                ImageSet x = Images(9, 1), x2 = Images(4, 2);
                Matrix y = Targets(9, 3);
                ArchitectureNetwork.BatchWorkspace ws = net.CreateBatchWorkspace();
                var f = new double[9 * 3];
                var ntk = new double[9 * 9];
                var nngp = new double[9 * 9];
                var ntk2 = new double[9 * 4];
                double c = 0;
                bool hasNngp = false;
                long bytes = Allocations.PerCall(() =>
                {
                    net.Forward(x, f, ws);
                    c = net.TrainStep(x, y, 0.05, ws, trainableFrom: 1);
                    hasNngp = net.EmpiricalKernel(x, null, ntk, nngp, ws);
                    net.EmpiricalKernel(x, x2, ntk2, default, ws, trainableFrom: 1);
                });
                Assert.True(hasNngp && double.IsFinite(c));
                Assert.True(bytes == 0, $"{bytes} bytes per call on {threads} thread(s), {(single ? "float32" : "float64")}");
            }
        }
        finally { NtkParallel.MaxThreads = keep; }
    }

    private static double[] Parameters(ArchitectureNetwork n) =>
        n is ArchitectureNetwork<double> d ? d.Parameters : Array.ConvertAll(((ArchitectureNetwork<float>)n).Parameters, v => (double)v);

    [Fact]
    public void Workspace_overloads_are_bitwise_the_allocating_ones_and_a_reused_workspace_changes_nothing()
    {
        Architecture arch = Architecture.Parse(Spec);
        ImageSet big = Images(11, 5), x = Images(6, 6), x2 = Images(3, 7);
        Matrix y = Targets(6, 8);
        foreach (bool single in (bool[])[false, true])
        {
            ArchitectureNetwork a = ArchitectureNetwork.Initialize(arch, 5, 6, 2, seed: 4), b = ArchitectureNetwork.Initialize(arch, 5, 6, 2, seed: 4);
            if (single) { a = a.ConvertTo<float>(); b = b.ConvertTo<float>(); }
            // b's workspace first serves a larger batch, so its buffers are longer than needed and hold old values
            ArchitectureNetwork.BatchWorkspace ws = b.CreateBatchWorkspace();
            b.EmpiricalKernel(big, null, new double[11 * 11], new double[11 * 11], ws);
            b.Forward(big, new double[11 * 3], ws);
            for (int step = 0; step < 3; step++)
                Assert.Equal(a.TrainStep(x, y, 0.1, trainableFrom: step % 2), b.TrainStep(x, y, 0.1, ws, trainableFrom: step % 2));
            Matrix fa = a.Forward(x);
            var fb = new double[6 * 3];
            b.Forward(x, fb, ws);
            Assert.Equal(fa.Data, fb);
            foreach (ImageSet? other in (ImageSet?[])[null, x2])
                foreach (int frozen in (int[])[0, 2])
                {
                    (Matrix ntk, Matrix? nngp) = a.EmpiricalKernel(x, other, frozen);
                    int m = (other ?? x).Count;
                    var ntkB = new double[6 * m];
                    var nngpB = new double[6 * m];
                    Assert.True(b.EmpiricalKernel(x, other, ntkB, nngpB, ws, frozen));
                    Assert.Equal(ntk.Data, ntkB);
                    Assert.Equal(nngp!.Data, nngpB);
                    var ntkC = new double[6 * m];
                    Assert.False(b.EmpiricalKernel(x, other, ntkC, default, ws, frozen));
                    Assert.Equal(ntk.Data, ntkC);
                }
            Assert.Equal(Parameters(a), Parameters(b));
        }
    }

    [Fact]
    public void Bad_workspaces_and_outputs_throw()
    {
        Architecture arch = Architecture.Parse(Spec);
        ArchitectureNetwork a = ArchitectureNetwork.Initialize(arch, 5, 6, 2, seed: 1), b = ArchitectureNetwork.Initialize(arch, 5, 6, 2, seed: 1);
        ImageSet x = Images(4, 1);
        var e = Assert.Throws<ArgumentException>(() => a.Forward(x, new double[12], b.CreateBatchWorkspace()));
        Assert.Equal("workspace", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => a.Forward(x, new double[11], a.CreateBatchWorkspace()));
        Assert.Equal("output", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => a.EmpiricalKernel(x, null, new double[15], default, a.CreateBatchWorkspace()));
        Assert.Equal("ntk", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => a.EmpiricalKernel(x, null, new double[16], new double[3], a.CreateBatchWorkspace()));
        Assert.Equal("nngp", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => a.TrainStep(x, Targets(4, 1), 0.1, null!));
        Assert.False(ArchitectureNetwork.Initialize(Architecture.Parse("conv:2,3x3,same relu gap"), 5, 6, 2, 0).HasEmpiricalNngp);
        Assert.True(a.HasEmpiricalNngp);
    }
}
