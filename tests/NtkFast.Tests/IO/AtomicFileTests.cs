using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-atomic").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Writes_and_replaces()
    {
        AtomicFile.Write(P("a.bin"), s => s.Write([1, 2, 3]));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(P("a.bin")));
        AtomicFile.Write(P("a.bin"), s => s.Write([9]));
        Assert.Equal([9], File.ReadAllBytes(P("a.bin")));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Failure_leaves_old_content_and_no_temp_file()
    {
        File.WriteAllBytes(P("a.bin"), [7, 7]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(P("a.bin"), s =>
        {
            s.Write(new byte[100_000]);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal([7, 7], File.ReadAllBytes(P("a.bin")));
        Assert.Single(Directory.GetFiles(_dir));

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(P("new.bin"), _ => throw new InvalidOperationException("boom")));
        Assert.False(File.Exists(P("new.bin")));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Writer_without_commit_leaves_nothing()
    {
        using (AtomicFileWriter w = AtomicFile.Create(P("x.bin")))
        {
            w.Stream.Write([1]);
            Assert.True(File.Exists(w.TempPath));
            Assert.Equal(_dir, Path.GetDirectoryName(w.TempPath));
        }
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Missing_folder_and_directory_destination_are_rejected()
    {
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(P("no/such/x.bin"), _ => { }));
        Directory.CreateDirectory(P("d"));
        Assert.Throws<ArgumentException>(() => AtomicFile.Write(P("d"), _ => { }));
    }

    [Fact]
    public void Outputs_commit_all_or_nothing()
    {
        File.WriteAllBytes(P("ntk.npy"), [1]);
        using (var outs = new AtomicOutputs())
        {
            outs.Open(P("ntk.npy")).Write([2, 2]);
            outs.Open(P("nngp.npy")).Write([3, 3]);
            // not committed: e.g. the second kernel failed
        }
        Assert.Equal([1], File.ReadAllBytes(P("ntk.npy")));
        Assert.False(File.Exists(P("nngp.npy")));
        Assert.Single(Directory.GetFiles(_dir));

        using (var outs = new AtomicOutputs())
        {
            outs.Open(P("ntk.npy")).Write([2, 2]);
            outs.Write(P("nngp.npy"), s => s.Write([3, 3]));
            Assert.False(File.Exists(P("nngp.npy")));
            outs.Commit();
        }
        Assert.Equal([2, 2], File.ReadAllBytes(P("ntk.npy")));
        Assert.Equal([3, 3], File.ReadAllBytes(P("nngp.npy")));
        Assert.Equal(2, Directory.GetFiles(_dir).Length);
    }

    [Fact]
    public void Outputs_reject_the_same_path_twice()
    {
        using var outs = new AtomicOutputs();
        outs.Open(P("a.npy"));
        Assert.Throws<ArgumentException>(() => outs.Open(Path.Combine(_dir, ".", "a.npy")));
    }
}

/// <summary>AbandonAll is process-wide: it would delete other tests' temporary files, so it runs alone.</summary>
[Collection("Console")]
public sealed class AtomicAbandonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-abandon").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void AbandonAll_deletes_live_temporary_files_only()
    {
        File.WriteAllBytes(Path.Combine(_dir, "old.npy"), [1]);
        AtomicFileWriter w = AtomicFile.Create(Path.Combine(_dir, "old.npy"));
        w.Stream.Write([2, 2]);
        Assert.Equal(2, Directory.GetFiles(_dir).Length);
        AtomicFile.AbandonAll(); // what the SIGINT/SIGTERM handler does
        Assert.Equal([Path.Combine(_dir, "old.npy")], Directory.GetFiles(_dir));
        Assert.Equal([1], File.ReadAllBytes(Path.Combine(_dir, "old.npy")));
        w.Dispose(); // still safe afterwards
    }
}
