using System.Diagnostics;
using NtkFast.IO;
using NtkFast.Tests.Distributed;
using Xunit;

namespace NtkFast.Tests.Cli;

/// <summary>
/// Issue #18 item 1, through the real `ntk`: a run paused with its complete temporaries closed and not yet renamed
/// (NTKFAST_FAULT=publish:pause; the streams are closed then, so only the run's own flock protects them), and made
/// to look old (mtime two hours ago), is not disturbed by a second run on the same outputs; once it is SIGKILLed,
/// the next run deletes its temporaries. Also: a planted stale temporary (unlocked, old) is deleted by the next run,
/// one held open by another process is kept.
/// </summary>
public sealed class StaleTemporaryCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-stale-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly Dictionary<string, string> OneThread = new() { ["NTKFAST_THREADS"] = "1" };

    private static void Age(IEnumerable<string> files)
    {
        foreach (string f in files) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddHours(-2));
    }

    [Theory]
    [InlineData("kernel")] // TiledOutputs: tile files closed before the collective rename
    [InlineData("train")]  // AtomicOutputs: --out and --log sealed (closed), then renamed
    public void A_paused_runs_temporaries_survive_other_runs_and_are_cleaned_after_it_is_killed(string command)
    {
        if (OperatingSystem.IsLinux()) PauseRaceAndKill(command);
    }

    private void PauseRaceAndKill(string command)
    {
        string x = P("x.npy"), y = P("y.npy"), net = P("net.npz");
        KernelOutOfCoreTests.WritePoints(x, 40, 3, 7);
        string[] args;
        string[] outputs;
        if (command == "kernel")
        {
            args = ["kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", P("t.npy"), "--out-nngp", P("s.npy"), "--quiet"];
            outputs = [P("t.npy"), P("s.npy")];
        }
        else
        {
            KernelOutOfCoreTests.WritePoints(y, 40, 1, 8);
            NtkProcess.Result init = NtkProcess.Run(["init", "--widths", "3,16,1", "--activation", "tanh", "--seed", "1", "--out", net]);
            Assert.True(init.ExitCode == 0, init.ToString());
            args = ["train", "--params", net, "--x", x, "--y", y, "--lr", "0.1", "--steps", "2", "--out", P("trained.npz"), "--log", P("loss.csv"), "--quiet"];
            outputs = [P("trained.npz"), P("loss.csv")];
        }

        var env = new Dictionary<string, string>(OneThread) { ["NTKFAST_FAULT"] = "publish:pause" };
        using Process paused = Process.Start(NtkProcess.StartInfo(args, env))!;
        try
        {
            Task<string> stdout = paused.StandardOutput.ReadToEndAsync();
            Task<string?> marker = Task.Run(() =>
            {
                string? line;
                while ((line = paused.StandardError.ReadLine()) is not null && !line.StartsWith(NtkFast.Distributed.FaultInjection.PauseMarker, StringComparison.Ordinal)) { }
                return line;
            });
            Assert.True(marker.Wait(TimeSpan.FromSeconds(60)), "the run did not reach the pause within 60 s");
            Assert.NotNull(marker.Result);
            _ = paused.StandardError.ReadToEndAsync();

            string[] live = IO.AtomicFileTests.Temporaries(_dir);
            Assert.Equal(outputs.Length, live.Length);
            Age(live);
            var liveBytes = live.ToDictionary(f => f, File.ReadAllBytes);

            // A second run on the same outputs while the first is alive: it must leave the first run's temporaries.
            NtkProcess.Result second = NtkProcess.Run(args, env: OneThread);
            Assert.True(second.ExitCode == 0, second.ToString());
            foreach ((string f, byte[] b) in liveBytes)
                Assert.True(File.Exists(f) && b.AsSpan().SequenceEqual(File.ReadAllBytes(f)), "a live run's temporary was deleted or changed: " + f);
            var firstResult = outputs.ToDictionary(o => o, File.ReadAllBytes);

            // Killed: its temporaries are stale now (old, nobody holds them); the next run deletes them.
            paused.Kill();
            Assert.True(paused.WaitForExit(30_000));
            _ = stdout.Result;
            Assert.Equal(live.Order(), IO.AtomicFileTests.Temporaries(_dir).Order());
            NtkProcess.Result third = NtkProcess.Run(args, env: OneThread);
            Assert.True(third.ExitCode == 0, third.ToString());
            Assert.Empty(IO.AtomicFileTests.Temporaries(_dir));
            if (command == "kernel") // train's .npz is byte-reproducible too, but the point here is the folder
                foreach (string o in outputs) Assert.True(firstResult[o].AsSpan().SequenceEqual(File.ReadAllBytes(o)), o);
        }
        finally
        {
            if (!paused.HasExited) paused.Kill();
        }
    }

    [Fact]
    public void A_planted_stale_temporary_is_deleted_and_one_held_by_another_process_is_kept()
    {
        if (!OperatingSystem.IsLinux()) return;
        string x = P("x.npy");
        KernelOutOfCoreTests.WritePoints(x, 10, 2, 3);
        string stale = P($".t.npy.0badf00d{AtomicFile.TemporarySuffix}");
        string held = P($".t.npy.00c0ffee{AtomicFile.TemporarySuffix}");
        File.WriteAllBytes(stale, new byte[64]);
        File.WriteAllBytes(held, new byte[64]);
        Age([stale, held]);
        // another process holding it the way ntk's writers do (this test process: a different open file than ntk's)
        using (var hold = new FileStream(held, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            NtkProcess.Result r = NtkProcess.Run(["kernel", "--x", x, "--depth", "2", "--activation", "erf", "--out-ntk", P("t.npy"), "--quiet"], env: OneThread);
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        Assert.True(File.Exists(P("t.npy")));
        Assert.False(File.Exists(stale), "the stale temporary was not cleaned up");
        Assert.True(File.Exists(held), "a temporary held by a live process was deleted");
    }
}
