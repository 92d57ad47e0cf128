using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Numerics;

/// <summary>NTKFAST_THREADS (issue #18 item 5): invalid values are an error string, never a throw; large ones are clamped.</summary>
public class NtkParallelEnvironmentTests
{
    [Theory]
    [InlineData(null, 7)]
    [InlineData("", 7)]
    [InlineData("  ", 7)]
    [InlineData("1", 1)]
    [InlineData(" 3 ", 3)]
    [InlineData("+4", 4)]
    [InlineData("256", 256)]
    [InlineData("257", NtkParallel.EnvironmentLimit)]
    [InlineData("100000", NtkParallel.EnvironmentLimit)]
    [InlineData("99999999999999999999999", NtkParallel.EnvironmentLimit)]
    public void Valid_values_give_a_count_and_no_error(string? text, int expected)
    {
        (int threads, string? error) = NtkParallel.ParseEnvironment(text, fallback: 7);
        Assert.Null(error);
        Assert.Equal(expected, threads);
    }

    [Theory]
    [InlineData("0", "must be at least 1")]
    [InlineData("-1", "must be at least 1")]
    [InlineData("abc", "is not a whole number")]
    [InlineData("2.5", "is not a whole number")]
    [InlineData("1e3", "is not a whole number")]
    [InlineData("0x10", "is not a whole number")]
    [InlineData("-99999999999999999999999", "is not a whole number")]
    public void Invalid_values_fall_back_and_name_the_variable_and_value(string text, string reason)
    {
        (int threads, string? error) = NtkParallel.ParseEnvironment(text, fallback: 7);
        Assert.Equal(7, threads);
        Assert.NotNull(error);
        Assert.StartsWith($"NTKFAST_THREADS='{text}' ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void A_hostile_value_is_shown_shortened_and_without_control_characters()
    {
        string text = "ab\u001b[31m\ncd" + new string('x', 100);
        (_, string? error) = NtkParallel.ParseEnvironment(text, fallback: 2);
        Assert.NotNull(error);
        Assert.DoesNotContain(error, c => char.IsControl(c));
        Assert.Contains("…", error, StringComparison.Ordinal);
        Assert.True(error.Length < 200, error);
    }

    [Fact]
    public void The_test_process_itself_has_no_environment_error()
    {
        // The test host runs with NTKFAST_THREADS unset or valid (CI may set it to 1 or 2).
        Assert.Null(NtkParallel.EnvironmentError);
        Assert.InRange(NtkParallel.MaxThreads, 1, int.MaxValue);
    }
}
