using System.Diagnostics;
using Xunit;

namespace NtkFast.Tests;

/// <summary>The outcome of one <c>ntk</c> run.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Non-empty lines of stderr.</summary>
    public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Runs the real <c>ntk</c> (the ntk.dll copied next to the tests) in a child process, so the
/// CLI contract is tested as users see it: exit code, stdout, stderr, no shared Console state
/// between parallel tests. Each run costs ~0.1 s of start-up; keep the number of runs modest.
/// </summary>
public static class CliRunner
{
    public static CliResult Run(params string[] args) => Run(args, null, TimeSpan.FromSeconds(120));

    /// <summary>
    /// NTKFAST_TEST_NTK_BINARY: a native <c>ntk</c> (the NativeAOT publish) to run instead of <c>dotnet exec ntk.dll</c>;
    /// CI sets it to rerun the CLI contract and the bad-input corpus on the binary users get. Null: the JIT build.
    /// </summary>
    public static string? Binary { get; } = Environment.GetEnvironmentVariable("NTKFAST_TEST_NTK_BINARY") is { Length: > 0 } b
        ? (File.Exists(b) ? Path.GetFullPath(b) : throw new InvalidOperationException($"NTKFAST_TEST_NTK_BINARY={b} does not exist"))
        : null;

    public static CliResult Run(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env, TimeSpan timeout) =>
        Run(args, env, timeout, stdin: null);

    /// <summary>Runs ntk with <paramref name="stdin"/> piped into its standard input (then closed).</summary>
    public static CliResult RunWithInput(byte[] stdin, params string[] args) => Run(args, null, TimeSpan.FromSeconds(120), stdin);

    public static CliResult Run(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env, TimeSpan timeout, byte[]? stdin)
    {
        ArgumentNullException.ThrowIfNull(args);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var psi = new ProcessStartInfo(Binary ?? dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Binary is null)
        {
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ntk.dll"));
        }
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("NTKFAST_DEBUG");
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start ntk");
        if (stdin is not null)
        {
            // written on another task: a large input must not deadlock against ntk's output pipes
            Task feed = Task.Run(() =>
            {
                try { p.StandardInput.BaseStream.Write(stdin); }
                catch (IOException) { } // ntk may exit before reading all of it (an error case)
                finally { p.StandardInput.Close(); }
            });
            _ = feed;
        }
        else p.StandardInput.Close();
        Task<string> so = p.StandardOutput.ReadToEndAsync();
        Task<string> se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"ntk {string.Join(' ', args)} did not finish in {timeout}");
        }
        p.WaitForExit();
        return new CliResult(p.ExitCode, so.Result, se.Result);
    }

    /// <summary>
    /// Asserts the bad-input contract: the given exit code, exactly one stderr line "ntk &lt;cmd&gt;: …"
    /// (containing <paramref name="contains"/> when given), no stack trace.
    /// </summary>
    public static void AssertCleanFailure(CliResult r, int exitCode, string? contains = null)
    {
        ArgumentNullException.ThrowIfNull(r);
        Assert.True(r.ExitCode == exitCode, $"exit code {r.ExitCode}, expected {exitCode}; stderr: {r.StdErr}");
        string[] lines = r.ErrorLines;
        Assert.True(lines.Length == 1, $"expected one stderr line, got {lines.Length}: {r.StdErr}");
        Assert.StartsWith("ntk", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", r.StdErr.Replace(lines[0], "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", lines[0], StringComparison.Ordinal);
        if (contains is not null) Assert.Contains(contains, lines[0], StringComparison.Ordinal);
    }
}
