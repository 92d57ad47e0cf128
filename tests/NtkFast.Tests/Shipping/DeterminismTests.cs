using System.Globalization;
using System.Text;
using Xunit;

namespace NtkFast.Tests.Shipping;

/// <summary>
/// Every command that writes numbers gives bitwise identical files with NTKFAST_THREADS=1 and 2
/// and across repeated runs (child processes of the built `ntk`, so the thread count is read at
/// start-up exactly as a user sets it). Table-driven: one row per command.
/// </summary>
public sealed class DeterminismTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-det-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private void WriteInputs()
    {
        var r = new Random(3);
        var x = new StringBuilder();
        var y = new StringBuilder();
        for (int i = 0; i < 300; i++) // enough for several kernel tiles and GEMMs above the parallel threshold
        {
            double a = r.NextDouble() - 0.5, b = r.NextDouble() - 0.5, c = r.NextDouble() - 0.5, d = r.NextDouble() - 0.5;
            x.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{a},{b},{c},{d}"));
            y.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{a * b + c},{d - a}"));
        }
        File.WriteAllText(P("X.csv"), x.ToString());
        File.WriteAllText(P("Y.csv"), y.ToString());
        File.WriteAllText(P("XT.csv"), string.Join('\n', x.ToString().Split('\n').Take(9)));
    }

    /// <summary>(name, arguments with {out} for the output file, output file name).</summary>
    public static TheoryData<string> Commands => new()
    {
        "kernel", "init", "train", "empirical", "predict-kernel", "predict-params",
    };

    private string[] Args(string command, string outFile) => command switch
    {
        "kernel" => ["kernel", "--x", P("X.csv"), "--depth", "3", "--activation", "erf", "--out-ntk", outFile],
        "init" => ["init", "--widths", "4,96,80,2", "--activation", "tanh", "--seed", "5", "--out", outFile],
        "train" => ["train", "--params", P("net.npz"), "--x", P("X.csv"), "--y", P("Y.csv"), "--lr", "0.5", "--steps", "15", "--out", outFile],
        "empirical" => ["empirical", "--params", P("net.npz"), "--x", P("X.csv"), "--out-ntk", outFile, "--outputs", "full"],
        "predict-kernel" => ["predict", "--x", P("X.csv"), "--y", P("Y.csv"), "--x-test", P("XT.csv"), "--depth", "3", "--activation", "relu", "--time", "0,7,inf", "--out", outFile],
        "predict-params" => ["predict", "--x", P("X.csv"), "--y", P("Y.csv"), "--x-test", P("XT.csv"), "--params", P("net.npz"), "--time", "3", "--out", outFile],
        _ => throw new ArgumentException(command),
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Output_is_bitwise_identical_for_1_and_2_threads_and_across_runs(string command)
    {
        WriteInputs();
        CliResult init = CliRunner.Run(["init", "--widths", "4,96,80,2", "--activation", "relu", "--seed", "1", "--out", P("net.npz")], null, TimeSpan.FromSeconds(120));
        Assert.True(init.ExitCode == 0, init.StdErr);
        string ext = command is "init" or "train" ? ".npz" : ".npy";
        var outputs = new List<byte[]>();
        foreach ((string threads, int run) in new[] { ("1", 0), ("2", 0), ("2", 1) })
        {
            string outFile = P($"{command}-{threads}-{run}{ext}");
            CliResult r = CliRunner.Run(Args(command, outFile), new Dictionary<string, string> { ["NTKFAST_THREADS"] = threads }, TimeSpan.FromSeconds(120));
            Assert.True(r.ExitCode == 0, $"{command} with {threads} threads: {r.StdErr}");
            outputs.Add(File.ReadAllBytes(outFile));
        }
        Assert.True(outputs[0].Length > 0);
        Assert.Equal(outputs[0], outputs[1]);
        Assert.Equal(outputs[1], outputs[2]);
    }
}
