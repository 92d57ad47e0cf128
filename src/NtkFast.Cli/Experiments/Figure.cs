using ScottPlot;

namespace NtkFast.Cli.Experiments;

/// <summary>
/// The one place that talks to the plotting library (ScottPlot 5 on SkiaSharp, rendered
/// off-screen; see docs/notes/exp.md for why it is NativeAOT-clean and lives in the CLI, never
/// in the NtkFast library). Experiments describe a figure as lines, bands and points; this class
/// draws it with a consistent style and returns PNG bytes.
/// </summary>
public sealed class Figure : IDisposable
{
    /// <summary>Colour cycle (Tableau 10, colour-blind friendly enough for 2–3 series).</summary>
    public static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    private readonly Plot _plot = new();
    private bool _hasLegend;

    public Figure(string title, string xLabel, string yLabel)
    {
        _plot.Title(title, size: 16);
        _plot.XLabel(xLabel, size: 14);
        _plot.YLabel(yLabel, size: 14);
        _plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        _plot.Axes.Left.TickLabelStyle.FontSize = 12;
    }

    /// <summary>A polyline. <paramref name="alpha"/> &lt; 1 for the many thin lines of an ensemble.</summary>
    public void Line(double[] xs, double[] ys, string color, string? label = null, float width = 1.5f, bool dashed = false, double alpha = 1.0)
    {
        var s = _plot.Add.ScatterLine(xs, ys);
        s.Color = Color.FromHex(color).WithAlpha(alpha);
        s.LineWidth = width;
        if (dashed) s.LinePattern = LinePattern.Dashed;
        SetLegend(s, label);
    }

    /// <summary>A shaded band between <paramref name="low"/> and <paramref name="high"/>.</summary>
    public void Band(double[] xs, double[] low, double[] high, string color, string? label = null, double alpha = 0.2)
    {
        var f = _plot.Add.FillY(xs, low, high);
        f.FillColor = Color.FromHex(color).WithAlpha(alpha);
        f.LineWidth = 0;
        SetLegend(f, label);
    }

    /// <summary>Markers without lines.</summary>
    public void Points(double[] xs, double[] ys, string color, string? label = null, float size = 8, double alpha = 1.0)
    {
        var s = _plot.Add.ScatterPoints(xs, ys);
        s.Color = Color.FromHex(color).WithAlpha(alpha);
        s.MarkerSize = size;
        s.MarkerShape = MarkerShape.FilledCircle;
        SetLegend(s, label);
    }

    /// <summary>A horizontal reference line.</summary>
    public void HorizontalLine(double y, string color = "#000000")
    {
        var h = _plot.Add.HorizontalLine(y);
        h.Color = Color.FromHex(color).WithAlpha(0.5);
        h.LineWidth = 1;
    }

    /// <summary>Fixes the x range (otherwise ScottPlot fits the data with a margin).</summary>
    public void XRange(double min, double max) => _plot.Axes.SetLimitsX(min, max);

    /// <summary>Renders to PNG.</summary>
    public byte[] ToPng(int width = 800, int height = 520)
    {
        if (_hasLegend)
        {
            _plot.ShowLegend(Alignment.UpperRight);
            _plot.Legend.FontSize = 12;
        }
        return _plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    public void Dispose() => _plot.Dispose();

    private void SetLegend(IHasLegendText item, string? label)
    {
        if (label is null) return;
        item.LegendText = label;
        _hasLegend = true;
    }
}
