using NtkFast.IO;
using NtkFast.Numerics;

namespace NtkFast.Architectures;

/// <summary>
/// N inputs of shape Height×Width×Channels, channels last, row-major (numpy's N×H×W×C); N×L×C sequences
/// are Height = 1, and N×d points are 1×1×d.
/// </summary>
public sealed class ImageSet
{
    public ImageSet(double[] data, int count, int height, int width, int channels)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (count < 0 || height < 1 || width < 1 || channels < 1)
            throw new ArchitectureException($"bad input shape {count}×{height}×{width}×{channels}");
        if (data.LongLength != (long)count * height * width * channels)
            throw new ArchitectureException($"input has {data.LongLength} values, shape {count}×{height}×{width}×{channels} needs {(long)count * height * width * channels}");
        Data = data; Count = count; Height = height; Width = width; Channels = channels;
    }

    public double[] Data { get; }
    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int Pixels => Height * Width;
    /// <summary>Doubles per input.</summary>
    public int Stride => Height * Width * Channels;

    /// <summary>Points of a matrix (rows) as 1×1×d inputs.</summary>
    public static ImageSet FromMatrix(Matrix x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return new ImageSet(x.Data, x.Rows, 1, 1, x.Cols);
    }

    /// <summary>From a 2-D (N×d), 3-D (N×L×C) or 4-D (N×H×W×C) numeric array.</summary>
    public static ImageSet FromNpy(NpyArray a)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (!a.IsNumeric) throw new ArchitectureException("input array is not numeric");
        int[] s = a.Shape;
        double[] d = a.ToDoubleArray();
        foreach (double v in d) if (!double.IsFinite(v)) throw new ArchitectureException("input contains NaN or infinity");
        return s.Length switch
        {
            2 => new ImageSet(d, s[0], 1, 1, s[1]),
            3 => new ImageSet(d, s[0], 1, s[1], s[2]),
            4 => new ImageSet(d, s[0], s[1], s[2], s[3]),
            _ => throw new ArchitectureException($"input must be N×d, N×L×C or N×H×W×C; got shape {NpyArray.ShapeString(s)}"),
        };
    }

    public string ShapeString => $"{Height}×{Width}×{Channels}";
}
