using NtkFast.Cli.Commands;

namespace NtkFast.Cli;

public static class Program
{
    /// <summary>Every sub-command, in the order --help lists them.</summary>
    internal static readonly ICommand[] Commands =
    [
        new KernelCommand(),
        new InitCommand(),
        new TrainCommand(),
        new EmpiricalCommand(),
        new DriftCommand(),
        new PredictCommand(),
        new ExperimentCommand(),
        new MpiInfoCommand(),
        new VersionCommand(),
    ];

    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "--help" or "-h" || (args[0] == "help" && args.Length == 1))
        {
            Console.Out.Write(GeneralHelp());
            return args.Length == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
        }
        if (args[0] is "--version" or "-V") args = ["version", .. args[1..]];
        if (args[0] == "help")
        {
            // ntk help NAME: the command's help, as ntk NAME --help.
            ICommand? topic = Find(args[1]);
            if (topic is null || args.Length > 2)
            {
                Console.Error.WriteLine(topic is null ? $"ntk help: {UnknownCommand(args[1])}" : "ntk help: give one command name (ntk help kernel)");
                return ExitCodes.BadInput;
            }
            Console.Out.Write(CommandSurface.FullHelp(topic));
            return ExitCodes.Ok;
        }
        ICommand? cmd = Find(args[0]);
        if (cmd is null)
        {
            Console.Error.WriteLine($"ntk: {UnknownCommand(args[0])}");
            return ExitCodes.BadInput;
        }
        string[] rest = args[1..];
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.Out.Write(CommandSurface.FullHelp(cmd));
            return ExitCodes.Ok;
        }
        // --quiet is global: it silences progress reports of every command (errors are still printed).
        Progress.Quiet = rest.Contains("--quiet");
        if (Progress.Quiet) rest = Array.FindAll(rest, a => a != "--quiet");
        // Killed by Ctrl+C or SIGTERM: finally blocks will not run, so remove partial outputs here
        // (the default action, terminating the process, still follows).
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGINT, _ => NtkFast.IO.AtomicFile.AbandonAll());
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => NtkFast.IO.AtomicFile.AbandonAll());
        // Test hook (NTKFAST_FAULT, never set outside tests): for every command, not only the MPI-aware ones.
        NtkFast.Distributed.FaultInjection.InstallFromEnvironment();
        if (NtkFast.Numerics.Isa.EnvironmentError is { } isaError)
        {
            Console.Error.WriteLine($"ntk {cmd.Name}: {isaError}");
            return ExitCodes.BadInput;
        }
        if (NtkFast.Numerics.NtkParallel.EnvironmentError is { } threadsError)
        {
            Console.Error.WriteLine($"ntk {cmd.Name}: {threadsError}");
            return ExitCodes.BadInput;
        }
        try
        {
            var parsed = new CliArgs(rest, cmd.Flags);
            CommandSurface.CheckSurface(cmd, parsed);
            return cmd.Run(parsed);
        }
        catch (Exception e)
        {
            (string message, int code) = Describe(e);
            Progress.EndLine();
            Console.Error.WriteLine($"ntk {cmd.Name}: {message}");
            if (DebugEnabled) Console.Error.WriteLine(e.ToString());
            return code;
        }
    }

    private static ICommand? Find(string name) => Array.Find(Commands, c => c.Name == name);

    /// <summary>"unknown command 'x'", with the closest command when one is near, and the list.</summary>
    internal static string UnknownCommand(string name)
    {
        string? near = Suggest.Closest(name, Commands.Select(c => c.Name));
        return $"unknown command {Options.CliMessages.Name(name)}{(near is null ? "." : $"; did you mean '{near}'?")} Commands: {string.Join(", ", Commands.Select(c => c.Name))}.";
    }

    /// <summary>NTKFAST_DEBUG=1 prints the stack trace after the one-line message.</summary>
    private static bool DebugEnabled => Environment.GetEnvironmentVariable("NTKFAST_DEBUG") is "1" or "true";

    /// <summary>
    /// The one line (and exit code) for an exception: user errors (bad usage, bad files) exit 2,
    /// failures while computing or writing exit 1, and anything unexpected is reported in one line
    /// as an internal error (exit 1) — never a stack trace unless NTKFAST_DEBUG=1.
    /// </summary>
    internal static (string Message, int Code) Describe(Exception e)
    {
        // Parallel loops wrap the worker's exception; report the real one.
        while (e is AggregateException ae && ae.InnerExceptions.Count >= 1) e = ae.InnerExceptions[0];
        return e switch
        {
            CliException c => (FirstLine(c.Message), c.ExitCode),
            ArgumentException => (FirstLine(e.Message), ExitCodes.BadInput),
            InvalidDataException => (FirstLine(e.Message), ExitCodes.BadInput),
            FormatException => (FirstLine(e.Message), ExitCodes.BadInput),
            FileNotFoundException f => (f.Message.StartsWith("Could not find file", StringComparison.Ordinal) && f.FileName is not null
                ? $"file not found: {f.FileName}" : FirstLine(f.Message), ExitCodes.BadInput),
            DirectoryNotFoundException => (FirstLine(e.Message), ExitCodes.BadInput),
            UnauthorizedAccessException => (FirstLine(e.Message), ExitCodes.Failure),
            IOException => (FirstLine(e.Message), ExitCodes.Failure),
            OutOfMemoryException => ("out of memory (try a smaller problem or --rows/--cols tiles)", ExitCodes.Failure),
            InvalidOperationException => (FirstLine(e.Message), ExitCodes.Failure),
            ArithmeticException => (FirstLine(e.Message), ExitCodes.Failure),
            _ => ($"internal error ({e.GetType().Name}): {FirstLine(e.Message)} (set NTKFAST_DEBUG=1 for details)", ExitCodes.Failure),
        };
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    internal static string GeneralHelp()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("ntk — Neural Tangent Kernel toolkit (NtkFast)");
        sb.AppendLine();
        sb.AppendLine("usage: ntk <command> [options]      ntk help <command>      ntk --version");
        sb.AppendLine();
        sb.AppendLine("commands:");
        foreach (ICommand c in Commands) sb.AppendLine($"  {c.Name,-12} {c.Summary}");
        sb.AppendLine();
        sb.AppendLine("exit codes: 0 success, 1 computation or I/O failure, 2 bad usage or bad input.");
        sb.AppendLine("threads: NTKFAST_THREADS=n (results are identical for every n).");
        sb.AppendLine("--quiet (any command): no progress reports. NTKFAST_DEBUG=1: stack traces with errors.");
        return sb.ToString();
    }
}
