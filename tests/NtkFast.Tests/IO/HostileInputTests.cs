using System.Diagnostics;
using System.IO.Compression;
using NtkFast.Dynamics;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>
/// Files built to hurt: headers claiming absurd sizes, zip bombs, huge member counts, endless lines,
/// FIFOs and devices. Each must fail with one clear line naming the file, within a few seconds, and
/// without allocating what the file claims (measured with GC.GetAllocatedBytesForCurrentThread on the
/// reading thread).
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-hostile").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private static readonly byte[] GoodW0 = BadInputCorpus.NpyBytes("<f8", "(3, 4)", BadInputCorpus.F8Data(BadInputCorpus.Arange8(12)));

    /// <summary>Runs <paramref name="read"/> on this thread with a generous time limit; returns its exception and the bytes it allocated.</summary>
    private static (Exception? Error, long Allocated) Measure(Action read, int seconds = 20, string what = "the read")
    {
        Exception? error = null;
        long allocated = 0;
        var t = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { read(); }
            catch (Exception e) { error = e; }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true };
        t.Start();
        Assert.True(t.Join(TimeSpan.FromSeconds(seconds)), $"{what} did not finish within {seconds} s");
        return (error, allocated);
    }

    private static string Fails(Action read, string expected, long maxAllocated)
    {
        (Exception? e, long allocated) = Measure(read);
        Assert.NotNull(e);
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("overflow", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(allocated < maxAllocated, $"allocated {allocated} bytes (limit {maxAllocated}) for: {e.Message}");
        return e.Message;
    }

    private const long MB = 1 << 20;

    private static Mlp<double> Net(int[] widths)
    {
        var arch = new MlpArchitecture(widths, NtkFast.Activations.ActivationRegistry.Parse("relu"), 0.1, 1.0);
        return new Mlp<double>(arch, new double[arch.ParameterCount]);
    }

    // ------------------------------------------------------------------ A. sizes

    [Theory]
    [InlineData("(1000000, 1000000)", "has more elements than an array can hold")]
    [InlineData("(2147483647, 2147483647, 2147483647, 2147483647)", "has more elements than an array can hold")]
    [InlineData("(46340, 46340)", "needs 17179164800 bytes, the file has 96")]
    [InlineData("(99999999999,)", "dimension 99999999999 is too large")]
    public void Npy_headers_claiming_huge_sizes_fail_without_allocating(string shape, string expected)
    {
        File.WriteAllBytes(P("x.npy"), BadInputCorpus.NpyBytes("<f8", shape, BadInputCorpus.F8Data(BadInputCorpus.Arange8(12))));
        string m = Fails(() => MatrixFile.Read(P("x.npy"), "--x"), expected, 1 * MB);
        Assert.StartsWith($"--x {P("x.npy")}: ", m, StringComparison.Ordinal);
        Fails(() => Npy.Read(P("x.npy")), expected, 1 * MB);
    }

    [Fact]
    public void Npy_larger_than_the_read_budget_is_refused_before_allocating()
    {
        MatrixFile.Write(P("big.npy"), new Matrix(512, 512)); // 2 MiB of data
        using (ReadLimits.WithBudget(1 * MB))
        {
            // the budget is per async flow: read on this thread
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("big.npy")));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MB / 2);
            Assert.Contains("shape (512, 512) of <f8 needs 2097152 bytes of memory, more than the read budget of 1048576 bytes", e.Message, StringComparison.Ordinal);
        }
        Assert.Equal(512, MatrixFile.Read(P("big.npy")).Rows);
    }

    /// <summary>A real deflate bomb: 64 MiB of zeros in ~64 KiB, as a .npy member of an .npz.</summary>
    private static byte[] Deflate(byte[] data)
    {
        var ms = new MemoryStream();
        using (var d = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true)) d.Write(data);
        return ms.ToArray();
    }

    private static byte[] Inflate(byte[] data)
    {
        var ms = new MemoryStream();
        using (var d = new DeflateStream(new MemoryStream(data), CompressionMode.Decompress)) d.CopyTo(ms);
        return ms.ToArray();
    }

    private static byte[] BombNpy(int doubles)
    {
        byte[] header = BadInputCorpus.NpyBytes("<f8", $"({doubles},)", []);
        var b = new byte[header.Length + 8L * doubles];
        header.CopyTo(b, 0);
        return b;
    }

    [Fact]
    public void Npz_bomb_over_the_budget_is_refused_before_inflating()
    {
        byte[] npy = BombNpy(8 << 20);
        byte[] zip = BadInputCorpus.ZipRaw(("x.npy", Deflate(npy), 8, npy.Length, BadInputCorpus.Crc32(npy)));
        Assert.True(zip.Length < npy.Length / 500);
        File.WriteAllBytes(P("bomb.npz"), zip);
        using (ReadLimits.WithBudget(16 * MB))
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("bomb.npz"), "--x"));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 2 * MB);
            Assert.Contains($"bomb.npz[x]: zip member of {npy.Length} bytes needs {npy.Length} bytes of memory, more than the read budget of {16 * MB} bytes", e.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidDataException>(() => Npz.Read(P("bomb.npz")));
        }
        // within the budget it is a genuine (if large) array of zeros
        Assert.Equal(8 << 20, MatrixFile.Read(P("bomb.npz")).Rows);
    }

    [Fact]
    public void Npz_member_that_inflates_beyond_its_declared_size_is_stopped_at_that_size()
    {
        byte[] payload = new byte[GoodW0.Length + (64 << 20)];
        GoodW0.CopyTo(payload, 0);
        File.WriteAllBytes(P("liar.npz"), BadInputCorpus.ZipRaw(("W0.npy", Deflate(payload), 8, GoodW0.Length, BadInputCorpus.Crc32(GoodW0))));
        Fails(() => Npz.Read(P("liar.npz")), "liar.npz[W0]: zip member inflates to more than the 224 bytes the archive declares", 2 * MB);
        Fails(() => MatrixFile.Read(P("liar.npz")), "inflates to more than the 224 bytes", 2 * MB);
    }

    [Fact]
    public void Npz_declaring_more_than_deflate_can_produce_is_a_bomb()
    {
        File.WriteAllBytes(P("claim.npz"), BadInputCorpus.ZipRaw(BadInputCorpus.Deflated("W0.npy", GoodW0, declared: 3_000_000_000)));
        Fails(() => Npz.Read(P("claim.npz")), "claim.npz[W0]: implausible uncompressed size 3000000000 for 229 compressed bytes", 1 * MB);
    }

    [Fact]
    public void Npz_with_100000_members_reads_only_the_chosen_one()
    {
        var members = new List<BadInputCorpus.RawMember>(100_000) { ("x.npy", GoodW0, 0, GoodW0.Length, BadInputCorpus.Crc32(GoodW0)) };
        for (int i = 1; i < 100_000; i++) members.Add(($"m{i}.npy", [], 0, 0, 0));
        File.WriteAllBytes(P("many.npz"), BadInputCorpus.Zip64Claim(BadInputCorpus.ZipRaw([.. members]), members.Count)); // 16-bit counts need zip64
        Matrix? m = null;
        (Exception? e, long allocated) = Measure(() => m = MatrixFile.Read(P("many.npz") + ":x"));
        Assert.Null(e);
        Assert.Equal(BadInputCorpus.Arange8(12), m!.Data);
        Assert.True(allocated < 64 * MB, $"allocated {allocated}");
        Fails(() => MatrixFile.Read(P("many.npz")), "holds 100000 arrays ('x', 'm1', 'm2',", 64 * MB);
        // one more is over the limit, refused from the end record alone
        File.WriteAllBytes(P("toomany.npz"), BadInputCorpus.Zip64Claim(BadInputCorpus.Zip(("x.npy", GoodW0)), 100_001));
        Fails(() => MatrixFile.Read(P("toomany.npz")), "has 100001 zip members (limit 100000)", 1 * MB);
        Fails(() => Npz.Read(P("toomany.npz")), "has 100001 zip members (limit 100000)", 1 * MB);
    }

    [Fact]
    public void Parameter_file_names_are_checked_before_any_array_is_inflated()
    {
        byte[] junk = BombNpy(4 << 20); // 32 MiB when inflated
        var arrays = MlpFile.ToArrays(Net([2, 3, 1]));
        var raw = new List<BadInputCorpus.RawMember>();
        foreach (var (k, a) in arrays)
        {
            var ms = new MemoryStream();
            Npy.Write(ms, a);
            byte[] b = ms.ToArray();
            raw.Add((k + ".npy", b, 0, b.Length, BadInputCorpus.Crc32(b)));
        }
        raw.Add(("junk.npy", Deflate(junk), 8, junk.Length, BadInputCorpus.Crc32(junk)));
        File.WriteAllBytes(P("net.npz"), BadInputCorpus.ZipRaw([.. raw]));
        Fails(() => MlpFile.Read(P("net.npz")), "unexpected array 'junk'", 2 * MB);
        // Open inflates nothing until asked, then only what is asked for
        using NpzArchive z = Npz.Open(P("net.npz"));
        Assert.Equal(["W0", "b0", "W1", "b1", "beta", "weight_std", "activation", "junk"], z.Names);
        (Exception? e, long allocated) = Measure(() => Assert.Equal(0.1, z["beta"].ToScalar()));
        Assert.Null(e);
        Assert.True(allocated < 1 * MB);
    }

    [Fact]
    public void Idx_headers_claiming_huge_sizes_fail_without_allocating()
    {
        byte[] b = BadInputCorpus.Images(2, 3, 3);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), 60_000_000); // 60M images of 3×3
        File.WriteAllBytes(P("i.idx"), b);
        Fails(() => Idx.ReadImages(P("i.idx")), "truncated IDX file: the header promises 540000000 bytes of images, the file has 18", 1 * MB);
        File.WriteAllBytes(P("i.gz"), BadInputCorpus.Gzip(b));
        Fails(() => Idx.ReadImages(P("i.gz")), "more than the", 1 * MB);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), int.MaxValue);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), int.MaxValue);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(12), int.MaxValue);
        File.WriteAllBytes(P("o.idx"), b);
        Fails(() => Idx.ReadImages(P("o.idx")), "too large", 1 * MB);
    }

    [Fact]
    public void Gzipped_idx_beyond_the_budget_is_refused()
    {
        File.WriteAllBytes(P("i.gz"), BadInputCorpus.Gzip(BadInputCorpus.Images(4, 512, 512))); // 1 MiB of pixels
        using (ReadLimits.WithBudget(512 << 10))
        {
            var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(P("i.gz")));
            Assert.Contains("1048576 bytes of IDX images needs 1048576 bytes of memory, more than the read budget of 524288 bytes", e.Message, StringComparison.Ordinal);
        }
        Assert.Equal(4, Idx.ReadImages(P("i.gz")).Count);
    }

    [Fact]
    public void Csv_with_a_1_GB_line_fails_after_reading_at_most_the_line_limit()
    {
        using (var fs = File.Create(P("line.csv")))
        {
            fs.Write("1,2,3,"u8);
            fs.SetLength(1L << 30); // sparse: a gigabyte without a line break
        }
        Fails(() => MatrixFile.Read(P("line.csv"), "--x"), $"line 1 is longer than {MatrixFile.MaxCsvLineChars} characters", 160 * MB);
    }

    [Fact]
    public void Csv_with_more_values_than_the_budget_is_refused()
    {
        File.WriteAllText(P("many.csv"), string.Concat(Enumerable.Repeat("1,2,3,4\n", 50_000)));
        using (ReadLimits.WithBudget(1 * MB))
        {
            var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("many.csv")));
            Assert.Contains("beyond the read budget of 1048576 bytes", e.Message, StringComparison.Ordinal);
            Assert.Matches(@"line \d+: more than \d+ values", e.Message);
        }
        Assert.Equal(50_000, MatrixFile.Read(P("many.csv")).Rows);
    }

    [Fact]
    public void OneHot_bounds_the_number_of_classes()
    {
        int[] labels = [0, 3, 200_000_000, 1];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ArgumentException>(() => Classification.OneHot(labels));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MB);
        Assert.StartsWith("label 2 is 200000000: one-hot targets support at most 65536 classes (labels 0…65535)", e.Message, StringComparison.Ordinal);
        Assert.Equal(65536, Classification.OneHot([65535]).Cols);
        Assert.Throws<ArgumentException>(() => Classification.OneHot([65536]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Classification.OneHot([1], 65537));
        var big = Assert.Throws<ArgumentException>(() => Classification.OneHot(new int[40_000], 65536));
        Assert.Contains("40000 labels × 65536 classes = 2621440000 one-hot entries, more than one matrix holds", big.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Int64_labels_read_as_exact_integers()
    {
        string p = Path.Combine(TestPaths.BadInputs, "numpy", "int64_labels_5.npy");
        int[] labels = Classification.LabelsFromColumn(MatrixFile.Read(p, "--y"));
        Assert.Equal([0, 1, 2, 3, 4], labels);
        Assert.Equal(5, Classification.OneHot(labels).Cols);
        string z = Path.Combine(TestPaths.BadInputs, "numpy", "data_two_members_compressed.npz");
        Assert.Equal([0, 1, 2], Classification.LabelsFromColumn(MatrixFile.Read(z + ":labels", "--y")));
        // a label too large for an int is an error, not a wrap-around
        File.WriteAllBytes(P("l.npy"), BadInputCorpus.NpyBytes("<i8", "(2,)", BadInputCorpus.IntData([1, 1L << 40], 8, false)));
        Assert.Throws<ArgumentException>(() => Classification.LabelsFromColumn(MatrixFile.Read(P("l.npy"))));
    }

    // ------------------------------------------------------------------ B. integrity

    [Fact]
    public void Crc32_matches_the_standard_check_value_and_the_bitwise_definition()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        var rng = new Random(3);
        for (int n = 0; n < 100; n++)
        {
            byte[] b = new byte[rng.Next(0, 300)];
            rng.NextBytes(b);
            Assert.Equal(BadInputCorpus.Crc32(b), Crc32.Compute(b));
            int cut = rng.Next(b.Length + 1);
            Assert.Equal(Crc32.Compute(b), Crc32.Append(Crc32.Compute(b.AsSpan(0, cut)), b.AsSpan(cut)));
        }
    }

    [Fact]
    public void Every_one_byte_corruption_of_a_stored_member_is_an_error()
    {
        byte[] zip = BadInputCorpus.Zip(("W0.npy", GoodW0));
        int data = 30 + "W0.npy".Length;
        Assert.True(zip.AsSpan(data, GoodW0.Length).SequenceEqual(GoodW0)); // no extra field: the member starts here
        for (int i = 0; i < GoodW0.Length; i++)
        {
            byte[] bad = (byte[])zip.Clone();
            bad[data + i] ^= 0x20;
            var e = Assert.Throws<InvalidDataException>(() => Npz.Read(new MemoryStream(bad), "w.npz"));
            Assert.StartsWith("w.npz", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Corrupt_deflated_members_are_errors()
    {
        byte[] npy = BadInputCorpus.NpyBytes("<f8", "(64, 4)", BadInputCorpus.F8Data(BadInputCorpus.Arange8(256)));
        byte[] deflated = Deflate(npy);
        int flagged = 0;
        for (int i = 0; i < deflated.Length; i++)
        {
            byte[] d = (byte[])deflated.Clone();
            d[i] ^= 0x04;
            byte[] zip = BadInputCorpus.ZipRaw(("W0.npy", d, 8, npy.Length, BadInputCorpus.Crc32(npy)));
            try
            {
                Npz.Read(new MemoryStream(zip), "w.npz");
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("w.npz[W0]: ", e.Message, StringComparison.Ordinal);
                if (e.Message.Contains("CRC-32", StringComparison.Ordinal)) flagged++;
                continue;
            }
            // accepted: only if the flipped bit did not matter (padding after the last block)
            Assert.Equal(npy, Inflate(d));
        }
        Assert.True(flagged > 0, "no corruption reached the CRC check");
    }

    [Fact]
    public void Npz_written_to_a_stream_that_cannot_seek_and_zip64_end_records_read_back()
    {
        var arrays = new List<KeyValuePair<string, NpyArray>> { new("W0", NpyArray.FromFloat64(BadInputCorpus.Arange8(12), 3, 4)) };
        var ms = new MemoryStream();
        Npz.Write(new ForwardOnly(ms), arrays, compress: true); // data descriptors after each member
        Assert.Equal(BadInputCorpus.Arange8(12), Npz.Read(new MemoryStream(ms.ToArray()), "s.npz")["W0"].ToDoubleArray());
        Assert.Equal(BadInputCorpus.Arange8(12), Npz.Read(new ForwardOnly(new MemoryStream(ms.ToArray())), "s.npz")["W0"].ToDoubleArray());
        byte[] z64 = BadInputCorpus.Zip64Claim(BadInputCorpus.Zip(("W0.npy", GoodW0)), 1);
        Assert.Equal(BadInputCorpus.Arange8(12), Npz.Read(new MemoryStream(z64), "z.npz")["W0"].ToDoubleArray());
    }

    private sealed class ForwardOnly(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }

    [Fact]
    public void Fifos_devices_and_directories_give_one_line_never_a_hang()
    {
        if (!OperatingSystem.IsLinux()) return; // mkfifo and /dev/zero are Linux fixtures
        string fifo = P("x.npy");
        using (var mk = Process.Start(new ProcessStartInfo("mkfifo", [fifo]) { UseShellExecute = false })!)
        {
            mk.WaitForExit();
            Assert.Equal(0, mk.ExitCode);
        }
        File.CreateSymbolicLink(P("link.csv"), fifo);
        File.CreateSymbolicLink(P("zero.npy"), "/dev/zero");
        Directory.CreateDirectory(P("dir.npz"));
        var readers = new (string Path, Action Read)[]
        {
            (fifo, () => MatrixFile.Read(fifo, "--x")),
            (fifo, () => Npy.Read(fifo)),
            (fifo, () => Npz.Read(fifo)),
            (fifo, () => Idx.ReadImages(fifo)),
            (fifo, () => MlpFile.Read(fifo)),
            (P("link.csv"), () => MatrixFile.Read(P("link.csv"))),
            (P("zero.npy"), () => MatrixFile.Read(P("zero.npy"))),
            ("/dev/zero", () => Idx.ReadLabels("/dev/zero")),
            ("/dev/null", () => Npz.Read("/dev/null")),
        };
        try
        {
            for (int i = 0; i < readers.Length; i++)
            {
                (string path, Action read) = readers[i];
                (Exception? e, _) = Measure(read, seconds: 10, what: $"reader {i} on {path}");
                Assert.IsType<InvalidDataException>(e);
                Assert.Contains($"{path}: is empty (0 bytes) or not a regular file", e!.Message, StringComparison.Ordinal);
            }
            var d = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("dir.npz"), "--x"));
            Assert.Equal($"--x {P("dir.npz")}: is a directory, expected a file", d.Message);
            Assert.Contains("is a directory", Assert.Throws<InvalidDataException>(() => Npz.Read(P("dir.npz"))).Message, StringComparison.Ordinal);
        }
        finally
        {
            // should a reader have blocked in open(), a writer releases it
            var release = new Thread(() => { try { using var w = new FileStream(fifo, FileMode.Open, FileAccess.Write); } catch (IOException) { } }) { IsBackground = true };
            release.Start();
            release.Join(TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public void Names_from_files_are_escaped_and_cut_in_messages()
    {
        string evil = "relu\u001b[2J\n" + new string('x', 300);
        var arrays = MlpFile.ToArrays(Net([2, 1]));
        arrays[^1] = new("activation", NpyArray.FromText(evil));
        Npz.Write(P("a.npz"), arrays);
        var e = Assert.Throws<InvalidDataException>(() => MlpFile.Read(P("a.npz")));
        Assert.Contains("activation 'relu\\x1B[2J\\x0Axxxx", e.Message, StringComparison.Ordinal);
        Assert.Contains("…' is too long", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Length < P("a.npz").Length + 200, e.Message);

        arrays[^1] = new("activation", NpyArray.FromText("re\u001b[2Jlu"));
        Npz.Write(P("b.npz"), arrays);
        e = Assert.Throws<InvalidDataException>(() => MlpFile.Read(P("b.npz")));
        Assert.Contains("activation: Unknown activation 're\\x1B[2Jlu'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', e.Message);

        arrays[^1] = new("activation", NpyArray.FromText("relu"));
        arrays.Add(new("\u001b]0;pwned\u0007" + new string('y', 200), NpyArray.Scalar(1)));
        Npz.Write(P("c.npz"), arrays);
        e = Assert.Throws<InvalidDataException>(() => MlpFile.Read(P("c.npz")));
        Assert.Contains("unexpected array '\\x1B]0;pwned\\x07yyy", e.Message, StringComparison.Ordinal);
        Assert.Contains("y…'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', e.Message);
    }

    // ------------------------------------------------------------------ C. dtypes and members

    [Fact]
    public void Integer_bool_and_float16_values_convert_exactly()
    {
        void Check(string descr, byte[] data, double[] expected)
        {
            File.WriteAllBytes(P("v.npy"), BadInputCorpus.NpyBytes(descr, $"({expected.Length},)", data));
            Assert.Equal(expected, MatrixFile.Read(P("v.npy")).Data);
        }
        Check("<i8", BadInputCorpus.IntData([-(1L << 53), 1L << 53, 1L << 60, long.MinValue, -1], 8, false), [-(double)(1L << 53), 1L << 53, 1L << 60, -9223372036854775808.0, -1]);
        Check(">u8", BadInputCorpus.IntData([1L << 53, long.MinValue /* 2^63 */, 0], 8, true), [1L << 53, 9223372036854775808.0, 0]);
        Check("|i1", BadInputCorpus.IntData([-128, 127, -1], 1, false), [-128, 127, -1]);
        Check("<u2", BadInputCorpus.IntData([65535, 0], 2, false), [65535, 0]);
        Check(">i4", BadInputCorpus.IntData([int.MinValue, int.MaxValue], 4, true), [int.MinValue, int.MaxValue]);
        Check("|b1", [0, 1, 2, 255], [0, 1, 1, 1]);
        Check("<f2", [0x00, 0x3C, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0xBC], [1, 65504, Math.Pow(2, -24), -1]);
    }

    [Fact]
    public void Inexact_64_bit_integers_name_their_index()
    {
        File.WriteAllBytes(P("v.npy"), BadInputCorpus.NpyBytes("<i8", "(2, 3)", BadInputCorpus.IntData([0, 1, 2, 3, 4, 5], 8, false, at: 4, value: long.MaxValue)));
        var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("v.npy"), "--y"));
        Assert.Equal($"--y {P("v.npy")}: '<i8' value 9223372036854775807 at index (1, 1) cannot be converted exactly to float64 (integers beyond ±2^53 lose digits)", e.Message);
        // the strict readers (parameter files, Npy.Read) still take only float32/float64
        Assert.Contains("unsupported dtype '<i8' (signed integer); expected float32 or float64", Assert.Throws<InvalidDataException>(() => Npy.Read(P("v.npy"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npz_members_by_name()
    {
        string z = Path.Combine(TestPaths.BadInputs, "numpy", "data_two_members_compressed.npz");
        Matrix images = MatrixFile.Read(z + ":images", "--x");
        Assert.Equal((3, 4), (images.Rows, images.Cols));
        Assert.Equal(BadInputCorpus.Arange8(12), images.Data);
        Assert.Equal(images.Data, MatrixFile.Read(z + ":images.npy").Data);
        Assert.Equal([0.0, 1, 2], MatrixFile.Read(z + ":labels").Data);
        var e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(z + ":nope", "--x"));
        Assert.Equal($"--x {z}: has no array 'nope' (has: 'images', 'labels')", e.Message);
        e = Assert.Throws<InvalidDataException>(() => MatrixFile.Read(z, "--x"));
        Assert.Equal($"--x {z}: holds 2 arrays ('images', 'labels'); name the one to read as {z}:NAME", e.Message);
        Assert.Contains("empty array name", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(z + ":")).Message, StringComparison.Ordinal);
        // errors inside a member name it
        File.WriteAllBytes(P("nan.npz"), BadInputCorpus.Zip(("x", BadInputCorpus.NpyBytes("<f8", "(1, 2)", BadInputCorpus.F8Data([1, double.NaN])))));
        Assert.Equal($"{P("nan.npz")}[x]: contains NaN at row 0, column 1 (0-based)", Assert.Throws<InvalidDataException>(() => MatrixFile.Read(P("nan.npz") + ":x")).Message);
        Assert.Contains("file not found", Assert.Throws<FileNotFoundException>(() => MatrixFile.Read(P("missing.npz") + ":x")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Paths_containing_colons_prefer_the_existing_file()
    {
        MatrixFile.Write(P("odd:name.npy"), new Matrix(1, 2, [1, 2]));
        Assert.Equal([1.0, 2], MatrixFile.Read(P("odd:name.npy")).Data);
        // an archive d.npz with member x, and a file literally named "d.npz:x.npy"
        Npz.Write(P("d.npz"), [new("x", NpyArray.FromFloat64([3, 4], 1, 2))]);
        MatrixFile.Write(P("d.npz:x.npy"), new Matrix(1, 2, [5, 6]));
        Assert.Equal([5.0, 6], MatrixFile.Read(P("d.npz:x.npy")).Data);
        Assert.Equal([3.0, 4], MatrixFile.Read(P("d.npz:x")).Data);
        // a colon in a folder name, then a member
        Directory.CreateDirectory(P("a:b"));
        Npz.Write(P("a:b/e.npz"), [new("y", NpyArray.FromFloat64([7, 8], 2, 1))]);
        Assert.Equal([7.0, 8], MatrixFile.Read(P("a:b/e.npz:y")).Data);
        Assert.Equal([7.0, 8], MatrixFile.Read(P("a:b/e.npz")).Data); // its only array
    }
}
