using System.Globalization;
using EdgeNode.Drivers.Sysfs;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware.Probing;

/// <summary>/proc/meminfo, whose values are in kB (kibibytes).</summary>
internal static class MemoryProbe
{
    public static MemoryInfo Probe(string root)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in (SysfsText.TryRead(SysfsText.Under(root, "/proc/meminfo")) ?? "").Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                continue;
            var number = line[(colon + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (long.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib))
                values[line[..colon]] = kib * 1024;
        }
        var total = values.GetValueOrDefault("MemTotal");
        // Kernels before 3.14 lack MemAvailable; free + page cache is the old approximation.
        var available = values.TryGetValue("MemAvailable", out var memAvailable)
            ? memAvailable
            : values.GetValueOrDefault("MemFree") + values.GetValueOrDefault("Cached");
        return new MemoryInfo(total, available, values.GetValueOrDefault("SwapTotal"));
    }
}
