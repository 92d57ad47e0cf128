using System.Globalization;
using NtkFast.IO;
using NtkFast.Numerics;

namespace NtkFast.Cli.Options;

/// <summary>
/// The option group of point sets: --x (and a second set, --x2 or --x-test), targets --y, and the block
/// window --rows/--cols over them. Owns reading (<see cref="MatrixFile"/>: .npy or .csv, finite values),
/// the shape checks between sets and against a network, and their messages, so every command reports a
/// mismatch the same way.
/// </summary>
internal static class PointSetOptions
{
    /// <summary>The points of option --<paramref name="option"/>, one per row.</summary>
    public static Matrix Read(string path, string option) => MatrixFile.Read(path, "--" + option);

    /// <summary>--x and an optional second set --<paramref name="secondOption"/> with the same number of columns.</summary>
    public static (Matrix X, Matrix? Second) ReadPair(string xPath, string? secondPath, string secondOption = "x2")
    {
        Matrix x = Read(xPath, "x");
        Matrix? second = secondPath is null ? null : Read(secondPath, secondOption);
        if (second is not null) CheckSameFeatures(x, second, secondOption);
        return (x, second);
    }

    /// <summary>A second point set must have --x's number of columns (features).</summary>
    public static void CheckSameFeatures(Matrix x, Matrix second, string secondOption)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(second);
        if (second.Cols != x.Cols)
            throw new CliException($"--x has {x.Cols} columns (features) but --{secondOption} has {second.Cols}");
    }

    /// <summary>Points fed to a network must have its input width; <paramref name="network"/> names where the network came from.</summary>
    public static void CheckInputWidth(Matrix points, string option, int inputWidth, string network)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Cols != inputWidth)
            throw new CliException($"--{option} has {points.Cols} columns but the network ({network}) takes inputs of width {inputWidth}");
    }

    /// <summary>Targets: one row per point of --<paramref name="pointsOption"/>.</summary>
    public static void CheckTargets(Matrix points, Matrix targets, string pointsOption = "x", string targetsOption = "y")
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Rows != points.Rows)
            throw new CliException($"--{targetsOption} has {targets.Rows} rows but --{pointsOption} has {points.Rows}: one target row per input row");
    }

    /// <summary>--rows a:b / --cols c:d → [a, b) within [0, count); a missing side means the start or the end; absent = everything.</summary>
    public static (int Start, int End) Range(string option, string? text, int count)
    {
        if (text is null) return (0, count);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) throw new CliException($"option --{option}: {CliMessages.Name(text)} is not a range a:b");
        string left = text[..colon].Trim(), right = text[(colon + 1)..].Trim();
        int start = left.Length == 0 ? 0 : Index(option, text, left);
        int end = right.Length == 0 ? count : Index(option, text, right);
        if (start >= end || end > count)
            throw new CliException($"option --{option}: range {CliMessages.Name(text)} must satisfy 0 ≤ a < b ≤ {count} (the number of points)");
        return (start, end);
    }

    private static int Index(string option, string text, string s) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
            ? v : throw new CliException($"option --{option}: {CliMessages.Name(text)} is not a range a:b of non-negative integers");

    /// <summary>Help line of --x/--x2.</summary>
    public const string Help = "  --x FILE, --x2 FILE    points, one per row (.npy or .csv); --x2 defaults to --x\n";

    /// <summary>Help lines of the block window.</summary>
    public const string RangeHelp = """
          --rows a:b, --cols c:d only this block: rows a … b−1 of X, columns c … d−1 of X2
                                 (either side may be omitted: ':b', 'a:')

        """;
}
