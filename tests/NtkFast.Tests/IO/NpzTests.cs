using NtkFast.IO;
using Xunit;

namespace NtkFast.Tests.IO;

public sealed class NpzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-npz").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    private static List<KeyValuePair<string, NpyArray>> Net() =>
    [
        new("W0", NpyArray.FromFloat64(BadInputCorpus.Arange8(12), 3, 4)),
        new("b0", NpyArray.FromFloat32([1f, 2f, 3f], 3)),
        new("beta", NpyArray.Scalar(0.1)),
        new("weight_std", NpyArray.Scalar(1.0)),
        new("activation", NpyArray.FromText("leaky_relu:0.2")),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Roundtrip_stored_and_deflated(bool compress)
    {
        Npz.Write(P("net.npz"), Net(), compress);
        var r = Npz.Read(P("net.npz"));
        Assert.Equal(["W0", "b0", "beta", "weight_std", "activation"], r.Keys);
        Assert.Equal(NpyDType.Float64, r["W0"].DType);
        Assert.Equal(BadInputCorpus.Arange8(12), r["W0"].ToDoubleArray());
        Assert.Equal([3, 4], r["W0"].Shape);
        Assert.Equal(NpyDType.Float32, r["b0"].DType);
        Assert.Equal([1f, 2f, 3f], r["b0"].ToSingleArray());
        Assert.Equal(0.1, r["beta"].ToScalar());
        Assert.Empty(r["beta"].Shape);
        Assert.Equal("leaky_relu:0.2", r["activation"].Text);
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Output_is_bitwise_reproducible()
    {
        Npz.Write(P("a.npz"), Net());
        Npz.Write(P("b.npz"), Net());
        Assert.Equal(File.ReadAllBytes(P("a.npz")), File.ReadAllBytes(P("b.npz")));
    }

    [Fact]
    public void Reads_numpy_savez_and_savez_compressed()
    {
        foreach (string f in new[] { "params_stored.npz", "params_deflated.npz" })
        {
            var r = Npz.Read(Path.Combine(TestPaths.BadInputs, "numpy", f));
            Assert.Equal(BadInputCorpus.Arange8(12), r["W0"].ToDoubleArray());
            Assert.Equal(0.1, r["beta"].ToScalar());
            Assert.Equal("relu", r["activation"].Text);
        }
    }

    [Fact]
    public void Bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => Npz.Write(P("x.npz"), [new("a", NpyArray.Scalar(1)), new("a", NpyArray.Scalar(2))]));
        Assert.Throws<ArgumentException>(() => Npz.Write(P("x.npz"), [new("", NpyArray.Scalar(1))]));
        Assert.False(File.Exists(P("x.npz")));
        var arrays = Npz.Read(Path.Combine(TestPaths.BadInputs, "numpy", "params_stored.npz"));
        var e = Assert.Throws<InvalidDataException>(() => Npz.Get(arrays, "W1", "net.npz"));
        Assert.Equal("net.npz: missing array 'W1' (has: W0, beta, activation)", e.Message);
    }
}
