namespace NtkFast.Tests;

/// <summary>Where test data lives, found from the test binary's folder so it works in any checkout.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_sharedData = new(FindSharedData);

    /// <summary>The crafted-files corpus copied next to the test binary (tests/NtkFast.Tests/BadInputs).</summary>
    public static string BadInputs => Path.Combine(AppContext.BaseDirectory, "BadInputs");

    /// <summary>
    /// The project's shared data folder (<c>shared/data</c>, holding <c>mnist10k</c>). Found by walking up from
    /// the test binary until a folder has <c>shared/data/mnist10k</c>: CI clones the repository next to
    /// <c>shared/</c>, and each worktree has a <c>shared</c> symlink beside it. NTKFAST_SHARED_DATA overrides.
    /// </summary>
    public static string SharedData => s_sharedData.Value;

    /// <summary>The MNIST subset: images-idx3-ubyte.gz and labels-idx1-ubyte.gz (10 000 digits).</summary>
    public static string Mnist10k => Path.Combine(SharedData, "mnist10k");

    private static string FindSharedData()
    {
        string? env = Environment.GetEnvironmentVariable("NTKFAST_SHARED_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            if (Directory.Exists(Path.Combine(env, "mnist10k"))) return Path.GetFullPath(env);
            throw new DirectoryNotFoundException($"NTKFAST_SHARED_DATA={env} has no mnist10k folder");
        }
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "mnist10k"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"shared/data/mnist10k not found in any parent of {AppContext.BaseDirectory} (set NTKFAST_SHARED_DATA)");
    }
}
