using System.Numerics;
using BenchmarkDotNet.Attributes;
using NtkFast.Numerics;

namespace NtkFast.Benchmarks.Numerics;

/// <summary>Element-wise driver vs the scalar loop at an odd size (6·512+7, so the tail is always measured).</summary>
[MemoryDiagnoser]
[GenericTypeArguments(typeof(float))]
[GenericTypeArguments(typeof(double))]
public class ElementwiseBenchmarks<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _x = [], _y = [], _z = [], _w = [];

    [Params(6 * 512 + 7)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(4);
        _x = new T[Length];
        _y = new T[Length];
        _z = new T[Length];
        _w = new T[Length];
        for (int i = 0; i < Length; i++)
        {
            _x[i] = T.CreateTruncating(rng.NextDouble() - 0.5);
            _y[i] = T.CreateTruncating(rng.NextDouble() - 0.5);
            _z[i] = T.CreateTruncating(rng.NextDouble() - 0.5);
        }
    }

    [Benchmark(Baseline = true)]
    public void ReluScalarLoop()
    {
        T[] x = _x, w = _w;
        for (int i = 0; i < x.Length; i++) w[i] = T.Max(x[i], T.Zero);
    }

    [Benchmark]
    public void ReluDriver() => ElementwiseDriver.Map<ReluOperator<T>, T>(_x, _w);

    [Benchmark]
    public void MultiplyAddScalarLoop()
    {
        T[] x = _x, y = _y, z = _z, w = _w;
        for (int i = 0; i < x.Length; i++) w[i] = T.FusedMultiplyAdd(x[i], y[i], z[i]);
    }

    [Benchmark]
    public void MultiplyAddDriver() => ElementwiseDriver.Map<MultiplyAddOperator<T>, T>(_x, _y, _z, _w);

    [Benchmark]
    public T DotScalarLoop()
    {
        T[] x = _x, y = _y;
        T s = T.Zero;
        for (int i = 0; i < x.Length; i++) s = T.FusedMultiplyAdd(x[i], y[i], s);
        return s;
    }

    [Benchmark]
    public T DotDriver() => ElementwiseDriver.Dot<T>(_x, _y);

    [Benchmark]
    public T DotTensorPrimitives() => System.Numerics.Tensors.TensorPrimitives.Dot<T>(_x, _y);
}
