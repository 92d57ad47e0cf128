using BenchmarkDotNet.Attributes;
using NtkFast.Tiling;
using NtkFast.IO;

namespace NtkFast.Benchmarks.Distributed;

/// <summary>
/// Writing an N×N float64 matrix to .npy: whole (the in-memory path, Npy.Write through AtomicFile) against
/// tile by tile in place (the out-of-core path), positioned writes vs memory-mapped views, rectangular
/// tiling vs the upper triangle plus mirrored blocks. Disk-bound: compare with the disk's own speed
/// (dd, docs/notes/mpi.md). Files go to NTKFAST_BENCH_DIR or the temp folder.
/// </summary>
[MemoryDiagnoser]
public class TileWriteBenchmarks
{
    [Params(2047)]
    public int N { get; set; }

    [Params(256)]
    public int Tile { get; set; }

    private double[] _full = [];
    private double[] _scratch = [];
    private string _dir = "";

    [GlobalSetup]
    public void Setup()
    {
        _full = new double[N * N];
        var rng = new Random(1);
        for (int i = 0; i < _full.Length; i++) _full[i] = rng.NextDouble();
        _scratch = new double[Tile * Tile];
        _dir = Environment.GetEnvironmentVariable("NTKFAST_BENCH_DIR") ?? Path.GetTempPath();
    }

    private string Out => Path.Combine(_dir, "ntk-bench-tiles.npy");

    [Benchmark(Baseline = true, Description = "whole matrix, Npy.Write")]
    public void Whole() => AtomicFile.Write(Out, s => Npy.Write(s, _full, [N, N]));

    [Benchmark(Description = "tiles, positioned, rect")]
    public void PositionedRect() => Tiles(TileWriteMode.Positioned, symmetric: false);

    [Benchmark(Description = "tiles, positioned, triangle+mirror")]
    public void PositionedTriangle() => Tiles(TileWriteMode.Positioned, symmetric: true);

    [Benchmark(Description = "tiles, memory-mapped, rect")]
    public void MappedRect() => Tiles(TileWriteMode.MemoryMapped, symmetric: false);

    private void Tiles(TileWriteMode mode, bool symmetric)
    {
        var grid = new TileGrid(N, N, Tile, symmetric);
        using (NpyTileFile f = NpyTileFile.Create(Out, N, N, mode))
        {
            for (int k = 0; k < grid.Count; k++)
            {
                Tile t = grid[k];
                ReadOnlySpan<double> block = _full.AsSpan((t.Row0 * N) + t.Col0);
                f.WriteBlock(t.Row0, t.Col0, t.Rows, t.Cols, block, N);
                if (t.Mirror) f.WriteBlockTransposed(t.Row0, t.Col0, t.Rows, t.Cols, block, N, _scratch);
            }
            f.Flush(toDisk: true);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(Out);
}
