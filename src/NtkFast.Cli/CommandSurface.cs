using NtkFast.Cli.Options;
using System.Collections.Concurrent;
using System.Text;

namespace NtkFast.Cli;

/// <summary>
/// What a command shows and accepts, derived from its <see cref="ICommand.Help"/>: the full help with
/// examples, and the option names it lists (plus the global --quiet and --help).
/// </summary>
public static class CommandSurface
{
    /// <summary>Options every command accepts.</summary>
    public static readonly string[] GlobalOptions = ["quiet", "help"];

    private static readonly ConcurrentDictionary<string, IReadOnlySet<string>> Known = new(StringComparer.Ordinal);

    /// <summary>The option names (without "--") listed in the command's help, and the global ones.</summary>
    public static IReadOnlySet<string> KnownOptions(ICommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return Known.GetOrAdd(command.Name, _ =>
        {
            var names = new HashSet<string>(GlobalOptions, StringComparer.Ordinal);
            foreach (string n in OptionNamesIn(command.Help)) names.Add(n);
            return names;
        });
    }

    /// <summary>Every "--name" token in a text (name: a lower-case letter or digit, then letters, digits, '-').</summary>
    public static IEnumerable<string> OptionNamesIn(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (int i = 0; i + 2 < text.Length; i++)
        {
            if (text[i] != '-' || text[i + 1] != '-' || (i > 0 && (char.IsLetterOrDigit(text[i - 1]) || text[i - 1] == '-'))) continue;
            int s = i + 2, e = s;
            if (!IsNameStart(text[s])) continue;
            while (e < text.Length && (IsNameStart(text[e]) || text[e] == '-')) e++;
            while (e > s && text[e - 1] == '-') e--;
            yield return text[s..e];
            i = e - 1;
        }
    }

    private static bool IsNameStart(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');

    /// <summary>The help text followed by the examples.</summary>
    public static string FullHelp(ICommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var sb = new StringBuilder(command.Help);
        if (!command.Help.EndsWith('\n')) sb.Append('\n');
        if (command.Examples.Count > 0)
        {
            sb.Append("\nexamples:\n");
            foreach (string e in command.Examples) sb.Append("  ").Append(e).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Rejects, before the command runs, options its help does not list ("unknown option --dept; did you
    /// mean --depth?") and stray positional arguments, so a typo is never reported as a missing option.
    /// </summary>
    public static void CheckSurface(ICommand command, CliArgs args)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(args);
        IReadOnlySet<string> known = KnownOptions(command);
        foreach (string given in args.OptionNames)
        {
            if (known.Contains(given)) continue;
            string? near = Suggest.Closest(given, known.Where(k => !GlobalOptions.Contains(k)));
            throw new CliException($"unknown option --{CliMessages.Bare(given)}{(near is null ? "" : $"; did you mean --{near}?")} (see ntk {command.Name} --help)");
        }
        if (!command.TakesPositional && args.Positional.Count > 0)
        {
            string stray = args.Positional[0];
            string? flag = args.FlagBefore(stray);
            throw new CliException(flag is not null
                ? $"unexpected argument {CliMessages.Name(stray)} after the flag --{flag}, which takes no value (--{flag} alone turns it on, --{flag}=false off)"
                : $"unexpected argument {CliMessages.Name(stray)} (options are written --name VALUE; see ntk {command.Name} --help)");
        }
    }
}
