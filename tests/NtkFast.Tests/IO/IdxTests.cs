using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

public sealed class IdxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-idx").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string Images => Path.Combine(TestPaths.Mnist10k, "images-idx3-ubyte.gz");
    private static string Labels => Path.Combine(TestPaths.Mnist10k, "labels-idx1-ubyte.gz");

    [Fact]
    public void Reads_the_shared_mnist_subset()
    {
        // Reference figures computed independently with Python's gzip module on the same files.
        (IdxImages im, byte[] labels) = Idx.ReadMnist(Images, Labels);
        Assert.Equal((10000, 28, 28), (im.Count, im.Rows, im.Cols));
        Assert.Equal(32811, Sum(im.Image(0)));
        Assert.Equal(41490, Sum(im.Image(9999)));
        Assert.Equal(262146600L, Sum(im.Pixels));
        Assert.Equal([5, 7, 6, 7, 0, 9, 9, 7, 5, 4, 2, 2, 7, 4, 0, 2, 4, 5, 9, 4], labels[..20]);
        int[] hist = new int[10];
        foreach (byte l in labels) hist[l]++;
        Assert.Equal([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], hist);
    }

    [Fact]
    public void Prefix_read_matches_full_read_and_matrix_is_scaled()
    {
        IdxImages all = Idx.ReadImages(Images);
        IdxImages first = Idx.ReadImages(Images, maxCount: 512);
        Assert.Equal(512, first.Count);
        Assert.Equal(all.Pixels.AsSpan(0, 512 * 784).ToArray(), first.Pixels);
        Assert.Equal(5, Idx.ReadLabels(Labels, maxCount: 5).Length);
        var m = first.ToMatrix();
        Assert.Equal((512, 784), (m.Rows, m.Cols));
        Assert.Equal(first.Pixels[300] / 255.0, m.Data[300]);
        Assert.All(m.Data, v => Assert.InRange(v, 0.0, 1.0));
    }

    [Fact]
    public void Plain_and_gzipped_files_give_the_same_data()
    {
        string plain = Path.Combine(_dir, "labels.idx");
        using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(Labels), System.IO.Compression.CompressionMode.Decompress))
        using (var fs = File.Create(plain))
            gz.CopyTo(fs);
        Assert.Equal(Idx.ReadLabels(Labels), Idx.ReadLabels(plain));
    }

    [Fact]
    public void Truncated_real_file_and_count_mismatch_are_clear_errors()
    {
        byte[] bytes = File.ReadAllBytes(Images);
        string cut = Path.Combine(_dir, "cut.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(cut));
        Assert.StartsWith(cut + ": ", e.Message, StringComparison.Ordinal);
        // a prefix read still notices the file is truncated
        Assert.Throws<InvalidDataException>(() => Idx.ReadImages(cut, maxCount: 10));

        string few = Path.Combine(_dir, "few.idx");
        File.WriteAllBytes(few, BadInputCorpus.Labels(7));
        var m = Assert.Throws<InvalidDataException>(() => Idx.ReadMnist(Images, few));
        Assert.Contains("has 7 labels but", m.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => Idx.ReadImages(Path.Combine(_dir, "none.gz")));
    }

    private static long Sum(ReadOnlySpan<byte> b)
    {
        long s = 0;
        foreach (byte x in b) s += x;
        return s;
    }
}
