using System.Runtime.Intrinsics;

namespace NtkFast.Cli.Commands;

/// <summary>Prints the version and the instruction sets the numerics will use.</summary>
internal sealed class VersionCommand : ICommand
{
    public string Name => "version";
    public string Summary => "print the version and the SIMD paths in use";
    public string Help => """
        usage: ntk version      (or ntk --version, ntk -V)

        Prints the NtkFast version and the commit it was built from, the runtime, which vector widths
        are hardware accelerated, the SIMD path the numerics use and the thread count.

        """;

    public IReadOnlyList<string> Examples { get; } = ["ntk version   # same as ntk --version"];
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>();

    public int Run(CliArgs args)
    {
        args.EnsureAllUsed();
        Console.WriteLine($"ntk {Describe()} on .NET {Environment.Version}");
        Console.WriteLine($"Vector512: {Vector512.IsHardwareAccelerated}, Vector256: {Vector256.IsHardwareAccelerated}, Vector128: {Vector128.IsHardwareAccelerated}");
        Console.WriteLine($"isa path: {NtkFast.Numerics.Isa.Name(NtkFast.Numerics.Isa.Active)} (available: {string.Join(", ", NtkFast.Numerics.Isa.Available.Select(NtkFast.Numerics.Isa.Name))}; pin with {NtkFast.Numerics.Isa.EnvironmentVariable})");
        Console.WriteLine($"threads: {NtkFast.Numerics.NtkParallel.MaxThreads}");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// "0.1.0 (commit 583664a2b54c)": the library's informational version, which the SDK stamps with
    /// the git commit of the build ("0.1.0+&lt;sha&gt;"; built outside a git checkout: "0.1.0, commit unknown";
    /// from a checkout with uncommitted changes: "0.1.0 (commit 583664a2b54c, modified)").
    /// </summary>
    internal static string Describe()
    {
        var asm = typeof(NtkFast.Numerics.Gemm).Assembly;
        string info = asm.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            is [System.Reflection.AssemblyInformationalVersionAttribute a, ..] ? a.InformationalVersion : asm.GetName().Version?.ToString() ?? "?";
        return Describe(info);
    }

    /// <summary>
    /// The text for an informational version: "0.1.0+&lt;sha&gt;" → "0.1.0 (commit &lt;12 hex&gt;)"; a build from a checkout
    /// with uncommitted changes ("+&lt;sha&gt;.modified", Directory.Build.targets) → "0.1.0 (commit &lt;12 hex&gt;, modified)".
    /// </summary>
    internal static string Describe(string info)
    {
        int plus = info.IndexOf('+', StringComparison.Ordinal);
        if (plus < 0) return $"{info}, commit unknown";
        string commit = info[(plus + 1)..];
        const string Modified = ".modified";
        bool modified = commit.EndsWith(Modified, StringComparison.Ordinal);
        if (modified) commit = commit[..^Modified.Length];
        return $"{info[..plus]} (commit {(commit.Length > 12 ? commit[..12] : commit)}{(modified ? ", modified" : "")})";
    }
}
