using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>
/// OutputSet, the one bookkeeping of an output transaction that AtomicOutputs and TiledOutputs share: destinations checked once
/// and never twice, owned temporaries published together or deleted, temporaries of another process (rank 0) only forgotten,
/// except when the whole run is abandoned.
/// </summary>
public sealed class OutputSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-outset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Temp(string destination, string content)
    {
        using FileStream fs = AtomicFile.CreateTemp(Path.GetFullPath(destination), out string t);
        fs.Write(System.Text.Encoding.UTF8.GetBytes(content));
        return t;
    }

    [Fact]
    public void Publish_RenamesOwned_ForgetsTracked()
    {
        var set = new OutputSet();
        int a = set.Add(P("a.txt")), b = set.Add(P("b.txt"));
        set.SetTemporary(a, Temp(P("a.txt"), "A"), owned: true);
        string other = Temp(P("b.txt"), "B"); // as if rank 0 created it
        AtomicFile.Untrack(other);
        set.SetTemporary(b, other, owned: false);
        set.Publish();
        Assert.Equal("A", File.ReadAllText(P("a.txt")));
        Assert.False(File.Exists(P("b.txt")));   // not this process's to rename
        Assert.True(File.Exists(other));
        Assert.Throws<InvalidOperationException>(set.Publish);
    }

    [Fact]
    public void Discard_DeletesOwned_KeepsTracked_DeleteAllDeletesBoth()
    {
        var set = new OutputSet();
        int a = set.Add(P("a.txt")), b = set.Add(P("b.txt"));
        string mine = Temp(P("a.txt"), "A"), theirs = Temp(P("b.txt"), "B");
        AtomicFile.Untrack(theirs);
        set.SetTemporary(a, mine, owned: true);
        set.SetTemporary(b, theirs, owned: false);
        set.Discard();
        Assert.False(File.Exists(mine));
        Assert.True(File.Exists(theirs));

        var set2 = new OutputSet();
        int c = set2.Add(P("b.txt"));
        AtomicFile.Untrack(theirs);
        set2.SetTemporary(c, theirs, owned: false);
        set2.DeleteAll();
        Assert.False(File.Exists(theirs));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void SameDestinationTwice_IsOneMessage_InBothFrontEnds()
    {
        var set = new OutputSet();
        set.Add(P("a.npy"));
        var e1 = Assert.Throws<ArgumentException>(() => set.Add(Path.Combine(_dir, ".", "a.npy")));
        using var outs = new AtomicOutputs();
        outs.Open(P("x.npy"));
        var e2 = Assert.Throws<ArgumentException>(() => outs.Open(P("x.npy")));
        var e3 = Assert.Throws<ArgumentException>(() => new NtkFast.Tiling.TiledOutputs(NtkFast.Tiling.Communicator.Single, [P("y.npy"), P("y.npy")], 2, 2));
        foreach (ArgumentException e in (ArgumentException[])[e1, e2, e3]) Assert.Contains("is given twice", e.Message);
        outs.Dispose();
        Assert.Empty(Directory.GetFiles(_dir, "*", SearchOption.AllDirectories));
    }
}
