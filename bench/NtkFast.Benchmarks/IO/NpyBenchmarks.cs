using System.Globalization;
using BenchmarkDotNet.Attributes;
using NtkFast.IO;

namespace NtkFast.Benchmarks.IO;

/// <summary>
/// .npy read/write of a data matrix against the obvious baseline (BinaryReader/BinaryWriter, one value
/// at a time). Odd shapes so nothing is a power of two. In-memory streams: this measures the format code,
/// not the disk.
/// </summary>
[MemoryDiagnoser]
public class NpyBenchmarks
{
    [Params(257, 2049)]
    public int Rows { get; set; }

    public const int Cols = 785;

    private double[] _data = [];
    private byte[] _file = [];
    private byte[] _fortran = [];
    private readonly MemoryStream _sink = new();

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _data = new double[Rows * Cols];
        for (int i = 0; i < _data.Length; i++) _data[i] = rng.NextDouble();
        var ms = new MemoryStream();
        Npy.Write(ms, _data, [Rows, Cols]);
        _file = ms.ToArray();
        // same values written column-major, for the Fortran-order conversion cost
        var t = new double[_data.Length];
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++)
                t[j * Rows + i] = _data[i * Cols + j];
        ms = new MemoryStream();
        Npy.Write(ms, t, [Rows, Cols]);
        byte[] f = ms.ToArray();
        string header = System.Text.Encoding.ASCII.GetString(f, 10, 60);
        int at = header.IndexOf("False", StringComparison.Ordinal);
        System.Text.Encoding.ASCII.GetBytes("True ").CopyTo(f, 10 + at); // same header length
        _fortran = f;
    }

    [Benchmark(Baseline = true)]
    public double ReadBaselineBinaryReader()
    {
        using var br = new BinaryReader(new MemoryStream(_file, false));
        br.BaseStream.Position = 128; // header length for these shapes
        var d = new double[Rows * Cols];
        for (int i = 0; i < d.Length; i++) d[i] = br.ReadDouble();
        return d[^1];
    }

    [Benchmark]
    public double Read() => Npy.Read(new MemoryStream(_file, false)).Float64![^1];

    [Benchmark]
    public double ReadFortranOrder() => Npy.Read(new MemoryStream(_fortran, false)).Float64![^1];

    [Benchmark]
    public long WriteBaselineBinaryWriter()
    {
        _sink.SetLength(0);
        using var bw = new BinaryWriter(_sink, System.Text.Encoding.ASCII, leaveOpen: true);
        bw.Write(_file.AsSpan(0, 128));
        foreach (double v in _data) bw.Write(v);
        return _sink.Length;
    }

    [Benchmark]
    public long Write()
    {
        _sink.SetLength(0);
        Npy.Write(_sink, _data, [Rows, Cols]);
        return _sink.Length;
    }
}

/// <summary>CSV matrix parsing against the naive File.ReadAllLines + string.Split + double.Parse.</summary>
[MemoryDiagnoser]
public class CsvBenchmarks
{
    [Params(257)]
    public int Rows { get; set; }

    public const int Cols = 785;

    private string _path = "";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        var m = new NtkFast.Numerics.Matrix(Rows, Cols);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = rng.NextDouble();
        _path = Path.Combine(Path.GetTempPath(), $"ntk-bench-{Environment.ProcessId}.csv");
        MatrixFile.Write(_path, m);
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(Baseline = true)]
    public double ReadBaselineSplit()
    {
        string[] lines = File.ReadAllLines(_path);
        var d = new double[lines.Length * Cols];
        int k = 0;
        foreach (string line in lines)
            foreach (string f in line.Split(','))
                d[k++] = double.Parse(f, CultureInfo.InvariantCulture);
        return d[^1];
    }

    [Benchmark]
    public double Read() => MatrixFile.Read(_path).Data[^1];
}
