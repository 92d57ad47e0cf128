using NtkFast.Cli.Commands;

namespace NtkFast.Cli;

public static class Program
{
    /// <summary>Every sub-command, in the order --help lists them.</summary>
    internal static readonly ICommand[] Commands =
    [
        new VersionCommand(),
        new InitCommand(),
        new TrainCommand(),
    ];

    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.Out.Write(GeneralHelp());
            return args.Length == 0 ? ExitCodes.BadInput : ExitCodes.Ok;
        }
        ICommand? cmd = Array.Find(Commands, c => c.Name == args[0]);
        if (cmd is null)
        {
            Console.Error.WriteLine($"ntk: unknown command '{args[0]}'. Commands: {string.Join(", ", Commands.Select(c => c.Name))}.");
            return ExitCodes.BadInput;
        }
        string[] rest = args[1..];
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.Out.Write(cmd.Help);
            return ExitCodes.Ok;
        }
        try
        {
            var parsed = new CliArgs(rest, cmd.Flags);
            return cmd.Run(parsed);
        }
        catch (CliException e) { return Fail(cmd, e.Message, e.ExitCode); }
        catch (ArgumentException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.BadInput); }
        catch (InvalidDataException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.BadInput); }
        catch (FormatException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.BadInput); }
        catch (FileNotFoundException e) { return Fail(cmd, $"file not found: {e.FileName ?? FirstLine(e.Message)}", ExitCodes.BadInput); }
        catch (DirectoryNotFoundException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.BadInput); }
        catch (UnauthorizedAccessException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.Failure); }
        catch (IOException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.Failure); }
        catch (OutOfMemoryException) { return Fail(cmd, "out of memory (try a smaller problem or --rows/--cols tiles)", ExitCodes.Failure); }
        catch (InvalidOperationException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.Failure); }
        catch (ArithmeticException e) { return Fail(cmd, FirstLine(e.Message), ExitCodes.Failure); }
    }

    private static int Fail(ICommand cmd, string message, int code)
    {
        Console.Error.WriteLine($"ntk {cmd.Name}: {message}");
        return code;
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
        sb.AppendLine("usage: ntk <command> [options]      ntk <command> --help");
        sb.AppendLine();
        sb.AppendLine("commands:");
        foreach (ICommand c in Commands) sb.AppendLine($"  {c.Name,-12} {c.Summary}");
        sb.AppendLine();
        sb.AppendLine("exit codes: 0 success, 1 computation or I/O failure, 2 bad usage or bad input.");
        sb.AppendLine("threads: NTKFAST_THREADS=n (results are identical for every n).");
        return sb.ToString();
    }
}
