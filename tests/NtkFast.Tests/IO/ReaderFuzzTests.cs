using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

/// <summary>
/// Fuzzing of every reader with a fixed seed and a fixed number of cases (~2 s in all): random bytes and
/// mutated valid files (bit flips, truncations, byte and header edits, splices). Each read must either
/// return a self-consistent result or throw <see cref="InvalidDataException"/> / <see cref="ArgumentException"/>
/// — no other exception type, no hang, and no allocation beyond a small multiple of the input size
/// (a lying header must not be trusted before the data is seen).
/// </summary>
public sealed class ReaderFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-fuzz").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Allocation allowed per read: generous for small inputs, far below what any lying header claims.</summary>
    private const long AllocationLimit = 8 << 20;

    private static IEnumerable<byte[]> Seeds(string kind)
    {
        foreach (CorpusEntry e in BadInputCorpus.Entries())
        {
            if (e.Kind != kind && !(kind == "npy" && e.Kind == "matrix" && e.File.EndsWith(".npy", StringComparison.Ordinal))) continue;
            if (kind == "matrix" && !e.File.EndsWith(".csv", StringComparison.Ordinal)) continue;
            yield return e.Bytes ?? File.ReadAllBytes(Path.Combine(TestPaths.BadInputs, e.File));
        }
    }

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        byte[] b = (byte[])seed.Clone();
        switch (rng.Next(7))
        {
            case 0: // bit flips
                for (int k = rng.Next(1, 9); k > 0 && b.Length > 0; k--) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1: // truncation
                return b[..rng.Next(b.Length + 1)];
            case 2: // random bytes over a header-sized window
                for (int k = rng.Next(1, 5); k > 0 && b.Length > 0; k--) b[rng.Next(Math.Min(b.Length, 160))] = (byte)rng.Next(256);
                return b;
            case 3: // header edit: a digit becomes a long run of nines (lying sizes)
            {
                int limit = Math.Min(b.Length, 160);
                var digits = Enumerable.Range(0, limit).Where(i => b[i] is >= (byte)'0' and <= (byte)'9').ToList();
                if (digits.Count == 0) goto case 0;
                int at = digits[rng.Next(digits.Count)];
                byte[] nines = Enumerable.Repeat((byte)'9', rng.Next(1, 12)).ToArray();
                return [.. b[..at], .. nines, .. b[(at + 1)..]];
            }
            case 4: // big-endian size field set huge (IDX dims, npy/zip lengths)
                if (b.Length >= 8) { int at = rng.Next(b.Length - 3); b[at] = 0x7f; b[at + 1] = 0xff; b[at + 2] = (byte)rng.Next(256); }
                return b;
            case 5: // delete or duplicate a slice
            {
                if (b.Length < 2) return b;
                int s = rng.Next(b.Length), n = rng.Next(1, Math.Min(64, b.Length - s) + 1);
                return rng.Next(2) == 0 ? [.. b[..s], .. b[(s + n)..]] : [.. b[..(s + n)], .. b[s..]];
            }
            default: // pure random bytes, sometimes with a valid magic in front
            {
                byte[] r = new byte[rng.Next(0, 300)];
                rng.NextBytes(r);
                if (r.Length > 8 && rng.Next(2) == 0) seed.AsSpan(0, Math.Min(8, seed.Length)).CopyTo(r);
                return r;
            }
        }
    }

    private static void Check(string what, byte[] input, Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            read();
        }
        catch (InvalidDataException e)
        {
            Assert.False(e.Message.Contains('\n', StringComparison.Ordinal), $"{what}: multi-line message {e.Message}");
        }
        catch (ArgumentException) { }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message} on input {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 64)))}");
        }
        long used = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(used < AllocationLimit + 64L * input.Length, $"{what}: allocated {used} bytes for a {input.Length}-byte input");
    }

    /// <summary>NTKFAST_FUZZ_SCALE=n runs n times as many cases (for a deeper local run; CI uses 1).</summary>
    private static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("NTKFAST_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;

    private static void RunBounded(Action body)
    {
        // A hang fails the test instead of stalling the suite.
        var t = Task.Run(body);
        Assert.True(t.Wait(TimeSpan.FromSeconds(120 * Scale)), "reader fuzzing did not finish (a reader hangs?)");
    }

    [Fact]
    public void Npy_reader_survives_mutations() => RunBounded(() =>
    {
        var rng = new Random(20261129);
        var seeds = Seeds("npy").ToList();
        for (int i = 0; i < 4000 * Scale; i++)
        {
            byte[] input = Mutate(seeds[rng.Next(seeds.Count)], rng);
            Check("npy", input, () =>
            {
                NpyArray a = Npy.Read(new MemoryStream(input, writable: false), "fuzz");
                if (a.IsNumeric) Assert.Equal(a.Count, a.DType == NpyDType.Float64 ? a.Float64!.Length : a.Float32!.Length);
                else Assert.NotNull(a.Text);
            });
        }
    });

    [Fact]
    public void Npz_reader_survives_mutations() => RunBounded(() =>
    {
        var rng = new Random(7);
        var seeds = Seeds("npz").ToList();
        for (int i = 0; i < 1500 * Scale; i++)
        {
            byte[] input = Mutate(seeds[rng.Next(seeds.Count)], rng);
            Check("npz", input, () =>
            {
                foreach (NpyArray a in Npz.Read(new MemoryStream(input, writable: false), "fuzz").Values)
                    if (a.IsNumeric) Assert.Equal(a.Count, a.ToDoubleArray().Length);
            });
        }
    });

    [Fact]
    public void Matrix_and_idx_readers_survive_mutations() => RunBounded(() =>
    {
        var rng = new Random(42);
        var work = new (string Kind, string Ext, List<byte[]> Seeds)[]
        {
            ("matrix", ".csv", Seeds("matrix").ToList()),
            ("matrix", ".npy", Seeds("npy").ToList()),
            ("idx-images", ".gz", Seeds("idx-images").ToList()),
            ("idx-labels", ".idx", Seeds("idx-labels").ToList()),
        };
        string path = Path.Combine(_dir, "f");
        for (int i = 0; i < 1600 * Scale; i++)
        {
            var (kind, ext, seeds) = work[i % work.Length];
            byte[] input = Mutate(seeds[rng.Next(seeds.Count)], rng);
            string p = path + ext;
            File.WriteAllBytes(p, input);
            Check(kind + ext, input, () =>
            {
                switch (kind)
                {
                    case "matrix":
                        var m = MatrixFile.Read(p, "--x");
                        Assert.True(m.Rows > 0 && m.Cols > 0 && m.Data.All(double.IsFinite));
                        break;
                    case "idx-images":
                        var im = Idx.ReadImages(p);
                        Assert.Equal((long)im.Count * im.Rows * im.Cols, im.Pixels.Length);
                        break;
                    default:
                        Assert.NotEmpty(Idx.ReadLabels(p));
                        break;
                }
            });
        }
    });

    [Fact]
    public void Header_parser_survives_random_dicts() => RunBounded(() =>
    {
        // Random text built from the header's own alphabet reaches deep parser states quickly.
        const string alphabet = "{}()[]:,'\" descrfortan_shapeTrueFalse<>|f8U4i-0123456789L\n";
        var rng = new Random(99);
        for (int i = 0; i < 20000 * Scale; i++)
        {
            char[] c = new char[rng.Next(0, 90)];
            for (int k = 0; k < c.Length; k++) c[k] = alphabet[rng.Next(alphabet.Length)];
            string text = rng.Next(3) == 0 ? "{'descr': '<f8', 'fortran_order': False, 'shape': (" + new string(c) : new string(c);
            try
            {
                var h = NpyHeaderParser.Parse(text);
                Assert.All(h.Shape, d => Assert.True(d >= 0));
            }
            catch (InvalidDataException) { }
        }
    });
}
