using System.Globalization;
using System.Text;
using Xunit;

namespace NtkFast.Tests.Activations;

/// <summary>
/// The batched closed-form dual kernels give bitwise identical kernels on every instruction-set path
/// (AVX-512 → Vector512, AVX2 → Vector256, no intrinsics → the software Vector256): child processes of
/// the built `ntk kernel` with the runtime's ISA switches, 37 points so the rows have padded tails.
/// </summary>
public sealed class BatchedDualIsaTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-isa-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("relu")]
    [InlineData("leaky_relu:0.2")]
    [InlineData("abs")]
    [InlineData("erf")]
    [InlineData("sign")]
    public void Kernel_is_bitwise_identical_across_instruction_set_paths(string activation)
    {
        var r = new Random(17);
        var x = new StringBuilder();
        for (int i = 0; i < 37; i++)
        {
            // Duplicate a point now and then: exact ρ = 1 rows (the clip path) next to ordinary ones.
            double a = i % 9 == 4 ? 0.25 : r.NextDouble() - 0.5, b = i % 9 == 4 ? -0.5 : r.NextDouble() - 0.5, c = r.NextDouble() - 0.5;
            x.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{a:R},{b:R},{c:R}"));
        }
        string xFile = Path.Combine(_dir, "X.csv");
        File.WriteAllText(xFile, x.ToString());
        var outputs = new List<byte[]>();
        foreach (var (key, value) in new[] { ("NTKFAST_ISA_TEST", "default"), ("DOTNET_EnableAVX512", "0"), ("DOTNET_EnableAVX2", "0"), ("DOTNET_EnableHWIntrinsic", "0") })
        {
            string outFile = Path.Combine(_dir, $"k-{key}.npy");
            CliResult res = CliRunner.Run(["kernel", "--x", xFile, "--depth", "3", "--activation", activation, "--out-ntk", outFile],
                new Dictionary<string, string> { [key] = value }, TimeSpan.FromSeconds(120));
            Assert.True(res.ExitCode == 0, $"{activation} {key}={value}: {res.StdErr}");
            outputs.Add(File.ReadAllBytes(outFile));
        }
        Assert.True(outputs[0].Length > 37 * 37 * 8);
        for (int k = 1; k < outputs.Count; k++) Assert.Equal(outputs[0], outputs[k]);
    }
}
