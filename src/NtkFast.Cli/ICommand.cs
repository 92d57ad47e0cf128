namespace NtkFast.Cli;

/// <summary>One <c>ntk</c> sub-command. Its help text is printed for --help and on usage errors.</summary>
public interface ICommand
{
    string Name { get; }
    /// <summary>One line for the command list.</summary>
    string Summary { get; }
    /// <summary>Full usage text (options and their defaults).</summary>
    string Help { get; }
    /// <summary>Runs the command; throws <see cref="CliException"/> for bad input. Returns the exit code.</summary>
    int Run(CliArgs args);
    /// <summary>Names of options that take no value.</summary>
    IReadOnlySet<string> Flags { get; }
}
