using System.Globalization;
using NtkFast.Cli.Options;

namespace NtkFast.Cli;

/// <summary>
/// Minimal GNU-style option parser: "--name value", "--name=value", and flags.
/// Every option a command reads is recorded; <see cref="EnsureAllUsed"/> rejects the rest,
/// so a typo is an error rather than silently ignored.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];
    private readonly Dictionary<int, string> _flagBeforePositional = [];

    public CliArgs(IReadOnlyList<string> args, IReadOnlySet<string>? flags = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (flags is null || !flags.Contains(name))
                {
                    if (i + 1 < args.Count && !IsOptionName(args[i + 1])) value = args[++i];
                }
                if (_options.ContainsKey(name)) throw new CliException($"option --{name} given more than once");
                _options[name] = value;
            }
            else
            {
                // A word right after a flag ("--float32 yes") is a common slip: remember the flag for the message.
                if (i > 0 && args[i - 1].StartsWith("--", StringComparison.Ordinal) && !args[i - 1].Contains('=', StringComparison.Ordinal)
                    && flags is not null && flags.Contains(args[i - 1][2..]))
                    _flagBeforePositional[_positional.Count] = args[i - 1][2..];
                _positional.Add(a);
            }
        }
    }

    private static bool IsOptionName(string s) => s.StartsWith("--", StringComparison.Ordinal) && s.Length > 2 && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    public IReadOnlyList<string> Positional => _positional;

    /// <summary>The option names given (without "--"), in no particular order.</summary>
    public IEnumerable<string> OptionNames => _options.Keys;

    /// <summary>The flag given right before the first positional argument equal to <paramref name="positional"/>, if any.</summary>
    public string? FlagBefore(string positional)
    {
        int i = _positional.IndexOf(positional);
        return i >= 0 && _flagBeforePositional.TryGetValue(i, out string? f) ? f : null;
    }

    public bool Has(string name) { _used.Add(name); return _options.ContainsKey(name); }

    public bool Flag(string name)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out string? v)) return false;
        if (v is null) return true;
        return v.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new CliException($"option --{name} is a flag; got value '{v}'"),
        };
    }

    public string? Optional(string name)
    {
        _used.Add(name);
        if (!_options.TryGetValue(name, out string? v)) return null;
        if (v is null) throw new CliException($"option --{name} needs a value");
        return v;
    }

    public string Required(string name) => Optional(name) ?? throw new CliException($"missing required option --{name}");

    public int Int(string name, int? defaultValue = null, int min = int.MinValue, int max = int.MaxValue)
    {
        string? s = Optional(name);
        if (s is null) return defaultValue ?? throw new CliException($"missing required option --{name}");
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new CliException($"option --{name}: '{s}' is not an integer");
        if (v < min || v > max)
            throw new CliException(max == int.MaxValue ? $"option --{name} must be at least {min}, got {v}" : $"option --{name} must be in [{min}, {max}], got {v}");
        return v;
    }

    public double Double(string name, double? defaultValue = null, double min = double.NegativeInfinity, bool minExclusive = false)
    {
        string? s = Optional(name);
        if (s is null) return defaultValue ?? throw new CliException($"missing required option --{name}");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new CliException($"option --{name}: '{s}' is not a finite number");
        if (minExclusive ? v <= min : v < min)
            throw new CliException($"option --{name} must be {(minExclusive ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, got {s}");
        return v;
    }

    /// <summary>Reads the data matrix named by option --<paramref name="name"/> (.npy or .csv; see <see cref="NtkFast.IO.MatrixFile"/>).</summary>
    public NtkFast.Numerics.Matrix ReadMatrix(string name) => NtkFast.IO.MatrixFile.Read(Required(name), "--" + name);

    /// <summary>Like <see cref="ReadMatrix"/>, or null when the option is absent.</summary>
    public NtkFast.Numerics.Matrix? ReadOptionalMatrix(string name) =>
        Optional(name) is string path ? NtkFast.IO.MatrixFile.Read(path, "--" + name) : null;

    /// <summary>
    /// The output path of option --<paramref name="name"/>, checked before any work starts (so a long
    /// computation never fails at the end): its extension is one of <paramref name="extensions"/>
    /// (e.g. ".npy"), its folder exists, and it is not a folder.
    /// </summary>
    public string OutputPath(string name, params string[] extensions) =>
        OptionalOutputPath(name, extensions) ?? throw new CliException($"missing required option --{name}");

    /// <summary>Like <see cref="OutputPath"/>, or null when the option is absent.</summary>
    public string? OptionalOutputPath(string name, params string[] extensions)
    {
        ArgumentNullException.ThrowIfNull(extensions);
        string? path = Optional(name);
        if (path is null) return null;
        if (path == "-") throw new CliException(StandardOutputRefused("--" + name));
        string ext = Path.GetExtension(path);
        if (extensions.Length > 0 && !extensions.Any(e => string.Equals(e, ext, StringComparison.OrdinalIgnoreCase)))
            throw new CliException($"option --{name}: '{path}' must end in {string.Join(" or ", extensions)}");
        if (Directory.Exists(path)) throw new CliException($"option --{name}: '{path}' is a folder");
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new CliException($"option --{name}: folder '{dir}' does not exist");
        return path;
    }

    /// <summary>
    /// The one line for an output given as "-": standard input works for inputs, but outputs are files, written to a temporary
    /// beside them and renamed into place only when complete (a pipe could not be taken back on an error).
    /// </summary>
    public static string StandardOutputRefused(string option) =>
        $"option {option}: '-' (standard output) is not supported for outputs: give a file (written whole, renamed into place when complete)";

    /// <summary>Throws for any option the command did not read.</summary>
    public void EnsureAllUsed()
    {
        foreach (string k in _options.Keys)
            if (!_used.Contains(k)) throw new CliException($"unknown option --{CliMessages.Bare(k)} (see --help)");
    }
}
