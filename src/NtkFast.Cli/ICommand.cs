namespace NtkFast.Cli;

/// <summary>
/// One <c>ntk</c> sub-command. Its help text is printed for --help and <c>ntk help NAME</c>, followed by
/// its <see cref="Examples"/>. The options a command accepts are the <c>--names</c> its
/// <see cref="Help"/> lists (<see cref="CommandSurface.KnownOptions"/>): anything else is rejected before
/// the command runs, with a "did you mean", so help and parsing cannot drift apart.
/// </summary>
public interface ICommand
{
    string Name { get; }
    /// <summary>One line for the command list.</summary>
    string Summary { get; }
    /// <summary>Full usage text (options and their defaults).</summary>
    string Help { get; }
    /// <summary>Complete command lines (starting "ntk NAME"), each optionally followed by "  # what it does".</summary>
    IReadOnlyList<string> Examples { get; }
    /// <summary>Runs the command; throws <see cref="CliException"/> for bad input. Returns the exit code.</summary>
    int Run(CliArgs args);
    /// <summary>Names of options that take no value.</summary>
    IReadOnlySet<string> Flags { get; }
    /// <summary>Whether the command takes positional arguments (<c>ntk experiment NAME</c>); otherwise any is an error.</summary>
    bool TakesPositional => false;
}
