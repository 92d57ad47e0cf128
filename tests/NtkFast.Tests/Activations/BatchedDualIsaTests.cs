using System.Globalization;
using System.Text;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Activations;

/// <summary>
/// The batched closed-form dual kernels give bitwise identical kernels on every instruction-set path
/// (every path of the registry pinned by NTKFAST_ISA, and the runtime switches: AVX-512 → Vector512, AVX2 → Vector256, no intrinsics → the software Vector256): child processes of
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
        // Every path of the registry pinned by NTKFAST_ISA, then the runtime's own switches.
        var runs = Isa.Available.Select(p => (Isa.EnvironmentVariable, Isa.Name(p))).ToList();
        runs.AddRange([("DOTNET_EnableAVX512", "0"), ("DOTNET_EnableAVX2", "0"), ("DOTNET_EnableHWIntrinsic", "0")]);
        foreach (var (key, value) in runs)
        {
            string outFile = Path.Combine(_dir, $"k-{key}-{value}.npy");
            CliResult res = CliRunner.Run(["kernel", "--x", xFile, "--depth", "3", "--activation", activation, "--out-ntk", outFile],
                new Dictionary<string, string> { [key] = value }, TimeSpan.FromSeconds(120));
            Assert.True(res.ExitCode == 0, $"{activation} {key}={value}: {res.StdErr}");
            outputs.Add(File.ReadAllBytes(outFile));
        }
        Assert.True(outputs[0].Length > 37 * 37 * 8);
        for (int k = 1; k < outputs.Count; k++) Assert.True(outputs[0].AsSpan().SequenceEqual(outputs[k]), $"{activation}: {runs[k].Item1}={runs[k].Item2} differs from {runs[0].Item2}");
    }

    [Fact]
    public void An_unknown_path_name_is_one_clear_line_and_exit_2()
    {
        string xFile = Path.Combine(_dir, "X.csv");
        File.WriteAllText(xFile, "0.1,0.2\n0.3,0.4\n");
        string outFile = Path.Combine(_dir, "k.npy");
        CliResult r = CliRunner.Run(["kernel", "--x", xFile, "--depth", "2", "--activation", "relu", "--out-ntk", outFile],
            new Dictionary<string, string> { [Isa.EnvironmentVariable] = "avx1024\u001b[31m" }, TimeSpan.FromSeconds(60));
        CliRunner.AssertCleanFailure(r, 2, "NTKFAST_ISA='avx1024?[31m' is not a path");
        Assert.False(File.Exists(outFile));
        CliResult v = CliRunner.Run(["version"], new Dictionary<string, string> { [Isa.EnvironmentVariable] = "scalar" }, TimeSpan.FromSeconds(60));
        Assert.Contains("isa path: scalar", v.StdOut, StringComparison.Ordinal);
    }
}
