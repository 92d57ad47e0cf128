using NtkFast.Cli;
using NtkFast.IO;
using NtkFast.Numerics;
using NtkFast.Tiling;
using Xunit;

namespace NtkFast.Tests.Kernels;

/// <summary>Issue 18 item 6: edge-case inputs give finite kernels or one clear error, never a silent NaN/∞ file.</summary>
public sealed class KernelEdgeCaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-edge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(string name, int rows, int cols, params double[] v)
    {
        string p = Path.Combine(_dir, name);
        MatrixFile.Write(p, new Matrix(rows, cols, v));
        return p;
    }

    private static (int Code, string Err) Ntk(params string[] args)
    {
        var err = new StringWriter();
        TextWriter old = Console.Error;
        Console.SetError(err);
        try { return (Program.Main([.. args, "--quiet"]), err.ToString()); }
        finally { Console.SetError(old); }
    }

    private Matrix Kernel(string x, string beta, int depth = 3)
    {
        string o = Path.Combine(_dir, "o.npy");
        File.Delete(o);
        (int code, string err) = Ntk("kernel", "--x", x, "--depth", depth.ToString(System.Globalization.CultureInfo.InvariantCulture), "--activation", "relu", "--beta", beta, "--out-ntk", o);
        Assert.True(code == 0, err);
        return MatrixFile.Read(o);
    }

    [Fact]
    public void One_point_of_one_feature_is_the_closed_form()
    {
        // relu, β = 0: Σ(l+1)(x,x) = Σ(l)/2, Σ̇ = 1/2, so Θ(L) = L·Σ(1)/2^(L−1); Σ(1) = 9.
        Matrix k = Kernel(Save("one.npy", 1, 1, 3.0), "0");
        Assert.Equal(3 * 9.0 / 4, k[0, 0]);
    }

    [Fact]
    public void Subnormal_and_all_zero_inputs_give_finite_kernels()
    {
        foreach ((string name, double v) in new[] { ("sub.npy", double.Epsilon), ("zero.npy", 0.0) })
        {
            Matrix k = Kernel(Save(name, 5, 3, Enumerable.Repeat(v, 15).ToArray()), "0");
            Assert.All(k.Data, e => Assert.Equal(0.0, e)); // σw²·xᵀx'/d underflows to 0: zero variance, no NaN
        }
    }

    [Fact]
    public void Overflowing_inputs_are_one_clear_error_and_no_file()
    {
        string x = Save("huge.npy", 3, 2, 1e308, 1.0, 2.0, -1e308, 1.0, 1.0);
        string o = Path.Combine(_dir, "t.npy");
        (int code, string err) = Ntk("kernel", "--x", x, "--depth", "2", "--activation", "relu", "--out-ntk", o);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("too large", err, StringComparison.Ordinal);
        Assert.False(File.Exists(o));
        Assert.Empty(Directory.GetFiles(_dir, "*.ntk-tmp"));
    }

    [Fact]
    public void Non_finite_scan_finds_every_position()
    {
        foreach (int n in new[] { 1, 7, 255, 256, 257, 1000 })
            for (int at = 0; at < n; at += Math.Max(1, n / 5))
                foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                {
                    var v = new double[n];
                    v[at] = bad;
                    Assert.Equal(at, TiledKernelWriter.IndexOfNonFinite(v));
                }
        Assert.Equal(-1, TiledKernelWriter.IndexOfNonFinite([1e308, -1e308, double.Epsilon, 0.0]));
    }

    [Fact]
    public void Duplicate_rows_at_infinite_time_are_a_clear_error()
    {
        string x = Save("dup.npy", 3, 2, 1.0, 2.0, 1.0, 2.0, 0.5, -1.0);
        string y = Save("y.npy", 3, 1, 1.0, 2.0, 0.0);
        string o = Path.Combine(_dir, "p.npy");
        (int code, string err) = Ntk("predict", "--x", x, "--y", y, "--x-test", x, "--out", o, "--depth", "3", "--activation", "relu");
        Assert.NotEqual(0, code);
        Assert.Contains("singular", err, StringComparison.Ordinal);
        Assert.False(File.Exists(o));
    }

    [Fact]
    public void Native_buffer_is_usable_and_disposable()
    {
        foreach (long n in new long[] { 0, 1, 7, 300_000 })
        {
            using var b = new NtkFast.Memory.NativeBuffer(n);
            Span<double> s = b.Span();
            s.Fill(2.0);
            Assert.Equal(n, s.Length);
            if (n > 0) Assert.Equal(2.0, s[^1]);
        }
    }
}
