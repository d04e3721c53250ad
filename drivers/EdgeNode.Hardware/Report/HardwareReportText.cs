using System.Globalization;
using System.Text;

namespace EdgeNode.Hardware.Report;

/// <summary>The report as a terminal shows it: one topic a line, the details indented below.</summary>
internal static class HardwareReportText
{
    public static string Render(HardwareReport report)
    {
        var text = new StringBuilder();
        void Line(string topic, string value) => text.Append(CultureInfo.InvariantCulture, $"{topic,-10} {value}\n");
        void Detail(string value) => text.Append(CultureInfo.InvariantCulture, $"{"",-10}   {value}\n");

        var board = report.Board;
        Line("board", $"{board.Model} ({Kebab(board.Platform.ToString())}, from {board.Source})");
        Line("soc", board.Soc ?? "unknown");
        Line("arch", board.Kernel is null ? board.Architecture : $"{board.Architecture}, kernel {board.Kernel}");

        var cpu = report.Cpu;
        Line("cpu", $"{cpu.LogicalCores} cores{(cpu.ModelName is null ? "" : $", {cpu.ModelName}")}; performance cores {CoreList(cpu.PerformanceCoreIds)}");
        foreach (var cluster in cpu.Clusters)
        {
            var parts = new List<string> { $"cores {CoreList(cluster.CoreIds)}" };
            if (cluster.CoreType is not null)
                parts.Add(cluster.CoreType);
            if (cluster.MaxFrequencyKHz is { } khz)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{khz / 1000.0:0} MHz"));
            if (cluster.Capacity is { } capacity)
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"capacity {capacity}"));
            parts.Add(cluster.IsPerformance ? "performance" : "efficiency");
            Detail(string.Join(", ", parts));
        }
        Line("isa", cpu.IsaFeatures.Count == 0 ? "none detected" : string.Join(' ', cpu.IsaFeatures));
        Line("memory", $"{Bytes(report.Memory.TotalBytes)} total, {Bytes(report.Memory.AvailableBytes)} available, swap {Bytes(report.Memory.SwapTotalBytes)}");

        var storage = report.Storage;
        Line("storage", storage.RootFreeBytes is { } free ? $"{Bytes(free)} free of {Bytes(storage.RootTotalBytes ?? 0)} here" : "free space unknown");
        foreach (var device in storage.Devices)
            Detail($"{device.Name}: {device.Kind}, {Bytes(device.SizeBytes)}{(device.Model is null ? "" : $", {device.Model}")}");

        Line("devices", report.DeviceNodes.Count == 0 ? "no accelerator or bus nodes" : string.Join(", ", report.DeviceNodes.GroupBy(node => node.Kind).Select(group => $"{group.Key} ({group.Count()})")));
        foreach (var node in report.DeviceNodes.Where(node => node.Kind is not ("gpio" or "i2c" or "spi" or "pwm")))
            Detail($"{node.Path} ({node.Kind})");

        Line("thermal", report.ThermalZones.Count == 0 ? "no thermal zones" : $"{report.ThermalZones.Count} zones; throttles at {Celsius(report.ThrottleCelsius)}");
        foreach (var zone in report.ThermalZones)
            Detail($"{zone.Type}: {Celsius(zone.Celsius)}{(zone.ThrottleCelsius is null ? "" : $", trips at {Celsius(zone.ThrottleCelsius)}")}{(zone.IsSoc ? ", soc" : "")}");

        Line("power", report.PowerSensors.Count == 0 ? "no power sensors" : $"{report.PowerSensors.Count} rails");
        foreach (var rail in report.PowerSensors)
            Detail(string.Create(CultureInfo.InvariantCulture, $"{rail.Name}: {rail.Volts:0.000} V, {rail.Amps:0.000} A, {rail.Watts:0.00} W"));

        Line("battery", report.Battery is { } battery
            ? $"{battery.Name}: {battery.CapacityPercent?.ToString(CultureInfo.InvariantCulture) ?? "?"} %, {battery.Status}{(battery.OnExternalPower ? ", on external power" : "")}"
            : "none");
        Line("fans", report.Fans.Count == 0 ? "none" : string.Join(", ", report.Fans.Select(fan =>
            string.Create(CultureInfo.InvariantCulture, $"{fan.Name}{(fan.Rpm is { } rpm ? $" {rpm} rpm" : "")}{(fan.Duty is { } duty ? $" duty {duty * 100:0} %" : "")}"))));

        if (report.RuntimeVersion is not null)
            Line("runtime", $"ONNX Runtime {report.RuntimeVersion}");
        if (report.ExecutionProviders.Count > 0)
        {
            Line("providers", string.Join(", ", report.ExecutionProviders.Where(ep => ep.Runs).Select(ep => ep.Name)) is { Length: > 0 } running ? $"running: {running}" : "none ran");
            foreach (var ep in report.ExecutionProviders)
                Detail($"{ep.Name}: {(ep.Runs ? "runs" : ep.Listed ? "listed, did not run" : "not listed")}{(ep.Detail is null ? "" : $" ({ep.Detail})")}");
        }
        foreach (var problem in report.Problems)
            Line("problem", problem);
        return text.ToString();
    }

    internal static string CoreList(IReadOnlyList<int> ids)
    {
        if (ids.Count == 0)
            return "none";
        var ranges = new List<string>();
        var sorted = ids.Order().ToList();
        var start = sorted[0];
        var previous = start;
        foreach (var id in sorted.Skip(1).Append(int.MinValue))
        {
            if (id == previous + 1)
            {
                previous = id;
                continue;
            }
            ranges.Add(start == previous ? start.ToString(CultureInfo.InvariantCulture) : $"{start}-{previous}");
            start = previous = id;
        }
        return string.Join(',', ranges);
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0} KiB"),
    };

    private static string Celsius(double? value) => value is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c:0.0} °C") : "unknown";

    private static string Kebab(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0)
                text.Append('-');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
