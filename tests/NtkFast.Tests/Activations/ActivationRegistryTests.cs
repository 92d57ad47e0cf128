using NtkFast.Activations;
using Xunit;

namespace NtkFast.Tests.Activations;

public class ActivationRegistryTests
{
    [Theory]
    [InlineData("relu", "relu")]
    [InlineData(" ReLU ", "relu")]
    [InlineData("leaky_relu", "leaky_relu:0.01")]
    [InlineData("leaky_relu:0.2", "leaky_relu:0.2")]
    [InlineData("abs", "abs")]
    [InlineData("erf", "erf")]
    [InlineData("identity", "identity")]
    [InlineData("sign", "sign")]
    [InlineData("sin", "sin")]
    [InlineData("cos", "cos")]
    [InlineData("gelu", "gelu")]
    [InlineData("tanh", "tanh")]
    [InlineData("sigmoid", "sigmoid")]
    [InlineData("softplus", "softplus")]
    [InlineData("silu", "silu")]
    [InlineData("elu", "elu:1")]
    [InlineData("elu:1.0", "elu:1")]
    [InlineData("elu:0.5", "elu:0.5")]
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
    public void Known_names_cover_the_design()
    {
        Assert.Equal(14, ActivationRegistry.KnownNames.Count);
        foreach (string n in ActivationRegistry.KnownNames)
            Assert.NotNull(ActivationRegistry.Parse(n.Replace("[:A]", "")));
    }
}
