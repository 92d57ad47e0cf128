using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NtkFast.Benchmarks.Numerics;

/// <summary>
/// Floating-point operations of one benchmark invocation, as a product of parameter names and a factor:
/// [Flops(2, "N", "N", "N")] for an N³ GEMM (one FMA = 2 flops).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FlopsAttribute(double factor, params string[] parameters) : Attribute
{
    public double Factor { get; } = factor;
    public string[] Parameters { get; } = parameters;
}

/// <summary>GFLOP/s = flops (from <see cref="FlopsAttribute"/>) / mean time. Equal work counts for a baseline and its rival.</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Floating-point operations per second (2 per multiply-add), from the mean time";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var attr = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<FlopsAttribute>();
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (attr is null || stats is null) return "-";
        double flops = attr.Factor;
        foreach (string name in attr.Parameters)
            flops *= Convert.ToDouble(benchmarkCase.Parameters[name], System.Globalization.CultureInfo.InvariantCulture);
        return (flops / stats.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture); // flops per ns = GFLOP/s
    }
}

public sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());
}

/// <summary>
/// GFLOP/s for benchmarks whose work depends on a string parameter "Case" (e.g. "784-512-1x256"):
/// flops = <paramref name="flopsOfCase"/>(Case) / mean time. Shared by the network and empirical benchmarks.
/// </summary>
public sealed class CaseGflopsColumn(string id, string legend, Func<string, double> flopsOfCase) : IColumn
{
    public string Id => id;
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null) return "-";
        double flops = flopsOfCase((string)benchmarkCase.Parameters["Case"]);
        return (flops / stats.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture); // flops per ns = GFLOP/s
    }
}
