using NtkFast.Tiling;
using Xunit;

namespace NtkFast.Tests.Distributed;

public class MemoryBudgetTests
{
    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("64k", 64L << 10)]
    [InlineData("512M", 512L << 20)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("512mb", 512L << 20)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("2GB", 2L << 30)]
    [InlineData("1T", 1L << 40)]
    [InlineData("100B", 100L)]
    public void Parses_sizes(string text, long expected) => Assert.Equal(expected, MemoryBudget.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-5M")]
    [InlineData("0")]
    [InlineData("150%")]
    [InlineData("G")]
    public void Rejects_non_sizes(string text) => Assert.Throws<ArgumentException>(nameof(text), () => MemoryBudget.Parse(text));

    [Fact]
    public void Percent_and_default_are_shares_of_available_memory()
    {
        long avail = MemoryBudget.AvailableBytes();
        Assert.True(avail > 0);
        Assert.InRange(MemoryBudget.Parse("50%"), avail / 2 - (avail / 100), avail / 2 + (avail / 100));
        Assert.True(MemoryBudget.DefaultLimit() <= avail);
        // The command's view also caps by /proc/meminfo (NtkFast.Distributed), never above the GC's.
        long system = NtkFast.Distributed.SystemMemory.AvailableBytes();
        Assert.InRange(system, 1, avail);
        Assert.Equal(system / 4, MemoryBudget.Parse("25%", availableBytes: system), 1.0);
        Assert.True(NtkFast.Distributed.SystemMemory.DefaultLimit() <= system);
    }

    [Fact]
    public void Tile_size_is_the_largest_that_fits()
    {
        // 3 worker buffers of T² doubles each: T = 512 needs 3·2 MiB = 6 MiB on top of 10 MiB.
        Func<int, long> per = t => 8L * t * t;
        Assert.Equal(512, MemoryBudget.ChooseTileSize((10L << 20) + (6L << 20), 10L << 20, 3, per));
        Assert.Equal(448, MemoryBudget.ChooseTileSize((10L << 20) + (6L << 20) - 1, 10L << 20, 3, per));
        Assert.Equal(2048, MemoryBudget.ChooseTileSize(long.MaxValue / 4, 0, 2, per));
        Assert.Equal(0, MemoryBudget.ChooseTileSize(10L << 20, 10L << 20, 1, per));
    }

    [Fact]
    public void Formats_sizes() => Assert.Equal("1.5 GiB", MemoryBudget.Format(3L << 29));
}
