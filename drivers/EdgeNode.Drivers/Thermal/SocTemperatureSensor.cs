using EdgeNode.Drivers.Sysfs;

namespace EdgeNode.Drivers.Thermal;

/// <summary>
/// The hottest of the SoC's thermal zones; on machines whose CPU temperature is only in hwmon
/// (x86 coretemp/k10temp) the hwmon package sensor instead.
/// </summary>
public sealed class SocTemperatureSensor : ITemperatureSensor
{
    private static readonly string[] s_cpuHwmonNames = ["coretemp", "k10temp", "zenpower", "cpu_thermal", "soc_thermal"];

    private readonly IReadOnlyList<string> _millidegreeFiles;

    public SocTemperatureSensor(IReadOnlyList<string> millidegreeFiles, string name)
    {
        _millidegreeFiles = millidegreeFiles;
        Name = name;
    }

    public string Name { get; }

    public int SourceCount => _millidegreeFiles.Count;

    /// <summary>The SoC zones of this machine, or null when it has no readable temperature at all.</summary>
    public static SocTemperatureSensor? Find(string root = "/")
    {
        var zones = ThermalZone.Enumerate(root);
        var soc = zones.Where(zone => zone.IsSoc).ToList();
        if (soc.Count > 0)
            return new SocTemperatureSensor([.. soc.Select(zone => System.IO.Path.Combine(zone.Path, "temp"))], string.Join("+", soc.Select(zone => zone.Type)));

        var hwmon = HwmonDevice.Enumerate(root).Where(device => s_cpuHwmonNames.Contains(device.Name)).ToList();
        var files = hwmon.SelectMany(device => device.ChannelNumbers("temp").Select(channel => device.File($"temp{channel}_input"))).ToList();
        if (files.Count > 0)
            return new SocTemperatureSensor(files, string.Join("+", hwmon.Select(device => device.Name)));

        if (zones.Count > 0)
            return new SocTemperatureSensor([.. zones.Select(zone => System.IO.Path.Combine(zone.Path, "temp"))], string.Join("+", zones.Select(zone => zone.Type)));
        return null;
    }

    /// <summary>
    /// The lowest temperature at which the kernel starts throttling any SoC zone, from the trip points;
    /// null when no zone publishes one.
    /// </summary>
    public static double? FindThrottleCelsius(string root = "/") =>
        ThermalZone.Enumerate(root).Where(zone => zone.IsSoc).Select(zone => zone.ThrottleCelsius).Where(c => c is not null).Min();

    public double? ReadCelsius()
    {
        double? hottest = null;
        foreach (var file in _millidegreeFiles)
        {
            if (SysfsText.TryReadLong(file) is { } millidegrees)
                hottest = Math.Max(hottest ?? double.MinValue, millidegrees / 1000.0);
        }
        return hottest;
    }
}
