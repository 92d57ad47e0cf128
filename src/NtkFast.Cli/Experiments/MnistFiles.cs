namespace NtkFast.Cli.Experiments;

/// <summary>
/// Finds the MNIST IDX files of the pca experiment: the paths given, or by default
/// <c>shared/data/mnist10k/{images-idx3-ubyte.gz, labels-idx1-ubyte.gz}</c>, where <c>shared</c>
/// sits beside the repository (found by walking up from the current folder, then from the
/// program's folder), or under NTKFAST_SHARED_DATA. A missing file is a one-line error.
/// </summary>
public static class MnistFiles
{
    public const string ImagesName = "images-idx3-ubyte.gz";
    public const string LabelsName = "labels-idx1-ubyte.gz";

    public static (string Images, string Labels) Resolve(string? images, string? labels)
    {
        if ((images is null) != (labels is null))
            throw new CliException("give both --mnist-images and --mnist-labels, or neither (to use shared/data/mnist10k)");
        if (images is null || labels is null)
        {
            string dir = FindDefaultFolder() ?? throw new CliException(
                "MNIST data not found: no shared/data/mnist10k in any parent of the current folder or of the program " +
                "(set NTKFAST_SHARED_DATA or pass --mnist-images and --mnist-labels)");
            images = Path.Combine(dir, ImagesName);
            labels = Path.Combine(dir, LabelsName);
        }
        if (!File.Exists(images)) throw new CliException($"MNIST images file not found: {images}");
        if (!File.Exists(labels)) throw new CliException($"MNIST labels file not found: {labels}");
        return (images, labels);
    }

    /// <summary>The default mnist10k folder, or null.</summary>
    public static string? FindDefaultFolder()
    {
        string? env = Environment.GetEnvironmentVariable("NTKFAST_SHARED_DATA");
        if (!string.IsNullOrEmpty(env))
        {
            string d = Path.Combine(env, "mnist10k");
            return Directory.Exists(d) ? Path.GetFullPath(d) : null;
        }
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "shared", "data", "mnist10k");
                if (Directory.Exists(candidate)) return candidate;
            }
        return null;
    }
}
