using System.Globalization;
using System.Numerics;
using NtkFast.Activations;
using NtkFast.IO;

namespace NtkFast.Networks;

/// <summary>
/// Network parameter files (docs/design.md §3): a numpy .npz holding W0, b0, W1, b1, … (W_l shaped
/// (n(l+1), n(l)), b_l shaped (n(l+1),), float32 or float64, all the same dtype), the 0-d float64
/// scalars beta and weight_std, and the 0-d unicode scalar activation (numpy '&lt;U', e.g.
/// 'leaky_relu:0.2'). <c>numpy.load</c> reads them as they are; files numpy wrote (savez or
/// savez_compressed, any byte order, C or Fortran order) are read.
/// Reading is strict: a missing or extra layer, an unknown array, inconsistent shapes, mixed
/// dtypes or a non-finite value is a one-line <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class MlpFile
{
    /// <summary>Writes the network atomically (the destination never exists partially written).</summary>
    public static void Write<T>(string path, Mlp<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(network);
        Npz.Write(path, ToArrays(network));
    }

    /// <summary>Writes the network as a .npz image to a stream.</summary>
    public static void Write<T>(Stream stream, Mlp<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(network);
        Npz.Write(stream, ToArrays(network));
    }

    /// <summary>The named arrays of a parameter file, in file order.</summary>
    public static List<KeyValuePair<string, NpyArray>> ToArrays<T>(Mlp<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        MlpArchitecture a = network.Architecture;
        var list = new List<KeyValuePair<string, NpyArray>>(2 * a.Depth + 3);
        for (int l = 0; l < a.Depth; l++)
        {
            list.Add(new($"W{l}", ToNpy(network.Weights(l), [a.Width(l + 1), a.Width(l)])));
            list.Add(new($"b{l}", ToNpy(network.Bias(l), [a.Width(l + 1)])));
        }
        list.Add(new("beta", NpyArray.Scalar(a.Beta)));
        list.Add(new("weight_std", NpyArray.Scalar(a.WeightStd)));
        list.Add(new("activation", NpyArray.FromText(a.Activation.Name)));
        return list;
    }

    private static NpyArray ToNpy<T>(ReadOnlySpan<T> data, int[] shape) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            return NpyArray.FromFloat64(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(data).ToArray(), shape);
        return NpyArray.FromFloat32(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(data).ToArray(), shape);
    }

    /// <summary>Reads a parameter file, keeping its precision (see <see cref="MlpFileContents.IsFloat32"/>).</summary>
    public static MlpFileContents Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // names are checked from the zip directory first; only the arrays used are inflated
        using NpzArchive arrays = Npz.Open(path);
        return FromArrays(arrays, path);
    }

    /// <summary>Reads a parameter file from a stream; <paramref name="name"/> prefixes errors.</summary>
    public static MlpFileContents Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using NpzArchive arrays = Npz.Open(stream, name);
        return FromArrays(arrays, name);
    }

    /// <summary>Reads a parameter file as a network of precision T (converted if the file has the other one).</summary>
    public static Mlp<T> Read<T>(string path) where T : unmanaged, IFloatingPointIeee754<T> => Read(path).ToNetwork<T>();

    /// <summary>Builds the network from the arrays of a parameter file, checking every name, shape and value.</summary>
    public static MlpFileContents FromArrays(IReadOnlyDictionary<string, NpyArray> arrays, string fileName)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        ArgumentNullException.ThrowIfNull(fileName);
        string F(string msg) => $"{fileName}: {msg}";

        // Depth: the number of consecutive W0, W1, …; every other array must be known.
        int depth = 0;
        while (arrays.ContainsKey($"W{depth}")) depth++;
        if (depth == 0) throw new InvalidDataException(F("missing array 'W0' (not a network parameter file?)"));
        foreach (string key in arrays.Keys)
        {
            if (key is "beta" or "weight_std" or "activation") continue;
            if (key.Length >= 2 && (key[0] == 'W' || key[0] == 'b') &&
                int.TryParse(key.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int idx) &&
                idx.ToString(CultureInfo.InvariantCulture) == key[1..])
            {
                if (idx >= depth)
                    throw new InvalidDataException(F($"has array '{Printable.Quote(key)}' but no 'W{depth}': layer {depth} is missing"));
                continue;
            }
            throw new InvalidDataException(F($"unexpected array '{Printable.Quote(key)}' (a parameter file holds W0, b0, …, beta, weight_std, activation)"));
        }

        double beta = ReadScalar(arrays, "beta", fileName);
        double weightStd = ReadScalar(arrays, "weight_std", fileName);
        NpyArray actArray = Npz.Get(arrays, "activation", fileName);
        if (actArray.DType != NpyDType.Unicode || actArray.Rank != 0)
            throw new InvalidDataException(F($"'activation' must be a 0-d unicode string, got {actArray}"));
        string actName = actArray.Text!;
        if (actName.Length > Printable.NameLength)
            throw new InvalidDataException(F($"activation '{Printable.Quote(actName)}' is too long to be an activation name"));
        Activation activation;
        try { activation = ActivationRegistry.Parse(actName); }
        catch (ArgumentException e)
        {
            // the registry's message quotes the name as it is: escape control characters
            string why = FirstLine(e.Message);
            string param = $" (Parameter '{e.ParamName}')";
            if (e.ParamName is not null && why.EndsWith(param, StringComparison.Ordinal)) why = why[..^param.Length];
            throw new InvalidDataException(F($"activation: {Printable.Quote(why, 1000)}"));
        }

        var widths = new int[depth + 1];
        NpyDType? dtype = null;
        for (int l = 0; l < depth; l++)
        {
            NpyArray w = Npz.Get(arrays, $"W{l}", fileName);
            NpyArray b = Npz.Get(arrays, $"b{l}", fileName);
            foreach ((string name, NpyArray arr) in new[] { ($"W{l}", w), ($"b{l}", b) })
            {
                if (!arr.IsNumeric) throw new InvalidDataException(F($"'{name}' holds text, expected float32 or float64 numbers"));
                dtype ??= arr.DType;
                if (arr.DType != dtype)
                    throw new InvalidDataException(F($"'{name}' is {arr.DType} but 'W0' is {dtype}: all weights and biases must have one dtype"));
            }
            if (w.Rank != 2) throw new InvalidDataException(F($"'W{l}' has shape {NpyArray.ShapeString(w.Shape)}, expected 2-D (n{l + 1}, n{l})"));
            if (b.Rank != 1) throw new InvalidDataException(F($"'b{l}' has shape {NpyArray.ShapeString(b.Shape)}, expected 1-D (n{l + 1},)"));
            if (w.Shape[0] < 1 || w.Shape[1] < 1) throw new InvalidDataException(F($"'W{l}' has shape {NpyArray.ShapeString(w.Shape)}: widths must be at least 1"));
            if (l == 0) widths[0] = w.Shape[1];
            else if (w.Shape[1] != widths[l])
                throw new InvalidDataException(F($"'W{l}' has shape {NpyArray.ShapeString(w.Shape)} but 'W{l - 1}' gives n{l} = {widths[l]}: inconsistent shapes"));
            widths[l + 1] = w.Shape[0];
            if (b.Shape[0] != widths[l + 1])
                throw new InvalidDataException(F($"'b{l}' has shape {NpyArray.ShapeString(b.Shape)} but 'W{l}' gives n{l + 1} = {widths[l + 1]}: inconsistent shapes"));
        }

        MlpArchitecture arch;
        try { arch = new MlpArchitecture(widths, activation, beta, weightStd); }
        catch (ArgumentException e) { throw new InvalidDataException(F(FirstLine(e.Message))); }

        bool f32 = dtype == NpyDType.Float32;
        double[]? theta64 = f32 ? null : new double[arch.ParameterCount];
        float[]? theta32 = f32 ? new float[arch.ParameterCount] : null;
        for (int l = 0; l < depth; l++)
        {
            Copy(arrays[$"W{l}"], arch.WeightOffset(l), $"W{l}");
            Copy(arrays[$"b{l}"], arch.BiasOffset(l), $"b{l}");
        }
        return new MlpFileContents(arch, theta32, theta64);

        void Copy(NpyArray src, int offset, string name)
        {
            if (f32)
            {
                float[] s = src.Float32!;
                int bad = Array.FindIndex(s, v => !float.IsFinite(v));
                if (bad >= 0) throw new InvalidDataException(F($"'{name}' contains {s[bad]} at flat index {bad}"));
                s.CopyTo(theta32!, offset);
            }
            else
            {
                double[] s = src.Float64!;
                int bad = Array.FindIndex(s, v => !double.IsFinite(v));
                if (bad >= 0) throw new InvalidDataException(F($"'{name}' contains {s[bad]} at flat index {bad}"));
                s.CopyTo(theta64!, offset);
            }
        }
    }

    private static double ReadScalar(IReadOnlyDictionary<string, NpyArray> arrays, string key, string fileName)
    {
        NpyArray a = Npz.Get(arrays, key, fileName);
        if (!a.IsNumeric || a.Count != 1)
            throw new InvalidDataException($"{fileName}: '{key}' must be a numeric scalar, got {a}");
        double v = a.ToScalar();
        if (!double.IsFinite(v) || v < 0)
            throw new InvalidDataException($"{fileName}: '{key}' = {v.ToString(CultureInfo.InvariantCulture)} must be finite and non-negative");
        return v;
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }
}

/// <summary>A parameter file as read: the architecture and θ in the file's own precision.</summary>
public sealed class MlpFileContents
{
    private readonly float[]? _single;
    private readonly double[]? _double;

    internal MlpFileContents(MlpArchitecture architecture, float[]? single, double[]? dbl)
    {
        Architecture = architecture;
        _single = single;
        _double = dbl;
    }

    public MlpArchitecture Architecture { get; }

    /// <summary>True when the file stores float32 weights, false for float64.</summary>
    public bool IsFloat32 => _single is not null;

    /// <summary>
    /// A new network in precision T. In the file's own precision θ is a copy of the values read
    /// (bit-identical); otherwise it is converted (float64 → float32 rounds to nearest,
    /// float32 → float64 is exact).
    /// </summary>
    public Mlp<T> ToNetwork<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && _single is not null) return new Mlp<T>(Architecture, (T[])_single.Clone());
        if (typeof(T) == typeof(double) && _double is not null) return new Mlp<T>(Architecture, (T[])_double.Clone());
        if (_single is not null) return new Mlp<float>(Architecture, _single).ConvertTo<T>();
        return new Mlp<double>(Architecture, _double!).ConvertTo<T>();
    }
}
