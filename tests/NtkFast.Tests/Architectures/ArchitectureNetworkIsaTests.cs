using NtkFast.Architectures;
using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Architectures;

/// <summary>
/// The finite CNN's SIMD kernels (<c>AffineKernels</c>: Vector&lt;T&gt; register tiles, whose width the runtime fixes at
/// start-up) give bitwise the same training and empirical kernels on every vector width and thread count: child
/// processes of the built <c>ntk</c> with the runtime's ISA switches (AVX2 → 4 doubles / 8 floats, AVX only → 2/4 …
/// software lanes with no intrinsics), every path of the registry pinned by NTKFAST_ISA, and one thread. Channels 9 and
/// 17 and a 9×7 image with stride 2 leave tails in every tile.
/// </summary>
/// <remarks>
/// Smooth activations (tanh here) included: the scalar path (NTKFAST_ISA=scalar, no hardware intrinsics, spans shorter than
/// a vector) runs the vector formula on one lane, not the runtime's T.Tanh (before, those runs differed by 2.8e−16 relative
/// in float64 and 8e−8 in float32 — found by this test). elu runs through the binary (scalar-argument) map, whose scalar
/// loop does the same since ElementwiseIsaTests found its scalar form (the runtime's exp) differing in the last bit.
/// </remarks>
public sealed class ArchitectureNetworkIsaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-archisa-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("elu")]
    public void Training_and_empirical_kernels_are_bitwise_identical_across_vector_widths_and_threads(string activation)
    {
        const int n = 12, h = 9, w = 7, c = 3;
        var rng = new Random(5);
        var x = new double[n * h * w * c];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
        var y = new double[n * 3];
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextDouble() - 0.5;
        using (var st = File.Create(P("x.npy"))) Npy.Write(st, x, [n, h, w, c]);
        using (var st = File.Create(P("y.npy"))) Npy.Write(st, y, [n, 3]);
        CliResult init = CliRunner.Run("init", "--arch", $"conv:9,3x3,same relu conv:17,3x3,s2,same {activation} gap dense:3", "--input-shape", $"{h},{w},{c}",
            "--seed", "4", "--out", P("net.npz"));
        Assert.True(init.ExitCode == 0, init.StdErr);

        var runs = new List<(string Key, string Value)> { ("NTKFAST_THREADS", "2") };
        runs.AddRange(Isa.Available.Select(p => (Isa.EnvironmentVariable, Isa.Name(p))));
        runs.AddRange([("DOTNET_EnableAVX512", "0"), ("DOTNET_EnableAVX2", "0"), ("DOTNET_EnableAVX", "0"), ("DOTNET_EnableHWIntrinsic", "0"), ("NTKFAST_THREADS", "1")]);
        var results = new List<(double[] Trained, double[] Ntk64, double[] Ntk32)>();
        foreach ((string key, string value) in runs)
        {
            var env = new Dictionary<string, string> { [key] = value };
            string tag = $"{key}-{value}";
            TimeSpan limit = TimeSpan.FromSeconds(120);
            CliResult train = CliRunner.Run(["train", "--params", P("net.npz"), "--x", P("x.npy"), "--y", P("y.npy"), "--lr", "0.2", "--steps", "3",
                "--out", P($"t-{tag}.npz"), "--quiet"], env, limit);
            Assert.True(train.ExitCode == 0, $"{tag}: {train.StdErr}");
            CliResult e64 = CliRunner.Run(["empirical", "--params", P("net.npz"), "--x", P("x.npy"), "--out-ntk", P($"e-{tag}.npy"), "--quiet"], env, limit);
            Assert.True(e64.ExitCode == 0, $"{tag}: {e64.StdErr}");
            CliResult e32 = CliRunner.Run(["empirical", "--params", P("net.npz"), "--x", P("x.npy"), "--float32", "--out-ntk", P($"f-{tag}.npy"), "--quiet"], env, limit);
            Assert.True(e32.ExitCode == 0, $"{tag}: {e32.StdErr}");
            results.Add((ArchitectureNetworkFile.Read<double>(P($"t-{tag}.npz")).Parameters.ToArray(),
                Npy.Read(P($"e-{tag}.npy")).Float64!, Npy.Read(P($"f-{tag}.npy")).Float64!));
        }
        double[] initial = ArchitectureNetworkFile.Read<double>(P("net.npz")).Parameters.ToArray();
        Assert.NotEqual(initial, results[0].Trained); // training moved the parameters
        Assert.Equal(n * n, results[0].Ntk64.Length);
        for (int k = 1; k < runs.Count; k++)
        {
            string what = $"{runs[k].Key}={runs[k].Value} differs from {runs[0].Key}={runs[0].Value}";
            Assert.True(results[0].Trained.AsSpan().SequenceEqual(results[k].Trained), "trained parameters: " + what);
            Assert.True(results[0].Ntk64.AsSpan().SequenceEqual(results[k].Ntk64), "float64 NTK: " + what);
            Assert.True(results[0].Ntk32.AsSpan().SequenceEqual(results[k].Ntk32), "float32 NTK: " + what);
        }
    }
}
