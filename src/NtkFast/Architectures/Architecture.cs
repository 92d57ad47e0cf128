using System.Globalization;
using System.Text;
using NtkFast.Activations;

namespace NtkFast.Architectures;

/// <summary>A bad architecture spec or an architecture that does not fit its input: one clear message.</summary>
public sealed class ArchitectureException(string message) : ArgumentException(message);

/// <summary>
/// A network built from layers (docs/notes/arch.md): dense, convolutions, activations, pooling, flatten,
/// residual sums. Its infinite-width kernels come from <see cref="ArchitectureKernels"/>.
/// </summary>
/// <example><code>
/// var arch = Architecture.Parse("conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1");
/// KernelResult k = ArchitectureKernels.Compute(arch, ImageSet.FromNpy(Npy.Read("X.npy")));
/// </code></example>
public sealed class Architecture
{
    public Architecture(IReadOnlyList<Layer> layers, Parameterization parameterization = Parameterization.Ntk,
        double weightStd = 1.0, double beta = 0.1)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (!(weightStd >= 0) || !double.IsFinite(weightStd)) throw new ArchitectureException($"weight std must be finite and non-negative, got {weightStd}");
        if (!(beta >= 0) || !double.IsFinite(beta)) throw new ArchitectureException($"beta must be finite and non-negative, got {beta}");
        if (layers.Count == 0) throw new ArchitectureException("architecture has no layers");
        Layers = layers;
        Parameterization = parameterization;
        WeightStd = weightStd;
        Beta = beta;
    }

    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>The spec text this architecture was parsed from (tokens separated by single spaces), or null when built from layers.</summary>
    public string? Spec { get; private init; }
    public Parameterization Parameterization { get; }
    /// <summary>σw of layers that do not set their own.</summary>
    public double WeightStd { get; }
    /// <summary>β of layers that do not set their own.</summary>
    public double Beta { get; }

    /// <summary>The MLP of today's <c>--depth/--activation</c>: L dense layers of <paramref name="width"/> with σ between them.</summary>
    public static Architecture Mlp(int depth, Activation activation, double weightStd = 1.0, double beta = 0.1, int width = 512)
    {
        ArgumentNullException.ThrowIfNull(activation);
        var layers = new List<Layer>();
        for (int l = 0; l < depth; l++)
        {
            if (l > 0) layers.Add(new ActivationLayer(activation));
            layers.Add(new DenseLayer(l == depth - 1 ? 1 : width));
        }
        return new Architecture(layers, Parameterization.Ntk, weightStd, beta);
    }

    /// <summary>Layer tokens accepted by <see cref="Parse"/>.</summary>
    public const string Grammar =
        "dense:WIDTH[,w=S][,b=B]  conv:C,KxK[,sS][,same|valid][,w=S][,b=B]  conv1d:C,K[,sS][,same|valid][,w=S][,b=B]  " +
        "avgpool:K[xK][,sS]  maxpool:K[xK][,sS] (finite networks only)  gap  flatten  id  res{ LAYERS }  sum{ LAYERS | LAYERS … }  param:ntk|standard  " +
        "or an activation (relu, erf, leaky_relu:A, …)";

    /// <summary>
    /// Parses a spec such as <c>"conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1"</c> (tokens separated by
    /// spaces; see <see cref="Grammar"/>). Throws <see cref="ArchitectureException"/> with one line on any error.
    /// </summary>
    public static Architecture Parse(string spec, double weightStd = 1.0, double beta = 0.1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var sb = new StringBuilder(spec.Length + 16);
        foreach (char ch in spec) { if (ch is '{' or '}' or '|') sb.Append(' ').Append(ch).Append(' '); else sb.Append(ch); }
        string[] tokens = sb.ToString().Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);
        int pos = 0;
        Parameterization param = Parameterization.Ntk;
        List<Layer> layers = ParseSequence(tokens, ref pos, ref param, topLevel: true, out _);
        if (layers.Count == 0) throw new ArchitectureException("architecture spec has no layers");
        return new Architecture(layers, param, weightStd, beta) { Spec = string.Join(' ', tokens) };
    }

    private static List<Layer> ParseSequence(string[] t, ref int pos, ref Parameterization param, bool topLevel, out string? end)
    {
        var layers = new List<Layer>();
        end = null;
        while (pos < t.Length)
        {
            string tok = t[pos++];
            if (tok is "}" or "|")
            {
                if (topLevel) throw new ArchitectureException($"unexpected '{tok}' in architecture spec");
                end = tok;
                return layers;
            }
            if (tok == "{") throw new ArchitectureException("'{' must follow res or sum");
            string lower = tok.ToLowerInvariant();
            if (lower is "res" or "sum")
            {
                if (pos >= t.Length || t[pos] != "{") throw new ArchitectureException($"'{tok}' must be followed by '{{ … }}'");
                pos++;
                var branches = new List<IReadOnlyList<Layer>>();
                if (lower == "res") branches.Add([]);
                while (true)
                {
                    List<Layer> b = ParseSequence(t, ref pos, ref param, topLevel: false, out string? e);
                    branches.Add(b);
                    if (e is null) throw new ArchitectureException($"'{tok}{{' is not closed by '}}'");
                    if (e == "}") break;
                    if (lower == "res") throw new ArchitectureException("res{ … } has one branch (use sum{ a | b } for several)");
                }
                layers.Add(new SumLayer(branches));
                continue;
            }
            Layer? layer = ParseToken(tok, ref param);
            if (layer is not null) layers.Add(layer);
        }
        return layers;
    }

    private static Layer? ParseToken(string tok, ref Parameterization param)
    {
        string lower = tok.ToLowerInvariant();
        int colon = lower.IndexOf(':', StringComparison.Ordinal);
        string head = colon < 0 ? lower : lower[..colon];
        string[] args = colon < 0 ? [] : lower[(colon + 1)..].Split(',');
        switch (head)
        {
            case "param":
                param = args is ["ntk"] ? Parameterization.Ntk : args is ["standard"] or ["sp"] ? Parameterization.Standard
                    : throw new ArchitectureException($"'{tok}': parameterisation must be param:ntk or param:standard");
                return null;
            case "dense":
            {
                if (args.Length < 1) throw new ArchitectureException($"'{tok}': dense needs a width, e.g. dense:512");
                int width = PositiveInt(tok, args[0], "width");
                (double? w, double? b) = WeightBias(tok, args.AsSpan(1), out _, out _, out _);
                return new DenseLayer(width, w, b);
            }
            case "conv" or "conv2d" or "conv1d":
            {
                bool oneD = head == "conv1d";
                if (args.Length < 2) throw new ArchitectureException($"'{tok}': {head} needs channels and a filter size, e.g. {(oneD ? "conv1d:32,3" : "conv:32,3x3")}");
                int channels = PositiveInt(tok, args[0], "channels");
                (int fh, int fw) = Size(tok, args[1], "filter size", oneD);
                (double? w, double? b) = WeightBias(tok, args.AsSpan(2), out (int, int)? stride, out Padding? pad, out _, oneD);
                (int sh, int sw) = stride ?? (1, 1);
                return new ConvLayer(channels, fh, fw, sh, sw, pad ?? Padding.Same, w, b);
            }
            case "avgpool" or "pool" or "maxpool":
            {
                if (args.Length < 1) throw new ArchitectureException($"'{tok}': {head} needs a window, e.g. {head}:2");
                (int wh, int ww) = Size(tok, args[0], "window", false);
                WeightBias(tok, args.AsSpan(1), out (int, int)? stride, out Padding? pad, out bool wb);
                if (pad is not null || wb) throw new ArchitectureException($"'{tok}': {head} takes a window and a stride only");
                (int sh, int sw) = stride ?? (wh, ww);
                return head == "maxpool" ? new MaxPoolLayer(wh, ww, sh, sw) : new AvgPoolLayer(wh, ww, sh, sw);
            }
            case "gap" or "globalavgpool":
                NoArgs(tok, args); return new GlobalAvgPoolLayer();
            case "flatten":
                NoArgs(tok, args); return new FlattenLayer();
            case "id":
                NoArgs(tok, args); return new IdentityLayer();
        }
        try { return new ActivationLayer(ActivationRegistry.Parse(tok)); }
        catch (ArgumentException)
        {
            throw new ArchitectureException($"unknown layer '{tok}' (layers: dense, conv, conv1d, avgpool, maxpool, gap, flatten, id, res{{}}, sum{{}}, param:; activations: {string.Join(", ", ActivationRegistry.KnownNames)})");
        }
    }

    private static void NoArgs(string tok, string[] args)
    {
        if (args.Length > 0) throw new ArchitectureException($"'{tok}' takes no parameters");
    }

    private static int PositiveInt(string tok, string s, string what)
    {
        if (!int.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            throw new ArchitectureException($"'{tok}': {what} '{s}' is not an integer");
        if (v < 1) throw new ArchitectureException($"'{tok}': {what} must be at least 1, got {v}");
        return v;
    }

    private static (int, int) Size(string tok, string s, string what, bool oneD)
    {
        int x = s.IndexOf('x', StringComparison.Ordinal);
        if (x < 0) { int k = PositiveInt(tok, s, what); return oneD ? (1, k) : (k, k); }
        if (oneD) throw new ArchitectureException($"'{tok}': conv1d takes one {what}, got '{s}'");
        return (PositiveInt(tok, s[..x], what), PositiveInt(tok, s[(x + 1)..], what));
    }

    private static (double?, double?) WeightBias(string tok, ReadOnlySpan<string> opts, out (int, int)? stride, out Padding? pad, out bool any, bool oneD = false)
    {
        double? w = null, b = null;
        stride = null; pad = null; any = false;
        foreach (string raw in opts)
        {
            string o = raw.Trim();
            if (o == "same") pad = Padding.Same;
            else if (o == "valid") pad = Padding.Valid;
            else if (o.StartsWith("w=", StringComparison.Ordinal)) { w = NonNegative(tok, o[2..], "weight std"); any = true; }
            else if (o.StartsWith("b=", StringComparison.Ordinal)) { b = NonNegative(tok, o[2..], "bias std"); any = true; }
            else if (o.StartsWith('s') && o.Length > 1) stride = Size(tok, o[1..], "stride", oneD);
            else throw new ArchitectureException($"'{tok}': unknown option '{o}' (same, valid, sN, w=σw, b=β)");
        }
        return (w, b);
    }

    private static double NonNegative(string tok, string s, string what)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new ArchitectureException($"'{tok}': {what} '{s}' is not a finite number");
        if (v < 0) throw new ArchitectureException($"'{tok}': {what} must be non-negative, got {s}");
        return v;
    }

    public override string ToString() => $"{Layers.Count} layers, {Parameterization}, weight std {WeightStd}, beta {Beta}";
}
