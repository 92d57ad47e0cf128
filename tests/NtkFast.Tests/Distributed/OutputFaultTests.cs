using System.Diagnostics;
using NtkFast.Cli;
using NtkFast.IO;
using NtkFast.Tiling;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// Faults on output (issue #18): full and read-only file systems (a 1 MiB tmpfs, mounted when the tests
/// run as root — elsewhere those two tests say so and return), an output that is a directory, in a
/// missing folder or equal to an input, an absurd tile, concurrent runs on one output, and signals.
/// Every failure: exit 1 or 2, one clear line, inputs and earlier outputs unchanged, no temporary file.
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class OutputFaultTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-faults-").FullName;

    public void Dispose()
    {
        foreach (string d in Directory.GetDirectories(_dir)) Unmount(d);
        Directory.Delete(_dir, recursive: true);
    }

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Err) Ntk(params string[] args)
    {
        var err = new StringWriter();
        TextWriter old = Console.Error;
        Console.SetError(err);
        try
        {
            int rc = Program.Main([.. args, "--quiet"]);
            return (rc, err.ToString());
        }
        finally
        {
            Console.SetError(old);
        }
    }

    private static void AssertOneLine(string err)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + err);
        Assert.StartsWith("ntk ", lines[0], StringComparison.Ordinal);
    }

    private void AssertNoTemporaries(string dir) =>
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(dir));

    private static bool Run(string file, params string[] args) => RunWithOutput(file, args).Ok;

    private static (bool Ok, string Output) RunWithOutput(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            using Process p = Process.Start(psi)!;
            string output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
            p.WaitForExit(20_000);
            return (p.HasExited && p.ExitCode == 0, $"exit {(p.HasExited ? p.ExitCode : -1)}: {output}");
        }
        catch (System.ComponentModel.Win32Exception e) { return (false, e.Message); }
    }

    [System.Runtime.InteropServices.DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>A 1 MiB tmpfs at a fresh folder, or null where mounting is not permitted.</summary>
    private string? SmallFileSystem(string name)
    {
        string d = P(name);
        Directory.CreateDirectory(d);
        if (!OperatingSystem.IsLinux() || !Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d))
        {
            log.WriteLine($"not run: mounting a tmpfs is not permitted here ({name})");
            return null;
        }
        return d;
    }

    private static void Unmount(string d) => Run("umount", d);

    private string Points(int n = 300, int d = 4)
    {
        string x = P($"x{n}.npy");
        if (!File.Exists(x)) KernelOutOfCoreTests.WritePoints(x, n, d, 5);
        return x;
    }

    [Fact]
    public void A_full_file_system_fails_up_front_and_leaves_no_file()
    {
        string? fs = SmallFileSystem("full");
        if (fs is null) return;
        string x = Points(); // 300×300 doubles = 720 KB per output: two do not fit in 1 MiB
        string old = Path.Combine(fs, "s.npy");
        File.WriteAllText(old, "older result");
        foreach (string? mode in (string?[])[null, "mmap"])
        {
            Environment.SetEnvironmentVariable("NTKFAST_TILE_WRITE", mode);
            try
            {
                (int code, string err) = Ntk("kernel", "--x", x, "--depth", "2", "--activation", "relu",
                    "--out-ntk", Path.Combine(fs, "t.npy"), "--out-nngp", old, "--tile", "64");
                Assert.Equal(ExitCodes.Failure, code);
                AssertOneLine(err);
                Assert.Contains("space", err, StringComparison.OrdinalIgnoreCase);
            }
            finally
            {
                Environment.SetEnvironmentVariable("NTKFAST_TILE_WRITE", null);
            }
            Assert.False(File.Exists(Path.Combine(fs, "t.npy")));
            Assert.Equal("older result", File.ReadAllText(old));
            AssertNoTemporaries(fs);
        }
        // The buffered writer (init/train/predict, Monte Carlo outputs): ENOSPC while flushing, the
        // temporary file is deleted all the same (Discard no longer re-throws from Dispose).
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(Path.Combine(fs, "big.bin"), s => s.Write(new byte[3 << 20])));
        Assert.False(File.Exists(Path.Combine(fs, "big.bin")));
        AssertNoTemporaries(fs);
        (int c2, string e2) = Ntk("init", "--widths", "2000,300,1", "--activation", "relu", "--seed", "1", "--out", Path.Combine(fs, "net.npz"));
        Assert.Equal(ExitCodes.Failure, c2);
        AssertOneLine(e2);
        AssertNoTemporaries(fs);
        Assert.Equal([old], NtkFast.Tests.IO.AtomicFileTests.All(fs));
    }

    [Fact]
    public void A_read_only_file_system_is_one_clear_line()
    {
        string? fs = SmallFileSystem("ro");
        if (fs is null) return;
        File.WriteAllText(Path.Combine(fs, "t.npy"), "older result");
        if (!Run("mount", "-o", "remount,ro", fs)) { log.WriteLine("not run: remount read-only refused"); return; }
        (int code, string err) = Ntk("kernel", "--x", Points(), "--depth", "2", "--activation", "relu", "--out-ntk", Path.Combine(fs, "t.npy"));
        Assert.Equal(ExitCodes.Failure, code);
        AssertOneLine(err);
        Assert.Equal("older result", File.ReadAllText(Path.Combine(fs, "t.npy")));
    }

    [Fact]
    public void Outputs_that_are_directories_in_missing_folders_or_inputs_are_refused()
    {
        string x = Points(20);
        byte[] before = File.ReadAllBytes(x);
        Directory.CreateDirectory(P("adir"));
        foreach (string[] outArgs in new[]
        {
            new[] { "--out-ntk", P("adir") },
            new[] { "--out-ntk", P("no/such/t.npy") },
            new[] { "--out-ntk", x },
            new[] { "--out-ntk", P("t.npy"), "--out-nngp", x },
        })
        {
            (int code, string err) = Ntk(["kernel", "--x", x, "--depth", "2", "--activation", "relu", .. outArgs]);
            Assert.True(code == ExitCodes.BadInput, $"{string.Join(' ', outArgs)}: exit {code}: {err}");
            AssertOneLine(err);
            Assert.Equal(before, File.ReadAllBytes(x));
            Assert.False(File.Exists(P("t.npy")));
        }
        AssertNoTemporaries(_dir);
    }

    [Fact]
    public void A_tile_too_large_for_one_array_is_a_clear_error()
    {
        (int code, string err) = Ntk("kernel", "--x", Points(20), "--depth", "2", "--activation", "relu",
            "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy"), "--tile", "32768");
        Assert.Equal(ExitCodes.BadInput, code);
        AssertOneLine(err);
        Assert.Contains("--tile", err, StringComparison.Ordinal);
        Assert.DoesNotContain("overflow", err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Concurrent_runs_on_one_output_end_with_one_complete_result()
    {
        // Two sources with different values, many small tiles each, racing to the same two paths.
        var a = new SyntheticKernelSource(96, 96, 4, 1, symmetric: true);
        var b = new SyntheticKernelSource(96, 96, 4, 2, symmetric: true);
        string t = P("race-t.npy"), s = P("race-s.npy");
        for (int round = 0; round < 4; round++)
        {
            Parallel.Invoke(new ParallelOptions { MaxDegreeOfParallelism = 2 },
                () => KernelOutput.Write(a, [t, s], new KernelOutputPlan { TileSize = 8, Threads = 1 }),
                () => KernelOutput.Write(b, [t, s], new KernelOutputPlan { TileSize = 8, Threads = 1 }));
            double[] gotT = Npy.Read(t).Float64!, gotS = Npy.Read(s).Float64!;
            Assert.True(gotT.AsSpan().SequenceEqual(a.Full(0)) || gotT.AsSpan().SequenceEqual(b.Full(0)), "NTK file is a mix of two runs");
            Assert.True(gotS.AsSpan().SequenceEqual(a.Full(1)) || gotS.AsSpan().SequenceEqual(b.Full(1)), "NNGP file is a mix of two runs");
        }
        AssertNoTemporaries(_dir);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    [InlineData("KILL")]
    public void A_signal_during_a_run_leaves_no_output_and_the_next_run_is_not_confused(string signal)
    {
        // Large enough to be interrupted while tiles are being written (seconds), small tiles.
        string x = P("big.npy");
        KernelOutOfCoreTests.WritePoints(x, 3000, 16, 3);
        string t = P("t.npy"), s = P("s.npy");
        File.WriteAllText(s, "older result");
        var psi = NtkProcess.StartInfo(["kernel", "--x", x, "--depth", "10", "--activation", "tanh", "--tile", "256",
            "--out-ntk", t, "--out-nngp", s, "--quiet"], new Dictionary<string, string> { ["NTKFAST_THREADS"] = "1" });
        using Process p = Process.Start(psi)!;
        var clock = Stopwatch.StartNew();
        while (NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir).Length < 2 && !p.HasExited && clock.Elapsed.TotalSeconds < 60)
            Thread.Sleep(20);
        if (p.HasExited) Assert.Fail("the run ended before it could be interrupted: " + p.StandardError.ReadToEnd());
        Thread.Sleep(100);
        log.WriteLine($"temporaries after {clock.Elapsed.TotalSeconds:F2} s: {string.Join(", ", NtkFast.Tests.IO.AtomicFileTests.All(_dir))}");
        Assert.False(p.HasExited, "the run ended before the signal");
        int rc = SendSignal(p.Id, signal switch { "TERM" => 15, "INT" => 2, _ => 9 });
        Assert.True(rc == 0, $"kill({p.Id}, SIG{signal}) = {rc}, errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}, exited {p.HasExited}");
        Assert.True(p.WaitForExit(30_000) || (signal == "INT" && NtkProcess.SigIntIgnored && p.WaitForExit(120_000)), "the process did not stop after SIG" + signal);
        if (signal == "INT" && NtkProcess.SigIntIgnored)
        {
            // Started from a background job (`cmd &`), this test process and its children ignore SIGINT, as POSIX
            // shells arrange; ntk respects an inherited SIG_IGN (so must the run: it completes and publishes).
            Assert.Equal(0, p.ExitCode);
            Assert.Equal([3000, 3000], Npy.Read(t).Shape);
            AssertNoTemporaries(_dir);
            return;
        }
        Assert.NotEqual(0, p.ExitCode);
        Assert.False(File.Exists(t), "no finished-looking output");
        Assert.Equal("older result", File.ReadAllText(s));
        if (signal != "KILL") AssertNoTemporaries(_dir);
        else
        {
            // SIGKILL leaves temporaries, named as such; the next run ignores them and succeeds.
            string[] stale = NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir);
            Assert.All(stale, f => Assert.True(AtomicFile.IsTemporaryName(Path.GetFileName(f))));
            (int code, string err) = Ntk("kernel", "--x", Points(40), "--depth", "2", "--activation", "relu", "--out-ntk", t);
            Assert.True(code == 0, err);
            Assert.Equal([40, 40], Npy.Read(t).Shape);
            Assert.Equal(stale.Order(), NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir).Order());
        }
    }
}
