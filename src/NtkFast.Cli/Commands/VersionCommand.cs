using System.Runtime.Intrinsics;

namespace NtkFast.Cli.Commands;

/// <summary>Prints the version and the instruction sets the numerics will use.</summary>
internal sealed class VersionCommand : ICommand
{
    public string Name => "version";
    public string Summary => "print the version and the SIMD paths in use";
    public string Help => "usage: ntk version\n\nPrints the NtkFast version, the runtime, and which vector widths are hardware accelerated.\n";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>();

    public int Run(CliArgs args)
    {
        args.EnsureAllUsed();
        string version = typeof(NtkFast.Numerics.Gemm).Assembly.GetName().Version?.ToString() ?? "?";
        Console.WriteLine($"ntk {version} on .NET {Environment.Version}");
        Console.WriteLine($"Vector512: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}, Vector128: {Vector128.IsHardwareAccelerated}");
        Console.WriteLine($"isa path: {NtkFast.Numerics.Isa.Name(NtkFast.Numerics.Isa.Active)} (available: {string.Join(", ", NtkFast.Numerics.Isa.Available.Select(NtkFast.Numerics.Isa.Name))}; pin with {NtkFast.Numerics.Isa.EnvironmentVariable})");
        Console.WriteLine($"threads: {NtkFast.Numerics.NtkParallel.MaxThreads}");
        return ExitCodes.Ok;
    }
}
