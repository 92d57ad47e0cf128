using NtkFast.IO;

namespace NtkFast.Architectures;

/// <summary>
/// Parameter files of <see cref="ArchitectureNetwork"/>s (<c>ntk init --arch</c>, <c>ntk train</c>): a numpy
/// .npz holding <c>arch</c> (0-d unicode: the layer spec), <c>input_shape</c> (float64 [H, W, C]),
/// <c>beta</c> and <c>weight_std</c> (0-d float64: the defaults of the layers) and <c>theta</c> (1-D float64, or
/// float32 for a float32 network: every parameter, laid out as <see cref="ArchitectureNetwork"/> documents). Reading is strict:
/// a missing or extra array, a spec that does not parse, a θ of the wrong length or a non-finite value is a
/// one-line <see cref="InvalidDataException"/> naming the file. MLP files (W0, b0, …) are <see cref="Networks.MlpFile"/>'s.
/// </summary>
public static class ArchitectureNetworkFile
{
    private static readonly string[] Names = ["arch", "input_shape", "beta", "weight_std", "theta"];

    /// <summary>The named arrays of the file, in file order.</summary>
    public static List<KeyValuePair<string, NpyArray>> ToArrays(ArchitectureNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Architecture a = network.Architecture;
        string spec = a.Spec ?? throw new ArgumentException("the network's architecture was not parsed from a spec, so it cannot be written as one", nameof(network));
        (int h, int w, int c) = network.InputShape;
        return
        [
            new("arch", NpyArray.FromText(spec)),
            new("input_shape", NpyArray.FromFloat64([h, w, c], 3)),
            new("beta", NpyArray.Scalar(a.Beta)),
            new("weight_std", NpyArray.Scalar(a.WeightStd)),
            new("theta", network switch
            {
                ArchitectureNetwork<float> f => NpyArray.FromFloat32((float[])f.Parameters.Clone(), f.ParameterCount),
                ArchitectureNetwork<double> d => NpyArray.FromFloat64((double[])d.Parameters.Clone(), d.ParameterCount),
                _ => throw new ArgumentException("networks are float or double", nameof(network)),
            }),
        ];
    }

    /// <summary>Writes the file as a .npz image to a stream.</summary>
    public static void Write(Stream stream, ArchitectureNetwork network)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Npz.Write(stream, ToArrays(network));
    }

    /// <summary>Whether the .npz at <paramref name="path"/> is an architecture network file (it holds <c>arch</c>).</summary>
    public static bool IsArchitectureFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using NpzArchive a = Npz.Open(path, path, strict: true, convertToFloat64: false);
        return a.ContainsKey("arch");
    }

    /// <summary>Reads a file written by <see cref="Write"/> (or by numpy with the same arrays) in the given precision.</summary>
    public static ArchitectureNetwork<T> Read<T>(string path) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => Read(path) is ArchitectureNetwork<T> same ? same : Read(path).ConvertTo<T>();

    /// <summary>
    /// Reads a file written by <see cref="Write"/> (or by numpy with the same arrays), keeping its precision: an
    /// <see cref="ArchitectureNetwork{T}"/> of float when <c>theta</c> is float32, of double otherwise (other numeric
    /// dtypes convert exactly to float64).
    /// </summary>
    public static ArchitectureNetwork Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using NpzArchive a = Npz.Open(path, path, strict: true, convertToFloat64: true);
        foreach (string n in a.Names)
            if (Array.IndexOf(Names, n) < 0) throw new InvalidDataException($"{path}: unexpected array '{Printable.Quote(n)}' in an architecture network file (expected {string.Join(", ", Names)})");
        foreach (string n in Names)
            if (!a.ContainsKey(n)) throw new InvalidDataException($"{path}: missing array '{n}' (an architecture network file holds {string.Join(", ", Names)})");
        NpyArray spec = a["arch"];
        if (spec.Text is not string text) throw new InvalidDataException($"{path}: 'arch' must be a 0-d unicode string (the layer spec)");
        double beta = Scalar(a, "beta", path), weightStd = Scalar(a, "weight_std", path);
        NpyArray shape = a["input_shape"];
        double[] s = shape.ToDoubleArray();
        if (shape.Rank != 1 || s.Length != 3 || Array.Exists(s, v => !(v >= 1 && v <= int.MaxValue && v == Math.Floor(v))))
            throw new InvalidDataException($"{path}: 'input_shape' must be three positive integers [H, W, C]");
        Architecture arch;
        int count;
        try
        {
            arch = Architecture.Parse(text, weightStd, beta);
            count = ArchitectureNetwork.Initialize(arch, (int)s[0], (int)s[1], (int)s[2], 0).ParameterCount;
        }
        catch (ArchitectureException e) { throw new InvalidDataException($"{path}: 'arch': {e.Message}"); }
        NpyArray theta = a["theta"];
        if (!theta.IsNumeric || theta.Rank != 1 || theta.Count != count)
            throw new InvalidDataException($"{path}: 'theta' has shape {NpyArray.ShapeString(theta.Shape)}, the architecture on {(int)s[0]}×{(int)s[1]}×{(int)s[2]} inputs has {count} parameters");
        if (theta.DType == NpyDType.Float32)
        {
            float[] single = theta.ToSingleArray();
            int badF = Array.FindIndex(single, v => !float.IsFinite(v));
            if (badF >= 0) throw new InvalidDataException($"{path}: 'theta' holds a non-finite value at index {badF}");
            return ArchitectureNetwork<float>.FromParameters(arch, (int)s[0], (int)s[1], (int)s[2], single);
        }
        double[] values = theta.ToDoubleArray();
        int bad = Array.FindIndex(values, v => !double.IsFinite(v));
        if (bad >= 0) throw new InvalidDataException($"{path}: 'theta' holds a non-finite value at index {bad}");
        return ArchitectureNetwork<double>.FromParameters(arch, (int)s[0], (int)s[1], (int)s[2], values);
    }

    private static double Scalar(NpzArchive a, string name, string path)
    {
        NpyArray v = a[name];
        double[] d = v.IsNumeric ? v.ToDoubleArray() : [];
        if (v.Rank != 0 || d.Length != 1 || !double.IsFinite(d[0]) || d[0] < 0)
            throw new InvalidDataException($"{path}: '{name}' must be a 0-d finite non-negative number");
        return d[0];
    }
}
