using System.Diagnostics;
using NtkFast.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace NtkFast.Tests.Shipping;

/// <summary>
/// Issue 15 item 4: a user's own console app that references the NtkFast *package* and is published with
/// NativeAOT and default settings takes a vectorised path. The package's buildTransitive/NtkFast.targets
/// sets the AOT instruction set (default x86-64-v3; NtkFastInstructionSet=x86-64-v4 opts into AVX-512,
/// =none opts out). The test packs the library with a unique version into a local feed, publishes a
/// fresh app for each setting, runs it and checks the path it reports (timings are printed, never asserted).
/// </summary>
public sealed class AotConsumerTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-aotc-").FullName;
    // SemVer: a purely numeric pre-release identifier must not start with 0 ("….023456789" before 10:00 UTC
    // made NuGet's restore fail without an error message), so the identifiers carry letters.
    private readonly string _version = $"0.0.0-aottest.p{Environment.ProcessId}.t{DateTime.UtcNow:HHmmssfff}";

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        // The unique version was restored into the global packages folder: remove it again.
        string global = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } g ? g
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string mine = Path.Combine(global, "ntkfast", _version);
        if (Directory.Exists(mine)) Directory.Delete(mine, recursive: true);
    }

    private static string RepoRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NtkFast.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("NtkFast.sln not found above the test binary");
    }

    private static (int Code, string Out) Run(string file, string args, string workDir, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment.Remove(Isa.EnvironmentVariable);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> so = p.StandardOutput.ReadToEndAsync(), se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {args} did not finish in {timeoutSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, so.Result + se.Result);
    }

    private string Publish(string name, string? instructionSet)
    {
        string app = Path.Combine(_dir, name);
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{Path.Combine(_dir, "feed")}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <PublishAot>true</PublishAot>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NtkFast" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        // Empty Directory.Build.* files stop MSBuild from importing the repository's (warnings-as-errors, central versions).
        File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(app, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System.Diagnostics;
            using NtkFast.Numerics;
            const int n = 768;
            var rng = new Random(1);
            double[] a = new double[n * n], b = new double[n * n], c = new double[n * n];
            for (int i = 0; i < a.Length; i++) { a[i] = rng.NextDouble() - 0.5; b[i] = rng.NextDouble() - 0.5; }
            Gemm.Multiply(Op.None, Op.None, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
            var sw = Stopwatch.StartNew();
            int reps = 0;
            do { Gemm.Multiply(Op.None, Op.None, n, n, n, 1.0, a, n, b, n, 0.0, c, n); reps++; } while (sw.Elapsed.TotalSeconds < 0.4);
            Console.WriteLine($"path={Isa.Name(Isa.Active)} gflops={2.0 * n * n * n * reps / sw.Elapsed.TotalSeconds / 1e9:F1}");
            """);
        string extra = instructionSet is null ? "" : $" -p:NtkFastInstructionSet={instructionSet}";
        (int code, string log) = Run("dotnet", $"publish -c Release -r linux-x64 -o out{extra}", app, 600);
        Assert.True(code == 0, $"publish {name} failed:\n{log[^Math.Min(log.Length, 3000)..]}");
        (code, string outText) = Run(Path.Combine(app, "out", "Consumer"), "", app, 120);
        Assert.True(code == 0, $"{name} exited {code}: {outText}");
        output.WriteLine($"{name} (NtkFastInstructionSet={instructionSet ?? "unset"}): {outText.Trim()}");
        return outText.Split(' ')[0]["path=".Length..];
    }

    [Fact]
    public void A_NativeAOT_app_referencing_the_package_takes_a_vectorised_path_and_can_opt_in_or_out()
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            return; // the linux-x64 publish below is what CI runs
        string root = RepoRoot();
        (int code, string log) = Run("dotnet", $"pack src/NtkFast -c Release -o \"{Path.Combine(_dir, "feed")}\" -p:Version={_version} -p:IncludeSymbols=false", root, 600);
        Assert.True(code == 0, $"pack failed:\n{log[^Math.Min(log.Length, 3000)..]}");

        // Default settings: the package's targets pick AVX2 + FMA (when this CPU has them, else the app cannot start here).
        if (Isa.Best >= IsaPath.Vector256) Assert.Equal("avx2", Publish("default", null));
        // Opt-in: AVX-512.
        if (Isa.Best == IsaPath.Vector512) Assert.Equal("avx512", Publish("v4", "x86-64-v4"));
        // Opt-out: the SDK's own default, which accelerates only 128-bit vectors.
        Assert.Equal("vector128", Publish("none", "none"));
    }
}
