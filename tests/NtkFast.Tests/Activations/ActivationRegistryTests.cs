using NtkFast.Activations;
using Xunit;

namespace NtkFast.Tests.Activations;

public class ActivationRegistryTests
{
    public static TheoryData<string, string> Spellings()
    {
        // Every table row's examples parse to themselves (up to the canonical number format), plus case,
        // spaces, aliases and the parameter defaults.
        var rows = new List<(string, string)>();
        foreach (ActivationInfo e in ActivationRegistry.All)
            foreach (string x in e.Examples) rows.Add((x, ActivationRegistry.Parse(x).Name));
        rows.AddRange([(" ReLU ", "relu"), ("leaky_relu", "leaky_relu:0.01"), ("elu", "elu:1"), ("elu:1.0", "elu:1"), ("linear", "identity"), ("swish", "silu")]);
        var d = new TheoryData<string, string>();
        foreach ((string text, string canonical) in rows.Distinct()) d.Add(text, canonical); // an example may also be a hand-written row
        return d;
    }

    [Theory]
    [MemberData(nameof(Spellings))]
    public void Parses_every_documented_name(string text, string canonical)
    {
        Activation a = ActivationRegistry.Parse(text);
        Assert.Equal(canonical, a.Name);
        Assert.Equal(canonical, ActivationRegistry.Parse(a.Name).Name);
    }

    [Theory]
    [InlineData("relux")]
    [InlineData("")]
    [InlineData("leaky_relu:abc")]
    [InlineData("leaky_relu:nan")]
    [InlineData("elu:")]
    [InlineData("relu:2")]
    public void Bad_names_throw_listing_known_names(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationRegistry.Parse(text));
        Assert.Contains("relu", e.Message);
        Assert.Contains("elu", e.Message);
        Assert.Equal("name", e.ParamName);
    }

    [Fact]
    public void Table_is_consistent()
    {
        Assert.Equal(ActivationRegistry.All.Count, ActivationRegistry.KnownNames.Count);
        Assert.Equal(ActivationRegistry.All.Count, ActivationRegistry.All.Select(e => e.Name).Distinct().Count());
        foreach (ActivationInfo e in ActivationRegistry.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Description));
            Activation a = e.Create();
            Assert.Same(e, ActivationRegistry.Find(a.Name));
            Assert.Equal(e.Kind == DualKind.ClosedForm, a.HasClosedFormDual);
            Assert.Equal(e.Kind == DualKind.Smooth || e.Kind == DualKind.Quadrature, a is QuadratureActivation);
            Assert.Contains(e.Usage, ActivationRegistry.KnownNames);
            Assert.Equal(e.Parameter is null ? 1 : 2, e.Examples.Count);
            foreach (string alias in e.Aliases) Assert.Equal(a.Name, ActivationRegistry.Parse(alias).Name);
        }
    }

    /// <summary>The design doc's activation list and the notes' table name every row of the registry.</summary>
    [Fact]
    public void Docs_list_every_activation()
    {
        string design = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "design.md"));
        string notes = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "notes", "act.md"));
        foreach (ActivationInfo e in ActivationRegistry.All)
        {
            Assert.Contains(e.Name, design);
            Assert.Contains($"| `{e.Usage}` |", notes);
        }
    }

    private static string RepoRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "NtkFast.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("no NtkFast.sln above " + AppContext.BaseDirectory);
    }
}
