using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Faults on output (issue #18 item 2) for `train`, `predict` and `empirical` (`kernel`: Distributed/OutputFaultTests):
/// an output in a missing folder, an output that is a folder, an output equal to an input, a read-only and a full
/// file system (a tmpfs, mounted only when the tests run as root — elsewhere those say so and return).
/// Every failure: exit 1 or 2, one line, inputs and a pre-existing output unchanged, no temporary file.
/// </summary>
public sealed class CommandOutputFaultTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-outfaults-").FullName;

    public void Dispose()
    {
        foreach (string d in Directory.GetDirectories(_dir)) Exec("umount", d);
        Directory.Delete(_dir, recursive: true);
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static bool Exec(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            using Process p = Process.Start(psi)!;
            p.StandardError.ReadToEnd();
            p.StandardOutput.ReadToEnd();
            return p.WaitForExit(20_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    private (string X, string Y, string Net) Inputs()
    {
        string x = P("x.csv"), y = P("y.csv"), net = P("net.npz");
        if (!File.Exists(net))
        {
            File.WriteAllText(x, "0.1,0.2,0.3\n-0.4,0.5,0.6\n0.7,-0.8,0.9\n1.0,0.1,-0.2\n");
            File.WriteAllText(y, "1\n-1\n0.5\n2\n");
            CliResult r = CliRunner.Run("init", "--widths", "3,8,1", "--activation", "relu", "--seed", "1", "--out", net, "--quiet");
            Assert.True(r.ExitCode == 0, r.StdErr);
        }
        return (x, y, net);
    }

    /// <summary>The three commands, each writing its main output to <paramref name="output"/> (a .npz for train, .npy otherwise).</summary>
    private IEnumerable<(string Name, string[] Args)> Commands(Func<string, string> output)
    {
        (string x, string y, string net) = Inputs();
        yield return ("train", ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "3", "--out", output(".npz")]);
        yield return ("train --log", ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "3", "--out", P("ok.npz"), "--log", output(".csv")]);
        yield return ("predict", ["predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--out", output(".npy")]);
        yield return ("empirical", ["empirical", "--params", net, "--x", x, "--out-ntk", output(".npy")]);
        yield return ("empirical --monte-carlo", ["empirical", "--monte-carlo", "2", "--widths", "3,8,1", "--activation", "relu", "--seed", "1", "--x", x, "--out-ntk", P("ok.npy"), "--out-nngp", output(".npy")]);
    }

    private Dictionary<string, byte[]> Snapshot() => Directory.GetFiles(_dir).ToDictionary(f => f, File.ReadAllBytes);

    private void AssertFails(string name, string[] args, int code, Dictionary<string, byte[]> before, string? contains = null)
    {
        CliResult r = CliRunner.Run([.. args, "--quiet"]);
        Assert.True(r.ExitCode == code, $"{name}: exit {r.ExitCode}, expected {code}: {r.StdErr}");
        CliRunner.AssertCleanFailure(r, code, contains);
        // Inputs and earlier outputs byte for byte as they were, nothing new (no result, no temporary).
        Dictionary<string, byte[]> after = Snapshot();
        Assert.True(before.Keys.Order().SequenceEqual(after.Keys.Order()), $"{name}: files changed: {string.Join(", ", after.Keys.Except(before.Keys).Select(Path.GetFileName))}");
        foreach (var (f, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[f]), $"{name}: {Path.GetFileName(f)} was modified");
    }

    [Fact]
    public void An_output_in_a_missing_folder_is_refused()
    {
        foreach (var (name, args) in Commands(ext => P("no/such/out" + ext)))
        {
            Dictionary<string, byte[]> before = Snapshot();
            AssertFails(name, args, 2, before, "does not exist");
        }
        Assert.False(Directory.Exists(P("no")));
    }

    [Fact]
    public void An_output_that_is_a_folder_is_refused()
    {
        foreach (string ext in (string[])[".npz", ".csv", ".npy"]) Directory.CreateDirectory(P("adir" + ext));
        foreach (var (name, args) in Commands(ext => P("adir" + ext)))
            AssertFails(name, args, 2, Snapshot());
        foreach (string ext in (string[])[".npz", ".csv", ".npy"]) Assert.Empty(Directory.GetFileSystemEntries(P("adir" + ext)));
    }

    [Fact]
    public void An_output_equal_to_an_input_is_refused_and_the_input_is_intact()
    {
        (string x, string y, string net) = Inputs();
        string xNpy = P("x.npy");
        CliResult k = CliRunner.Run("kernel", "--x", x, "--depth", "1", "--activation", "relu", "--out-nngp", xNpy, "--quiet"); // any 4×4 .npy will do as points
        Assert.True(k.ExitCode == 0, k.StdErr);
        string[][] cases =
        [
            ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "3", "--out", net],
            ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "3", "--out", P("t.npz"), "--log", x],
            ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "3", "--out", P("t.npz"), "--log", y],
            ["predict", "--x", x, "--y", y, "--x-test", x, "--depth", "2", "--activation", "relu", "--out", y],
            ["predict", "--x", xNpy, "--y", y, "--x-test", xNpy, "--depth", "2", "--activation", "relu", "--out", xNpy],
            ["empirical", "--monte-carlo", "2", "--widths", "4,8,1", "--activation", "relu", "--seed", "1", "--x", xNpy, "--out-ntk", xNpy],
            ["empirical", "--monte-carlo", "2", "--widths", "4,8,1", "--activation", "relu", "--seed", "1", "--x", xNpy, "--out-ntk", P("t.npy"), "--out-nngp", xNpy],
        ];
        foreach (string[] args in cases)
            AssertFails(string.Join(' ', args.Take(1)), args, 2, Snapshot(), "is also an input");
    }

    /// <summary>A 1 MiB tmpfs at a fresh folder, or null where mounting is not permitted (not root).</summary>
    private string? SmallFileSystem(string name)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") { log.WriteLine($"not run: needs root to mount a tmpfs ({name})"); return null; }
        string d = P(name);
        Directory.CreateDirectory(d);
        if (!Exec("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d)) { log.WriteLine($"not run: mounting a tmpfs is not permitted here ({name})"); return null; }
        return d;
    }

    [Fact]
    public void A_read_only_file_system_is_one_line_exit_1_and_the_old_output_stays()
    {
        Inputs();
        string? fs = SmallFileSystem("ro");
        if (fs is null) return;
        foreach (string ext in (string[])[".npz", ".csv", ".npy"]) File.WriteAllText(Path.Combine(fs, "old" + ext), "older result");
        Assert.True(Exec("mount", "-o", "remount,ro", fs), "remount read-only");
        foreach (var (name, args) in Commands(ext => Path.Combine(fs, "old" + ext)))
        {
            CliResult r = CliRunner.Run([.. args, "--quiet"]);
            CliRunner.AssertCleanFailure(r, 1);
            foreach (string ext in (string[])[".npz", ".csv", ".npy"]) Assert.Equal("older result", File.ReadAllText(Path.Combine(fs, "old" + ext)));
            Assert.Equal(3, Directory.GetFiles(fs).Length);
            File.Delete(P("ok.npz"));
            File.Delete(P("ok.npy"));
        }
    }

    [Fact]
    public void A_full_file_system_is_one_line_exit_1_and_leaves_no_file()
    {
        Inputs();
        string? fs = SmallFileSystem("full");
        if (fs is null) return;
        // Fill the tmpfs but for a few KiB: every output below is larger than what is left.
        string filler = Path.Combine(fs, "filler");
        File.WriteAllBytes(filler, new byte[(1 << 20) - 8192]);
        while (true)
        {
            try { using var f = new FileStream(filler, FileMode.Append); f.Write(new byte[1024]); }
            catch (IOException) { break; }
        }
        (string x, string y, string net) = Inputs();
        string big = P("big.csv"), bigY = P("bigy.csv");
        File.WriteAllLines(big, Enumerable.Range(0, 200).Select(i => $"{Math.Sin(i)},{Math.Cos(i)},{Math.Sin(2 * i)}"));
        File.WriteAllLines(bigY, Enumerable.Range(0, 200).Select(i => $"{Math.Sin(3 * i)}"));
        string wide = P("wide.npz");
        Assert.True(CliRunner.Run("init", "--widths", "3,200,1", "--activation", "relu", "--seed", "1", "--out", wide, "--quiet").ExitCode == 0);
        string[][] cases =
        [
            ["train", "--params", wide, "--x", x, "--y", y, "--lr", "0.1", "--steps", "2", "--out", Path.Combine(fs, "t.npz")],
            ["predict", "--x", big, "--y", bigY, "--x-test", big, "--depth", "2", "--activation", "relu", "--time", "1", "--out", Path.Combine(fs, "p.npy")],
            ["empirical", "--params", net, "--x", big, "--out-ntk", Path.Combine(fs, "e.npy")],
            ["empirical", "--monte-carlo", "2", "--widths", "3,8,1", "--activation", "relu", "--seed", "1", "--x", big, "--out-ntk", Path.Combine(fs, "m.npy")],
        ];
        foreach (string[] args in cases)
        {
            CliResult r = CliRunner.Run([.. args, "--quiet"]);
            CliRunner.AssertCleanFailure(r, 1);
            Assert.Equal([filler], Directory.GetFiles(fs));
        }
    }
}
