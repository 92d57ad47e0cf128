using NtkFast.Numerics;

namespace NtkFast.IO;

/// <summary>Element type of an <see cref="NpyArray"/>: the numpy dtypes NtkFast reads and writes.</summary>
public enum NpyDType
{
    /// <summary>numpy '&lt;f4' (IEEE single precision).</summary>
    Float32,
    /// <summary>numpy '&lt;f8' (IEEE double precision).</summary>
    Float64,
    /// <summary>numpy '&lt;U…' (UTF-32 text); only 0-d scalars are supported, e.g. the 'activation' entry of a parameter file.</summary>
    Unicode,
}

/// <summary>
/// An n-dimensional numpy array as NtkFast keeps it: a shape and C-order (row-major) data
/// in exactly one of <see cref="Float32"/>, <see cref="Float64"/> or <see cref="Text"/>.
/// Files in big-endian or Fortran order are converted on reading, so the data here is always
/// native-endian C order.
/// </summary>
public sealed class NpyArray
{
    private NpyArray(NpyDType dtype, int[] shape, float[]? f32, double[]? f64, string? text)
    {
        DType = dtype;
        Shape = shape;
        Float32 = f32;
        Float64 = f64;
        Text = text;
    }

    public NpyDType DType { get; }

    /// <summary>Dimensions; empty for a 0-d scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The data when <see cref="DType"/> is Float32 (C order), else null.</summary>
    public float[]? Float32 { get; }

    /// <summary>The data when <see cref="DType"/> is Float64 (C order), else null.</summary>
    public double[]? Float64 { get; }

    /// <summary>The string when <see cref="DType"/> is Unicode (a 0-d scalar), else null.</summary>
    public string? Text { get; }

    public int Rank => Shape.Length;

    /// <summary>Number of elements (1 for a 0-d scalar).</summary>
    public long Count => CountOf(Shape);

    public bool IsNumeric => DType != NpyDType.Unicode;

    public static NpyArray FromFloat64(double[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        int[] s = CheckShape(shape, data.Length, nameof(data));
        return new NpyArray(NpyDType.Float64, s, null, data, null);
    }

    public static NpyArray FromFloat32(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        int[] s = CheckShape(shape, data.Length, nameof(data));
        return new NpyArray(NpyDType.Float32, s, data, null, null);
    }

    /// <summary>A 0-d float64 scalar (numpy <c>np.float64(value)</c> saved as an array).</summary>
    public static NpyArray Scalar(double value) => new(NpyDType.Float64, [], null, [value], null);

    /// <summary>A 0-d unicode scalar (numpy '&lt;U…'), e.g. an activation name.</summary>
    public static NpyArray FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException("Text may not contain NUL characters (numpy strips them).", nameof(text));
        return new NpyArray(NpyDType.Unicode, [], null, null, text);
    }

    /// <summary>A 2-D float64 array sharing the matrix's storage.</summary>
    public static NpyArray FromMatrix(Matrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return new NpyArray(NpyDType.Float64, [matrix.Rows, matrix.Cols], null, matrix.Data, null);
    }

    /// <summary>
    /// The data as float64. For a Float64 array this is <see cref="Float64"/> itself (not a copy,
    /// so large parameter matrices are not duplicated); Float32 data is widened into a new array.
    /// </summary>
    public double[] ToDoubleArray()
    {
        if (Float64 is not null) return Float64;
        if (Float32 is not null)
        {
            var r = new double[Float32.Length];
            for (int i = 0; i < r.Length; i++) r[i] = Float32[i];
            return r;
        }
        throw new InvalidDataException($"array of dtype {DType} is not numeric");
    }

    /// <summary>The data as float32 (a narrowing copy for Float64 arrays; <see cref="Float32"/> itself otherwise).</summary>
    public float[] ToSingleArray()
    {
        if (Float32 is not null) return Float32;
        if (Float64 is not null)
        {
            var r = new float[Float64.Length];
            for (int i = 0; i < r.Length; i++) r[i] = (float)Float64[i];
            return r;
        }
        throw new InvalidDataException($"array of dtype {DType} is not numeric");
    }

    /// <summary>The value of a numeric array with exactly one element (0-d, or shape (1,), (1,1), …).</summary>
    public double ToScalar()
    {
        if (!IsNumeric) throw new InvalidDataException($"expected a number, got a {DType} value");
        if (Count != 1) throw new InvalidDataException($"expected a scalar, got an array of shape {ShapeString(Shape)}");
        return Float64 is not null ? Float64[0] : Float32![0];
    }

    /// <summary>A copy as a <see cref="Matrix"/>: 2-D arrays as they are (Float64 data is shared, not copied), 1-D arrays as one column.</summary>
    public Matrix ToMatrix()
    {
        if (!IsNumeric) throw new InvalidDataException($"expected a numeric array, got a {DType} value");
        return Rank switch
        {
            2 => new Matrix(Shape[0], Shape[1], ToDoubleArray()),
            1 => new Matrix(Shape[0], 1, ToDoubleArray()),
            _ => throw new InvalidDataException($"expected a 2-D array, got shape {ShapeString(Shape)}"),
        };
    }

    /// <summary>numpy's spelling of a shape: (), (3,), (3, 4).</summary>
    public static string ShapeString(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 0) return "()";
        if (shape.Length == 1) return $"({shape[0]},)";
        var sb = new System.Text.StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(')').ToString();
    }

    public override string ToString() => $"NpyArray({DType}, shape {ShapeString(Shape)})";

    internal static long CountOf(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }

    private static int[] CheckShape(int[]? shape, int length, string dataName)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Shape {ShapeString(shape)} has a negative dimension.", nameof(shape));
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"Shape {ShapeString(shape)} has too many elements.", nameof(shape));
        }
        if (n != length)
            throw new ArgumentException($"Data has {length} elements but shape {ShapeString(shape)} needs {n}.", dataName);
        return (int[])shape.Clone();
    }

    internal static NpyArray Create(NpyDType dtype, int[] shape, float[]? f32, double[]? f64, string? text) => new(dtype, shape, f32, f64, text);
}
