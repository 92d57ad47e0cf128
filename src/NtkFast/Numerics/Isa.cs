using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NtkFast.Numerics;

/// <summary>
/// The instruction-set paths of NtkFast's kernels (GEMM micro-kernels, element-wise drivers, batched
/// duals, kernel accumulation), narrowest first. Every path performs the same IEEE operations in the
/// same order, so results are bitwise identical whichever one runs; only the speed differs.
/// </summary>
public enum IsaPath
{
    /// <summary>Plain scalar code (no SIMD).</summary>
    Scalar = 0,

    /// <summary>128-bit vectors: SSE on x64 (FMA in software without AVX), AdvSimd on ARM64.</summary>
    Vector128 = 1,

    /// <summary>256-bit vectors with hardware FMA (x64 AVX2 + FMA).</summary>
    Vector256 = 2,

    /// <summary>512-bit vectors (x64 AVX-512F).</summary>
    Vector512 = 3,
}

/// <summary>
/// The one registry of instruction-set paths: which ones this process can run (<see cref="Available"/>,
/// widest first), the widest (<see cref="Best"/>) and the one in use (<see cref="Active"/>). The
/// environment variable <c>NTKFAST_ISA</c> (<see cref="EnvironmentVariable"/>) pins a path:
/// <c>avx512</c>, <c>avx2</c>, <c>vector128</c> or <c>scalar</c> (also the enum names); a path wider than
/// the hardware runs the widest there is (documented clamping), an unknown name is an error. The runtime's
/// own switches (<c>DOTNET_EnableAVX512F=0</c>, <c>DOTNET_EnableAVX2=0</c>, <c>DOTNET_EnableHWIntrinsic=0</c>)
/// lower <see cref="Best"/>. Tests iterate <see cref="Available"/> and pin each path in turn.
/// </summary>
public static class Isa
{
    /// <summary>The environment variable that pins a path.</summary>
    public const string EnvironmentVariable = "NTKFAST_ISA";

    /// <summary>The widest path the hardware (and the runtime's DOTNET_Enable* switches) accelerate.</summary>
    public static IsaPath Best { get; } =
        Vector512.IsHardwareAccelerated ? IsaPath.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? IsaPath.Vector256
        : Vector128.IsHardwareAccelerated ? IsaPath.Vector128
        : IsaPath.Scalar;

    /// <summary>Every path this process can run, widest first (always ends with <see cref="IsaPath.Scalar"/>).</summary>
    public static IReadOnlyList<IsaPath> Available { get; } = BuildAvailable();

    private static IsaPath s_active = FromEnvironment();

    /// <summary>The path the kernels take: <see cref="Best"/> unless NTKFAST_ISA pins a narrower one.</summary>
    public static IsaPath Active => s_active;

    /// <summary>The short name of a path, as NTKFAST_ISA takes it.</summary>
    public static string Name(IsaPath path) => path switch
    {
        IsaPath.Vector512 => "avx512",
        IsaPath.Vector256 => "avx2",
        IsaPath.Vector128 => "vector128",
        IsaPath.Scalar => "scalar",
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, null),
    };

    /// <summary>Parses a path name (<c>avx512</c>, <c>avx2</c>, <c>vector128</c>, <c>scalar</c>, or an enum name; case-insensitive).</summary>
    public static bool TryParse(string? text, out IsaPath path)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "avx512" or "avx-512" or "vector512": path = IsaPath.Vector512; return true;
            case "avx2" or "vector256": path = IsaPath.Vector256; return true;
            case "vector128" or "sse" or "neon" or "advsimd": path = IsaPath.Vector128; return true;
            case "scalar": path = IsaPath.Scalar; return true;
            default: path = IsaPath.Scalar; return false;
        }
    }

    /// <summary>
    /// Null when NTKFAST_ISA is unset or valid, else the one-line error (the <c>ntk</c> CLI reports it and
    /// exits 2 before doing anything; the library then runs <see cref="Best"/>).
    /// </summary>
    public static string? EnvironmentError { get; private set; }

    private static IsaPath FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text)) return Best;
        if (!TryParse(text, out IsaPath p))
        {
            string shown = text.Length > 40 ? text[..40] + "…" : text;
            EnvironmentError = $"{EnvironmentVariable}='{Sanitize(shown)}' is not a path; use one of {string.Join(", ", Enum.GetValues<IsaPath>().Reverse().Select(Name))}.";
            return Best;
        }
        return p <= Best ? p : Best;
    }

    private static string Sanitize(string s) => string.Concat(s.Select(c => char.IsControl(c) ? '?' : c));

    private static IsaPath[] BuildAvailable()
    {
        var list = new List<IsaPath>();
        for (IsaPath p = Best; p >= IsaPath.Scalar; p--) list.Add(p);
        return [.. list];
    }

    /// <summary>
    /// Tests and benchmarks: runs on <paramref name="path"/> (one of <see cref="Available"/>) until the
    /// returned scope is disposed. Process-wide (worker threads must see it), so pins are serialised: a second
    /// pin waits until the first is disposed. Element-wise operators whose vector and scalar forms differ in the
    /// last bit (exp-based ones) see the pinned path too: tests that pin must run in a non-parallel collection.
    /// </summary>
    internal static Scope Pin(IsaPath path)
    {
        if (path > Best || path < IsaPath.Scalar) throw new ArgumentOutOfRangeException(nameof(path), path, $"{path} is not accelerated here (best: {Best}).");
        s_pinGate.Wait();
        var scope = new Scope(s_active);
        s_active = path;
        return scope;
    }

    private static readonly SemaphoreSlim s_pinGate = new(1, 1);

    /// <summary>Restores the previous path and lets the next pin in.</summary>
    internal readonly struct Scope(IsaPath previous) : IDisposable
    {
        public void Dispose()
        {
            s_active = previous;
            s_pinGate.Release();
        }
    }
}
