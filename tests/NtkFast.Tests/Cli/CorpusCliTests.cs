using NtkFast.Cli;
using NtkFast.IO;
using Xunit;

using NtkFast.Tests.IO;

namespace NtkFast.Tests.Cli;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>
/// Issue 9, item 4: every CLI command on every corpus file. For each command line below whose command
/// is registered in <see cref="Program.Commands"/>, every corpus file of the matching kind is put in the
/// "{f}" slot and <see cref="Program.Main"/> runs in-process (console captured; this collection runs alone):
/// an error file must give exit code 2, exactly one stderr line "ntk &lt;cmd&gt;: …" naming the file, no stack
/// trace, no output file (not even a temporary one) and finish within a minute; an ok data matrix must make
/// <c>kernel</c> succeed. A command that does not exist yet is skipped, so lines here switch on as branches merge.
/// </summary>
[Collection("Console")]
public sealed class CorpusCliTests : IDisposable
{
    private readonly string _in = Directory.CreateTempSubdirectory("ntk-cin").FullName;
    private readonly string _out = Directory.CreateTempSubdirectory("ntk-cout").FullName;

    public void Dispose()
    {
        Directory.Delete(_in, true);
        Directory.Delete(_out, true);
    }

    /// <summary>name → (corpus kind fed into {f}, arguments). {x}: a good 3×4 X; {y}: a good 3×1 Y; {net}: a 4-5-1 network; {o}: the output folder.</summary>
    private static readonly Dictionary<string, (string Kind, string[] Args)> Lines = new()
    {
        ["kernel-x"] = ("matrix", ["kernel", "--x", "{f}", "--depth", "2", "--activation", "identity", "--out-ntk", "{o}/k.npy", "--out-nngp", "{o}/s.npy"]),
        ["kernel-x2"] = ("matrix", ["kernel", "--x", "{x}", "--x2", "{f}", "--depth", "2", "--activation", "identity", "--out-ntk", "{o}/k.npy"]),
        ["predict-x"] = ("matrix", ["predict", "--x", "{f}", "--y", "{y}", "--x-test", "{x}", "--depth", "2", "--activation", "identity", "--out", "{o}/p.npy"]),
        ["predict-y"] = ("matrix", ["predict", "--x", "{x}", "--y", "{f}", "--x-test", "{x}", "--depth", "2", "--activation", "identity", "--out", "{o}/p.npy"]),
        ["predict-xtest"] = ("matrix", ["predict", "--x", "{x}", "--y", "{y}", "--x-test", "{f}", "--depth", "2", "--activation", "identity", "--out", "{o}/p.npy"]),
        ["empirical-x"] = ("matrix", ["empirical", "--params", "{net}", "--x", "{f}", "--out-ntk", "{o}/e.npy"]),
        ["train-x"] = ("matrix", ["train", "--params", "{net}", "--x", "{f}", "--y", "{y}", "--lr", "1", "--steps", "2", "--out", "{o}/t.npz"]),
        ["train-y"] = ("matrix", ["train", "--params", "{net}", "--x", "{x}", "--y", "{f}", "--lr", "1", "--steps", "2", "--out", "{o}/t.npz"]),
        ["train-params"] = ("npz", ["train", "--params", "{f}", "--x", "{x}", "--y", "{y}", "--lr", "1", "--steps", "2", "--out", "{o}/t.npz"]),
        ["empirical-params"] = ("npz", ["empirical", "--params", "{f}", "--x", "{x}", "--out-ntk", "{o}/e.npy"]),
        ["predict-params"] = ("npz", ["predict", "--params", "{f}", "--x", "{x}", "--y", "{y}", "--x-test", "{x}", "--out", "{o}/p.npy"]),
        ["pca-images"] = ("idx-images", ["experiment", "pca", "--quick", "--mnist-images", "{f}", "--mnist-labels", "{labels}", "--out-dir", "{o}/exp"]),
        ["pca-labels"] = ("idx-labels", ["experiment", "pca", "--quick", "--mnist-images", "{images}", "--mnist-labels", "{f}", "--out-dir", "{o}/exp"]),
    };

    public static TheoryData<string> LineNames() => new(Lines.Keys);

    [Theory]
    [MemberData(nameof(LineNames))]
    public void Every_corpus_file_gives_one_clean_line(string line)
    {
        (string kind, string[] template) = Lines[line];
        if (!Array.Exists(Program.Commands, c => c.Name == template[0])) return; // not merged yet
        var slots = new Dictionary<string, string>
        {
            ["{x}"] = Path.Combine(TestPaths.BadInputs, "numpy", "c_f8_3x4.npy"),
            ["{y}"] = Path.Combine(_in, "y.npy"),
            ["{net}"] = Path.Combine(_in, "net.npz"),
            ["{o}"] = _out,
            ["{images}"] = Path.Combine(TestPaths.Mnist10k, "images-idx3-ubyte.gz"),
            ["{labels}"] = Path.Combine(TestPaths.Mnist10k, "labels-idx1-ubyte.gz"),
        };
        MatrixFile.Write(slots["{y}"], new NtkFast.Numerics.Matrix(3, 1, [0.5, -1, 2]));
        if (template.Contains("{net}"))
        {
            if (!Array.Exists(Program.Commands, c => c.Name == "init")) return;
            var init = RunCli(["init", "--widths", "4,5,1", "--activation", "identity", "--seed", "1", "--out", slots["{net}"]]);
            Assert.True(init.Code == 0, $"ntk init failed: {init.Err}");
        }

        var failures = new List<string>();
        foreach (CorpusEntry e in BadInputCorpus.ParseManifest(File.ReadAllText(Path.Combine(TestPaths.BadInputs, BadInputCorpus.ManifestName))))
        {
            if (e.Kind != kind) continue;
            bool shouldFail = e.Outcome != "ok";
            if (!shouldFail && line != "kernel-x") continue; // ok files may legitimately mismatch the other inputs' shapes
            string file = Path.Combine(TestPaths.BadInputs, e.File);
            string[] args = template.Select(a => a == "{f}" ? file : Fill(a, slots)).ToArray();
            (int code, string err) = RunCli(args);
            string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string[] left = Directory.EnumerateFileSystemEntries(_out, "*", SearchOption.AllDirectories).ToArray();
            string what = $"{line} {e.File}: exit {code}, stderr '{err.Trim()}'";
            if (shouldFail)
            {
                if (code != ExitCodes.BadInput) failures.Add($"{what}: expected exit 2");
                else if (lines.Length != 1 || !lines[0].StartsWith($"ntk {template[0]}: ", StringComparison.Ordinal)) failures.Add($"{what}: expected one line 'ntk {template[0]}: …'");
                else if (!lines[0].Contains(Path.GetFileName(e.File), StringComparison.Ordinal)) failures.Add($"{what}: the line does not name the file");
                if (left.Length > 0) failures.Add($"{what}: left output {string.Join(", ", left.Select(Path.GetFileName))}");
            }
            else if (code != 0 || !File.Exists(Path.Combine(_out, "k.npy")))
                failures.Add($"{what}: a good-but-unusual file must load");
            foreach (string f in left)
            {
                if (Directory.Exists(f)) Directory.Delete(f, true);
                else if (File.Exists(f)) File.Delete(f);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static string Fill(string a, Dictionary<string, string> slots)
    {
        foreach (var (k, v) in slots) a = a.Replace(k, v, StringComparison.Ordinal);
        return a;
    }

    private static (int Code, string Err) RunCli(string[] args)
    {
        // CI reruns this corpus on the NativeAOT binary (NTKFAST_TEST_NTK_BINARY, see CliRunner).
        if (CliRunner.Binary is not null)
        {
            try
            {
                CliResult r = CliRunner.Run(args, null, TimeSpan.FromSeconds(60));
                return (r.ExitCode, r.StdErr);
            }
            catch (TimeoutException e) { return (-1, e.Message); }
        }
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var err = new StringWriter();
        try
        {
            Console.SetOut(TextWriter.Null);
            Console.SetError(err);
            var run = Task.Run(() => Program.Main(args));
            if (!run.Wait(TimeSpan.FromSeconds(60))) return (-1, $"did not finish in 60 s (hang?) {err}");
            return (run.Result, err.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
