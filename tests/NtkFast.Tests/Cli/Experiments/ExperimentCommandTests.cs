using System.IO.Compression;
using NtkFast.Cli;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli.Experiments;

[CollectionDefinition("ExperimentsCli", DisableParallelization = true)]
public sealed class ExperimentsCliCollection;

/// <summary>`ntk experiment` through Program.Main: the happy path, and bad data or usage → one line, exit 2, no files.</summary>
[Collection("ExperimentsCli")]
public sealed class ExperimentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-exp-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        TextWriter savedErr = Console.Error, savedOut = Console.Out;
        var err = new StringWriter();
        var output = new StringWriter();
        try
        {
            Console.SetError(err);
            Console.SetOut(output);
            int code = Program.Main(args);
            return (code, output.ToString(), err.ToString());
        }
        finally
        {
            Console.SetError(savedErr);
            Console.SetOut(savedOut);
        }
    }

    private static string Images => Path.Combine(TestPaths.Mnist10k, "images-idx3-ubyte.gz");
    private static string Labels => Path.Combine(TestPaths.Mnist10k, "labels-idx1-ubyte.gz");

    private void AssertNoOutput(string dir) =>
        Assert.True(!Directory.Exists(dir) || Directory.GetFiles(dir).Length == 0, $"files left in {dir}: {string.Join(", ", Directory.Exists(dir) ? Directory.GetFiles(dir) : [])}");

    private void AssertBadInput((int Code, string Out, string Err) r, string expected, string outDir)
    {
        Assert.True(r.Code == ExitCodes.BadInput, $"exit {r.Code}: {r.Err}");
        Assert.Contains(expected, r.Err, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("ntk experiment:", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));   // one line, no stack trace
        AssertNoOutput(outDir);
    }

    [Fact]
    public void Convergence_quick_writes_figure_data_and_summary()
    {
        var (code, output, err) = Run("experiment", "convergence", "--quick", "--quiet", "--seed", "3", "--out-dir", P("conv"));
        Assert.True(code == 0, err);
        foreach (string f in new[] { "convergence.png", "convergence_ntk.csv", "convergence_norms.csv", "summary.txt" })
            Assert.True(File.Exists(Path.Combine(P("conv"), f)), f);
        string summary = File.ReadAllText(Path.Combine(P("conv"), "summary.txt"));
        Assert.Contains("reductions against the paper", summary);
        Assert.Contains("‖Θ̂₀−Θ‖_op", summary);
        Assert.Equal(summary.ReplaceLineEndings(), output.ReplaceLineEndings());   // the summary is also printed
        Assert.Empty(Directory.GetFiles(P("conv"), "*.tmp*"));
    }

    [Fact]
    public void Missing_mnist_path_is_a_clear_error()
    {
        string outDir = P("pca1");
        AssertBadInput(Run("experiment", "pca", "--quick", "--out-dir", outDir, "--mnist-images", P("nope.gz"), "--mnist-labels", Labels),
            "not found", outDir);
        AssertBadInput(Run("experiment", "pca", "--quick", "--out-dir", outDir, "--mnist-images", Images, "--mnist-labels", P("nope.gz")),
            "not found", outDir);
        AssertBadInput(Run("experiment", "pca", "--quick", "--out-dir", outDir, "--mnist-images", Images),
            "--mnist-labels", outDir);
    }

    [Fact]
    public void Truncated_gzipped_idx_is_a_clear_error()
    {
        // The real images file, decompressed, cut in the middle of the pixel data, recompressed.
        using var src = new GZipStream(File.OpenRead(Images), CompressionMode.Decompress);
        var raw = new MemoryStream();
        src.CopyTo(raw);
        using (var dst = new GZipStream(File.Create(P("cut.gz")), CompressionLevel.Fastest))
            dst.Write(raw.GetBuffer(), 0, 16 + 200 * 784 + 100);
        string outDir = P("pca2");
        var r = Run("experiment", "pca", "--quick", "--out-dir", outDir, "--mnist-images", P("cut.gz"), "--mnist-labels", Labels);
        Assert.Equal(ExitCodes.BadInput, r.Code);
        Assert.Contains("cut.gz", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(outDir, "summary.txt")));
        Assert.Empty(Directory.Exists(outDir) ? Directory.GetFiles(outDir, "*.png") : []);
    }

    [Theory]
    [InlineData("idx_images_bad_magic.idx")]
    [InlineData("idx_images_truncated.idx")]
    [InlineData("idx_images_gzip_cut.gz")]
    [InlineData("idx_labels_wrong_magic.idx")]
    public void Corrupt_idx_files_are_clear_errors(string file)
    {
        string bad = Path.Combine(TestPaths.BadInputs, file);
        bool labels = file.StartsWith("idx_labels", StringComparison.Ordinal);
        string outDir = P("pca-" + file);
        var r = Run("experiment", "pca", "--quick", "--out-dir", outDir,
            "--mnist-images", labels ? Images : bad, "--mnist-labels", labels ? bad : Labels);
        Assert.True(r.Code == ExitCodes.BadInput, $"exit {r.Code}: {r.Err}");
        Assert.Contains(file, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(outDir, "summary.txt")));
    }

    [Theory]
    [InlineData("unknown experiment", "experiment", "figure9")]
    [InlineData("missing experiment NAME", "experiment")]
    [InlineData("exclude each other", "experiment", "convergence", "--quick", "--paper")]
    [InlineData("unknown option --mnist-images", "experiment", "convergence", "--quick", "--mnist-images", "x.gz")]
    [InlineData("--seed", "experiment", "convergence", "--seed", "-1")]
    public void Bad_usage_is_exit_2(string expected, params string[] args)
    {
        string outDir = P("usage");
        AssertBadInput(Run([.. args, "--out-dir", outDir]), expected, outDir);
    }

    [Fact]
    public void Help_lists_the_three_experiments()
    {
        var (code, output, _) = Run("experiment", "--help");
        Assert.Equal(0, code);
        foreach (string name in new[] { "convergence", "regression", "pca", "--quick", "--paper", "--mnist-images" })
            Assert.Contains(name, output);
    }
}
