using BenchmarkDotNet.Running;

namespace NtkFast.Benchmarks;

public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "headline") { Headline.Run(); return; }
        if (args.Length > 0 && args[0] == "archnet") { Architectures.ArchNetBenchmark.Run(args); return; }
        if (args.Length > 0 && args[0] == "cntk") { Architectures.CntkBenchmark.Run(args); return; }
        if (args.Length > 0 && args[0] == "gemm") { Numerics.GemmSweep.Run(args); return; }
        if (args.Length > 0 && args[0] == "cholesky") { LinearAlgebra.CholeskySweep.Run(args); return; }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
