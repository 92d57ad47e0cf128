namespace NtkFast.Cli;

/// <summary>A user-facing error: printed as one line on stderr, never with a stack trace.</summary>
public sealed class CliException : Exception
{
    public CliException(string message, int exitCode = ExitCodes.BadInput) : base(message) => ExitCode = exitCode;
    public CliException() : this("error") { }
    public CliException(string message, Exception inner) : base(message, inner) => ExitCode = ExitCodes.BadInput;
    public int ExitCode { get; }
}

/// <summary>Process exit codes of the <c>ntk</c> command (documented in the README).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Computation failed (e.g. a numerically singular kernel, out of memory, I/O failure while writing).</summary>
    public const int Failure = 1;
    /// <summary>Bad usage or bad input: unknown option, missing or malformed file, impossible value.</summary>
    public const int BadInput = 2;
}
