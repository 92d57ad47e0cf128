using System.IO.Compression;
using System.Text;
using NtkFast.Activations;
using NtkFast.IO;
using NtkFast.Networks;
using Xunit;

namespace NtkFast.Tests.Networks;

public class MlpFileTests
{
    private static (string Header, byte[] Data) RawEntry(byte[] npz, string name)
    {
        using var zip = new ZipArchive(new MemoryStream(npz), ZipArchiveMode.Read);
        var e = zip.GetEntry(name + ".npy") ?? throw new InvalidOperationException($"no entry {name}.npy");
        Assert.True(CompressionMethodStored(e));
        using var s = e.Open();
        var ms = new MemoryStream();
        s.CopyTo(ms);
        byte[] all = ms.ToArray();
        Assert.Equal(0x93, all[0]);
        Assert.Equal("NUMPY", Encoding.ASCII.GetString(all, 1, 5));
        int hlen = all[8] | (all[9] << 8);
        Assert.Equal(0, (10 + hlen) % 64); // numpy aligns the data to 64 bytes
        return (Encoding.ASCII.GetString(all, 10, hlen), all[(10 + hlen)..]);
    }

    private static bool CompressionMethodStored(ZipArchiveEntry e) => e.CompressedLength == e.Length;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Written_file_has_numpys_names_shapes_and_dtypes(bool single)
    {
        var arch = new MlpArchitecture([5, 4, 3, 2], Identity.Instance, beta: 0.25, weightStd: 1.5);
        var ms = new MemoryStream();
        if (single) MlpFile.Write(ms, Mlp<float>.Initialize(arch, 1));
        else MlpFile.Write(ms, Mlp<double>.Initialize(arch, 1));
        byte[] npz = ms.ToArray();
        using (var zip = new ZipArchive(new MemoryStream(npz), ZipArchiveMode.Read))
            Assert.Equal(["W0.npy", "b0.npy", "W1.npy", "b1.npy", "W2.npy", "b2.npy", "beta.npy", "weight_std.npy", "activation.npy"],
                zip.Entries.Select(e => e.FullName).ToArray());
        string f = single ? "'<f4'" : "'<f8'";
        int size = single ? 4 : 8;
        int[][] wShapes = [[4, 5], [3, 4], [2, 3]];
        for (int l = 0; l < 3; l++)
        {
            var (hw, dw) = RawEntry(npz, $"W{l}");
            Assert.StartsWith($"{{'descr': {f}, 'fortran_order': False, 'shape': ({wShapes[l][0]}, {wShapes[l][1]}), }}", hw);
            Assert.Equal(wShapes[l][0] * wShapes[l][1] * size, dw.Length);
            var (hb, db) = RawEntry(npz, $"b{l}");
            Assert.StartsWith($"{{'descr': {f}, 'fortran_order': False, 'shape': ({wShapes[l][0]},), }}", hb);
            Assert.Equal(wShapes[l][0] * size, db.Length);
        }
        var (hBeta, dBeta) = RawEntry(npz, "beta");
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", hBeta);
        Assert.Equal(0.25, BitConverter.ToDouble(dBeta));
        var (hStd, dStd) = RawEntry(npz, "weight_std");
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", hStd);
        Assert.Equal(1.5, BitConverter.ToDouble(dStd));
        var (hAct, dAct) = RawEntry(npz, "activation");
        Assert.StartsWith("{'descr': '<U8', 'fortran_order': False, 'shape': (), }", hAct);
        Assert.Equal("identity", Encoding.UTF32.GetString(dAct));
    }

    [Fact]
    public void Round_trip_is_bit_identical_in_both_precisions()
    {
        var arch = new MlpArchitecture([3, 7, 1], ActivationRegistry.Parse("leaky_relu:0.2"), beta: 0.0, weightStd: 0.7);
        var d = Mlp<double>.Initialize(arch, 99);
        d.Parameters[0] = -0.0; d.Parameters[1] = double.Epsilon; d.Parameters[2] = double.MaxValue; d.Parameters[3] = 1e-310;
        var ms = new MemoryStream();
        MlpFile.Write(ms, d);
        ms.Position = 0;
        MlpFileContents back = MlpFile.Read(ms, "mem.npz");
        Assert.False(back.IsFloat32);
        Assert.Equal(arch.Widths, back.Architecture.Widths);
        Assert.Equal(arch.Activation.Name, back.Architecture.Activation.Name);
        Assert.Equal(arch.Beta, back.Architecture.Beta);
        Assert.Equal(arch.WeightStd, back.Architecture.WeightStd);
        Assert.Equal(d.Parameters.Select(BitConverter.DoubleToInt64Bits), back.ToNetwork<double>().Parameters.Select(BitConverter.DoubleToInt64Bits));

        var f = Mlp<float>.Initialize(arch, 99);
        f.Parameters[0] = -0.0f; f.Parameters[1] = float.Epsilon;
        ms = new MemoryStream();
        MlpFile.Write(ms, f);
        ms.Position = 0;
        back = MlpFile.Read(ms, "mem.npz");
        Assert.True(back.IsFloat32);
        Assert.Equal(f.Parameters.Select(BitConverter.SingleToInt32Bits), back.ToNetwork<float>().Parameters.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(Array.ConvertAll(f.Parameters, v => (double)v), back.ToNetwork<double>().Parameters);
    }

    [Fact]
    public void Writing_to_a_path_is_atomic_and_reads_back()
    {
        string dir = Directory.CreateTempSubdirectory("ntk-net-").FullName;
        try
        {
            var net = Mlp<double>.Initialize(new MlpArchitecture([2, 3, 1], Identity.Instance), 4);
            string path = Path.Combine(dir, "net.npz");
            MlpFile.Write(path, net);
            Assert.Equal(["net.npz"], Directory.GetFiles(dir).Select(p => Path.GetFileName(p)!).ToArray());
            Assert.Equal(net.Parameters, MlpFile.Read<double>(path).Parameters);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hand_built_numpy_npz_with_fortran_order_and_big_endian_arrays_loads(bool deflate)
    {
        // what numpy.savez writes for
        //   np.savez(f, W0=np.asfortranarray(W0), b0=b0.astype('>f8'), W1=W1, b1=b1, beta=np.float64(0.3),
        //            weight_std=np.array(1.2), activation=np.array('identity'))
        double[] w0 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];   // 4×3, C order
        double[] b0 = [0.5, -0.5, 0.25, -0.25];
        double[] w1 = [1, -1, 2, -2, 3, -3, 4, -4];               // 2×4
        double[] b1 = [0.125, -0.125];
        byte[] npz = NpyBytes.Zip(
        [
            ("W0", NpyBytes.Float64(w0, [4, 3], fortran: true)),
            ("b0", NpyBytes.Float64(b0, [4], bigEndian: true)),
            ("W1", NpyBytes.Float64(w1, [2, 4], bigEndian: true, fortran: true)),
            ("b1", NpyBytes.Float64(b1, [2])),
            ("beta", NpyBytes.Scalar(0.3)),
            ("weight_std", NpyBytes.Scalar(1.2)),
            ("activation", NpyBytes.Text("identity")),
        ], deflate);
        MlpFileContents c = MlpFile.Read(new MemoryStream(npz), "hand.npz");
        Assert.Equal([3, 4, 2], c.Architecture.Widths);
        Assert.Equal(0.3, c.Architecture.Beta);
        Assert.Equal(1.2, c.Architecture.WeightStd);
        var net = c.ToNetwork<double>();
        Assert.Equal(w0, net.Weights(0).ToArray());
        Assert.Equal(b0, net.Bias(0).ToArray());
        Assert.Equal(w1, net.Weights(1).ToArray());
        Assert.Equal(b1, net.Bias(1).ToArray());
        double[] x = [0.1, -0.2, 0.3, 1, 2, 3];
        double[] expect = NetTestUtil.ReferenceForward(c.Architecture, net.Parameters, x, 2), got = net.Predict(x);
        for (int i = 0; i < expect.Length; i++) Assert.Equal(expect[i], got[i], 1e-12 * Math.Abs(expect[i]));

        byte[] npz32 = NpyBytes.Zip(
        [
            ("W0", NpyBytes.Float32([1, 2, 3, 4, 5, 6], [2, 3], bigEndian: true)),
            ("b0", NpyBytes.Float32([1, 2], [2])),
            ("beta", NpyBytes.Scalar(0.1)),
            ("weight_std", NpyBytes.Scalar(1)),
            ("activation", NpyBytes.Text("identity")),
        ]);
        var c32 = MlpFile.Read(new MemoryStream(npz32), "hand32.npz");
        Assert.True(c32.IsFloat32);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 1, 2], c32.ToNetwork<float>().Parameters);
    }

    public static IEnumerable<object[]> BadFiles()
    {
        (string, byte[]) W(int l, int r, int c) => ($"W{l}", NpyBytes.Float64(new double[r * c], [r, c]));
        (string, byte[]) B(int l, int r) => ($"b{l}", NpyBytes.Float64(new double[r], [r]));
        (string, byte[])[] tail = [("beta", NpyBytes.Scalar(0.1)), ("weight_std", NpyBytes.Scalar(1)), ("activation", NpyBytes.Text("identity"))];
        object[] Case(string why, string expect, params (string, byte[])[] e) => [why, expect, NpyBytes.Zip(e)];
        yield return Case("missing bias", "missing array 'b1'", [W(0, 3, 2), B(0, 3), W(1, 1, 3), .. tail]);
        yield return Case("missing middle layer", "layer 1 is missing", [W(0, 3, 2), B(0, 3), W(2, 1, 3), B(2, 1), .. tail]);
        yield return Case("bias of a missing layer", "layer 2 is missing", [W(0, 3, 2), B(0, 3), W(1, 1, 3), B(1, 1), B(2, 1), .. tail]);
        yield return Case("inconsistent chain", "inconsistent shapes", [W(0, 3, 2), B(0, 3), W(1, 1, 4), B(1, 1), .. tail]);
        yield return Case("bias length", "inconsistent shapes", [W(0, 3, 2), B(0, 2), .. tail]);
        yield return Case("1-D weight", "expected 2-D", [("W0", NpyBytes.Float64([1, 2], [2])), B(0, 2), .. tail]);
        yield return Case("zero width", "at least 1", [("W0", NpyBytes.Float64([], [0, 2])), ("b0", NpyBytes.Float64([], [0])), .. tail]);
        yield return Case("mixed dtypes", "one dtype", [W(0, 3, 2), ("b0", NpyBytes.Float32([1, 2, 3], [3])), .. tail]);
        yield return Case("NaN weight", "NaN", [("W0", NpyBytes.Float64([1, double.NaN], [1, 2])), B(0, 1), .. tail]);
        yield return Case("unknown array", "unexpected array 'extra'", [W(0, 3, 2), B(0, 3), ("extra", NpyBytes.Scalar(1)), .. tail]);
        yield return Case("no beta", "missing array 'beta'", [W(0, 3, 2), B(0, 3), tail[1], tail[2]]);
        yield return Case("negative beta", "non-negative", [W(0, 3, 2), B(0, 3), ("beta", NpyBytes.Scalar(-1)), tail[1], tail[2]]);
        yield return Case("unknown activation", "activation", [W(0, 3, 2), B(0, 3), tail[0], tail[1], ("activation", NpyBytes.Text("nope"))]);
        yield return Case("activation not text", "0-d unicode", [W(0, 3, 2), B(0, 3), tail[0], tail[1], ("activation", NpyBytes.Scalar(1))]);
        yield return Case("no weights", "missing array 'W0'", [.. tail]);
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_parameter_files_give_one_line_errors_naming_the_file(string why, string expect, byte[] npz)
    {
        var e = Assert.Throws<InvalidDataException>(() => MlpFile.Read(new MemoryStream(npz), "bad.npz"));
        Assert.StartsWith("bad.npz", e.Message);
        Assert.Contains(expect, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Fact]
    public void Numpy_written_incomplete_file_is_rejected()
    {
        string path = Path.Combine(TestPaths.BadInputs, "numpy", "params_stored.npz");
        var e = Assert.Throws<InvalidDataException>(() => MlpFile.Read(path));
        Assert.Contains("missing array", e.Message); // it has W0, beta and activation only
        Assert.StartsWith(path, e.Message);
    }
}
