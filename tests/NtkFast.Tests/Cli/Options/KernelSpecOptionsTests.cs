using Xunit;

namespace NtkFast.Tests.Cli.Options;

/// <summary>
/// The kernel-spec option group (src/NtkFast.Cli/Options/KernelSpecOptions.cs): the same range, defaults
/// and messages in every command that takes it (issue 14 item 1, issue 18 item 5).
/// </summary>
public sealed class KernelSpecOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-kso-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Command(string command, params string[] spec)
    {
        string x = Path.Combine(_dir, "x.csv"), y = Path.Combine(_dir, "y.csv");
        File.WriteAllText(x, "0.1,0.2\n0.3,-0.4\n0.5,0.6\n");
        File.WriteAllText(y, "1\n-1\n0.5\n");
        string o = Path.Combine(_dir, "out.npy");
        return command == "kernel"
            ? ["kernel", "--x", x, .. spec, "--out-ntk", o]
            : ["predict", "--x", x, "--y", y, "--x-test", x, .. spec, "--out", o];
    }

    [Theory]
    [InlineData("kernel")]
    [InlineData("predict")]
    public void Kernel_and_predict_accept_and_reject_the_same_spec_values(string command)
    {
        foreach ((string[] spec, string message) in new (string[], string)[]
        {
            (["--depth", "2", "--activation", "tanh", "--quadrature-degree", "1"], "--quadrature-degree"),
            (["--depth", "2", "--activation", "tanh", "--quadrature-degree", "65"], "--quadrature-degree"),
            (["--depth", "2", "--activation", "relu", "--quadrature-degree", "12"], "closed-form dual kernel"),
            (["--depth", "1000000000", "--activation", "relu"], "--depth"),
            (["--depth", "2", "--activation", "relu", "--beta", "nan"], "--beta"),
            (["--depth", "2", "--activation", "relu", "--weight-std", "inf"], "--weight-std"),
            (["--depth", "2", "--activation", "relu", "--beta", "-1"], "--beta"),
            (["--depth", "2", "--activation", "nosuch"], "--activation"),
        })
        {
            CliResult r = CliRunner.Run(Command(command, spec));
            CliRunner.AssertCleanFailure(r, 2, message);
            Assert.DoesNotContain("(Parameter", r.StdErr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dir, "out.npy")), $"{command} {string.Join(' ', spec)} left an output");
        }
        CliResult ok = CliRunner.Run(Command(command, "--depth", "2", "--activation", "tanh", "--quadrature-degree", "12"));
        Assert.True(ok.ExitCode == 0, ok.StdErr);
    }

    [Fact]
    public void Help_lists_every_activation_of_the_table_and_the_library_defaults()
    {
        CliResult r = CliRunner.Run("kernel", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (NtkFast.Activations.ActivationInfo e in NtkFast.Activations.ActivationRegistry.All)
            Assert.Contains(e.Usage, r.StdOut, StringComparison.Ordinal);
        Assert.Contains($"(default {NtkFast.Kernels.KernelSpec.DefaultBeta})", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("Mehler series", r.StdOut, StringComparison.Ordinal);
    }
}
