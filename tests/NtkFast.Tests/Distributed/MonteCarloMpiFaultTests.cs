using NtkFast.Cli;
using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// <c>ntk empirical --monte-carlo</c> under <c>mpirun</c> when one rank's input is bad (issue #18 item 7): the
/// networks are split among the ranks, so a rank that reads other points, cannot read them or was given a bad
/// option must end the whole job non-zero within the timeout — no rank left waiting in a collective — with no
/// output, no temporary, and an older file at an output path untouched. (Open MPI must be installed: a
/// missing mpirun fails these tests under CI.)
/// </summary>
[Collection(DistributedCollection.Name)]
public sealed class MonteCarloMpiFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-mcmpi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly Dictionary<string, string> OneThread = new() { ["NTKFAST_THREADS"] = "1" };

    [MpiTheory]
    [InlineData("fewer-rows", 1)]
    [InlineData("other-content", 1)]
    [InlineData("other-content", 0)]
    [InlineData("missing", 1)]
    [InlineData("missing", 0)]
    [InlineData("corrupt", 1)]
    [InlineData("bad-option", 1)]
    [InlineData("bad-option", 0)]
    public void A_rank_with_bad_input_stops_the_Monte_Carlo_job_with_no_output(string what, int badRank)
    {
        string x = P("x.npy"), other = P("other.npy");
        KernelOutOfCoreTests.WritePoints(x, 30, 4, 14);
        switch (what)
        {
            case "fewer-rows": KernelOutOfCoreTests.WritePoints(other, 29, 4, 14); break;
            case "other-content": KernelOutOfCoreTests.WritePoints(other, 30, 4, 15); break;
            case "corrupt": File.WriteAllBytes(other, File.ReadAllBytes(x)[..100]); break;
            case "bad-option": other = x; break;
            default: break; // missing
        }
        string o = P("t.npy"), kept = P("s.npy");
        File.WriteAllText(kept, "an older result that must survive");
        string[] Args(string points, bool bad) =>
        [
            "empirical", "--monte-carlo", "4", "--widths", "4,16,1", "--activation", "tanh",
            "--seed", bad && what == "bad-option" ? "abc" : "3", "--x", points,
            "--out-ntk", o, "--out-nngp", kept, "--out-ntk-std", P("ts.npy"), "--quiet",
        ];
        string[] good = Args(x, false), bad = Args(other, true);
        NtkProcess.Result r = NtkProcess.RunMpmd(badRank == 1 ? [good, bad] : [bad, good], OneThread, timeoutSeconds: 60);
        Assert.True(r.ExitCode is 1 or 2, r.ToString());
        if (what is "fewer-rows" or "other-content")
            Assert.Contains("ranks read different inputs", r.StdErr, StringComparison.Ordinal);
        if (what == "bad-option") Assert.Contains("--seed", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(o), "no finished-looking NTK file");
        Assert.False(File.Exists(P("ts.npy")), "no finished-looking NTK std file");
        Assert.Equal("an older result that must survive", File.ReadAllText(kept));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }

    /// <summary>
    /// A rank that fails or dies in the middle of the untiled Monte Carlo run (NTKFAST_FAULT's hook after its first
    /// network: rank 1 has sent it, rank 0 is waiting for the next) ends the job non-zero within the timeout, with
    /// no output and no temporary, and an older file at an output path unchanged.
    /// </summary>
    [MpiTheory]
    [InlineData("throw", 1)]
    [InlineData("kill", 1)]
    [InlineData("throw", 0)]
    [InlineData("kill", 0)]
    public void A_rank_that_fails_or_dies_mid_Monte_Carlo_ends_the_job_with_no_output(string how, int rank)
    {
        string x = P("x.npy"), o = P("t.npy"), kept = P("s.npy");
        KernelOutOfCoreTests.WritePoints(x, 30, 4, 14);
        File.WriteAllText(kept, "an older result that must survive");
        var env = new Dictionary<string, string>(OneThread) { ["NTKFAST_FAULT"] = $"{rank}:{how}" };
        NtkProcess.Result r = NtkProcess.Run(["empirical", "--monte-carlo", "6", "--widths", "4,16,1", "--activation", "tanh",
            "--seed", "3", "--x", x, "--out-ntk", o, "--out-nngp", kept, "--out-ntk-std", P("ts.npy"), "--quiet"], ranks: 2, env, timeoutSeconds: 60);
        Assert.True(r.ExitCode != 0, r.ToString());
        if (how == "throw")
        {
            Assert.Contains($"rank {rank} of 2: injected failure", r.StdErr, StringComparison.Ordinal);
            Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        }
        Assert.False(File.Exists(o), "no finished-looking NTK file");
        Assert.False(File.Exists(P("ts.npy")), "no finished-looking NTK std file");
        Assert.Equal("an older result that must survive", File.ReadAllText(kept));
        Assert.Empty(NtkFast.Tests.IO.AtomicFileTests.Temporaries(_dir));
    }
}
