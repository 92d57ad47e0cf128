using Xunit;

namespace NtkFast.Tests.Distributed;

/// <summary>
/// When the MPI tests run: always where mpirun is on PATH; where it is not, they are skipped with the reason —
/// except under CI (CI set to anything but empty/0/false, as .ci/run and CI services set it) or with
/// NTKFAST_REQUIRE_MPI=1, where they run and FAIL with the install hint (<see cref="NtkProcess.MpiRun"/>), so a
/// CI machine that lost Open MPI cannot pass silently.
/// </summary>
internal static class MpiTests
{
    /// <summary>The skip reason, or null when the MPI tests must run.</summary>
    public static string? SkipReason
    {
        get
        {
            if (NtkProcess.HasMpiRun || Required) return null;
            return "mpirun not found on PATH: MPI test skipped (install Open MPI: scripts/install-openmpi.sh; under CI=true or NTKFAST_REQUIRE_MPI=1 it fails instead)";
        }
    }

    private static bool Required =>
        Environment.GetEnvironmentVariable("NTKFAST_REQUIRE_MPI") is "1"
        || Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && !ci.Equals("false", StringComparison.OrdinalIgnoreCase) && ci != "0";
}

/// <summary>A fact that runs `ntk` under mpirun: skipped (with the reason) when mpirun is missing outside CI; see <see cref="MpiTests"/>.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute() => Skip = MpiTests.SkipReason;
}

/// <summary>A theory that runs `ntk` under mpirun: skipped (with the reason) when mpirun is missing outside CI; see <see cref="MpiTests"/>.</summary>
public sealed class MpiTheoryAttribute : TheoryAttribute
{
    public MpiTheoryAttribute() => Skip = MpiTests.SkipReason;
}
