using System.IO.MemoryMappedFiles;
using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>
/// Issue #18 item 1: temporaries left by killed runs are deleted by the next run that prepares the same output,
/// only when no live process holds them (flock), they are old enough, regular files and not symbolic links.
/// </summary>
public sealed class StaleTemporariesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-stale").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly DateTime LongAgo = DateTime.UtcNow.AddHours(-2);

    /// <summary>A file named as a temporary of <paramref name="destination"/> would be, with an old mtime and nobody holding it.</summary>
    private string PlantStale(string destination, string token = "0123abcd", int bytes = 100)
    {
        string path = P($".{destination}.{token}{AtomicFile.TemporarySuffix}");
        File.WriteAllBytes(path, new byte[bytes]);
        File.SetLastWriteTimeUtc(path, LongAgo);
        return path;
    }

    [Fact]
    public void A_stale_temporary_of_the_same_output_is_deleted_by_the_next_run_others_are_kept()
    {
        if (!OperatingSystem.IsLinux()) return;
        string stale = PlantStale("k.npy");
        string stale2 = PlantStale("k.npy", "ffff0000", 0); // killed right after creating it: empty
        string otherOutput = PlantStale("other.npy");
        string notOurs = P(".k.npy.0123ABCD.ntk-tmp"); // not a name we make (upper-case hex)
        File.WriteAllBytes(notOurs, [1]);
        File.SetLastWriteTimeUtc(notOurs, LongAgo);
        string longer = PlantStale("k.npy", "0123abcd0");
        string dirNamed = P(".k.npy.00000000.ntk-tmp");
        Directory.CreateDirectory(dirNamed);

        AtomicFile.Write(P("k.npy"), s => s.Write([1, 2, 3]));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(P("k.npy")));
        Assert.False(File.Exists(stale), "the stale temporary is still there");
        Assert.False(File.Exists(stale2), "the empty stale temporary is still there");
        Assert.True(File.Exists(otherOutput), "another output's temporary was deleted");
        Assert.True(File.Exists(notOurs));
        Assert.True(File.Exists(longer));
        Assert.True(Directory.Exists(dirNamed), "a directory was deleted");
    }

    [Fact]
    public void A_young_temporary_is_kept_unless_the_minimum_age_is_zero()
    {
        if (!OperatingSystem.IsLinux()) return;
        string young = P($".k.npy.12345678{AtomicFile.TemporarySuffix}");
        File.WriteAllBytes(young, [5]);
        Assert.Equal(60, StaleTemporaries.MinimumAge.TotalSeconds);
        Assert.Equal(0, StaleTemporaries.Clean(P("k.npy")));
        Assert.True(File.Exists(young));
        using (StaleTemporaries.WithMinimumAge(TimeSpan.Zero))
            Assert.Equal(1, StaleTemporaries.Clean(P("k.npy")));
        Assert.False(File.Exists(young));
    }

    [Fact]
    public void Temporaries_held_open_by_a_live_stream_are_kept()
    {
        if (!OperatingSystem.IsLinux()) return;
        using IDisposable age = StaleTemporaries.WithMinimumAge(TimeSpan.Zero);
        string exclusive = PlantStale("k.npy", "aaaaaaaa");
        string shared = PlantStale("k.npy", "bbbbbbbb", 4096);
        string readOnly = PlantStale("k.npy", "cccccccc");
        // as AtomicFileWriter's stream (FileShare.None: LOCK_EX), a tile file (ReadWrite, mapped: LOCK_SH), a reader
        using (var a = new FileStream(exclusive, FileMode.Open, FileAccess.Write, FileShare.None))
        using (var b = new FileStream(shared, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1))
        using (MemoryMappedFile map = MemoryMappedFile.CreateFromFile(b, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true))
        using (var c = new FileStream(readOnly, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            using (MemoryMappedViewAccessor v = map.CreateViewAccessor(0, 8)) v.Write(0, 1.5);
            File.SetLastWriteTimeUtc(shared, LongAgo);
            Assert.Equal(0, StaleTemporaries.Clean(P("k.npy")));
            Assert.True(File.Exists(exclusive) && File.Exists(shared) && File.Exists(readOnly), "a held temporary was deleted");
        }
        // once closed they are stale
        Assert.Equal(3, StaleTemporaries.Clean(P("k.npy")));
        Assert.Empty(AtomicFileTests.Temporaries(_dir));
    }

    [Fact]
    public void A_live_temporary_whose_stream_is_closed_is_still_held_until_published_or_deleted()
    {
        if (!OperatingSystem.IsLinux()) return;
        using IDisposable age = StaleTemporaries.WithMinimumAge(TimeSpan.Zero);
        string dest = AtomicFile.CheckDestination(P("side.csv"));
        // as TiledOutputs' side files and sealed AtomicOutputs members: written, closed, renamed much later
        string temp, temp2;
        using (FileStream fs = AtomicFile.CreateTemp(dest, out temp)) fs.Write([1, 2]);
        using (FileStream fs = AtomicFile.CreateTemp(dest, out temp2)) fs.Write([3, 4]); // the second run's cleaner meets the first
        File.SetLastWriteTimeUtc(temp, LongAgo);
        Assert.Equal(0, StaleTemporaries.Clean(dest));
        Assert.True(File.Exists(temp), "a live temporary (stream closed, not yet renamed) was deleted");
        Assert.True(File.Exists(temp2));
        AtomicFile.Publish(temp, dest);
        Assert.Equal([1, 2], File.ReadAllBytes(dest));
        using (new FileStream(dest, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { } // the hold was released (else: sharing violation)
        AtomicFile.Delete(temp2);
        Assert.Single(AtomicFileTests.All(_dir));
    }

    [Fact]
    public void A_symbolic_link_with_a_temporary_name_is_neither_followed_nor_deleted()
    {
        if (!OperatingSystem.IsLinux()) return;
        using IDisposable age = StaleTemporaries.WithMinimumAge(TimeSpan.Zero);
        string target = P("precious.npy");
        File.WriteAllBytes(target, [4, 2]);
        File.SetLastWriteTimeUtc(target, LongAgo);
        string link = P($".k.npy.deadbeef{AtomicFile.TemporarySuffix}");
        File.CreateSymbolicLink(link, target);
        string dangling = P($".k.npy.beefdead{AtomicFile.TemporarySuffix}");
        File.CreateSymbolicLink(dangling, P("nowhere"));

        Assert.Equal(0, StaleTemporaries.Clean(P("k.npy")));
        Assert.Equal([4, 2], File.ReadAllBytes(target));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.NotNull(new FileInfo(dangling).LinkTarget);
    }

    [Fact]
    public void The_keep_variable_turns_the_cleaner_off()
    {
        if (!OperatingSystem.IsLinux()) return;
        using IDisposable age = StaleTemporaries.WithMinimumAge(TimeSpan.Zero);
        string stale = PlantStale("k.npy");
        Environment.SetEnvironmentVariable(StaleTemporaries.KeepVariable, "1");
        try { Assert.Equal(0, StaleTemporaries.Clean(P("k.npy"))); }
        finally { Environment.SetEnvironmentVariable(StaleTemporaries.KeepVariable, null); }
        Assert.True(File.Exists(stale));
    }
}
