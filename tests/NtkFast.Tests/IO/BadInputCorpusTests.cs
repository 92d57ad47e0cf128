using NtkFast.IO;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>Every reader on every corpus file: the documented outcome, one-line messages naming the file.</summary>
public class BadInputCorpusTests
{
    private static string Dir => TestPaths.BadInputs;

    public static TheoryData<string> Files()
    {
        var d = new TheoryData<string>();
        foreach (CorpusEntry e in BadInputCorpus.Entries()) d.Add(e.File);
        return d;
    }

    [Fact]
    public void Committed_corpus_matches_the_generator()
    {
        // NTKFAST_WRITE_CORPUS=tests/NtkFast.Tests/BadInputs regenerates the committed files.
        string? target = Environment.GetEnvironmentVariable("NTKFAST_WRITE_CORPUS");
        if (!string.IsNullOrEmpty(target))
        {
            foreach (CorpusEntry e in BadInputCorpus.Entries())
                if (e.Bytes is not null) File.WriteAllBytes(Path.Combine(target, e.File), e.Bytes);
            File.WriteAllText(Path.Combine(target, BadInputCorpus.ManifestName), BadInputCorpus.Manifest());
        }
        Assert.Equal(BadInputCorpus.Manifest(), File.ReadAllText(Path.Combine(Dir, BadInputCorpus.ManifestName)));
        var names = new HashSet<string>();
        foreach (CorpusEntry e in BadInputCorpus.Entries())
        {
            Assert.True(names.Add(e.File), $"duplicate {e.File}");
            string p = Path.Combine(Dir, e.File);
            Assert.True(File.Exists(p), $"missing corpus file {e.File}");
            Assert.True(new FileInfo(p).Length < 4096, $"{e.File} is larger than a few KB");
            if (e.Bytes is not null) Assert.True(e.Bytes.AsSpan().SequenceEqual(File.ReadAllBytes(p)), $"{e.File} differs from the generator (regenerate)");
        }
        // every committed file is in the manifest
        foreach (string f in Directory.EnumerateFiles(Dir, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(Dir, f).Replace('\\', '/');
            Assert.True(rel == BadInputCorpus.ManifestName || names.Contains(rel), $"{rel} is not in the manifest");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Reader_gives_the_documented_outcome(string file)
    {
        CorpusEntry e = BadInputCorpus.ParseManifest(File.ReadAllText(Path.Combine(Dir, BadInputCorpus.ManifestName))).Single(x => x.File == file);
        string path = Path.Combine(Dir, file);
        Action read = e.Kind switch
        {
            "matrix" => () => CheckOk(e, MatrixFile.Read(path)),
            "npz" => () => CheckNpz(e, path, Npz.Read(path)),
            "idx-images" => () => CheckImages(e, Idx.ReadImages(path)),
            "idx-labels" => () => CheckLabels(e, Idx.ReadLabels(path)),
            _ => throw new InvalidOperationException($"unknown kind {e.Kind}"),
        };
        if (e.Outcome is "ok" or "params-error")
        {
            read();
            return;
        }
        Assert.Equal("error", e.Outcome);
        var ex = Assert.Throws<InvalidDataException>(read);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
        Assert.StartsWith(path, ex.Message, StringComparison.Ordinal);
        Assert.True(e.Detail.Split('|').Any(d => ex.Message.Contains(d, StringComparison.Ordinal)),
            $"message '{ex.Message}' lacks '{e.Detail}'");
    }

    private static void CheckOk(CorpusEntry e, Matrix m)
    {
        string[] d = e.Detail.Split(' ');
        Assert.Equal(d[0], $"{m.Rows}x{m.Cols}");
        string values = d.Length > 1 ? d[1] : "eighths";
        for (int i = 0; i < m.Rows; i++)
        {
            for (int j = 0; j < m.Cols; j++)
            {
                int k = i * m.Cols + j;
                double expected = values switch { "int" => k, "bool" => k % 2, "eighths" => k / 8.0, _ => throw new InvalidOperationException(e.Detail) };
                Assert.Equal(expected, m[i, j]);
            }
        }
    }

    private static void CheckNpz(CorpusEntry e, string path, IReadOnlyDictionary<string, NpyArray> arrays)
    {
        if (e.Outcome == "params-error")
        {
            var ex = Assert.Throws<InvalidDataException>(() => Npz.Get(arrays, e.Detail, path));
            Assert.Contains($"missing array '{e.Detail}' (has: ", ex.Message, StringComparison.Ordinal);
            return;
        }
        Assert.Equal(e.Detail, string.Join(",", arrays.Keys));
        Assert.Equal(BadInputCorpus.Arange8(12), arrays["W0"].ToDoubleArray());
        Assert.Equal([3, 4], arrays["W0"].Shape);
    }

    private static void CheckImages(CorpusEntry e, IdxImages im)
    {
        Assert.Equal(e.Detail, $"{im.Count}x{im.Rows}x{im.Cols}");
        for (int k = 0; k < im.Pixels.Length; k++) Assert.Equal(k % 251, im.Pixels[k]);
    }

    private static void CheckLabels(CorpusEntry e, byte[] labels)
    {
        Assert.Equal(e.Detail, labels.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (int i = 0; i < labels.Length; i++) Assert.Equal(i % 10, labels[i]);
    }
}
