using NtkFast.Numerics;

namespace NtkFast.Dynamics;

/// <summary>Classification as regression on one-hot targets (the paper's setting for MNIST).</summary>
public static class Classification
{
    /// <summary>
    /// Most classes a one-hot matrix may have. Labels are class indices 0 … C−1 and the matrix has a
    /// column per class, so a stray huge label (a regression target or an id read as a label) would
    /// otherwise allocate N × (label + 1) doubles; 65 536 classes is far beyond any classification
    /// data set the kernel regression here can handle and keeps the error immediate.
    /// </summary>
    public const int MaxClasses = 65536;

    /// <summary>
    /// N×C one-hot matrix (1 in the label's column, 0 elsewhere). C defaults to max label + 1 and
    /// may be at most <see cref="MaxClasses"/>; N×C must fit one matrix (2^31 − 1 elements).
    /// </summary>
    public static Matrix OneHot(ReadOnlySpan<int> labels, int classes = 0)
    {
        int max = -1, argMax = -1;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0) throw new ArgumentException($"label {i} is negative ({labels[i]}).", nameof(labels));
            if (labels[i] > max) { max = labels[i]; argMax = i; }
        }
        if (classes < 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one class.");
        if (classes > MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"at most {MaxClasses} classes are supported.");
        if (classes == 0)
        {
            if (max >= MaxClasses)
                throw new ArgumentException($"label {argMax} is {max}: one-hot targets support at most {MaxClasses} classes (labels 0…{MaxClasses - 1}); are these really class labels?", nameof(labels));
            classes = max + 1;
        }
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one class.");
        if (max >= classes) throw new ArgumentException($"label {max} is out of range for {classes} classes.", nameof(labels));
        if ((long)labels.Length * classes > int.MaxValue)
            throw new ArgumentException($"{labels.Length} labels × {classes} classes = {(long)labels.Length * classes} one-hot entries, more than one matrix holds (2^31 − 1).", nameof(labels));
        var y = new Matrix(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++) y[i, labels[i]] = 1;
        return y;
    }

    /// <summary>Labels from a column of numbers that must be non-negative integers.</summary>
    public static int[] LabelsFromColumn(Matrix column)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (column.Cols != 1) throw new ArgumentException($"labels must be one column, got {column.Cols}.", nameof(column));
        var labels = new int[column.Rows];
        for (int i = 0; i < labels.Length; i++)
        {
            double v = column[i, 0];
            if (!(v >= 0) || v != Math.Floor(v) || v > int.MaxValue)
                throw new ArgumentException($"label {i} is not a non-negative integer ({v}).", nameof(column));
            labels[i] = (int)v;
        }
        return labels;
    }

    /// <summary>Arg-max of each row (the first one on ties).</summary>
    public static int[] ArgMax(Matrix scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Cols == 0) throw new ArgumentException("scores have no columns.", nameof(scores));
        var r = new int[scores.Rows];
        for (int i = 0; i < scores.Rows; i++)
        {
            ReadOnlySpan<double> row = scores.Row(i);
            int best = 0;
            for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
            r[i] = best;
        }
        return r;
    }

    /// <summary>Fraction of equal entries.</summary>
    public static double Accuracy(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
            throw new ArgumentException($"{predicted.Length} predictions for {labels.Length} labels.", nameof(predicted));
        if (labels.Length == 0) return double.NaN;
        int ok = 0;
        for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) ok++;
        return (double)ok / labels.Length;
    }
}
