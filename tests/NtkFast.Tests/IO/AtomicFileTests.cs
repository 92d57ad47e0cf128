using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-atomic").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly EnumerationOptions s_withHidden = new() { AttributesToSkip = 0 };

    /// <summary>Every file in <paramref name="dir"/>, hidden ones included (temporary names start with a dot, which GetFiles skips by default).</summary>
    internal static string[] All(string dir) => Directory.GetFiles(dir, "*", s_withHidden);

    /// <summary>The temporary files in <paramref name="dir"/> (hidden).</summary>
    internal static string[] Temporaries(string dir) => Directory.GetFiles(dir, "*" + AtomicFile.TemporarySuffix, s_withHidden);

    [Fact]
    public void Writes_and_replaces()
    {
        AtomicFile.Write(P("a.bin"), s => s.Write([1, 2, 3]));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(P("a.bin")));
        AtomicFile.Write(P("a.bin"), s => s.Write([9]));
        Assert.Equal([9], File.ReadAllBytes(P("a.bin")));
        Assert.Single(AtomicFileTests.All(_dir));
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
        Assert.Single(AtomicFileTests.All(_dir));

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(P("new.bin"), _ => throw new InvalidOperationException("boom")));
        Assert.False(File.Exists(P("new.bin")));
        Assert.Single(AtomicFileTests.All(_dir));
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
        Assert.Empty(AtomicFileTests.All(_dir));
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
        Assert.Single(AtomicFileTests.All(_dir));

        using (var outs = new AtomicOutputs())
        {
            outs.Open(P("ntk.npy")).Write([2, 2]);
            outs.Write(P("nngp.npy"), s => s.Write([3, 3]));
            Assert.False(File.Exists(P("nngp.npy")));
            outs.Commit();
        }
        Assert.Equal([2, 2], File.ReadAllBytes(P("ntk.npy")));
        Assert.Equal([3, 3], File.ReadAllBytes(P("nngp.npy")));
        Assert.Equal(2, AtomicFileTests.All(_dir).Length);
    }

    [Fact]
    public void Temporary_names_are_fresh_hidden_short_and_say_so()
    {
        string dest = P("kernel.npy");
        string a = AtomicFile.TempPathFor(dest), b = AtomicFile.TempPathFor(dest);
        Assert.NotEqual(a, b);
        Assert.Equal(_dir, Path.GetDirectoryName(a));
        Assert.True(AtomicFile.IsTemporaryName(Path.GetFileName(a)), a);
        Assert.StartsWith(".kernel.npy.", Path.GetFileName(a), StringComparison.Ordinal);
        Assert.False(AtomicFile.IsTemporaryName("kernel.npy"));
        Assert.False(AtomicFile.IsTemporaryName(".kernel.npy.tmp"));
        // A 250-byte name (valid) gets a temporary name within the 255-byte limit, and the write works.
        string longName = new string('k', 246) + ".npy";
        string t = Path.GetFileName(AtomicFile.TempPathFor(P(longName)));
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(t), 1, AtomicFile.MaxFileNameBytes);
        Assert.True(AtomicFile.IsTemporaryName(t));
        AtomicFile.Write(P(longName), s => s.Write([4]));
        Assert.Equal([4], File.ReadAllBytes(P(longName)));
        // Multi-byte names are cut on a character boundary.
        string wide = string.Concat(Enumerable.Repeat("é", 120)) + ".npy";
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(AtomicFile.TempPathFor(P(wide)))), 1, AtomicFile.MaxFileNameBytes);
        // Too long for any file system: refused before any work, one clear message.
        var e = Assert.Throws<ArgumentException>(() => AtomicFile.CheckDestination(P(new string('x', 256))));
        Assert.Contains("longer than 255 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symbolic_link_at_the_output_is_replaced_never_written_through()
    {
        string victim = P("victim.txt");
        File.WriteAllText(victim, "precious");
        string link = P("out.npy");
        File.CreateSymbolicLink(link, victim);
        AtomicFile.Write(link, s => s.Write([1, 2]));
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Null(new FileInfo(link).LinkTarget);
        Assert.Equal([1, 2], File.ReadAllBytes(link));
        // NpyTileFile.Create never opens an existing name (O_EXCL), a planted link included.
        string planted = P("planted.npy");
        File.CreateSymbolicLink(planted, victim);
        Assert.Throws<IOException>(() => NtkFast.Tiling.NpyTileFile.Create(planted, 2, 2));
        Assert.Equal("precious", File.ReadAllText(victim));
    }

    [Fact]
    public void An_output_that_is_an_input_is_refused()
    {
        string x = P("x.npy");
        File.WriteAllBytes(x, [1]);
        Assert.Throws<ArgumentException>(() => AtomicFile.CheckNotAnInput(x, P("y.npy"), x));
        Assert.Throws<ArgumentException>(() => AtomicFile.CheckNotAnInput(Path.Combine(_dir, ".", "x.npy"), x));
        string link = P("alias.npy");
        File.CreateSymbolicLink(link, x);
        Assert.Throws<ArgumentException>(() => AtomicFile.CheckNotAnInput(link, x));
        AtomicFile.CheckNotAnInput(P("out.npy"), x, null);
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
        Assert.Equal(2, AtomicFileTests.All(_dir).Length);
        AtomicFile.Abandon(refuseNew: false); // what the SIGINT/SIGTERM handler does (AbandonAll also refuses new files: tested on a real process)
        Assert.Equal([Path.Combine(_dir, "old.npy")], AtomicFileTests.All(_dir));
        Assert.Equal([1], File.ReadAllBytes(Path.Combine(_dir, "old.npy")));
        w.Dispose(); // still safe afterwards
    }
}
